/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <xtensor/xnoalias.hpp>

#include "xgrad/losses.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/tape.hpp"

namespace xgrad::models {

namespace {

/// @brief One replayable training graph for batches of a fixed number of rows.
struct BatchGraph {
    Var features;
    Var targets;
    Tape tape;
};

void copy_rows(const array& from, const std::vector<std::size_t>& rows, std::size_t first,
               array& to) {
    const std::size_t width = from.dimension() == 2 ? from.shape()[1] : 1;
    const std::size_t count = to.shape()[0];
    for (std::size_t r = 0; r < count; ++r) {
        const double* src = from.data() + rows[first + r] * width;
        std::copy(src, src + width, to.data() + r * width);
    }
}

void shuffle(std::vector<std::size_t>& order, std::mt19937_64& rng) {
    // Fisher-Yates with our own index draw: std::shuffle's sequence differs between libraries.
    for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng() % i]);
}

}  // namespace

void LinearModel::fit(const array& X, const array& y, const TrainOptions& options) {
    const std::string who = std::string(name()) + ".fit: ";
    if (X.dimension() != 2 || y.dimension() != 1 || X.shape()[0] != y.shape()[0]) {
        throw shape_error(who + "expects X of shape (rows, features) and y of shape (rows,), got " +
                          format_shape(X.shape()) + " and " + format_shape(y.shape()));
    }
    const std::size_t rows = X.shape()[0];
    const std::size_t width = X.shape()[1];
    if (rows == 0) throw std::invalid_argument(who + "no rows to fit");
    for (std::size_t i = 0; i < X.size(); ++i) {
        if (!std::isfinite(X.data()[i])) {
            throw std::invalid_argument(who + "X has a non-finite value at row " +
                                        std::to_string(i / width) + ", column " +
                                        std::to_string(i % width));
        }
    }
    check_targets(y);
    if (!(options.learning_rate > 0.0))
        throw std::invalid_argument(who + "learning_rate must be > 0");

    weights_ = parameter(xt::zeros<double>({width}));
    bias_ = fit_intercept_ ? parameter(0.0) : Var();
    loss_history_.clear();

    const std::size_t batch = options.batch_size == 0 ? rows : std::min(options.batch_size, rows);
    auto make_graph = [&](std::size_t batch_rows) {
        Var features = constant(xt::zeros<double>({batch_rows, width}));
        Var targets = constant(xt::zeros<double>({batch_rows}));
        Var z = matmul(features, weights_);
        if (fit_intercept_) z = z + bias_;
        Var objective = loss(z, targets);
        return BatchGraph{features, targets, Tape(objective)};
    };
    BatchGraph full = make_graph(batch);
    std::vector<BatchGraph> remainder;  // the last, shorter batch of an epoch, if any
    if (rows % batch != 0) remainder.push_back(make_graph(rows % batch));

    std::vector<std::size_t> order(rows);
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::mt19937_64 rng(options.seed);
    const bool whole_batch = batch == rows;
    if (whole_batch) {  // the data never changes between steps: copy it once
        copy_rows(X, order, 0, full.features.mutable_value());
        copy_rows(y, order, 0, full.targets.mutable_value());
    }
    for (std::size_t epoch = 0; epoch < options.epochs; ++epoch) {
        if (!whole_batch) shuffle(order, rng);
        double epoch_loss = 0.0;
        for (std::size_t first = 0; first < rows; first += batch) {
            BatchGraph& g = rows - first >= batch ? full : remainder.front();
            if (!whole_batch) {
                copy_rows(X, order, first, g.features.mutable_value());
                copy_rows(y, order, first, g.targets.mutable_value());
            }
            g.tape.forward();
            weights_.zero_grad();
            if (fit_intercept_) bias_.zero_grad();
            g.tape.backward();
            epoch_loss += g.tape.output().item() * static_cast<double>(g.targets.size());
            xt::noalias(weights_.mutable_value()) -= options.learning_rate * weights_.grad();
            if (fit_intercept_) {
                xt::noalias(bias_.mutable_value()) -= options.learning_rate * bias_.grad();
            }
        }
        loss_history_.push_back(epoch_loss / static_cast<double>(rows));
    }
}

void LinearModel::check_fitted(const array& X) const {
    if (!weights_.defined()) throw graph_error(std::string(name()) + ": call fit() first");
    if (X.dimension() != 2 || X.shape()[1] != weights_.size()) {
        throw shape_error(std::string(name()) + ": expects X of shape (rows, " +
                          std::to_string(weights_.size()) + "), got " + format_shape(X.shape()));
    }
}

array LinearModel::decision_function(const array& X) const {
    check_fitted(X);
    no_grad scope;
    Var z = matmul(constant(X), weights_);
    if (fit_intercept_) z = z + bias_;
    return z.value();
}

LogisticRegression::LogisticRegression(bool fit_intercept) : LinearModel(fit_intercept) {}

array LogisticRegression::predict_proba(const array& X) const {
    no_grad scope;
    return sigmoid(constant(decision_function(X))).value();
}

array LogisticRegression::predict(const array& X, double threshold) const {
    const array p = predict_proba(X);
    array labels = xt::zeros<double>(p.shape());
    for (std::size_t i = 0; i < p.size(); ++i)
        labels.data()[i] = p.data()[i] >= threshold ? 1.0 : 0.0;
    return labels;
}

Var LogisticRegression::loss(const Var& z, const Var& y) const {
    return bce_with_logits(z, y);
}

void LogisticRegression::check_targets(const array& y) const {
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double v = y.data()[i];
        if (v != 0.0 && v != 1.0) {
            throw std::invalid_argument(std::string(name()) + ".fit: labels must be 0 or 1; row " +
                                        std::to_string(i) + " has " + std::to_string(v));
        }
    }
}

LinearRegression::LinearRegression(bool fit_intercept) : LinearModel(fit_intercept) {}

Var LinearRegression::loss(const Var& z, const Var& y) const {
    return mse(z, y);
}

void LinearRegression::check_targets(const array& y) const {
    for (std::size_t i = 0; i < y.size(); ++i) {
        if (!std::isfinite(y.data()[i])) {
            throw std::invalid_argument(std::string(name()) + ".fit: target at row " +
                                        std::to_string(i) + " is not finite");
        }
    }
}

}  // namespace xgrad::models
