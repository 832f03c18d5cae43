// train_minibatches: batch rows copied into replayed graphs, reshuffled each epoch.
#include "xgrad/optim/training.hpp"

#include <algorithm>
#include <numeric>

#include "xgrad/core/random.hpp"
#include "xgrad/core/tape.hpp"

namespace xgrad {

namespace {

/// @brief One replayable loss graph for batches of a fixed number of rows.
struct BatchGraph {
    Var features;
    Var targets;
    Tape tape;
};

/// @brief Copies rows order[first, first + to.rows) of `from` into `to`; a row is everything
/// under one index of the first axis (row-major), whatever the rank.
void copy_rows(const array& from, const std::vector<std::size_t>& order, std::size_t first,
               array& to) {
    const std::size_t width = from.size() / from.shape()[0];
    for (std::size_t r = 0; r < to.shape()[0]; ++r) {
        const double* src = from.data() + order[first + r] * width;
        std::copy(src, src + width, to.data() + r * width);
    }
}

shape_type with_rows(shape_type shape, std::size_t rows) {
    shape[0] = rows;
    return shape;
}

}  // namespace

std::vector<double> train_minibatches(const array& X, const array& y, const BatchLoss& loss_of,
                                      const std::vector<Var>& params,
                                      const std::function<void()>& update,
                                      const EpochOptions& options) {
    if (X.dimension() == 0 || y.dimension() == 0 || X.shape()[0] != y.shape()[0] ||
        X.shape()[0] == 0) {
        throw shape_error("train_minibatches: X and y need the same number of rows (> 0), got " +
                          format_shape(X.shape()) + " and " + format_shape(y.shape()));
    }
    const std::size_t rows = X.shape()[0];
    const std::size_t batch = options.batch_size == 0 ? rows : std::min(options.batch_size, rows);
    auto make_graph = [&](std::size_t batch_rows) {
        Var features = constant(xt::zeros<double>(with_rows(X.shape(), batch_rows)));
        Var targets = constant(xt::zeros<double>(with_rows(y.shape(), batch_rows)));
        Var loss = loss_of(features, targets);
        if (loss.size() != 1) {
            throw graph_error("train_minibatches: the batch loss must be a single number, got " +
                              format_shape(loss.shape()));
        }
        return BatchGraph{features, targets, Tape(loss)};
    };
    BatchGraph full = make_graph(batch);
    std::vector<BatchGraph> remainder;  // the last, shorter batch of an epoch, if any
    if (rows % batch != 0) remainder.push_back(make_graph(rows % batch));

    std::vector<std::size_t> order(rows);
    std::iota(order.begin(), order.end(), std::size_t{0});
    Random random(options.seed);
    const bool whole_batch = batch == rows;
    if (whole_batch) {  // the data never changes between steps: copy it once
        copy_rows(X, order, 0, full.features.mutable_value());
        copy_rows(y, order, 0, full.targets.mutable_value());
    }
    std::vector<double> history;
    for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
        if (!whole_batch) random.shuffle(order);
        double epoch_loss = 0.0;
        for (std::size_t first = 0; first < rows; first += batch) {
            BatchGraph& g = rows - first >= batch ? full : remainder.front();
            if (!whole_batch) {
                copy_rows(X, order, first, g.features.mutable_value());
                copy_rows(y, order, first, g.targets.mutable_value());
            }
            g.tape.forward();
            zero_grad(params);
            g.tape.backward();
            epoch_loss += g.tape.output().item() * static_cast<double>(g.targets.shape()[0]);
            update();
        }
        history.push_back(epoch_loss / static_cast<double>(rows));
        if (options.after_epoch && !options.after_epoch(epoch, history.back())) break;
    }
    return history;
}

}  // namespace xgrad
