/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include <algorithm>
#include <cmath>

#include <xtensor/xnoalias.hpp>

#include "xgrad/losses.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/training.hpp"

namespace xgrad::models {

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
    std::vector<Var> params{weights_};
    if (fit_intercept_) params.push_back(bias_);
    const double rate = options.learning_rate;
    loss_history_ = train_minibatches(
        X, y,
        [this](const Var& features, const Var& targets) {
            Var z = matmul(features, weights_);
            return loss(fit_intercept_ ? z + bias_ : z, targets);
        },
        params,
        [&params, rate] {  // plain gradient descent: p ← p − η·∇p
            for (Var& p : params) xt::noalias(p.mutable_value()) -= rate * p.grad();
        },
        {options.epochs, options.batch_size, options.seed});
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
