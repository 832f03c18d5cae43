// Solvers run to convergence on a scalar graph: gradient descent, Adam, Newton, L-BFGS.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::solvers {

/// @brief When to stop: ‖∇f‖₂ below the tolerance, or the iteration budget spent.
struct StopOptions {
    StopOptions(std::size_t max_iterations_ = 100, double gradient_tolerance_ = 1e-10)
        : max_iterations(max_iterations_), gradient_tolerance(gradient_tolerance_) {}

    std::size_t max_iterations;
    double gradient_tolerance;
    /// @brief Called at the start (iteration 0) and after every iteration with f and ‖∇f‖₂,
    /// e.g. for a progress display.
    std::function<void(std::size_t iteration, double objective, double gradient_norm)> on_iteration;
};

/// @brief Settings of L-BFGS.
struct LbfgsOptions {
    StopOptions stop{1000, 1e-10};
    std::size_t history = 10;  ///< (s, y) pairs kept for the inverse-Hessian estimate
    double c1 = 1e-4;          ///< sufficient decrease (Armijo) constant of the Wolfe conditions
    double c2 = 0.9;           ///< curvature constant of the strong Wolfe conditions
    std::size_t max_line_search_steps = 40;
};

/// @brief What a solver did. The histories hold one entry for the start and one per iteration.
struct SolveResult {
    bool converged = false;
    std::size_t iterations = 0;
    std::size_t evaluations = 0;  ///< objective + gradient evaluations (forward + backward)
    double objective = 0.0;
    double gradient_norm = 0.0;
    std::vector<double> objective_history;
    std::vector<double> gradient_norm_history;
    std::vector<double> seconds_history;  ///< wall time since the start
};

/// @brief Fixed-step gradient descent x ← x − η∇f on a scalar graph built from `params`.
SolveResult gradient_descent(const Var& objective, const std::vector<Var>& params,
                             double learning_rate, const StopOptions& stop = {});

/// @brief Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, bias-corrected) on a scalar graph.
SolveResult adam(const Var& objective, const std::vector<Var>& params, double learning_rate,
                 const StopOptions& stop = {});

/// @brief Newton's method: the autodiff Hessian, an LU solve (LAPACK gesv) for the step, and
/// backtracking when a full step does not decrease f. For logistic regression this is IRLS.
SolveResult newton(const Var& objective, const std::vector<Var>& params,
                   const StopOptions& stop = {});

/// @brief Limited-memory BFGS with a line search satisfying the strong Wolfe conditions.
SolveResult lbfgs(const Var& objective, const std::vector<Var>& params,
                  const LbfgsOptions& options = {});

}  // namespace xgrad::solvers
