// OneVsRest: K binary logistic regressions, class k against the rest.
#pragma once

#include <cstddef>
#include <type_traits>
#include <vector>

#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/train_options.hpp"

namespace xgrad::models {

/// @brief One-vs-rest multiclass classification as scikit-learn's OneVsRestClassifier around
/// LogisticRegression: for each class k a binary LogisticRegression fitted on (y == k), with the
/// same TrainOptions (optimizer, penalties, balanced weights per binary problem, validation rows
/// relabelled the same way; on_epoch is called for every model's epochs in turn). Classes are
/// 0 … K−1 as doubles in y, K from the constructor or the largest label + 1 (see class_count).
class OneVsRest {
  public:
    /// @brief `fit_intercept` for every binary model; `classes` K (0: from the training labels).
    /// @throw std::invalid_argument for classes == 1.
    explicit OneVsRest(bool fit_intercept = true, std::size_t classes = 0);
    /// @brief Not a class count: write OneVsRest(true, 3).
    template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    explicit OneVsRest(T) = delete;

    /// @brief Fits the K models from zero weights. X (m, n), y (m,). With options.communicator,
    /// collective: X, y are this rank's rows, K and the classes that occur are those of all
    /// ranks, and each binary model is fitted data-parallel (LinearModel::fit); errors found on
    /// one rank are distributed::distributed_error on every rank.
    /// @throw shape_error "OneVsRest.fit: expects X of shape (rows, features) and y of shape
    /// (rows,), got ..."; std::invalid_argument for labels (as class_count, prefix
    /// "OneVsRest.fit"), and what LogisticRegression::fit throws (non-finite X, options).
    void fit(const array& X, const array& y, const TrainOptions& options = {});
    /// @brief Each model's P(class k | row), normalised to sum to 1 per row: (m, K).
    /// @throw graph_error "OneVsRest: call fit() first"; shape_error for X of another width.
    array predict_proba(const array& X) const;
    /// @brief Each model's logit x·wₖ + bₖ: (m, K).
    array decision_function(const array& X) const;
    /// @brief The class of the largest probability per row (the first on a tie): (m,).
    array predict(const array& X) const;

    /// @brief K (0 before fit unless given to the constructor).
    std::size_t classes() const { return classes_; }
    /// @brief The binary model of class k (k against the rest).
    /// @throw std::out_of_range "OneVsRest::model: class k of K" for k ≥ K.
    const LogisticRegression& model(std::size_t k) const;
    /// @brief All K models, in class order (empty before fit).
    const std::vector<LogisticRegression>& models() const { return models_; }

  private:
    /// @brief Throws graph_error "OneVsRest: call fit() first" before fit().
    void check_fitted() const;

    bool fit_intercept_;
    std::size_t requested_classes_;
    std::size_t classes_;
    std::vector<LogisticRegression> models_;
};

}  // namespace xgrad::models
