// Solvers run to convergence on a scalar graph: gradient descent, Adam, Newton, L-BFGS.
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::distributed {
class Communicator;
}  // namespace xgrad::distributed

namespace xgrad::solvers {

/// @brief When to stop: ‖∇f‖₂ below the tolerance, or the iteration budget spent.
struct StopOptions {
    /// @brief At most `max_iterations_` iterations; converged when ‖∇f‖₂ <
    /// `gradient_tolerance_`; no callback. Never throws.
    StopOptions(std::size_t max_iterations_ = 100, double gradient_tolerance_ = 1e-10)
        : max_iterations(max_iterations_), gradient_tolerance(gradient_tolerance_) {}

    std::size_t max_iterations;  ///< iterations at most (0: evaluate the start only)
    double gradient_tolerance;  ///< converged when ‖∇f‖₂ (all parameters, flattened) < this
    /// @brief Called at the start (iteration 0) and after every iteration with f and ‖∇f‖₂,
    /// e.g. for a progress display. What it throws propagates out of the solver.
    std::function<void(std::size_t iteration, double objective, double gradient_norm)> on_iteration;
    /// @brief Data-parallel solving (null, the default: this process alone). With a group, each
    /// rank's `objective` is its share f_r of the global objective f = Σ_r f_r (e.g. the sum of
    /// its rows' losses divided by the global row count, plus each penalty times local rows /
    /// global rows so that it counts once); every evaluation sums [∇f_r, f_r] over the ranks
    /// with one Communicator::allreduce_sum (the same bits on every rank), Newton also sums the
    /// ranks' Hessians (N×N), so every rank takes the same iterations from the same start and
    /// sees the global f, ∇f (left in the parameters' grad()) and convergence. The call is
    /// collective: every rank of the group solves, with parameters of the same shapes (checked:
    /// distributed_error on every rank otherwise) and the same starting values.
    distributed::Communicator* communicator = nullptr;
};

/// @brief Settings of L-BFGS.
struct LbfgsOptions {
    StopOptions stop{1000, 1e-10};  ///< when to stop (1000 iterations, ‖∇f‖₂ < 1e-10)
    std::size_t history = 10;       ///< (s, y) pairs kept for the inverse-Hessian estimate
    double c1 = 1e-4;  ///< sufficient decrease (Armijo) constant of the Wolfe conditions
    double c2 = 0.9;   ///< curvature constant of the strong Wolfe conditions
    std::size_t max_line_search_steps = 40;  ///< evaluations per bracketing and per zoom phase
};

/// @brief What a solver did. The histories hold one entry for the start and one per iteration
/// (iterations + 1 entries each).
struct SolveResult {
    bool converged = false;       ///< ‖∇f‖₂ < the tolerance at the last point
    std::size_t iterations = 0;   ///< points reached after the start
    std::size_t evaluations = 0;  ///< objective + gradient evaluations (forward + backward)
    double objective = 0.0;       ///< f at the last point (where the parameters are left)
    double gradient_norm = 0.0;   ///< ‖∇f‖₂ there
    std::vector<double> objective_history;
    std::vector<double> gradient_norm_history;
    std::vector<double> seconds_history;  ///< wall time since the start
};

// Common to the four solvers:
//  - `objective` is a graph with one element (shape (), (1,), (1,1), ...) built from `params`;
//    it is replayed (Tape) at each point, so its constants may be any size.
//  - `params` are parameter() leaves of any shapes, seen as one flat vector x in their order;
//    they start where they are and are left at the last point reached (also on an exception,
//    at the point being evaluated). Their grad() holds ∇f at the last evaluated point.
//  - They throw graph_error "solver: the objective must be a single number, got shape S" and
//    "solver: parameters must be parameter() leaves, got '<op>'" (optim::require_parameters),
//    and std::runtime_error "solver: the objective is not finite" when f is NaN or infinite at
//    a point they evaluate.
//  - With stop.communicator (see StopOptions), f and ∇f are the sums over the ranks; the checks
//    above are agreed (distributed::distributed_error on every rank, "rank R: ..."), and the
//    non-finite check sees the global f, so every rank throws it.

/// @brief Fixed-step gradient descent x ← x − η∇f(x): optim::SGD (no momentum, no weight decay)
/// stepped until ‖∇f‖₂ < stop.gradient_tolerance or stop.max_iterations steps; one evaluation
/// per iteration.
/// @param learning_rate η > 0.
/// @return the result; `converged` false when the budget ran out first.
/// @throw std::invalid_argument "optimizer: learning rate must be > 0" for η ≤ 0; as above.
SolveResult gradient_descent(const Var& objective, const std::vector<Var>& params,
                             double learning_rate, const StopOptions& stop = {});

/// @brief Adam (β₁ = 0.9, β₂ = 0.999, ε = 1e-8, bias-corrected; the update is optim::Adam's,
/// torch.optim.Adam's arithmetic) stepped until ‖∇f‖₂ < stop.gradient_tolerance or
/// stop.max_iterations steps; one evaluation per iteration.
/// @param learning_rate η > 0.
/// @return the result; `converged` false when the budget ran out first.
/// @throw std::invalid_argument "optimizer: learning rate must be > 0" for η ≤ 0; as above.
SolveResult adam(const Var& objective, const std::vector<Var>& params, double learning_rate,
                 const StopOptions& stop = {});

/// @brief Newton's method (Nocedal & Wright, ch. 3.3): at x solve H(x)·d = −∇f(x) with the
/// autodiff Hessian (N×N for N parameter elements, xgrad::hessian) by LU (LAPACK gesv); use −∇f
/// when d is not a descent direction; halve the step s from 1 until f(x + s·d) ≤ f(x) +
/// 1e-4·s·∇fᵀd (up to rounding of f), 60 trials at most (the last one is taken). For logistic
/// regression this is IRLS. Memory and time grow as N² and N³: meant for up to a few thousand
/// parameters.
/// @return the result; `converged` false when stop.max_iterations ran out first.
/// @throw std::runtime_error "The solution could not be computed" (xtensor-blas) when H is
/// exactly singular (e.g. separable data without an L2 term); as above.
SolveResult newton(const Var& objective, const std::vector<Var>& params,
                   const StopOptions& stop = {});

/// @brief Limited-memory BFGS (Nocedal & Wright, Algorithm 7.4, the two-loop recursion) with
/// options.history (s, y) pairs and a line search satisfying the strong Wolfe conditions
/// (Algorithms 3.5 and 3.6, constants c1 and c2), which accepts differences of f below its
/// rounding. A pair with sᵀy ≤ 1e-12·‖s‖‖y‖ is not kept; when the line search fails the memory
/// is dropped and the step retried along −∇f, and when that fails too the solver stops.
/// @return the result; `converged` false when options.stop.max_iterations ran out, or no step
/// along −∇f lowered f (then `iterations` may be 0).
/// @throw as above.
SolveResult lbfgs(const Var& objective, const std::vector<Var>& params,
                  const LbfgsOptions& options = {});

}  // namespace xgrad::solvers
