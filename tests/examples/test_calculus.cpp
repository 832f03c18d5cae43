/***************************************************************************
 * xgrad: the calculus example's numbers (examples/course_functions.hpp)    *
 * against closed forms: the rules, elementary and composite functions,     *
 * partials, gradient, Jacobian (both modes), Hessian, implicit slope,      *
 * directional derivative, the central-difference sweep, and Newton's       *
 * method for the critical points of x³ − 3x + 2.                           *
 ***************************************************************************/
#include <cmath>

#include "../../examples/course_functions.hpp"
#include "support.hpp"

namespace xgrad {
namespace {

namespace points = course::points;

/// @brief autodiff within 1e-12 of the closed form, relative where the closed form exceeds 1.
void expect_agree(const std::vector<course::Check>& checks, std::size_t expected_count) {
    ASSERT_EQ(checks.size(), expected_count);
    for (const course::Check& c : checks) {
        EXPECT_LE(c.difference(), 1e-12 * std::max(1.0, std::abs(c.closed)))
            << c.name << ": autodiff " << c.autodiff << ", closed form " << c.closed;
        EXPECT_EQ(c.difference(), std::abs(c.autodiff - c.closed)) << c.name;
    }
}

TEST(Calculus, RulesAgreeWithClosedForms) {
    for (double x : {points::kRulesX, -1.7, 0.0, 2.5}) expect_agree(course::derivative_rules(x), 4);
    // The closed forms themselves, by hand at x = 0: (x² + sin x)' = 1, (x²eˣ)' = 0,
    // (sin x/(1 + x²))' = 1, (e^(sin x))' = 1.
    const auto at_zero = course::derivative_rules(0.0);
    EXPECT_EQ(at_zero[0].closed, 1.0);
    EXPECT_EQ(at_zero[1].closed, 0.0);
    EXPECT_EQ(at_zero[2].closed, 1.0);
    EXPECT_EQ(at_zero[3].closed, 1.0);
}

TEST(Calculus, ElementaryDerivativesAgreeWithClosedForms) {
    for (double x : {points::kElementaryX, 0.25, 3.0}) {
        expect_agree(course::elementary_derivatives(x), 6);
    }
    // At x = 1: 12 − 6 + 1 = 7, 2e², 1, 1, cos 1, −sin 1.
    const auto at_one = course::elementary_derivatives(1.0);
    EXPECT_NEAR(at_one[0].autodiff, 7.0, 1e-12);
    EXPECT_NEAR(at_one[1].autodiff, 2.0 * std::exp(2.0), 1e-12);
    EXPECT_NEAR(at_one[2].autodiff, 1.0, 1e-15);
    EXPECT_NEAR(at_one[3].autodiff, 1.0, 1e-15);
    EXPECT_NEAR(at_one[4].autodiff, std::cos(1.0), 1e-15);
    EXPECT_NEAR(at_one[5].autodiff, -std::sin(1.0), 1e-15);
}

TEST(Calculus, CompositesAgreeWithClosedForms) {
    expect_agree(course::composite_derivatives(points::kW, points::kX, points::kB, points::kY), 6);
    expect_agree(course::composite_derivatives(-2.0, 0.3, 1.1, -0.4), 6);
    // sin(w·x + b) at w·x + b = 0: the derivatives are x, w and 1.
    const auto c = course::composite_derivatives(2.0, 0.5, -1.0, 3.0);
    EXPECT_NEAR(c[0].autodiff, 0.5, 1e-15);
    EXPECT_NEAR(c[1].autodiff, 2.0, 1e-15);
    EXPECT_NEAR(c[2].autodiff, 1.0, 1e-15);
    EXPECT_NEAR(c[4].autodiff, 3.0 + std::cos(0.5), 1e-15);  // ∂/∂x (x·y + sin x) = y + cos x
    EXPECT_EQ(c[5].autodiff, 0.5);                           // ∂/∂y = x
}

TEST(Calculus, PartialDerivativesAgreeWithClosedForms) {
    expect_agree(course::partial_derivatives(points::kPointX, points::kPointY), 2);
    const auto p = course::partial_derivatives(2.0, 0.0);  // 2xy = 0, x² + cos y = 5
    EXPECT_EQ(p[0].autodiff, 0.0);
    EXPECT_NEAR(p[1].autodiff, 5.0, 1e-15);
}

TEST(Calculus, GradientJacobianAndHessianAgreeWithClosedForms) {
    for (auto [x, y] : {std::pair{points::kPointX, points::kPointY}, std::pair{-0.7, 2.2}}) {
        const course::SeveralVariables r = course::several_variables(x, y);
        ASSERT_EQ(r.gradient.shape(), (shape_type{2}));
        ASSERT_EQ(r.jacobian_reverse.shape(), (shape_type{3, 2}));
        ASSERT_EQ(r.jacobian_forward.shape(), (shape_type{3, 2}));
        ASSERT_EQ(r.hessian.shape(), (shape_type{2, 2}));
        EXPECT_LE(course::max_abs_difference(r.gradient, r.gradient_closed), 1e-12);
        EXPECT_LE(course::max_abs_difference(r.jacobian_reverse, r.jacobian_closed), 1e-12);
        EXPECT_LE(course::max_abs_difference(r.jacobian_forward, r.jacobian_closed), 1e-12);
        EXPECT_LE(course::max_abs_difference(r.hessian, r.hessian_closed), 1e-12);
        EXPECT_EQ(r.hessian(0, 1), r.hessian(1, 0));  // mixed partials: f_xy = f_yx = 2x
    }
    // The Jacobian's closed form against central differences, independently of autodiff.
    const array numeric = course::central_jacobian(course::vector_function, array{1.2, 0.5});
    EXPECT_LE(
        course::max_abs_difference(numeric, course::several_variables(1.2, 0.5).jacobian_closed),
        1e-8);
    EXPECT_THROW(course::max_abs_difference(array{1.0}, array{1.0, 2.0}), std::invalid_argument);
}

TEST(Calculus, ImplicitSlopeIsMinusXOverY) {
    for (double theta : {0.3, 1.0, 2.0, 2.9, 3.5, 4.4, 5.9}) {
        const double x = std::cos(theta), y = std::sin(theta);
        const course::ImplicitSlope s = course::implicit_slope(x, y);
        EXPECT_NEAR(s.F_x, 2.0 * x, 1e-15);
        EXPECT_NEAR(s.F_y, 2.0 * y, 1e-15);
        ASSERT_TRUE(s.slope && s.closed);
        EXPECT_LE(std::abs(*s.slope - *s.closed), 1e-12 * std::max(1.0, std::abs(*s.closed)));
        EXPECT_NEAR(*s.slope, -1.0 / std::tan(theta), 1e-12 * std::max(1.0, std::abs(*s.closed)));
    }
    const course::ImplicitSlope s = course::implicit_slope(0.6, 0.8);
    EXPECT_NEAR(*s.slope, -0.75, 1e-15);
}

TEST(Calculus, ImplicitSlopeAtAVerticalTangentIsReportedNotDivided) {
    for (double x : {1.0, -1.0}) {
        const course::ImplicitSlope s = course::implicit_slope(x, 0.0);
        EXPECT_EQ(s.F_x, 2.0 * x);
        EXPECT_EQ(s.F_y, 0.0);
        EXPECT_FALSE(s.slope.has_value());
        EXPECT_FALSE(s.closed.has_value());
    }
    XGRAD_EXPECT_THROW_WITH(course::implicit_slope(1.0, 1.0), std::invalid_argument,
                            "is not on x² + y² = 1");
}

TEST(Calculus, DirectionalDerivativeByGradientAndByJvp) {
    const course::Directional d = course::directional_derivative(
        points::kPointX, points::kPointY, points::kDirectionX, points::kDirectionY);
    EXPECT_DOUBLE_EQ(d.ux, 0.6);
    EXPECT_DOUBLE_EQ(d.uy, 0.8);
    EXPECT_LE(std::abs(d.by_gradient - d.closed), 1e-12);
    EXPECT_LE(std::abs(d.by_jvp - d.closed), 1e-12);
    const double x = points::kPointX, y = points::kPointY;
    EXPECT_NEAR(d.closed, 2.0 * x * y * 0.6 + (x * x + std::cos(y)) * 0.8, 1e-15);
    // Along an axis it is the partial derivative.
    const course::Directional along_y = course::directional_derivative(x, y, 0.0, -2.0);
    EXPECT_NEAR(along_y.by_jvp, -(x * x + std::cos(y)), 1e-15);
    XGRAD_EXPECT_THROW_WITH(course::directional_derivative(x, y, 0.0, 0.0), std::invalid_argument,
                            "has no unit vector");
}

TEST(Calculus, ThirdDerivativeBySuccessiveGrads) {
    for (double x : {points::kSweepX, -1.1, 0.0}) {
        const std::vector<double> d = course::sweep_derivatives(x);
        const double u = 3.0 * x * x + 2.0;
        EXPECT_NEAR(d[0], 6.0 * x * std::cos(u), 1e-12);
        EXPECT_NEAR(d[1], 6.0 * std::cos(u) - 36.0 * x * x * std::sin(u), 1e-12);
        EXPECT_LE(std::abs(d[2] - course::sweep_third_derivative_closed(x)),
                  1e-12 * std::max(1.0, std::abs(d[2])));
    }
}

TEST(Calculus, CentralDifferenceErrorIsAVInTheStep) {
    const double x = points::kSweepX;
    const std::vector<double> steps = points::sweep_steps();
    ASSERT_EQ(steps.size(), 12u);
    const std::vector<course::StepRow> rows = course::central_difference_sweep(x, steps);
    ASSERT_EQ(rows.size(), steps.size());
    const double exact = course::sweep_derivatives(x)[0];
    for (const course::StepRow& r : rows) EXPECT_EQ(r.error, std::abs(r.central - exact));
    // Truncation regime (h = 1e-2, 1e-3): the error is h²|g'''|/6 to a few per cent.
    for (std::size_t i : {1u, 2u}) {
        EXPECT_NEAR(rows[i].error / rows[i].truncation, 1.0, 0.05) << "h = " << rows[i].h;
    }
    // Around h ≈ ∛ε the central difference is good to ~1e-10; looser than autodiff's 1e-12.
    EXPECT_LE(rows[4].error, 1e-8 * std::abs(exact));  // h = 1e-5
    // The V: down from h = 1e-1 to the middle, up again to h = 1e-12.
    EXPECT_GT(rows[0].error, 100.0 * rows[4].error);
    EXPECT_GT(rows[11].error, 100.0 * rows[4].error);
    EXPECT_GT(rows[11].error, rows[7].error);
    // Rounding dominates at the small end and stays within a small multiple of its estimate
    // ε(|g| + |x·g'|)/h.
    EXPECT_LE(rows[11].error, 10.0 * rows[11].rounding);
    EXPECT_GT(rows[11].rounding, 1e6 * rows[11].truncation);
}

TEST(Calculus, FirstAndSecondDerivativeOfTheCubic) {
    for (double x : {-3.0, -1.0, 0.0, 0.5, 2.0}) {
        const auto [d1, d2] = course::first_and_second_derivative(course::cubic, x);
        EXPECT_NEAR(d1, 3.0 * x * x - 3.0, 1e-12);
        EXPECT_NEAR(d2, 6.0 * x, 1e-12);
    }
}

TEST(Calculus, NewtonFindsBothCriticalPointsAndClassifiesThem) {
    for (double start : {-3.0, -0.5, 0.5, 3.0, -10.0, 1.0, 100.0}) {
        const course::NewtonResult r = course::newton_critical_point(course::cubic, start);
        ASSERT_EQ(r.status, course::NewtonStatus::converged) << start << ": " << r.message;
        // The basins: x > 0 goes to 1 (a minimum), x < 0 to −1 (a maximum).
        const double target = start > 0.0 ? 1.0 : -1.0;
        EXPECT_NEAR(r.x, target, 1e-12) << start;
        EXPECT_LE(std::abs(r.first), 1e-12) << start;
        EXPECT_NEAR(r.second, 6.0 * target, 1e-12) << start;
        EXPECT_EQ(r.kind,
                  start > 0.0 ? course::CriticalKind::minimum : course::CriticalKind::maximum);
        EXPECT_EQ(r.path.front(), start);
        EXPECT_EQ(r.path.back(), r.x);
        EXPECT_LE(r.path.size(), 20u) << start;  // quadratic convergence near the root
    }
    // From −0.5 the first step is −0.5 − (−2.25)/(−3) = −1.25, past the maximum, then back.
    const course::NewtonResult r = course::newton_critical_point(course::cubic, -0.5);
    ASSERT_GE(r.path.size(), 2u);
    EXPECT_DOUBLE_EQ(r.path[1], -1.25);
    EXPECT_STREQ(course::to_string(r.kind), "maximum");
    // The examples' starts are these.
    EXPECT_EQ(points::kNewtonStarts, (std::vector<double>{-3.0, -0.5, 0.5, 3.0, 0.0}));
}

TEST(Calculus, NewtonReportsZeroCurvatureInsteadOfDividing) {
    const course::NewtonResult r = course::newton_critical_point(course::cubic, 0.0);
    EXPECT_EQ(r.status, course::NewtonStatus::zero_curvature);
    EXPECT_EQ(r.kind, course::CriticalKind::none);
    EXPECT_EQ(r.x, 0.0);
    EXPECT_EQ(r.first, -3.0);
    EXPECT_EQ(r.second, 0.0);
    EXPECT_EQ(r.path, std::vector<double>{0.0});  // no step was taken
    EXPECT_NE(r.message.find("f''(0) = 0:"), std::string::npos) << r.message;
    EXPECT_NE(r.message.find("undefined"), std::string::npos) << r.message;
    // |f''| = 6e-14 is below the floor 1e-12: a step of ~5e13 is refused the same way.
    const course::NewtonResult tiny = course::newton_critical_point(course::cubic, 1e-14);
    EXPECT_EQ(tiny.status, course::NewtonStatus::zero_curvature);
}

TEST(Calculus, NewtonOnOtherFunctions) {
    // A quadratic: one Newton step lands on its vertex exactly, a minimum.
    const auto quadratic = [](const Var& x) { return 2.0 * x * x - 4.0 * x + 1.0; };
    const course::NewtonResult q = course::newton_critical_point(quadratic, 7.0);
    EXPECT_EQ(q.status, course::NewtonStatus::converged);
    EXPECT_EQ(q.x, 1.0);
    EXPECT_EQ(q.kind, course::CriticalKind::minimum);
    // −cosh-like: a maximum of −(eˣ + e⁻ˣ) at 0.
    const auto bump = [](const Var& x) { return -(exp(x) + exp(-x)); };
    const course::NewtonResult b = course::newton_critical_point(bump, 0.8);
    EXPECT_EQ(b.status, course::NewtonStatus::converged);
    EXPECT_NEAR(b.x, 0.0, 1e-12);
    EXPECT_EQ(b.kind, course::CriticalKind::maximum);
    // A line has no critical point: f'' = 0 everywhere.
    const auto line = [](const Var& x) { return 3.0 * x + 1.0; };
    EXPECT_EQ(course::newton_critical_point(line, 2.0).status,
              course::NewtonStatus::zero_curvature);
    // x⁴ − x²: f' = 4x³ − 2x, f'' = 12x² − 2: cycles are possible; a budget of one step from 5
    // does not converge and says so.
    const auto quartic = [](const Var& x) { return x * x * x * x - x * x; };
    const course::NewtonResult n = course::newton_critical_point(quartic, 5.0, 1);
    EXPECT_EQ(n.status, course::NewtonStatus::no_convergence);
    EXPECT_EQ(n.kind, course::CriticalKind::none);
    EXPECT_NE(n.message.find("no convergence in 1 steps"), std::string::npos) << n.message;
}

}  // namespace
}  // namespace xgrad
