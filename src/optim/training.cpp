// train_minibatches: batch rows copied into replayed graphs, reshuffled each epoch.
#include "xgrad/optim/training.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <numeric>
#include <string>

#include "xgrad/core/random.hpp"
#include "xgrad/core/tape.hpp"
#include "xgrad/distributed/communicator.hpp"
#include "xgrad/distributed/gradients.hpp"
#include "xgrad/ops.hpp"

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

/// @brief The loss loss_of builds on fresh constant leaves of `rows` rows shaped like X's and
/// y's rows; graph_error unless it is a single number.
struct LeafLoss {
    Var features;
    Var targets;
    Var loss;
};
LeafLoss batch_loss_on_leaves(const array& X, const array& y, const BatchLoss& loss_of,
                              std::size_t rows) {
    Var features = constant(xt::zeros<double>(with_rows(X.shape(), rows)));
    Var targets = constant(xt::zeros<double>(with_rows(y.shape(), rows)));
    Var loss = loss_of(features, targets);
    if (loss.size() != 1) {
        throw graph_error("train_minibatches: the batch loss must be a single number, got " +
                          format_shape(loss.shape()));
    }
    return {features, targets, loss};
}

/// @brief "(3,)": the shape of one row of `a` (its axes after the first).
std::string row_shape(const array& a) {
    return format_shape(shape_type(a.shape().begin() + 1, a.shape().end()));
}

/// @brief A rank's loss graph for k of a global batch's rows: loss_of on k rows, times `scale`
/// (k / batch rows, set before each replay).
struct ShareGraph {
    Var features;
    Var targets;
    Var scale;
    Tape tape;
};

/// @brief train_minibatches with a communicator: the single-process batch sequence over the
/// ranks' rows, each rank's share of a batch scaled by its rows / batch rows, gradients and
/// batch loss summed with one reduce per step.
std::vector<double> train_data_parallel(const array& X, const array& y, const BatchLoss& loss_of,
                                        const std::vector<Var>& params,
                                        const std::function<void()>& update,
                                        const EpochOptions& options) {
    distributed::Communicator& comm = *options.communicator;
    const std::string who = "train_minibatches: ";
    distributed::agree(comm, [&] {
        if (X.dimension() == 0 || y.dimension() == 0 || X.shape()[0] != y.shape()[0]) {
            throw shape_error(who + "X and y need the same number of rows, got " +
                              format_shape(X.shape()) + " and " + format_shape(y.shape()));
        }
        if (!options.global_rows.empty() && options.global_rows.size() != X.shape()[0]) {
            throw std::invalid_argument(who + "global_rows holds " +
                                        std::to_string(options.global_rows.size()) +
                                        " indices for " + std::to_string(X.shape()[0]) + " rows");
        }
    });
    // Every rank's rows must have rank 0's shapes (the same graphs, the same parameters).
    const std::vector<std::string> shapes =
        comm.allgather("X rows " + row_shape(X) + ", y rows " + row_shape(y));
    for (std::size_t r = 1; r < shapes.size(); ++r) {
        if (shapes[r] != shapes[0]) {
            throw distributed::distributed_error(who + "rank " + std::to_string(r) + " has " +
                                                     shapes[r] + "; rank 0 has " + shapes[0],
                                                 static_cast<int>(r));
        }
    }
    const std::size_t rows = X.shape()[0];
    const std::vector<double> counts =
        distributed::allgather_values(comm, {static_cast<double>(rows)});
    std::size_t total = 0;  // M, the global rows
    std::size_t offset = 0;
    for (std::size_t r = 0; r < counts.size(); ++r) {
        if (static_cast<int>(r) == comm.rank()) offset = total;
        total += static_cast<std::size_t>(counts[r]);
    }
    if (total == 0) throw distributed::distributed_error(who + "no rows on any rank", -1);
    // Indices ≥ M are found where they are exact: they travel as doubles below, which would
    // round (or, past 2^64 as a double, not convert back at all) the index the message names.
    std::string out_of_range;
    for (std::size_t i = 0; i < options.global_rows.size() && out_of_range.empty(); ++i) {
        if (options.global_rows[i] < total) continue;
        out_of_range = who + "global row " + std::to_string(options.global_rows[i]) + " of rank " +
                       std::to_string(comm.rank()) + " (row " + std::to_string(i) +
                       ") is not below the " + std::to_string(total) + " rows of all ranks";
    }
    const std::vector<std::string> range_errors = comm.allgather(out_of_range);
    for (std::size_t r = 0; r < range_errors.size(); ++r) {
        if (!range_errors[r].empty())
            throw distributed::distributed_error(range_errors[r], static_cast<int>(r));
    }
    // The global index of each local row (< M), gathered to check that they make [0, M) once.
    std::vector<double> ids(rows);
    for (std::size_t i = 0; i < rows; ++i) {
        ids[i] =
            static_cast<double>(options.global_rows.empty() ? offset + i : options.global_rows[i]);
    }
    const std::vector<double> all_ids = distributed::allgather_values(comm, ids);
    constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> holder(total, none);  // position in all_ids of each global row
    std::vector<std::size_t> first_of_rank(counts.size() + 1, 0);
    for (std::size_t r = 0; r < counts.size(); ++r)
        first_of_rank[r + 1] = first_of_rank[r] + static_cast<std::size_t>(counts[r]);
    const auto locate = [&](std::size_t position) {  // "rank R (row i)"
        const auto r = static_cast<std::size_t>(
            std::upper_bound(first_of_rank.begin(), first_of_rank.end(), position) -
            first_of_rank.begin() - 1);
        return std::make_pair(r, position - first_of_rank[r]);
    };
    for (std::size_t position = 0; position < all_ids.size(); ++position) {
        const double id = all_ids[position];
        const auto [r, i] = locate(position);
        const std::string where = "rank " + std::to_string(r) + " (row " + std::to_string(i) + ")";
        std::size_t& slot = holder[static_cast<std::size_t>(id)];
        if (slot != none) {
            const auto [r0, i0] = locate(slot);
            throw distributed::distributed_error(
                who + "global row " + std::to_string(static_cast<std::size_t>(id)) +
                    " is held by rank " + std::to_string(r0) + " (row " + std::to_string(i0) +
                    ") and by " + where,
                static_cast<int>(r));
        }
        slot = position;
    }
    std::vector<std::size_t> local_of(total, none);  // this rank's row of each global row
    for (std::size_t i = 0; i < rows; ++i) local_of[static_cast<std::size_t>(ids[i])] = i;

    distributed::broadcast_parameters(comm, params, 0);  // checks the shapes too
    distributed::GradientReducer reducer(comm, params);

    // Graphs by the number of this rank's rows in a batch, which varies from batch to batch
    // after a shuffle (around batch / ranks): the most recently used few are kept, so that memory
    // stays bounded whatever the batch size; one that was dropped is built again when needed.
    constexpr std::size_t kept_graphs = 16;
    std::map<std::size_t, std::pair<ShareGraph, std::size_t>> graphs;  // graph, last step used
    std::size_t step = 0;
    const auto graph_for = [&](std::size_t k) -> ShareGraph& {
        auto found = graphs.find(k);
        if (found == graphs.end()) {
            if (graphs.size() == kept_graphs) {
                auto oldest = graphs.begin();
                for (auto it = graphs.begin(); it != graphs.end(); ++it)
                    if (it->second.second < oldest->second.second) oldest = it;
                graphs.erase(oldest);
            }
            const LeafLoss b = batch_loss_on_leaves(X, y, loss_of, k);
            Var scale = constant(array(1.0));
            found = graphs
                        .emplace(k, std::make_pair(ShareGraph{b.features, b.targets, scale,
                                                              Tape(b.loss * scale)},
                                                   step))
                        .first;
        }
        found->second.second = step;
        return found->second.first;
    };
    // Build a first graph under agreement, so that a loss_of that throws stops every rank.
    distributed::agree(comm, [&] {
        if (rows > 0) graph_for(1);
    });

    const std::size_t batch = options.batch_size == 0 ? total : std::min(options.batch_size, total);
    const bool whole_batch = batch == total;  // the same rows every step: copied once
    bool copied = false;
    std::vector<std::size_t> order(total);
    std::iota(order.begin(), order.end(), std::size_t{0});
    Random random(options.seed);
    std::vector<std::size_t> picked;  // this rank's rows of the batch, in batch order
    std::vector<double> history;
    for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
        if (!whole_batch) random.shuffle(order);
        double epoch_loss = 0.0;
        for (std::size_t first = 0; first < total; first += batch) {
            const std::size_t batch_rows = std::min(batch, total - first);
            picked.clear();
            for (std::size_t j = first; j < first + batch_rows; ++j) {
                if (local_of[order[j]] != none) picked.push_back(local_of[order[j]]);
            }
            zero_grad(params);
            double loss = 0.0;  // a rank without rows in this batch contributes zeros
            ++step;
            if (!picked.empty()) {
                const bool known = graphs.count(picked.size()) > 0;
                ShareGraph& g = graph_for(picked.size());
                if (!whole_batch || !copied || !known) {
                    copy_rows(X, picked, 0, g.features.mutable_value());
                    copy_rows(y, picked, 0, g.targets.mutable_value());
                    copied = true;
                }
                g.scale.mutable_value().data()[0] =
                    static_cast<double>(picked.size()) / static_cast<double>(batch_rows);
                g.tape.forward();
                g.tape.backward();
                loss = g.tape.output().item();
            }
            reducer.reduce(distributed::Reduction::sum, &loss, 1);
            epoch_loss += loss * static_cast<double>(batch_rows);
            update();
        }
        history.push_back(epoch_loss / static_cast<double>(total));
        if (options.after_epoch && !options.after_epoch(epoch, history.back())) break;
    }
    return history;
}

}  // namespace

std::vector<double> train_minibatches(const array& X, const array& y, const BatchLoss& loss_of,
                                      const std::vector<Var>& params,
                                      const std::function<void()>& update,
                                      const EpochOptions& options) {
    if (options.communicator != nullptr)
        return train_data_parallel(X, y, loss_of, params, update, options);
    if (X.dimension() == 0 || y.dimension() == 0 || X.shape()[0] != y.shape()[0] ||
        X.shape()[0] == 0) {
        throw shape_error("train_minibatches: X and y need the same number of rows (> 0), got " +
                          format_shape(X.shape()) + " and " + format_shape(y.shape()));
    }
    const std::size_t rows = X.shape()[0];
    const std::size_t batch = options.batch_size == 0 ? rows : std::min(options.batch_size, rows);
    auto make_graph = [&](std::size_t batch_rows) {
        const LeafLoss b = batch_loss_on_leaves(X, y, loss_of, batch_rows);
        return BatchGraph{b.features, b.targets, Tape(b.loss)};
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
