// Standardizer: per-column mean and deviation, fitted on training rows.
#pragma once

#include "xgrad/core/var.hpp"

namespace xgrad::data {

/// @brief Per-feature standardisation x' = (x − mean) / scale, fitted on one data set (the
/// training split) and applied to any other. scale is the population standard deviation (as
/// scikit-learn's StandardScaler). A constant feature (every value the same) gets that value as
/// its mean and scale 1, so it standardises to exactly 0 (its mean computed as Σx / n can round
/// to another number, as for a column of 0.1s, and leave a spread of rounding errors).
class Standardizer {
  public:
    Standardizer() = default;
    /// @brief A standardiser with known parameters (e.g. read from a model file).
    Standardizer(array mean, array scale);

    /// @brief Learns mean and scale of each column of X (rows, features).
    Standardizer& fit(const array& X);
    /// @brief (X − mean) / scale; X must have the fitted number of columns.
    array transform(const array& X) const;
    /// @brief fit(X), then transform(X): (rows, features) in and out.
    array fit_transform(const array& X) { return fit(X).transform(X); }

    /// @brief Whether fit() (or the constructor with mean and scale) has set the parameters.
    bool fitted() const { return mean_.dimension() == 1; }
    const array& mean() const { return mean_; }
    const array& scale() const { return scale_; }

  private:
    array mean_;
    array scale_;
};

}  // namespace xgrad::data
