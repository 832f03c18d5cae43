// LogisticRegression: binary logistic regression on the graph.
#pragma once

#include "xgrad/models/linear_model.hpp"

namespace xgrad::models {

/// @brief Binary logistic regression: p = σ(X w + b), trained on the mean binary cross-entropy
/// (bce_with_logits) by batch, mini-batch or stochastic gradient descent.
class LogisticRegression : public LinearModel {
  public:
    explicit LogisticRegression(bool fit_intercept = true);

    /// @brief P(y = 1 | x) for each row.
    array predict_proba(const array& X) const;
    /// @brief 1 where predict_proba ≥ threshold, else 0.
    array predict(const array& X, double threshold = 0.5) const;

  protected:
    Var loss(const Var& z, const Var& y) const override;
    /// @brief linear_bce_with_logits (one pass over X) when there is an intercept and no class
    /// weights.
    Var batch_loss(const Var& features, const Var& targets) const override;
    void check_targets(const array& y) const override;
    const char* name() const override { return "LogisticRegression"; }
};

}  // namespace xgrad::models
