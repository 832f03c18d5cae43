// Gradient checks: autodiff against central differences, first and second order.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief Step and tolerances of a gradient check; the defaults suit double precision
/// (PyTorch's gradcheck uses the same).
struct GradcheckOptions {
    double step = 1e-6;  ///< h of the central difference (f(x+h) − f(x−h)) / 2h
    double atol = 1e-5;  ///< an entry passes if |autodiff − numeric| ≤ atol + rtol·|numeric|
    double rtol = 1e-3;
};

/// @brief How far one parameter's autodiff derivatives are from the numeric ones.
struct ParameterCheck {
    std::size_t parameter = 0;    ///< index in the parameter list
    double max_abs_error = 0.0;   ///< max |autodiff − numeric| over the entries
    double max_rel_error = 0.0;   ///< max |autodiff − numeric| / max(|autodiff|, |numeric|)
    std::size_t worst_entry = 0;  ///< flat index of the entry furthest outside the tolerance
    double autodiff = 0.0;        ///< the two values at that entry
    double numeric = 0.0;
    bool passed = true;
};

struct GradcheckReport {
    bool passed = true;
    std::vector<ParameterCheck> parameters;
    /// @brief One line per parameter, for printing.
    std::string to_string() const;
};

/// @brief Compares every entry of d f/d params with central differences. `f` builds the scalar
/// output from the parameters; it is called once and its graph replayed for each perturbation.
GradcheckReport gradcheck(const std::function<Var()>& f, const std::vector<Var>& params,
                          const GradcheckOptions& options = {});

/// @brief The same for second derivatives: the autodiff Hessian against central differences of
/// the autodiff gradient. Entries of parameter p are the Hessian rows of p's elements.
GradcheckReport gradgradcheck(const std::function<Var()>& f, const std::vector<Var>& params,
                              const GradcheckOptions& options = {});

/// @brief ‖actual − reference‖∞ / ‖reference‖∞: how far one array is from a reference, relative to
/// the reference's largest entry (so that near-zero entries do not dominate). Shapes must match.
double normwise_relative_error(const array& actual, const array& reference);

/// @brief One row of a finite-difference step sweep: the normwise relative error
/// ‖numeric − autodiff‖∞ / ‖autodiff‖∞ of forward and central differences at one h.
struct StepSweepRow {
    double step;
    double forward_error;
    double central_error;
};

/// @brief Forward and central differences of f's gradient at each step h, against autodiff.
std::vector<StepSweepRow> finite_difference_sweep(const std::function<Var()>& f,
                                                  const std::vector<Var>& params,
                                                  const std::vector<double>& steps);

}  // namespace xgrad
