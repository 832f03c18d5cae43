// The solvers, over a flat view of the parameters: first-order loops, Newton, L-BFGS.
#include "xgrad/optim/solvers.hpp"

#include <chrono>
#include <cmath>
#include <deque>
#include <limits>
#include <memory>

#include <xtensor-blas/xlinalg.hpp>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/tape.hpp"
#include "xgrad/distributed/communicator.hpp"
#include "xgrad/distributed/gradients.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/optimizer.hpp"
#include "xgrad/optim/sgd.hpp"

namespace xgrad::solvers {

namespace {

using vector = std::vector<double>;

double dot(const vector& a, const vector& b) {
    double total = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) total += a[i] * b[i];
    return total;
}
double norm(const vector& a) {
    return std::sqrt(dot(a, a));
}
/// @brief a + t·b
vector axpy(const vector& a, double t, const vector& b) {
    vector out(a.size());
    for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] + t * b[i];
    return out;
}

/// @brief The objective as a function of one flat vector holding every parameter in order,
/// evaluated by replaying its graph; it also keeps the result's histories. With a communicator
/// the objective and its gradient (and Hessian) are summed over the ranks.
class Problem {
  public:
    Problem(const Var& objective, std::vector<Var> params, const StopOptions& stop)
        : tape_(objective),
          params_(std::move(params)),
          start_(clock::now()),
          comm_(stop.communicator) {
        const auto check = [&] {
            if (objective.size() != 1) {
                throw graph_error("solver: the objective must be a single number, got shape " +
                                  format_shape(objective.shape()));
            }
            optim::require_parameters(params_, "solver");
        };
        if (comm_ == nullptr) {
            check();
        } else {
            distributed::agree(*comm_, check);
            // One message per evaluation: the gradient with f after it. Checks the shapes.
            reducer_ = std::make_unique<distributed::GradientReducer>(*comm_, params_);
        }
        for (const Var& p : params_) size_ += p.size();
    }

    std::size_t size() const { return size_; }

    vector position() const {
        vector x;
        for (const Var& p : params_) x.insert(x.end(), p.value().begin(), p.value().end());
        return x;
    }

    /// @brief f(x), with ∇f(x) written to `gradient`; the parameters are left at x.
    double evaluate(const vector& x, vector& gradient) {
        std::size_t offset = 0;
        for (Var& p : params_) {
            array& value = p.mutable_value();
            std::copy(x.begin() + offset, x.begin() + offset + value.size(), value.begin());
            offset += value.size();
        }
        return evaluate_here(gradient);
    }

    /// @brief f and ∇f at the parameters' current values; ∇f is also left in their grad().
    double evaluate_here(vector& gradient) {
        tape_.forward();
        for (const Var& p : params_) p.zero_grad();
        tape_.backward();
        double f = tape_.output().item();
        if (reducer_) reducer_->reduce(distributed::Reduction::sum, &f, 1);  // Σ_r [∇f_r, f_r]
        gradient.clear();
        for (const Var& p : params_)
            gradient.insert(gradient.end(), p.grad().begin(), p.grad().end());
        ++result_.evaluations;
        if (!std::isfinite(f)) throw std::runtime_error("solver: the objective is not finite");
        return f;
    }

    /// @brief The Hessian at the position of the last evaluate() (Σ over the ranks' blocks).
    array hessian() {
        array H = xgrad::hessian(tape_.output(), params_);
        if (comm_ != nullptr) comm_->allreduce_sum(H.data(), H.size());
        return H;
    }

    /// @brief Records an iterate; true when ‖∇f‖ is below the tolerance.
    bool record(double f, const vector& gradient, const StopOptions& stop) {
        const double g = norm(gradient);
        result_.objective = f;
        result_.gradient_norm = g;
        result_.objective_history.push_back(f);
        result_.gradient_norm_history.push_back(g);
        result_.seconds_history.push_back(
            std::chrono::duration<double>(clock::now() - start_).count());
        result_.iterations = result_.objective_history.size() - 1;
        result_.converged = g < stop.gradient_tolerance;
        if (stop.on_iteration) stop.on_iteration(result_.iterations, f, g);
        return result_.converged;
    }

    SolveResult& result() { return result_; }

  private:
    using clock = std::chrono::steady_clock;
    Tape tape_;
    std::vector<Var> params_;
    std::size_t size_ = 0;
    clock::time_point start_;
    distributed::Communicator* comm_;
    std::unique_ptr<distributed::GradientReducer> reducer_;  // with a communicator only
    SolveResult result_;
};

/// @brief Step length along d from x satisfying the strong Wolfe conditions (Nocedal & Wright,
/// Algorithms 3.5 and 3.6); 0 if none was found. On success x, f and g hold the new point.
class WolfeSearch {
  public:
    WolfeSearch(Problem& problem, const LbfgsOptions& options)
        : problem_(problem), options_(options) {}

    double search(vector& x, double& f, vector& g, const vector& d, double first_step) {
        x0_ = x;
        f0_ = f;
        slope0_ = dot(g, d);
        d_ = &d;
        // Below this, differences of f are rounding, not decrease (the approximate Wolfe idea).
        // f is a sum of many rounded terms: 4ε stalled 5 of 200 random starts on breast cancer
        // a little above ‖∇‖ = 1e-10, 16ε none; 64ε leaves a margin.
        noise_ = 64.0 * std::numeric_limits<double>::epsilon() * std::abs(f0_);
        double previous = 0.0;
        double f_previous = f0_;
        double slope_previous = slope0_;
        double step = first_step;
        for (std::size_t i = 0; i < options_.max_line_search_steps; ++i) {
            const Point p = probe(step);
            if (!sufficient_decrease(step, p.f) || (i > 0 && p.f > f_previous + noise_)) {
                return finish(zoom({previous, f_previous, slope_previous}, {step, p.f, p.slope}), x,
                              f, g);
            }
            if (std::abs(p.slope) <= -options_.c2 * slope0_) return finish(p, x, f, g);
            if (p.slope >= 0.0) {
                return finish(zoom({step, p.f, p.slope}, {previous, f_previous, slope_previous}), x,
                              f, g);
            }
            previous = step;
            f_previous = p.f;
            slope_previous = p.slope;
            step *= 2.0;
        }
        return 0.0;
    }

  private:
    struct Point {
        double step;
        double f;
        double slope;
        vector x;
        vector g;
    };
    struct Bracket {
        double step;
        double f;
        double slope;
    };

    Point probe(double step) {
        Point p{step, 0.0, 0.0, axpy(x0_, step, *d_), {}};
        p.f = problem_.evaluate(p.x, p.g);
        p.slope = dot(p.g, *d_);
        return p;
    }

    bool sufficient_decrease(double step, double f) const {
        return f <= f0_ + options_.c1 * step * slope0_ + noise_;
    }

    Point zoom(Bracket lo, Bracket hi) {
        for (std::size_t i = 0; i < options_.max_line_search_steps; ++i) {
            const double step = interpolate(lo, hi);
            Point p = probe(step);
            if (!sufficient_decrease(step, p.f) || p.f > lo.f + noise_) {
                hi = {step, p.f, p.slope};
            } else {
                if (std::abs(p.slope) <= -options_.c2 * slope0_) return p;
                if (p.slope * (hi.step - lo.step) >= 0.0) hi = lo;
                lo = {step, p.f, p.slope};
            }
            if (std::abs(hi.step - lo.step) < 1e-16 * std::max(1.0, std::abs(lo.step))) break;
        }
        Point failed;
        failed.step = 0.0;
        return failed;
    }

    /// @brief The minimiser of the cubic through both ends, kept inside the bracket (bisection
    /// when the cubic has none there).
    static double interpolate(const Bracket& a, const Bracket& b) {
        const double d1 = a.slope + b.slope - 3.0 * (a.f - b.f) / (a.step - b.step);
        const double radicand = d1 * d1 - a.slope * b.slope;
        const double low = std::min(a.step, b.step);
        const double high = std::max(a.step, b.step);
        if (radicand >= 0.0) {
            const double d2 = std::copysign(std::sqrt(radicand), b.step - a.step);
            const double step =
                b.step - (b.step - a.step) * (b.slope + d2 - d1) / (b.slope - a.slope + 2.0 * d2);
            const double margin = 0.1 * (high - low);
            if (std::isfinite(step) && step > low + margin && step < high - margin) return step;
        }
        return 0.5 * (low + high);
    }

    static double finish(Point p, vector& x, double& f, vector& g) {
        if (p.step == 0.0) return 0.0;
        x = std::move(p.x);
        f = p.f;
        g = std::move(p.g);
        return p.step;
    }

    Problem& problem_;
    const LbfgsOptions& options_;
    vector x0_;
    double f0_ = 0.0;
    double slope0_ = 0.0;
    double noise_ = 0.0;
    const vector* d_ = nullptr;
};

/// @brief Evaluates f and ∇f where the parameters are, records them and lets `optimizer` step
/// from that gradient, until ‖∇f‖ is below the tolerance or the iterations are spent.
SolveResult run_optimizer(Problem& problem, optim::Optimizer& optimizer, const StopOptions& stop) {
    vector g;
    for (std::size_t k = 0;; ++k) {
        const double f = problem.evaluate_here(g);
        if (problem.record(f, g, stop) || k == stop.max_iterations) break;
        optimizer.step();
    }
    return problem.result();
}

}  // namespace

SolveResult gradient_descent(const Var& objective, const std::vector<Var>& params,
                             double learning_rate, const StopOptions& stop) {
    Problem problem(objective, params, stop);
    optim::SGD sgd(params, learning_rate);
    return run_optimizer(problem, sgd, stop);
}

SolveResult adam(const Var& objective, const std::vector<Var>& params, double learning_rate,
                 const StopOptions& stop) {
    Problem problem(objective, params, stop);
    optim::Adam adam(params, learning_rate);  // β₁ = 0.9, β₂ = 0.999, ε = 1e-8
    return run_optimizer(problem, adam, stop);
}

SolveResult newton(const Var& objective, const std::vector<Var>& params, const StopOptions& stop) {
    Problem problem(objective, params, stop);
    vector x = problem.position();
    vector g;
    double f = problem.evaluate(x, g);
    for (std::size_t k = 0; !problem.record(f, g, stop) && k < stop.max_iterations; ++k) {
        const array H = problem.hessian();
        array rhs = array::from_shape({g.size()});
        for (std::size_t i = 0; i < g.size(); ++i) rhs(i) = -g[i];
        const array solution = xt::linalg::solve(H, rhs);
        vector d(solution.begin(), solution.end());
        if (!(dot(d, g) < 0.0)) d = axpy(vector(g.size(), 0.0), -1.0, g);  // not a descent: −∇f
        // Backtrack from the full Newton step; near the optimum f only changes by rounding.
        const double noise = 4.0 * std::numeric_limits<double>::epsilon() * std::abs(f);
        double step = 1.0;
        vector x_new;
        vector g_new;
        double f_new = 0.0;
        for (int halvings = 0; halvings < 60; ++halvings, step *= 0.5) {
            x_new = axpy(x, step, d);
            f_new = problem.evaluate(x_new, g_new);
            if (f_new <= f + 1e-4 * step * dot(g, d) + noise) break;
        }
        x = std::move(x_new);
        g = std::move(g_new);
        f = f_new;
    }
    return problem.result();
}

SolveResult lbfgs(const Var& objective, const std::vector<Var>& params,
                  const LbfgsOptions& options) {
    Problem problem(objective, params, options.stop);
    WolfeSearch line_search(problem, options);
    vector x = problem.position();
    vector g;
    double f = problem.evaluate(x, g);
    std::deque<std::pair<vector, vector>> memory;  // (s, y) = (Δx, Δ∇f), newest last
    bool converged = problem.record(f, g, options.stop);
    for (std::size_t k = 0; !converged && k < options.stop.max_iterations; ++k) {
        // Two-loop recursion: d = −H⁻¹∇f with the inverse Hessian estimated from memory.
        vector q = g;
        std::vector<double> alpha(memory.size());
        for (std::size_t i = memory.size(); i-- > 0;) {
            const auto& [s, y] = memory[i];
            alpha[i] = dot(s, q) / dot(y, s);
            q = axpy(q, -alpha[i], y);
        }
        if (!memory.empty()) {
            const auto& [s, y] = memory.back();
            const double gamma = dot(s, y) / dot(y, y);
            for (double& v : q) v *= gamma;
        }
        for (std::size_t i = 0; i < memory.size(); ++i) {
            const auto& [s, y] = memory[i];
            const double beta = dot(y, q) / dot(y, s);
            q = axpy(q, alpha[i] - beta, s);
        }
        vector d = axpy(vector(q.size(), 0.0), -1.0, q);
        const double first_step = memory.empty() ? std::min(1.0, 1.0 / norm(g)) : 1.0;
        const vector x_old = x;
        const vector g_old = g;
        if (line_search.search(x, f, g, d, first_step) == 0.0) {
            if (memory.empty()) break;  // not even a gradient step: stop where we are
            memory.clear();             // a stale estimate: retry from the gradient, same point
            continue;
        }
        vector s = axpy(x, -1.0, x_old);
        vector y = axpy(g, -1.0, g_old);
        if (dot(s, y) > 1e-12 * norm(s) * norm(y)) {
            memory.emplace_back(std::move(s), std::move(y));
            if (memory.size() > options.history) memory.pop_front();
        }
        converged = problem.record(f, g, options.stop);  // one entry per point reached
    }
    // A failed line search leaves the parameters at its last trial point: put them back at the
    // last point reached, with ∇f there in their grad().
    if (problem.position() != x) problem.evaluate(x, g);
    return problem.result();
}

}  // namespace xgrad::solvers
