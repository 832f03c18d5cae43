// Forward mode (jvp, jacobian_forward), the reverse-mode Jacobian, and forward-over-reverse
// Hessian-vector products, over every op family: both modes agree with each other and with
// central differences.
#include <cmath>
#include <random>
#include <vector>

#include "core/op_families.hpp"
#include "support.hpp"

namespace xgrad {
namespace {

using testing::Case;
using testing::every_op_family;
using testing::make_parameters;
using testing::random_array;

/// @brief ∂out/∂param by central differences on parameters of their own (made from `seed`),
/// rebuilding the graph at each perturbed point: shape out.shape ++ param.shape.
array central_jacobian(const Case& c, std::uint64_t seed, std::size_t which, double h = 1e-6) {
    std::vector<Var> params = make_parameters(c, seed);
    const Var out0 = c.build(params);
    const std::size_t m = out0.size();
    const std::size_t n = params[which].size();
    shape_type shape = out0.shape();
    shape.insert(shape.end(), params[which].shape().begin(), params[which].shape().end());
    array J = xt::zeros<double>(shape);
    for (std::size_t j = 0; j < n; ++j) {
        array& x = params[which].mutable_value();
        const double original = x.data()[j];
        x.data()[j] = original + h;
        const array plus = c.build(params).value();
        params[which].mutable_value().data()[j] = original - h;
        const array minus = c.build(params).value();
        params[which].mutable_value().data()[j] = original;
        for (std::size_t i = 0; i < m; ++i) {
            J.data()[i * n + j] = (plus.data()[i] - minus.data()[i]) / (2.0 * h);
        }
    }
    return J;
}

TEST(ForwardMode, BothJacobiansEqualEachOtherAndCentralDifferencesForEveryOpFamily) {
    for (const Case& c : every_op_family()) {
        SCOPED_TRACE(c.name);
        const std::vector<Var> params = make_parameters(c, 11);
        const Var out = c.build(params);
        for (std::size_t k = 0; k < params.size(); ++k) {
            SCOPED_TRACE("parameter " + std::to_string(k));
            const array forward = jacobian_forward(out, params[k]);
            const array reverse = jacobian(out, params[k]);
            EXPECT_LE(testing::max_relative_error(forward, reverse, 1e-12), 1e-12);
            const array numeric = central_jacobian(c, 11, k);
            EXPECT_LE(testing::max_relative_error(forward, numeric, 1e-4), 1e-5);
        }
    }
}

TEST(ForwardMode, JvpIsTheJacobianTimesTheTangentSummedOverInputs) {
    std::mt19937_64 rng(5);
    for (const Case& c : every_op_family()) {
        SCOPED_TRACE(c.name);
        const std::vector<Var> params = make_parameters(c, 3);
        const Var out = c.build(params);
        std::vector<array> tangents;
        array expected = xt::zeros<double>(out.shape());
        for (const Var& p : params) {
            tangents.push_back(random_array(rng, p.shape()));
            const array J = jacobian(out, p);
            const std::size_t n = p.size();
            for (std::size_t i = 0; i < out.size(); ++i) {
                for (std::size_t j = 0; j < n; ++j) {
                    expected.data()[i] += J.data()[i * n + j] * tangents.back().data()[j];
                }
            }
        }
        EXPECT_LE(testing::max_relative_error(jvp(out, params, tangents), expected, 1e-12), 1e-11);
    }
}

TEST(ForwardMode, ForwardOverReverseHessianVectorProductsMatchReverseOverReverse) {
    std::mt19937_64 rng(9);
    for (const Case& c : every_op_family()) {
        SCOPED_TRACE(c.name);
        const std::vector<Var> params = make_parameters(c, 4);
        const Var out = c.build(params);
        const Var f = sum(out * constant(random_array(rng, out.shape())));
        std::vector<array> v;
        for (const Var& p : params) v.push_back(random_array(rng, p.shape()));
        const auto reverse = hessian_vector_product(f, params, v, hvp_mode::reverse_over_reverse);
        const auto forward = hessian_vector_product(f, params, v, hvp_mode::forward_over_reverse);
        ASSERT_EQ(reverse.size(), forward.size());
        for (std::size_t k = 0; k < params.size(); ++k) {
            EXPECT_LE(testing::max_relative_error(forward[k], reverse[k], 1e-10), 1e-9);
        }
    }
}

TEST(ForwardMode, CourseExamples) {
    // f(x, y) = x·y + sin x: ∂f/∂x = y + cos x, ∂f/∂y = x
    const Var x = parameter(0.7);
    const Var y = parameter(-1.3);
    const Var f = x * y + sin(x);
    EXPECT_NEAR(jvp(f, {x}, {array(1.0)})(), -1.3 + std::cos(0.7), 1e-15);
    EXPECT_NEAR(jvp(f, {y}, {array(1.0)})(), 0.7, 1e-15);
    EXPECT_NEAR(jvp(f, {x, y}, {array(2.0), array(3.0)})(), 2.0 * (-1.3 + std::cos(0.7)) + 2.1,
                1e-14);
    // g(x) = sin(3x² + 2): g'(x) = 6x cos(3x² + 2)
    const Var g = sin(3.0 * square(x) + 2.0);
    EXPECT_NEAR(jvp(g, {x}, {array(1.0)})(), 6 * 0.7 * std::cos(3 * 0.49 + 2), 1e-14);
}

TEST(ForwardMode, ShapesOfTheJacobian) {
    const Var A = parameter(array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    const Var v = parameter(array{1.0, -1.0, 0.5});
    const Var y = matmul(A, v);  // (2,): ∂y/∂v = A, ∂y/∂A[i,j] = δ_ik v_j
    EXPECT_EQ(jacobian(y, v), A.value());
    EXPECT_EQ(jacobian_forward(y, v), A.value());
    EXPECT_EQ(jacobian(y, A).shape(), (shape_type{2, 2, 3}));
    EXPECT_EQ(jacobian_forward(y, A), jacobian(y, A));
    EXPECT_EQ(jacobian(y, A)(1, 1, 2), 0.5);
    EXPECT_EQ(jacobian(y, A)(0, 1, 2), 0.0);
    // a scalar output of a scalar input: shape ()
    const Var s = parameter(2.0);
    EXPECT_EQ(jacobian(s * s, s).shape(), shape_type{});
    EXPECT_EQ(jacobian_forward(s * s, s)(), 4.0);
    // an interior node as the input: the Jacobian of what follows it
    const Var h = v * 2.0;
    const Var z = sum(h * h);  // dz/dh = 2h
    EXPECT_EQ(jacobian(z, h), 2.0 * h.value());
    EXPECT_EQ(jacobian_forward(z, h), 2.0 * h.value());
    // the output itself
    EXPECT_EQ(jacobian(v, v), array(xt::eye<double>(3)));
    EXPECT_EQ(jacobian_forward(v, v), array(xt::eye<double>(3)));
}

TEST(ForwardMode, SizeZeroAndIndependentInputs) {
    const Var e = parameter(array::from_shape({0}));
    const Var w = parameter(array{1.0, 2.0});
    EXPECT_EQ(jacobian(sum(e) + sum(w), e).shape(), (shape_type{0}));
    EXPECT_EQ(jacobian_forward(sum(e) + sum(w), e).shape(), (shape_type{0}));
    const Var other = parameter(array{5.0});
    EXPECT_EQ(jacobian(sum(w), other), (array{0.0}));
    EXPECT_EQ(jvp(sum(w), {other}, {array{1.0}})(), 0.0);
    const Var c = constant(array{1.0, 2.0});
    EXPECT_EQ(jacobian(w * c, c), array(xt::zeros<double>({2, 2})));
}

TEST(ForwardMode, JacobianLeavesAccumulatedGradientsAlone) {
    const Var w = parameter(array{1.0, 2.0});
    const Var loss = sum(w * w);
    loss.backward();  // w.grad() = 2w = [2, 4]
    const Var y = w * 3.0;
    EXPECT_EQ(jacobian(y, w), array(3.0 * xt::eye<double>(2)));
    EXPECT_EQ(w.grad(), (array{2.0, 4.0}));
    loss.backward();  // still accumulating from where it was
    EXPECT_EQ(w.grad(), (array{4.0, 8.0}));
}

TEST(ForwardMode, JacobianWithRespectToAnInputTheOutputDoesNotReachIsZero) {
    // The input is off the output's tape: its own .grad() (accumulated by another loss) is no
    // row of this Jacobian. Both modes give zeros, and the accumulated gradient stays.
    const Var x = parameter(array{1.0, 2.0});
    const Var w = parameter(array{3.0, 4.0});
    sum(w * w).backward();  // w.grad() = [6, 8]
    const Var unrelated_interior = w * 2.0;
    sum(unrelated_interior * x).backward();  // an interior node with a gradient of its own
    const array w_grad = w.grad();
    const Var y = sin(x);
    const array zeros = xt::zeros<double>({2, 2});
    for (const Var& input : {w, unrelated_interior}) {
        EXPECT_EQ(jacobian(y, input), zeros);
        EXPECT_EQ(jacobian_forward(y, input), zeros);
    }
    EXPECT_EQ(w.grad(), w_grad);
    // a reachable input still gets its rows
    EXPECT_EQ(jacobian(y, x), array(xt::diag(xt::cos(x.value()))));
}

TEST(ForwardMode, BadInputIsRefusedWithAMessage) {
    const Var w = parameter(array{1.0, 2.0});
    const Var y = exp(w);
    XGRAD_EXPECT_THROW_WITH(jvp(y, {w}, {array{1.0}}), shape_error,
                            "tangent 0 has shape (1,), its input (2,)");
    XGRAD_EXPECT_THROW_WITH(jvp(y, {w}, {}), shape_error, "0 tangents for 1 inputs");
    XGRAD_EXPECT_THROW_WITH(jvp(Var(), {w}, {array{1.0, 1.0}}), graph_error, "empty");
    XGRAD_EXPECT_THROW_WITH(jacobian(y, Var()), graph_error, "input is an empty Var");
    XGRAD_EXPECT_THROW_WITH(
        hessian_vector_product(sum(y), {w}, {array{1.0}}, hvp_mode::forward_over_reverse),
        shape_error, "tangent 0");
    // a leaf changed under the recorded graph
    w.mutable_value()(0) = 5.0;
    XGRAD_EXPECT_THROW_WITH(jvp(y, {w}, {array{1.0, 0.0}}), graph_error, "new value");
    XGRAD_EXPECT_THROW_WITH(jacobian(y, w), graph_error, "new value");
    XGRAD_EXPECT_THROW_WITH(jacobian_forward(y, w), graph_error, "new value");
}

TEST(ForwardMode, AnomalyModeNamesTheOpWhoseTangentIsNotFinite) {
    const Var x = parameter(array{0.0, 1.0});
    const Var y = sqrt(x);  // dy = t/(2√x): infinite at 0
    const detect_anomaly scope;
    XGRAD_EXPECT_THROW_WITH(jvp(y, {x}, {array{1.0, 1.0}}), anomaly_error, "'sqrt'");
}

TEST(ForwardMode, DeepChainsNeedNoRecursion) {
    const Var x = parameter(0.5);
    Var y = x;
    for (int i = 0; i < 100000; ++i) y = y * 0.99999 + 1e-6;
    const double expected = std::pow(0.99999, 100000);
    EXPECT_NEAR(jvp(y, {x}, {array(1.0)})(), expected, 1e-9);
    EXPECT_NEAR(jacobian(y, x)(), expected, 1e-9);
}

}  // namespace
}  // namespace xgrad
