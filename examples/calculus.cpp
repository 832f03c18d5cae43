/***************************************************************************
 * xgrad example: the course's derivative notes, by the graph.             *
 *                                                                          *
 * Every derivative xgrad computes is printed beside its closed form and    *
 * the difference:                                                          *
 * 1. the rules (sum, product, quotient, chain) on small functions;         *
 * 2. polynomial, exp, log, sin, cos, and composites: sin(w·x + b) with     *
 *    respect to w, x and b, sin(3x² + 2), x·y + sin x;                     *
 * 3. partial derivatives of f(x, y) = x²y + sin y;                         *
 * 4. its gradient and Hessian (xgrad::hessian), and the Jacobian of        *
 *    F(x, y) = (x²y, 5x + sin y, eˣy) by jacobian() (reverse mode) and     *
 *    jacobian_forward() (forward mode);                                    *
 * 5. implicit differentiation of x² + y² = 1: dy/dx = −F_x/F_y = −x/y;     *
 * 6. the directional derivative ∇f·u, also as one forward pass jvp();      *
 * 7. central differences against autodiff for h = 1e-1 … 1e-12: the error *
 *    falls as h² (truncation) until rounding, ε·|f|/h, takes over;         *
 * 8. critical points of x³ − 3x + 2 by Newton's method on f′, with f′ and  *
 *    f″ by autodiff, classified by the sign of f″.                         *
 * The functions live in course_functions.hpp, which the test               *
 * (tests/examples/test_calculus.cpp) checks.                               *
 *                                                                          *
 * Usage: calculus   (exit status 1 if any autodiff number is off by more   *
 *                    than 1e-12 from its closed form)                      *
 ***************************************************************************/
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "course_functions.hpp"

namespace {

using xgrad::array;
namespace course = xgrad::course;
namespace points = xgrad::course::points;

constexpr double kTolerance = 1e-12;
bool all_agree = true;

/// @brief Records whether a difference is within the tolerance, relative to the closed form's
/// size when it is larger than 1.
void record(double difference, double scale) {
    if (!(difference <= kTolerance * std::max(1.0, std::abs(scale)))) all_agree = false;
}

/// @brief `text` padded with spaces to `width` characters on screen (UTF-8: a code point each),
/// on the right (left-aligned) or, with `right`, on the left.
std::string pad(const std::string& text, std::size_t width, bool right = false) {
    std::size_t shown = 0;
    for (unsigned char byte : text) shown += (byte & 0xC0) != 0x80 ? 1 : 0;
    const std::string fill(width > shown ? width - shown : 0, ' ');
    return right ? fill + text : text + fill;
}

void print_checks(const std::vector<course::Check>& checks) {
    std::printf("   %s %22s %22s %9s   rule\n", pad("derivative", 34).c_str(), "autodiff",
                "closed form", "|diff|");
    for (const course::Check& c : checks) {
        std::printf("   %s %22.15e %22.15e %9.1e   %s\n", pad(c.name, 34).c_str(), c.autodiff,
                    c.closed, c.difference(), c.rule.c_str());
        record(c.difference(), c.closed);
    }
}

void print_matrix(const char* name, const array& a) {
    std::printf("   %s", pad(name, 22).c_str());
    const std::size_t columns = a.dimension() == 2 ? a.shape()[1] : a.size();
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (i > 0 && i % columns == 0) std::printf("\n   %22s", "");
        std::printf(" %+20.15f", a.data()[i]);
    }
    std::printf("\n");
}

void compare_arrays(const char* name, const array& autodiff, const array& closed) {
    print_matrix(name, autodiff);
    const double difference = course::max_abs_difference(autodiff, closed);
    std::printf("   %-22s max |autodiff − closed form| = %.1e\n", "", difference);
    record(difference, xt::amax(xt::abs(closed))());
}

void several_variables() {
    using points::kPointX, points::kPointY;
    std::printf(
        "\n4. One function of several variables at (x, y) = (%g, %g)\n"
        "   gradient of f = x²y + sin y: closed form (2xy, x² + cos y)\n",
        kPointX, kPointY);
    const course::SeveralVariables r = course::several_variables(kPointX, kPointY);
    compare_arrays("∇f by grad()", r.gradient, r.gradient_closed);
    std::printf(
        "   Jacobian of F = (x²y, 5x + sin y, eˣy), 3×2: closed form\n"
        "   [[2xy, x²], [5, cos y], [eˣy, eˣ]]\n");
    compare_arrays("jacobian() (reverse)", r.jacobian_reverse, r.jacobian_closed);
    compare_arrays("jacobian_forward()", r.jacobian_forward, r.jacobian_closed);
    std::printf("   Hessian of f: closed form [[2y, 2x], [2x, −sin y]]\n");
    compare_arrays("xgrad::hessian", r.hessian, r.hessian_closed);
}

void implicit_differentiation() {
    std::printf(
        "\n5. Implicit differentiation of x² + y² = 1: F(x, y) = x² + y² − 1, dy/dx = −F_x/F_y\n"
        "   %-22s %10s %10s %s %s %9s\n",
        "point", "F_x", "F_y", pad("−F_x/F_y (autodiff)", 22, true).c_str(),
        pad("−x/y (closed form)", 22, true).c_str(), "|diff|");
    const std::vector<std::pair<double, double>> on_circle = {
        {0.6, 0.8}, {-0.6, 0.8}, {-0.8, -0.6}, {std::cos(2.0), std::sin(2.0)}, {1.0, 0.0}};
    for (const auto& [x, y] : on_circle) {
        const course::ImplicitSlope s = course::implicit_slope(x, y);
        std::printf("   (%+.4f, %+.4f)     %+10.6f %+10.6f", x, y, s.F_x, s.F_y);
        if (s.slope && s.closed) {
            const double difference = std::abs(*s.slope - *s.closed);
            std::printf(" %+22.15e %+22.15e %9.1e\n", *s.slope, *s.closed, difference);
            record(difference, *s.closed);
        } else {
            std::printf("   F_y = 0: vertical tangent, dy/dx undefined (not divided)\n");
            if (s.slope || s.closed) all_agree = false;
        }
    }
}

void directional_derivative() {
    using points::kPointX, points::kPointY;
    const course::Directional d =
        course::directional_derivative(kPointX, kPointY, points::kDirectionX, points::kDirectionY);
    std::printf(
        "\n6. Directional derivative of f = x²y + sin y at (%g, %g) along u = (%g, %g)\n"
        "   ∇f·u (one reverse pass)      %+.15e\n"
        "   jvp(f, {p}, {u}) (forward)   %+.15e\n"
        "   closed form 2xy·uₓ + (x² + cos y)·u_y = %+.15e   |diff| %.1e and %.1e\n",
        kPointX, kPointY, d.ux, d.uy, d.by_gradient, d.by_jvp, d.closed,
        std::abs(d.by_gradient - d.closed), std::abs(d.by_jvp - d.closed));
    record(std::abs(d.by_gradient - d.closed), d.closed);
    record(std::abs(d.by_jvp - d.closed), d.closed);
}

void numerical_against_automatic() {
    const double x = points::kSweepX;
    const std::vector<double> third = course::sweep_derivatives(x);
    std::printf(
        "\n7. Numerical against automatic: g(x) = sin(3x² + 2) at x = %g\n"
        "   autodiff g'(x) = %+.15e, g'''(x) = %+.6e (closed form %+.6e)\n"
        "   central difference (g(x+h) − g(x−h))/2h: truncation ≈ h²|g'''|/6,\n"
        "   rounding ≈ ε(|g| + |x·g'|)/h (of g's values and of x ± h)\n"
        "   %8s %24s %10s %14s %14s\n",
        x, third[0], third[2], course::sweep_third_derivative_closed(x), "h", "central difference",
        "|error|", "truncation", "rounding");
    record(std::abs(third[2] - course::sweep_third_derivative_closed(x)),
           course::sweep_third_derivative_closed(x));
    const std::vector<course::StepRow> rows =
        course::central_difference_sweep(x, points::sweep_steps());
    std::size_t best = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const course::StepRow& r = rows[i];
        std::printf("   %8.0e %+24.15e %10.1e %14.1e %14.1e\n", r.h, r.central, r.error,
                    r.truncation, r.rounding);
        if (r.error < rows[best].error) best = i;
    }
    std::printf(
        "   the V: smallest at h = %.0e (error %.1e); for larger h truncation grows as h²,\n"
        "   for smaller h rounding grows as 1/h. Autodiff has neither: only each op's rounding.\n",
        rows[best].h, rows[best].error);
}

void critical_points() {
    std::printf(
        "\n8. Critical points of f(x) = x³ − 3x + 2 by Newton's method on f′ = 3x² − 3\n"
        "   x ← x − f′(x)/f″(x), f′ by grad(create_graph = true), f″ by grad of that\n"
        "   %6s  %-44s %22s %s   kind\n",
        "start", "what happened", "x*", pad("f″(x*)", 10, true).c_str());
    for (double start : points::kNewtonStarts) {
        const course::NewtonResult r = course::newton_critical_point(course::cubic, start);
        if (r.status == course::NewtonStatus::converged) {
            const double target = r.kind == course::CriticalKind::minimum ? 1.0 : -1.0;
            std::printf(
                "   %+6.2f  %-44s %+22.15e %+10.4f   %s (|x* − (%+.0f)| = %.1e, |f′| = %.1e)\n",
                start, r.message.c_str(), r.x, r.second, course::to_string(r.kind), target,
                std::abs(r.x - target), std::abs(r.first));
            record(std::abs(r.x - target), 1.0);
            record(std::abs(r.second - 6.0 * target), 6.0);
        } else {
            std::printf("   %+6.2f  stopped: %s\n", start, r.message.c_str());
        }
    }
    std::printf(
        "   closed form: f′ = 0 at x = ±1; f″(1) = 6 > 0, a minimum (f = 0); f″(−1) = −6 < 0,\n"
        "   a maximum (f = 4). At x = 0 the step divides by f″(0) = 0: reported, not taken.\n");
}

}  // namespace

int main() {
    std::printf("Derivatives by the graph (xgrad) against their closed forms\n");
    std::printf("\n1. The rules at x = %g\n", points::kRulesX);
    print_checks(course::derivative_rules(points::kRulesX));
    std::printf("\n2. Elementary functions at x = %g\n", points::kElementaryX);
    print_checks(course::elementary_derivatives(points::kElementaryX));
    std::printf("   composites at w = %g, x = %g, b = %g, y = %g\n", points::kW, points::kX,
                points::kB, points::kY);
    print_checks(course::composite_derivatives(points::kW, points::kX, points::kB, points::kY));
    std::printf("\n3. Partial derivatives of f(x, y) = x²y + sin y at (%g, %g)\n", points::kPointX,
                points::kPointY);
    print_checks(course::partial_derivatives(points::kPointX, points::kPointY));
    several_variables();
    implicit_differentiation();
    directional_derivative();
    numerical_against_automatic();
    critical_points();
    std::printf("\n%s\n", all_agree ? "every autodiff number agrees with its closed form to 1e-12"
                                    : "SOME autodiff number is off by more than 1e-12");
    return all_agree ? 0 : 1;
}
