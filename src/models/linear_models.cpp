/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>

#include <xtensor/xnoalias.hpp>

#include "xgrad/distributed/communicator.hpp"
#include "xgrad/losses.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/optim/adagrad.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/registry.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/optim/solvers.hpp"
#include "xgrad/optim/training.hpp"
#include "xgrad/regularization.hpp"

namespace xgrad::models {

namespace {

/// @brief The optimizer a TrainOptions name stands for (the library's one table of names).
optim::OptimizerKind optimizer_kind(const std::string& name, const std::string& who) {
    if (const auto kind = optim::parse_optimizer(name)) return *kind;
    std::string names;
    for (const std::string& n : optim::optimizer_names()) names += (names.empty() ? "" : ", ") + n;
    throw std::invalid_argument(who + "unknown optimizer '" + name + "' (" + names + ")");
}

}  // namespace

void LinearModel::fit(const array& X, const array& y, const TrainOptions& options) {
    const std::string who = std::string(name()) + ".fit: ";
    distributed::Communicator* const comm = options.communicator;
    // Checks one rank makes alone are agreed with a group (distributed::agree): a bad row stops
    // every rank.
    distributed::agree(comm, [&] {
        if (X.dimension() != 2 || y.dimension() != 1 || X.shape()[0] != y.shape()[0]) {
            throw shape_error(who +
                              "expects X of shape (rows, features) and y of shape (rows,), got " +
                              format_shape(X.shape()) + " and " + format_shape(y.shape()));
        }
        if (X.shape()[0] == 0) {
            throw std::invalid_argument(comm == nullptr
                                            ? who + "no rows to fit"
                                            : who + "rank " + std::to_string(comm->rank()) +
                                                  " has no training rows (each rank needs at least "
                                                  "one: use fewer processes)");
        }
        const std::size_t width = X.shape()[1];
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
    });
    const std::size_t rows = X.shape()[0];
    const std::size_t width = X.shape()[1];
    // m of the penalties and of each rank's share: all ranks' rows
    const std::size_t global_rows = comm == nullptr
                                        ? rows
                                        : static_cast<std::size_t>(distributed::allreduce_sum(
                                              *comm, static_cast<double>(rows)));

    prepare_fit(y, options);
    bool validating = options.validation_X.dimension() > 0;  // a default array is 0-d
    distributed::agree(comm, [&] {
        if (!validating) return;
        if (options.validation_X.dimension() != 2 || options.validation_X.shape()[1] != width ||
            options.validation_y.dimension() != 1 ||
            options.validation_y.size() != options.validation_X.shape()[0]) {
            throw shape_error(who + "validation data of shapes " +
                              format_shape(options.validation_X.shape()) + " and " +
                              format_shape(options.validation_y.shape()) + " do not match X");
        }
        check_targets(options.validation_y);
    });
    // With a group: validating when any rank has validation rows; the loss is the sum of the
    // ranks' loss sums over all validation rows.
    const double local_validation_rows =
        validating ? static_cast<double>(options.validation_X.shape()[0]) : 0.0;
    double global_validation_rows = local_validation_rows;
    if (comm != nullptr) {
        double counts[2] = {validating ? 1.0 : 0.0, local_validation_rows};
        comm->allreduce_sum(counts, 2);
        validating = counts[0] > 0.0;
        global_validation_rows = counts[1];
    }
    const auto validation_loss = [&]() -> double {
        if (comm == nullptr) return loss_on(options.validation_X, options.validation_y);
        const double local =
            local_validation_rows > 0.0
                ? loss_on(options.validation_X, options.validation_y) * local_validation_rows
                : 0.0;
        return distributed::allreduce_sum(*comm, local) / global_validation_rows;
    };

    weights_ = parameter(xt::zeros<double>(weight_shape(width)));
    bias_ = fit_intercept_ ? parameter(xt::zeros<double>(bias_shape())) : Var();
    std::vector<Var> params{weights_};
    if (fit_intercept_) params.push_back(bias_);
    loss_history_.clear();
    validation_history_.clear();
    summary_ = {};
    // The objective of a batch: its mean loss plus the penalties, scaled by the full m.
    auto objective = [this, global_rows, &options](const Var& features, const Var& targets) {
        Var total = batch_loss(features, targets);
        if (options.l2 > 0.0) total = total + l2_penalty(weights_, options.l2, global_rows);
        if (options.l1 > 0.0) total = total + l1_penalty(weights_, options.l1, global_rows);
        return total;
    };

    const optim::OptimizerKind kind = optimizer_kind(options.optimizer, who);
    if (optim::is_solver(kind)) {
        Var full = objective(constant(X), constant(y));
        // A rank's share of the global objective: its rows' mean (penalties included) times
        // its rows / all rows, so that the shares sum to the objective on all rows.
        if (comm != nullptr)
            full = full * (static_cast<double>(rows) / static_cast<double>(global_rows));
        solvers::StopOptions stop(options.epochs, 1e-10);
        stop.communicator = comm;
        if (options.on_epoch) {  // one report per iteration, as if each were an epoch
            stop.on_iteration = [&options](std::size_t iteration, double f, double) {
                if (iteration > 0) options.on_epoch({iteration - 1, options.epochs, f, NAN, NAN});
            };
        }
        solvers::LbfgsOptions lbfgs_options;
        lbfgs_options.stop = stop;
        const solvers::SolveResult result = kind == optim::OptimizerKind::lbfgs
                                                ? solvers::lbfgs(full, params, lbfgs_options)
                                                : solvers::newton(full, params, stop);
        loss_history_ = result.objective_history;
        summary_ = {result.iterations, options.epochs, result.converged, false};
        if (validating) validation_history_.push_back(validation_loss());
        return;
    }

    const std::unique_ptr<optim::Optimizer> optimizer =
        optim::make_optimizer(kind, params, options.learning_rate);
    // Early stopping keeps the parameters of the best validation loss seen.
    double best = INFINITY;
    std::size_t since_best = 0;
    std::vector<array> best_params;
    auto after_epoch = [&](std::size_t epoch, double train_loss) {
        double validation = NAN;
        if (validating) {
            validation = validation_loss();
            validation_history_.push_back(validation);
            if (validation < best) {
                best = validation;
                since_best = 0;
                best_params.clear();
                for (const Var& p : params) best_params.push_back(p.value());
            } else {
                ++since_best;
            }
        }
        if (options.on_epoch) {
            options.on_epoch(
                {epoch, options.epochs, train_loss, validation, optimizer->learning_rate()});
        }
        if (options.schedule) optimizer->set_learning_rate(options.schedule(epoch + 1));
        return !(options.patience > 0 && validating && since_best >= options.patience);
    };
    if (options.schedule) optimizer->set_learning_rate(options.schedule(0));
    EpochOptions epochs(options.epochs, options.batch_size, options.seed, after_epoch);
    epochs.communicator = comm;
    if (comm != nullptr) epochs.global_rows = options.row_ids;
    loss_history_ = train_minibatches(
        X, y, objective, params, [&optimizer] { optimizer->step(); }, epochs);
    summary_ = {loss_history_.size(), options.epochs, false, loss_history_.size() < options.epochs};
    if (options.patience > 0 && !best_params.empty()) {
        for (std::size_t k = 0; k < params.size(); ++k) params[k].mutable_value() = best_params[k];
    }
}

void LinearModel::prepare_fit(const array& y, const TrainOptions& options) {
    if (!options.balanced_class_weights) return;
    if (options.communicator == nullptr) {
        class_weights_ = balanced_class_weights(y);
        return;
    }
    // The global counts (the labels were checked to be 0 or 1, on every rank).
    double counts[2] = {static_cast<double>(y.size()), 0.0};  // rows, ones
    for (const double v : y) counts[1] += v;
    options.communicator->allreduce_sum(counts, 2);
    const double zeros = counts[0] - counts[1];
    if (counts[1] == 0.0 || zeros == 0.0) {  // the same on every rank
        throw std::invalid_argument("balanced_class_weights: both classes must occur");
    }
    class_weights_ = {counts[0] / (2.0 * zeros), counts[0] / (2.0 * counts[1])};
}

Var LinearModel::batch_loss(const Var& features, const Var& targets) const {
    const Var z = matmul(features, weights_);
    return loss(fit_intercept_ ? z + bias_ : z, targets);
}

double LinearModel::loss_on(const array& X, const array& y) const {
    const array z = decision_function(X);
    no_grad scope;
    return loss(constant(z), constant(y)).item();
}

void LinearModel::set_parameters(const array& weights, double bias) {
    if (weights.dimension() != 1) {
        throw shape_error(std::string(name()) + ".set_parameters: weights must be a vector, got " +
                          format_shape(weights.shape()));
    }
    assign_parameters(weights, array(bias));
}

void LinearModel::assign_parameters(const array& weights, const array& bias) {
    weights_ = parameter(weights);
    bias_ = fit_intercept_ ? parameter(bias) : Var();
}

void LinearModel::check_fitted(const array& X) const {
    if (!weights_.defined()) throw graph_error(std::string(name()) + ": call fit() first");
    const std::size_t features = weights_.shape()[0];
    if (X.dimension() != 2 || X.shape()[1] != features) {
        throw shape_error(std::string(name()) + ": expects X of shape (rows, " +
                          std::to_string(features) + "), got " + format_shape(X.shape()));
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
    const auto [w0, w1] = class_weights_;
    if (w0 == 1.0 && w1 == 1.0) return bce_with_logits(z, y);
    // Each sample weighted by its class: w = w₀ + y·(w₁ − w₀).
    return mean((y * (w1 - w0) + w0) * bce_with_logits(z, y, reduction::none));
}

Var LogisticRegression::batch_loss(const Var& features, const Var& targets) const {
    if (!fit_intercept() || class_weights_ != std::pair{1.0, 1.0}) {
        return LinearModel::batch_loss(features, targets);
    }
    return linear_bce_with_logits(features, weights(), bias(), targets);
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
