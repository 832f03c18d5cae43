/***************************************************************************
 * xgrad examples: the course's functions, their autodiff derivatives and   *
 * their closed forms, shared by examples/calculus.cpp,                     *
 * examples/forward_vs_reverse.cpp and their tests (tests/examples/), so    *
 * the tests check the very numbers the examples print.                     *
 ***************************************************************************/
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/tape.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::course {

/// @brief The points examples/calculus.cpp evaluates at (its test uses the same).
namespace points {
inline constexpr double kRulesX = 0.7;       ///< the four rules
inline constexpr double kElementaryX = 1.3;  ///< polynomial, exp, log, sin, cos
inline constexpr double kW = 0.8, kX = 1.5, kB = -0.3, kY = 2.0;  ///< the composites
inline constexpr double kPointX = 1.2, kPointY = 0.5;  ///< f(x, y) = x²y + sin y and friends
inline constexpr double kDirectionX = 3.0, kDirectionY = 4.0;  ///< u = (3, 4)/5
inline constexpr double kSweepX = 0.7;                         ///< the step sweep
/// @brief Newton's starts: both sides of both critical points, and 0, where f''(0) = 0.
inline const std::vector<double> kNewtonStarts = {-3.0, -0.5, 0.5, 3.0, 0.0};
/// @brief The step sizes h = 10⁻¹ … 10⁻¹².
inline std::vector<double> sweep_steps() {
    std::vector<double> steps;
    for (int e = 1; e <= 12; ++e) steps.push_back(std::pow(10.0, -e));
    return steps;
}
}  // namespace points

// ---------------------------------------------------------------------------------------------
// Calculus: derivative rules, elementary and composite functions, partial derivatives.
// ---------------------------------------------------------------------------------------------

/// @brief One derivative: the autodiff number beside its closed form.
struct Check {
    std::string name;  ///< what is differentiated, and where
    std::string rule;  ///< the closed form, as written in the notes
    double autodiff;   ///< xgrad's number
    double closed;     ///< the closed form evaluated
    /// @brief |autodiff − closed form|.
    double difference() const { return std::abs(autodiff - closed); }
};

/// @brief d f/d x of a scalar function at x, by one reverse pass (grad, no graph kept).
inline double derivative(const std::function<Var(const Var&)>& f, double x) {
    const Var v = parameter(x);
    return grad(f(v), {v})[0].item();
}

/// @brief The four rules at x: sum (x² + sin x), product (x²·eˣ), quotient (sin x / (1 + x²)) and
/// chain (e^(sin x)), each with its derivative by the rule.
inline std::vector<Check> derivative_rules(double x) {
    const double s = std::sin(x), c = std::cos(x), e = std::exp(x), q = 1.0 + x * x;
    return {
        {"sum rule       (x² + sin x)'", "2x + cos x",
         derivative([](const Var& v) { return v * v + sin(v); }, x), 2.0 * x + c},
        {"product rule   (x²·eˣ)'", "2x·eˣ + x²·eˣ",
         derivative([](const Var& v) { return (v * v) * exp(v); }, x), (2.0 * x + x * x) * e},
        {"quotient rule  (sin x/(1 + x²))'", "(cos x·(1 + x²) − sin x·2x)/(1 + x²)²",
         derivative([](const Var& v) { return sin(v) / (1.0 + v * v); }, x),
         (c * q - s * 2.0 * x) / (q * q)},
        {"chain rule     (e^(sin x))'", "e^(sin x)·cos x",
         derivative([](const Var& v) { return exp(sin(v)); }, x), std::exp(s) * c},
    };
}

/// @brief Polynomial, exp, log, sin and cos at x (x > 0 for the log).
inline std::vector<Check> elementary_derivatives(double x) {
    return {
        {"(3x⁴ − 2x³ + x − 5)'", "12x³ − 6x² + 1",
         derivative([](const Var& v) { return 3.0 * pow(v, 4.0) - 2.0 * pow(v, 3.0) + v - 5.0; },
                    x),
         12.0 * x * x * x - 6.0 * x * x + 1.0},
        {"(e^(2x))'", "2·e^(2x)", derivative([](const Var& v) { return exp(2.0 * v); }, x),
         2.0 * std::exp(2.0 * x)},
        {"(ln x)'", "1/x", derivative([](const Var& v) { return log(v); }, x), 1.0 / x},
        {"(ln(1 + x²))'", "2x/(1 + x²)",
         derivative([](const Var& v) { return log(1.0 + v * v); }, x), 2.0 * x / (1.0 + x * x)},
        {"(sin x)'", "cos x", derivative([](const Var& v) { return sin(v); }, x), std::cos(x)},
        {"(cos x)'", "−sin x", derivative([](const Var& v) { return cos(v); }, x), -std::sin(x)},
    };
}

/// @brief The composite examples: sin(w·x + b) with respect to w, x and b (one backward pass
/// gives all three), sin(3x² + 2), and x·y + sin x with respect to x and y.
inline std::vector<Check> composite_derivatives(double w, double x, double b, double y) {
    std::vector<Check> checks;
    {
        const Var vw = parameter(w), vx = parameter(x), vb = parameter(b);
        const std::vector<Var> g = grad(sin(vw * vx + vb), {vw, vx, vb});
        const double c = std::cos(w * x + b);
        checks.push_back({"∂/∂w sin(w·x + b)", "x·cos(w·x + b)", g[0].item(), x * c});
        checks.push_back({"∂/∂x sin(w·x + b)", "w·cos(w·x + b)", g[1].item(), w * c});
        checks.push_back({"∂/∂b sin(w·x + b)", "cos(w·x + b)", g[2].item(), c});
    }
    checks.push_back({"(sin(3x² + 2))'", "6x·cos(3x² + 2)",
                      derivative([](const Var& v) { return sin(3.0 * v * v + 2.0); }, x),
                      6.0 * x * std::cos(3.0 * x * x + 2.0)});
    {
        const Var vx = parameter(x), vy = parameter(y);
        const std::vector<Var> g = grad(vx * vy + sin(vx), {vx, vy});
        checks.push_back({"∂/∂x (x·y + sin x)", "y + cos x", g[0].item(), y + std::cos(x)});
        checks.push_back({"∂/∂y (x·y + sin x)", "x", g[1].item(), x});
    }
    return checks;
}

/// @brief f(x, y) = x²y + sin y on two scalar leaves: the course's function of two variables.
inline Var two_variable_f(const Var& x, const Var& y) {
    return x * x * y + sin(y);
}

/// @brief ∂f/∂x = 2xy and ∂f/∂y = x² + cos y of f(x, y) = x²y + sin y.
inline std::vector<Check> partial_derivatives(double x, double y) {
    const Var vx = parameter(x), vy = parameter(y);
    const std::vector<Var> g = grad(two_variable_f(vx, vy), {vx, vy});
    return {
        {"∂f/∂x of x²y + sin y", "2xy", g[0].item(), 2.0 * x * y},
        {"∂f/∂y of x²y + sin y", "x² + cos y", g[1].item(), x * x + std::cos(y)},
    };
}

// ---------------------------------------------------------------------------------------------
// Several variables: gradient, Jacobian, Hessian.
// ---------------------------------------------------------------------------------------------

/// @brief Element i of a vector as a scalar node: Σ p ⊙ eᵢ (the graph's way to name a component).
inline Var component(const Var& p, std::size_t i) {
    array unit = xt::zeros<double>(p.shape());
    unit.data()[i] = 1.0;
    return sum(p * constant(std::move(unit)));
}

/// @brief f(p) = x²y + sin y for p = (x, y): the same function on one vector leaf.
inline Var f_of_vector(const Var& p) {
    return two_variable_f(component(p, 0), component(p, 1));
}

/// @brief The vector function F(x, y) = (x²y, 5x + sin y, eˣ·y): ℝ² → ℝ³, built from scalar
/// components placed by unit vectors.
inline Var vector_function(const Var& p) {
    const Var x = component(p, 0), y = component(p, 1);
    return constant(array{1.0, 0.0, 0.0}) * (x * x * y) +
           constant(array{0.0, 1.0, 0.0}) * (5.0 * x + sin(y)) +
           constant(array{0.0, 0.0, 1.0}) * (exp(x) * y);
}

/// @brief Gradient, Jacobian (both modes) and Hessian at (x, y), each beside its closed form.
struct SeveralVariables {
    array gradient;          ///< ∇f by grad(), shape (2)
    array gradient_closed;   ///< (2xy, x² + cos y)
    array jacobian_reverse;  ///< ∂F/∂p by jacobian() (one backward pass per output), (3, 2)
    array jacobian_forward;  ///< ∂F/∂p by jacobian_forward() (one tangent pass per input)
    array jacobian_closed;   ///< [[2xy, x²], [5, cos y], [eˣy, eˣ]]
    array hessian;           ///< ∇²f by xgrad::hessian, (2, 2)
    array hessian_closed;    ///< [[2y, 2x], [2x, −sin y]]
};

inline SeveralVariables several_variables(double x, double y) {
    SeveralVariables r;
    const Var p = parameter(array{x, y});
    const Var f = f_of_vector(p);
    r.gradient = grad(f, {p})[0].value();
    r.gradient_closed = array{2.0 * x * y, x * x + std::cos(y)};
    const Var F = vector_function(p);
    r.jacobian_reverse = jacobian(F, p);
    r.jacobian_forward = xgrad::jacobian_forward(F, p);
    const double e = std::exp(x);
    r.jacobian_closed = array{{2.0 * x * y, x * x}, {5.0, std::cos(y)}, {e * y, e}};
    r.hessian = xgrad::hessian(f, {p});
    r.hessian_closed = array{{2.0 * y, 2.0 * x}, {2.0 * x, -std::sin(y)}};
    return r;
}

/// @brief max |a − b| over two arrays of one shape (std::invalid_argument if the shapes differ).
inline double max_abs_difference(const array& a, const array& b) {
    if (a.shape() != b.shape()) {
        throw std::invalid_argument("max_abs_difference: shapes " + format_shape(a.shape()) +
                                    " and " + format_shape(b.shape()) + " differ");
    }
    double worst = 0.0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
    }
    return worst;
}

// ---------------------------------------------------------------------------------------------
// Implicit differentiation and the directional derivative.
// ---------------------------------------------------------------------------------------------

/// @brief The slope dy/dx of the curve F(x, y) = x² + y² − 1 = 0 at one of its points.
struct ImplicitSlope {
    double F_x;                    ///< ∂F/∂x by autodiff (2x)
    double F_y;                    ///< ∂F/∂y by autodiff (2y)
    std::optional<double> slope;   ///< −F_x/F_y; empty where F_y = 0 (a vertical tangent)
    std::optional<double> closed;  ///< −x/y; empty where y = 0
};

/// @brief dy/dx = −F_x/F_y from the autodiff partials of F(x, y) = x² + y² − 1. Where F_y = 0 the
/// implicit function theorem does not apply (the tangent is vertical): the slope is left empty
/// instead of dividing by zero. Throws std::invalid_argument if (x, y) is not on the circle
/// (|F| > 1e-12).
inline ImplicitSlope implicit_slope(double x, double y) {
    const Var vx = parameter(x), vy = parameter(y);
    const Var F = vx * vx + vy * vy - 1.0;
    if (std::abs(F.item()) > 1e-12) {
        throw std::invalid_argument(
            "implicit_slope: (" + std::to_string(x) + ", " + std::to_string(y) +
            ") is not on x² + y² = 1 (F = " + std::to_string(F.item()) + ")");
    }
    const std::vector<Var> g = grad(F, {vx, vy});
    ImplicitSlope r{g[0].item(), g[1].item(), std::nullopt, std::nullopt};
    if (r.F_y != 0.0) r.slope = -r.F_x / r.F_y;
    if (y != 0.0) r.closed = -x / y;
    return r;
}

/// @brief The directional derivative of f(x, y) = x²y + sin y along a direction, three ways.
struct Directional {
    double ux, uy;       ///< the unit direction used
    double by_gradient;  ///< ∇f·u, the gradient from one reverse pass
    double by_jvp;       ///< jvp(f, {p}, {u}): one forward tangent pass
    double closed;       ///< 2xy·uₓ + (x² + cos y)·u_y
};

/// @brief D_u f at (x, y) for u = (dx, dy)/‖(dx, dy)‖. Throws std::invalid_argument for a zero
/// (or non-finite) direction.
inline Directional directional_derivative(double x, double y, double dx, double dy) {
    const double norm = std::hypot(dx, dy);
    if (!(norm > 0.0) || !std::isfinite(norm)) {
        throw std::invalid_argument("directional_derivative: the direction (" + std::to_string(dx) +
                                    ", " + std::to_string(dy) + ") has no unit vector");
    }
    Directional r{dx / norm, dy / norm, 0.0, 0.0, 0.0};
    const Var p = parameter(array{x, y});
    const Var f = f_of_vector(p);
    const array g = grad(f, {p})[0].value();
    r.by_gradient = g(0) * r.ux + g(1) * r.uy;
    r.by_jvp = jvp(f, {p}, {array{r.ux, r.uy}})();
    r.closed = 2.0 * x * y * r.ux + (x * x + std::cos(y)) * r.uy;
    return r;
}

// ---------------------------------------------------------------------------------------------
// Numerical against automatic differentiation.
// ---------------------------------------------------------------------------------------------

/// @brief g(x) = sin(3x² + 2), the function of the step sweep.
inline Var sweep_function(const Var& x) {
    return sin(3.0 * x * x + 2.0);
}

/// @brief g'''(x) = −108x·sin(3x² + 2) − 216x³·cos(3x² + 2): it sets the truncation error.
inline double sweep_third_derivative_closed(double x) {
    const double u = 3.0 * x * x + 2.0;
    return -108.0 * x * std::sin(u) - 216.0 * x * x * x * std::cos(u);
}

/// @brief g', g'' and g''' at x by autodiff: grad with create_graph, twice, then grad.
inline std::vector<double> sweep_derivatives(double x) {
    const Var v = parameter(x);
    const Var d1 = grad(sweep_function(v), {v}, true)[0];
    const Var d2 = grad(d1, {v}, true)[0];
    const Var d3 = grad(d2, {v})[0];
    return {d1.item(), d2.item(), d3.item()};
}

/// @brief One step size of the central-difference sweep.
struct StepRow {
    double h;
    double central;     ///< (g(x + h) − g(x − h)) / 2h, by replaying g's graph
    double error;       ///< |central − autodiff g'(x)|
    double truncation;  ///< the predicted truncation error h²·|g'''(x)|/6
    double rounding;    ///< the predicted rounding error ≈ ε·(|g(x)| + |x·g'(x)|)/h
};

/// @brief Central differences of g at x for each step h, against the autodiff derivative. Small h
/// loses to rounding (of g's values, ε|g|/h, and of x ± h itself, ε|x·g'|/h), large h to
/// truncation (h²|g'''|/6): the error against h is a V.
inline std::vector<StepRow> central_difference_sweep(double x, const std::vector<double>& steps) {
    Var v = parameter(x);
    Tape tape(sweep_function(v));
    const double exact = grad(tape.output(), {v})[0].item();
    const double value = tape.output().item();
    const double third = std::abs(sweep_derivatives(x)[2]);
    std::vector<StepRow> rows;
    for (double h : steps) {
        v.mutable_value() = array(x + h);
        tape.forward();
        const double plus = tape.output().item();
        v.mutable_value() = array(x - h);
        tape.forward();
        const double minus = tape.output().item();
        const double central = (plus - minus) / (2.0 * h);
        rows.push_back(
            {h, central, std::abs(central - exact), h * h * third / 6.0,
             std::numeric_limits<double>::epsilon() * (std::abs(value) + std::abs(x * exact)) / h});
    }
    v.mutable_value() = array(x);
    tape.forward();
    return rows;
}

// ---------------------------------------------------------------------------------------------
// Critical points by Newton's method on f'.
// ---------------------------------------------------------------------------------------------

/// @brief f(x) = x³ − 3x + 2: f' = 3x² − 3 (zero at ±1), f'' = 6x (−6 at −1: a maximum; 6 at 1:
/// a minimum; 0 at 0, where Newton's step on f' is undefined).
inline Var cubic(const Var& x) {
    return x * x * x - 3.0 * x + 2.0;
}

/// @brief f'(x) and f''(x) by autodiff: grad with create_graph, then grad of that gradient.
inline std::pair<double, double> first_and_second_derivative(
    const std::function<Var(const Var&)>& f, double x) {
    const Var v = parameter(x);
    const Var d1 = grad(f(v), {v}, true)[0];
    const Var d2 = grad(d1, {v})[0];
    return {d1.item(), d2.item()};
}

enum class NewtonStatus {
    converged,       ///< the step fell below the tolerance
    zero_curvature,  ///< |f''| ≤ curvature_floor at an iterate: the step f'/f'' is undefined
    no_convergence,  ///< the iteration budget ran out (or an iterate stopped being finite)
};

enum class CriticalKind {
    minimum,       ///< f'' > 0
    maximum,       ///< f'' < 0
    inconclusive,  ///< f'' = 0: the second-derivative test says nothing
    none,          ///< Newton did not converge: no critical point to classify
};

/// @brief What Newton's method on f' did from one start.
struct NewtonResult {
    NewtonStatus status;
    double x;                  ///< the last iterate (the critical point if converged)
    double first;              ///< f'(x) there
    double second;             ///< f''(x) there
    CriticalKind kind;         ///< by the sign of f''(x), if converged
    std::vector<double> path;  ///< every iterate, the start first
    std::string message;       ///< one line: what happened
};

inline const char* to_string(CriticalKind kind) {
    switch (kind) {
        case CriticalKind::minimum:
            return "minimum";
        case CriticalKind::maximum:
            return "maximum";
        case CriticalKind::inconclusive:
            return "inconclusive";
        case CriticalKind::none:
            return "none";
    }
    return "?";
}

/// @brief x with up to 6 significant digits ("0", "1.5e-14"), for messages.
inline std::string format_number(double x) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", x);
    return text;
}

/// @brief Newton's method for f'(x) = 0: x ← x − f'(x)/f''(x), f' and f'' by autodiff, until the
/// step is at most tolerance·max(1, |x|). Never divides by a vanishing f'': an iterate with
/// |f''| ≤ curvature_floor stops with NewtonStatus::zero_curvature and says so in the message.
inline NewtonResult newton_critical_point(const std::function<Var(const Var&)>& f, double x0,
                                          int max_iterations = 50, double tolerance = 1e-15,
                                          double curvature_floor = 1e-12) {
    NewtonResult r{NewtonStatus::no_convergence, x0, 0.0, 0.0, CriticalKind::none, {x0}, ""};
    double x = x0;
    for (int k = 0; k < max_iterations; ++k) {
        const auto [d1, d2] = first_and_second_derivative(f, x);
        r.x = x;
        r.first = d1;
        r.second = d2;
        if (std::abs(d2) <= curvature_floor) {
            r.status = NewtonStatus::zero_curvature;
            r.message = "f''(" + format_number(x) + ") = " + format_number(d2) +
                        ": the Newton step f'/f'' is undefined (f' has a horizontal tangent "
                        "there); start elsewhere";
            return r;
        }
        const double step = d1 / d2;
        x -= step;
        if (!std::isfinite(x)) break;
        r.path.push_back(x);
        if (std::abs(step) <= tolerance * std::max(1.0, std::abs(x))) {
            const auto [e1, e2] = first_and_second_derivative(f, x);
            r.status = NewtonStatus::converged;
            r.x = x;
            r.first = e1;
            r.second = e2;
            r.kind = e2 > 0.0   ? CriticalKind::minimum
                     : e2 < 0.0 ? CriticalKind::maximum
                                : CriticalKind::inconclusive;
            r.message = "converged in " + std::to_string(r.path.size() - 1) + " steps";
            return r;
        }
    }
    r.message = "no convergence in " + std::to_string(max_iterations) + " steps";
    return r;
}

// ---------------------------------------------------------------------------------------------
// Forward against reverse mode: functions ℝⁿ → ℝᵐ and their closed-form Jacobians.
// ---------------------------------------------------------------------------------------------

/// @brief A fixed, spread-out input: xᵢ = 1.5·cos(0.37·i + 0.1), i = 0..n−1.
inline array course_input(std::size_t n) {
    array x = array::from_shape({n});
    for (std::size_t i = 0; i < n; ++i) x(i) = 1.5 * std::cos(0.37 * static_cast<double>(i) + 0.1);
    return x;
}

/// @brief f1(x) = Σ sin(xᵢ)·xᵢ² + (Σ x)²: ℝⁿ → ℝ (a scalar, shape ()). Many inputs, one output:
/// reverse mode's case.
inline Var f1(const Var& x) {
    const Var s = sum(x);
    return sum(sin(x) * (x * x)) + s * s;
}

/// @brief ∇f1: ∂f1/∂xⱼ = cos(xⱼ)·xⱼ² + 2xⱼ·sin(xⱼ) + 2·Σx.
inline array f1_gradient(const array& x) {
    return xt::cos(x) * x * x + 2.0 * x * xt::sin(x) + 2.0 * xt::sum(x)();
}

/// @brief H·v for f1: H = diag(2 sin x + 4x cos x − x² sin x) + 2·11ᵀ, so
/// (Hv)ⱼ = (2 sin xⱼ + 4xⱼ cos xⱼ − xⱼ² sin xⱼ)·vⱼ + 2·Σv.
inline array f1_hessian_times(const array& x, const array& v) {
    return (2.0 * xt::sin(x) + 4.0 * x * xt::cos(x) - x * x * xt::sin(x)) * v + 2.0 * xt::sum(v)();
}

/// @brief The frequencies c_k = 0.5 + 3k/m, k = 0..m−1, of f2.
inline array frequencies(std::size_t m) {
    array c = array::from_shape({m});
    for (std::size_t k = 0; k < m; ++k) {
        c(k) = 0.5 + 3.0 * static_cast<double>(k) / static_cast<double>(m);
    }
    return c;
}

/// @brief f2(t) = (sin(c_k·t)·e^(−t))_k: ℝ → ℝᵐ for a scalar t (shape ()) and fixed c. One
/// input, many outputs: forward mode's case.
inline Var f2(const Var& t, const array& c) {
    return sin(constant(c) * t) * exp(-t);
}

/// @brief df2/dt: (c_k·cos(c_k·t) − sin(c_k·t))·e^(−t).
inline array f2_derivative(double t, const array& c) {
    return (c * xt::cos(c * t) - xt::sin(c * t)) * std::exp(-t);
}

/// @brief A fixed n×n matrix: A_ij = sin(1 + 0.7·i + 1.3·j)/√n.
inline array square_matrix(std::size_t n) {
    array A = array::from_shape({n, n});
    const double scale = 1.0 / std::sqrt(static_cast<double>(n));
    for (std::size_t i = 0; i < n; ++i) {
        for (std::size_t j = 0; j < n; ++j) {
            A(i, j) =
                scale * std::sin(1.0 + 0.7 * static_cast<double>(i) + 1.3 * static_cast<double>(j));
        }
    }
    return A;
}

/// @brief f3(x) = tanh(A·x): ℝⁿ → ℝⁿ, the square case.
inline Var f3(const Var& x, const array& A) {
    return tanh(matmul(constant(A), x));
}

/// @brief ∂f3/∂x = diag(1 − tanh²(Ax))·A.
inline array f3_jacobian(const array& x, const array& A) {
    const std::size_t n = x.size();
    array J = array::from_shape({n, n});
    for (std::size_t i = 0; i < n; ++i) {
        double z = 0.0;
        for (std::size_t j = 0; j < n; ++j) z += A(i, j) * x(j);
        const double d = 1.0 - std::tanh(z) * std::tanh(z);
        for (std::size_t j = 0; j < n; ++j) J(i, j) = d * A(i, j);
    }
    return J;
}

/// @brief The Jacobian of out = f(input) row by row: one vector-Jacobian product (a reverse pass,
/// grad with a one-hot seed) per output element; `passes` counts them. Shape out ++ input, as
/// xgrad::jacobian.
inline array jacobian_by_vjps(const Var& out, const Var& input, std::size_t& passes) {
    const std::size_t m = out.size(), n = input.size();
    shape_type shape = out.shape();
    shape.insert(shape.end(), input.shape().begin(), input.shape().end());
    array J = array::from_shape(shape);
    passes = 0;
    for (std::size_t i = 0; i < m; ++i) {
        array seed = xt::zeros<double>(out.shape());
        seed.data()[i] = 1.0;
        const array row = grad(out, {input}, constant(std::move(seed)))[0].value();
        ++passes;
        std::copy(row.begin(), row.end(), J.data() + i * n);
    }
    return J;
}

/// @brief The same column by column: one Jacobian-vector product (a forward tangent pass, jvp
/// with a one-hot tangent) per input element; `passes` counts them.
inline array jacobian_by_jvps(const Var& out, const Var& input, std::size_t& passes) {
    const std::size_t m = out.size(), n = input.size();
    shape_type shape = out.shape();
    shape.insert(shape.end(), input.shape().begin(), input.shape().end());
    array J = array::from_shape(shape);
    passes = 0;
    for (std::size_t j = 0; j < n; ++j) {
        array tangent = xt::zeros<double>(input.shape());
        tangent.data()[j] = 1.0;
        const array column = jvp(out, {input}, {tangent});
        ++passes;
        for (std::size_t i = 0; i < m; ++i) J.data()[i * n + j] = column.data()[i];
    }
    return J;
}

/// @brief The Jacobian of f at x by central differences (f(x + h·eⱼ) − f(x − h·eⱼ)) / 2h, each
/// evaluation a fresh graph without gradients. Shape f(x).shape ++ x.shape.
inline array central_jacobian(const std::function<Var(const Var&)>& f, const array& x,
                              double h = 1e-6) {
    no_grad scope;
    const array y = f(constant(x)).value();
    const std::size_t m = y.size(), n = x.size();
    shape_type shape = y.shape();
    shape.insert(shape.end(), x.shape().begin(), x.shape().end());
    array J = array::from_shape(shape);
    array probe = x;
    for (std::size_t j = 0; j < n; ++j) {
        const double original = probe.data()[j];
        probe.data()[j] = original + h;
        const array plus = f(constant(probe)).value();
        probe.data()[j] = original - h;
        const array minus = f(constant(probe)).value();
        probe.data()[j] = original;
        for (std::size_t i = 0; i < m; ++i) {
            J.data()[i * n + j] = (plus.data()[i] - minus.data()[i]) / (2.0 * h);
        }
    }
    return J;
}

}  // namespace xgrad::course
