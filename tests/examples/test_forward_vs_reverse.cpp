/***************************************************************************
 * xgrad: the forward-vs-reverse example's functions                        *
 * (examples/course_functions.hpp): both Jacobians equal each other, the     *
 * closed forms and central differences; m backward passes or n tangent     *
 * passes rebuild them; the two Hessian-vector-product modes agree. No       *
 * timing is checked.                                                       *
 ***************************************************************************/
#include <cmath>

#include "../../examples/course_functions.hpp"
#include "support.hpp"

namespace xgrad {
namespace {

/// @brief max |a − b| / max(1, max |reference|).
double scaled_error(const array& a, const array& reference) {
    const double scale = std::max(1.0, double(xt::amax(xt::abs(reference))()));
    return course::max_abs_difference(a, reference) / scale;
}

/// @brief The checks every function gets: shapes, reverse = forward (1e-12 relative), both = the
/// closed form (1e-12), central differences (1e-6), and the pass counts: m one-hot backward passes
/// rebuild reverse mode's J, n one-hot tangent passes rebuild forward mode's.
void check_jacobians(const std::function<Var(const Var&)>& f, const array& x, const array& closed,
                     const shape_type& expected_shape) {
    const Var input = parameter(x);
    const Var output = f(input);
    const array reverse = jacobian(output, input);
    const array forward = jacobian_forward(output, input);
    ASSERT_EQ(reverse.shape(), expected_shape);
    ASSERT_EQ(forward.shape(), expected_shape);
    ASSERT_EQ(closed.shape(), expected_shape);
    EXPECT_LE(scaled_error(reverse, forward), 1e-12);
    EXPECT_LE(scaled_error(reverse, closed), 1e-12);
    EXPECT_LE(scaled_error(forward, closed), 1e-12);
    EXPECT_LE(scaled_error(course::central_jacobian(f, x), closed), 1e-6);

    std::size_t vjp_passes = 0, jvp_passes = 0;
    const array by_rows = course::jacobian_by_vjps(output, input, vjp_passes);
    const array by_columns = course::jacobian_by_jvps(output, input, jvp_passes);
    EXPECT_EQ(vjp_passes, output.size());  // reverse: m passes
    EXPECT_EQ(jvp_passes, input.size());   // forward: n passes
    EXPECT_LE(scaled_error(by_rows, reverse), 1e-12);
    EXPECT_LE(scaled_error(by_columns, forward), 1e-12);
}

TEST(ForwardVsReverse, ManyInputsOneOutput) {
    for (std::size_t n : {50u, 1000u, 1u}) {
        SCOPED_TRACE(n);
        const array x = course::course_input(n);
        check_jacobians(course::f1, x, course::f1_gradient(x), {n});
    }
}

TEST(ForwardVsReverse, OneInputManyOutputs) {
    for (std::size_t m : {50u, 1000u, 1u}) {
        for (double t : {0.8, -0.3}) {
            SCOPED_TRACE(std::to_string(m) + " outputs at t = " + std::to_string(t));
            const array c = course::frequencies(m);
            check_jacobians([&c](const Var& v) { return course::f2(v, c); }, array(t),
                            course::f2_derivative(t, c), {m});
        }
    }
}

TEST(ForwardVsReverse, Square) {
    for (std::size_t n : {20u, 100u}) {
        SCOPED_TRACE(n);
        const array A = course::square_matrix(n);
        const array x = course::course_input(n);
        check_jacobians([&A](const Var& v) { return course::f3(v, A); }, x,
                        course::f3_jacobian(x, A), {n, n});
    }
}

TEST(ForwardVsReverse, ClosedFormsByHand) {
    // f1 at x = (1, 2): ∂/∂x₀ = cos 1 + 2 sin 1 + 6, ∂/∂x₁ = 4 cos 2 + 4 sin 2 + 6.
    const array g = course::f1_gradient(array{1.0, 2.0});
    EXPECT_NEAR(g(0), std::cos(1.0) + 2.0 * std::sin(1.0) + 6.0, 1e-15);
    EXPECT_NEAR(g(1), 4.0 * std::cos(2.0) + 4.0 * std::sin(2.0) + 6.0, 1e-14);
    // f1's value: sin 1 + 4 sin 2 + 9.
    EXPECT_NEAR(course::f1(constant(array{1.0, 2.0})).item(),
                std::sin(1.0) + 4.0 * std::sin(2.0) + 9.0, 1e-14);
    // f2 at t = 0: sin(0) = 0 everywhere, derivative c_k.
    const array c = course::frequencies(4);
    EXPECT_EQ(c, (array{0.5, 1.25, 2.0, 2.75}));
    EXPECT_EQ(course::f2(constant(0.0), c).value(), array(xt::zeros<double>({4})));
    EXPECT_EQ(course::f2_derivative(0.0, c), c);
    // f3 at x = 0: tanh'(0) = 1, so J = A.
    const array A = course::square_matrix(3);
    EXPECT_EQ(course::f3_jacobian(array(xt::zeros<double>({3})), A), A);
    EXPECT_NEAR(A(1, 2), std::sin(1.0 + 0.7 + 2.6) / std::sqrt(3.0), 1e-15);
    EXPECT_NEAR(course::course_input(3)(2), 1.5 * std::cos(0.84), 1e-15);
}

TEST(ForwardVsReverse, HessianVectorProductModesAgree) {
    for (std::size_t n : {50u, 1000u}) {
        SCOPED_TRACE(n);
        const array x0 = course::course_input(n);
        array v = array::from_shape({n});
        for (std::size_t i = 0; i < n; ++i) v(i) = std::sin(0.9 * static_cast<double>(i));
        const Var x = parameter(x0);
        const Var f = course::f1(x);
        const auto rr = hessian_vector_product(f, {x}, {v}, hvp_mode::reverse_over_reverse);
        const auto fr = hessian_vector_product(f, {x}, {v}, hvp_mode::forward_over_reverse);
        ASSERT_EQ(rr.size(), 1u);
        ASSERT_EQ(fr.size(), 1u);
        ASSERT_EQ(rr[0].shape(), (shape_type{n}));
        ASSERT_EQ(fr[0].shape(), (shape_type{n}));
        const array closed = course::f1_hessian_times(x0, v);
        EXPECT_LE(scaled_error(rr[0], fr[0]), 1e-12);
        EXPECT_LE(scaled_error(rr[0], closed), 1e-12);
        EXPECT_LE(scaled_error(fr[0], closed), 1e-12);
        if (n == 50) {
            // The full Hessian, times v, is the same vector.
            const array H = hessian(f, {x});
            array Hv = xt::zeros<double>({n});
            for (std::size_t i = 0; i < n; ++i) {
                for (std::size_t j = 0; j < n; ++j) Hv(i) += H(i, j) * v(j);
            }
            EXPECT_LE(scaled_error(Hv, closed), 1e-12);
        }
    }
}

TEST(ForwardVsReverse, CentralJacobianShapesAndValues) {
    // A linear function: central differences are exact up to rounding.
    const array J = course::central_jacobian([](const Var& v) { return 3.0 * v; }, array{1.0, 2.0});
    ASSERT_EQ(J.shape(), (shape_type{2, 2}));
    EXPECT_LE(course::max_abs_difference(J, array{{3.0, 0.0}, {0.0, 3.0}}), 1e-9);
    // A scalar of a scalar: shape ().
    const array d = course::central_jacobian([](const Var& v) { return v * v; }, array(2.0));
    EXPECT_EQ(d.shape(), shape_type{});
    EXPECT_NEAR(d(), 4.0, 1e-9);
}

}  // namespace
}  // namespace xgrad
