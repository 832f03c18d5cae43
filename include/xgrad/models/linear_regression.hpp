// LinearRegression: least squares by gradient descent on the graph.
#pragma once

#include "xgrad/models/linear_model.hpp"

namespace xgrad::models {

/// @brief Least-squares linear regression ŷ = X w + b, trained on the mean squared error by
/// gradient descent on the same engine.
class LinearRegression : public LinearModel {
  public:
    explicit LinearRegression(bool fit_intercept = true);

    /// @brief ŷ for each row.
    array predict(const array& X) const { return decision_function(X); }

  protected:
    Var loss(const Var& z, const Var& y) const override;
    void check_targets(const array& y) const override;
    const char* name() const override { return "LinearRegression"; }
};

}  // namespace xgrad::models
