// OneVsRest: one binary LogisticRegression per class, probabilities normalised per row.
#include "xgrad/models/one_vs_rest.hpp"

#include <stdexcept>
#include <string>

#include "xgrad/distributed/communicator.hpp"
#include "xgrad/models/softmax_regression.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::models {

namespace {

/// @brief 1 where the label is class k, else 0.
array is_class(const array& y, std::size_t k) {
    array out = array::from_shape(y.shape());
    for (std::size_t i = 0; i < y.size(); ++i)
        out.data()[i] = y.data()[i] == static_cast<double>(k) ? 1.0 : 0.0;
    return out;
}

}  // namespace

OneVsRest::OneVsRest(bool fit_intercept, std::size_t classes)
    : fit_intercept_(fit_intercept), requested_classes_(classes), classes_(classes) {
    if (classes == 1) {
        throw std::invalid_argument(
            "OneVsRest: classes must be 0 (from the labels) or at least 2, got 1");
    }
}

void OneVsRest::fit(const array& X, const array& y, const TrainOptions& options) {
    const std::string who = "OneVsRest.fit";
    const auto check_shapes = [&] {
        if (X.dimension() != 2 || y.dimension() != 1 || X.shape()[0] != y.shape()[0]) {
            throw shape_error(who +
                              ": expects X of shape (rows, features) and y of shape (rows,), got " +
                              format_shape(X.shape()) + " and " + format_shape(y.shape()));
        }
    };
    distributed::agree(options.communicator, check_shapes);
    const std::size_t K = class_count(y, requested_classes_, who, options.communicator);
    const bool validating = options.validation_y.dimension() == 1;
    const auto check_validation = [&] {
        if (validating) check_class_labels(options.validation_y, K, who + " (validation)");
    };
    distributed::agree(options.communicator, check_validation);
    std::vector<LogisticRegression> models(K, LogisticRegression(fit_intercept_));
    TrainOptions binary = options;
    for (std::size_t k = 0; k < K; ++k) {
        if (validating) binary.validation_y = is_class(options.validation_y, k);
        models[k].fit(X, is_class(y, k), binary);
    }
    models_ = std::move(models);
    classes_ = K;
}

void OneVsRest::check_fitted() const {
    if (models_.empty()) throw graph_error("OneVsRest: call fit() first");
}

array OneVsRest::decision_function(const array& X) const {
    check_fitted();
    array z;
    for (std::size_t k = 0; k < models_.size(); ++k) {
        const array zk = models_[k].decision_function(X);
        if (k == 0) z = array::from_shape({zk.size(), models_.size()});
        for (std::size_t i = 0; i < zk.size(); ++i) z(i, k) = zk(i);
    }
    return z;
}

array OneVsRest::predict_proba(const array& X) const {
    check_fitted();
    array p;
    for (std::size_t k = 0; k < models_.size(); ++k) {
        const array pk = models_[k].predict_proba(X);
        if (k == 0) p = array::from_shape({pk.size(), models_.size()});
        for (std::size_t i = 0; i < pk.size(); ++i) p(i, k) = pk(i);
    }
    for (std::size_t i = 0; i < p.shape()[0]; ++i) {  // as OneVsRestClassifier: rows sum to 1
        double total = 0.0;
        for (std::size_t k = 0; k < p.shape()[1]; ++k) total += p(i, k);
        for (std::size_t k = 0; k < p.shape()[1]; ++k) p(i, k) /= total;
    }
    return p;
}

array OneVsRest::predict(const array& X) const {
    return argmax(constant(predict_proba(X)), 1);
}

const LogisticRegression& OneVsRest::model(std::size_t k) const {
    if (k >= models_.size()) {
        throw std::out_of_range("OneVsRest::model: class " + std::to_string(k) + " of " +
                                std::to_string(models_.size()));
    }
    return models_[k];
}

}  // namespace xgrad::models
