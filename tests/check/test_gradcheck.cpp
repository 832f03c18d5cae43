/***************************************************************************
 * xgrad: gradcheck, gradgradcheck (every op's second derivative against    *
 * central differences of its first), and the finite-difference step sweep. *
 ***************************************************************************/
#include <functional>
#include <random>

#include "support.hpp"

namespace xgrad {
namespace {

using testing::random_array;
using testing::random_labels;

const GradcheckOptions strict{1e-6, 1e-7, 1e-5};

TEST(Gradcheck, PassesOnLogisticRegression) {
    std::mt19937_64 rng(83);
    Var X = constant(random_array(rng, {20, 4}));
    Var y = constant(random_labels(rng, 20));
    Var w = parameter(random_array(rng, {4}));
    Var b = parameter(0.3);
    const auto f = [&] { return binary_cross_entropy(sigmoid(matmul(X, w) + b), y); };
    const GradcheckReport report = gradcheck(f, {w, b}, strict);
    EXPECT_TRUE(report.passed) << report.to_string();
    ASSERT_EQ(report.parameters.size(), 2u);
    EXPECT_LT(report.parameters[0].max_rel_error, 1e-8);
    const array w_before = w.value();
    gradcheck(f, {w, b});
    EXPECT_EQ(w.value(), w_before);  // perturbations are undone
}

TEST(Gradcheck, FlagsAKink) {
    // relu at exactly 0: autodiff takes 0, the central difference sees 1/2.
    Var x = parameter({0.0, 1.0, -1.0});
    const GradcheckReport report = gradcheck([&] { return sum(relu(x)); }, {x});
    EXPECT_FALSE(report.passed);
    EXPECT_EQ(report.parameters[0].worst_entry, 0u);
    EXPECT_EQ(report.parameters[0].autodiff, 0.0);
    EXPECT_NEAR(report.parameters[0].numeric, 0.5, 1e-9);
    EXPECT_NE(report.to_string().find("FAILED"), std::string::npos);
}

TEST(Gradcheck, RejectsNonScalarFunctions) {
    Var x = parameter({1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(gradcheck([&] { return x * 2.0; }, {x}), graph_error,
                            "gradcheck: f must return a single number, got shape (2,)");
}

/// @brief gradgradcheck on sum(op(...) ⊙ W) with a fixed random weighting W.
void expect_second_derivatives(const std::function<Var()>& op, const std::vector<Var>& params,
                               std::mt19937_64& rng) {
    const Var weights = constant(random_array(rng, op().shape(), 0.5, 1.5));
    const GradcheckReport report =
        gradgradcheck([&] { return sum(op() * weights); }, params, strict);
    EXPECT_TRUE(report.passed) << report.to_string();
}

TEST(Gradgradcheck, UnaryOps) {
    std::mt19937_64 rng(89);
    const array mixed = {-2.1, -0.6, 0.3, 1.4};
    const array positive = {0.2, 0.7, 1.3, 3.1};
    const std::pair<const char*, std::function<Var(const Var&)>> ops[] = {
        {"neg", [](const Var& x) { return -x; }},
        {"exp", [](const Var& x) { return exp(x); }},
        {"tanh", [](const Var& x) { return tanh(x); }},
        {"sigmoid", [](const Var& x) { return sigmoid(x); }},
        {"softplus", [](const Var& x) { return softplus(x); }},
        {"log_sigmoid", [](const Var& x) { return log_sigmoid(x); }},
        {"relu", [](const Var& x) { return relu(x) * x; }},  // x·relu(x) has a real 2nd derivative
        {"square", [](const Var& x) { return pow(x, 2.0); }},
        {"cube", [](const Var& x) { return pow(x, 3.0); }},
    };
    for (const auto& [name, op] : ops) {
        SCOPED_TRACE(name);
        Var x = parameter(mixed);
        expect_second_derivatives([&] { return op(x); }, {x}, rng);
    }
    const std::pair<const char*, std::function<Var(const Var&)>> positive_ops[] = {
        {"log", [](const Var& x) { return log(x); }},
        {"sqrt", [](const Var& x) { return pow(x, 0.5); }},
        {"reciprocal", [](const Var& x) { return pow(x, -1.0); }},
    };
    for (const auto& [name, op] : positive_ops) {
        SCOPED_TRACE(name);
        Var x = parameter(positive);
        expect_second_derivatives([&] { return op(x); }, {x}, rng);
    }
}

TEST(Gradgradcheck, BinaryOpsWithBroadcasting) {
    std::mt19937_64 rng(97);
    const std::pair<shape_type, shape_type> shapes[] = {
        {{3, 2}, {3, 2}}, {{3, 2}, {2}}, {{3, 2}, {}}, {{3, 1}, {1, 2}}, {{4}, {}}};
    const std::function<Var(const Var&, const Var&)> ops[] = {
        [](const Var& a, const Var& b) { return a + b; },
        [](const Var& a, const Var& b) { return a - b; },
        [](const Var& a, const Var& b) { return a * b; },
        [](const Var& a, const Var& b) { return a / b; },
        [](const Var& a, const Var& b) { return (a * b) * (a - b); }};
    for (const auto& [sa, sb] : shapes) {
        for (const auto& op : ops) {
            SCOPED_TRACE(format_shape(sa) + " with " + format_shape(sb));
            Var a = parameter(random_array(rng, sa, 0.5, 1.5));
            Var b = parameter(random_array(rng, sb, 0.5, 1.5));
            expect_second_derivatives([&] { return op(a, b); }, {a, b}, rng);
        }
    }
    Var x = parameter(random_array(rng, {3}, 0.5, 1.5));
    expect_second_derivatives([&] { return 2.0 / x + (3.0 - x) * (x - 1.0) / 4.0; }, {x}, rng);
}

TEST(Gradgradcheck, MatmulOfStacks) {
    std::mt19937_64 rng(103);
    Var S = parameter(random_array(rng, {2, 3, 4}));
    Var T = parameter(random_array(rng, {1, 4, 2}));  // broadcast over S's leading axis
    Var W = parameter(random_array(rng, {4, 3}));
    Var v = parameter(random_array(rng, {3}));
    expect_second_derivatives([&] { return matmul(S, T) * matmul(S, T); }, {S, T}, rng);
    expect_second_derivatives([&] { return tanh(matmul(S, W)); }, {S, W}, rng);
    expect_second_derivatives([&] { return tanh(matmul(transpose(S), transpose(W))); }, {S, W},
                              rng);
    expect_second_derivatives([&] { return pow(matmul(v, S), 2.0); }, {v, S}, rng);
}

TEST(Gradgradcheck, MatmulTransposeAndReductions) {
    std::mt19937_64 rng(101);
    Var A = parameter(random_array(rng, {3, 4}));
    Var B = parameter(random_array(rng, {4, 2}));
    Var v = parameter(random_array(rng, {4}));
    Var u = parameter(random_array(rng, {3}));
    expect_second_derivatives([&] { return matmul(A, B) * matmul(A, B); }, {A, B}, rng);
    expect_second_derivatives([&] { return pow(matmul(A, v), 2.0); }, {A, v}, rng);
    expect_second_derivatives([&] { return pow(matmul(u, A), 3.0); }, {u, A}, rng);
    expect_second_derivatives([&] { return matmul(v, v) * matmul(v, v); }, {v}, rng);
    expect_second_derivatives([&] { return tanh(matmul(transpose(A), u)); }, {A, u}, rng);
    expect_second_derivatives([&] { return tanh(matmul(B, transpose(B))); }, {B}, rng);
    expect_second_derivatives([&] { return transpose(A) * transpose(A); }, {A}, rng);
    expect_second_derivatives([&] { return pow(sum(A, 0), 2.0); }, {A}, rng);
    expect_second_derivatives([&] { return exp(mean(A, 1)); }, {A}, rng);
    expect_second_derivatives([&] { return pow(mean(A), 3.0); }, {A}, rng);
    expect_second_derivatives([&] { return pow(sum(v), 2.0); }, {v}, rng);
    expect_second_derivatives([&] { return pow(reshape(A, {6, 2}), 3.0); }, {A}, rng);
    expect_second_derivatives([&] { return pow(broadcast_to(v, {3, 4}), 3.0); }, {v}, rng);
    expect_second_derivatives([&] { return pow(sum_to(A, {1, 4}), 3.0); }, {A}, rng);
}

TEST(Gradgradcheck, Losses) {
    std::mt19937_64 rng(103);
    Var z = parameter(random_array(rng, {6}, -3.0, 3.0));
    Var soft = parameter(random_array(rng, {6}, 0.1, 0.9));
    Var y = constant(random_labels(rng, 6));
    for (reduction how : {reduction::mean, reduction::sum}) {
        EXPECT_TRUE(
            gradgradcheck([&] { return bce_with_logits(z, soft, how); }, {z, soft}, strict).passed);
        EXPECT_TRUE(
            gradgradcheck([&] { return binary_cross_entropy(sigmoid(z), y, how); }, {z}, strict)
                .passed);
        EXPECT_TRUE(
            gradgradcheck([&] { return mse(tanh(z), soft, how); }, {z, soft}, strict).passed);
    }
}

TEST(Gradgradcheck, SoftmaxFamilyAndLeakyRelu) {
    std::mt19937_64 rng(109);
    Var m = parameter(random_array(rng, {3, 4}, -2.0, 2.0));
    Var labels = constant({3.0, 0.0, 1.0});
    expect_second_derivatives([&] { return log_softmax(m); }, {m}, rng);
    expect_second_derivatives([&] { return softmax(m); }, {m}, rng);
    expect_second_derivatives([&] { return leaky_relu(m, 0.2) * m; }, {m}, rng);
    EXPECT_TRUE(gradgradcheck([&] { return cross_entropy(m, labels); }, {m}, strict).passed);
}

TEST(FiniteDifferenceSweep, CentralBeatsForwardAndRoundingWinsAtTinySteps) {
    std::mt19937_64 rng(107);
    Var X = constant(random_array(rng, {30, 3}));
    Var y = constant(random_labels(rng, 30));
    Var w = parameter(random_array(rng, {3}));
    const auto rows = finite_difference_sweep([&] { return bce_with_logits(matmul(X, w), y); }, {w},
                                              {1e-1, 1e-3, 1e-5, 1e-8, 1e-13});
    ASSERT_EQ(rows.size(), 5u);
    EXPECT_LT(rows[2].central_error, 1e-9);  // h = 1e-5: near the optimum for central
    EXPECT_LT(rows[3].forward_error, 1e-6);  // h = 1e-8: near the optimum for forward
    EXPECT_GT(rows[0].forward_error, 1e-3);  // truncation: O(h)
    EXPECT_GT(rows[0].central_error, 1e-5);  // truncation: O(h²)
    EXPECT_LT(rows[0].central_error, rows[0].forward_error);
    EXPECT_GT(rows[4].central_error, rows[2].central_error * 100);  // rounding: O(ε/h)
}

}  // namespace
}  // namespace xgrad
