/***************************************************************************
 * xgrad: every op's forward value and its gradient against central         *
 * differences, including each broadcasting case.                           *
 ***************************************************************************/
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/op_families.hpp"
#include "support.hpp"

namespace xgrad {
namespace {

using testing::expect_gradients_match;
using testing::random_array;

/// @brief A scalar that weighs every element of y differently, so a wrong index shows up.
Var weighted_sum(const Var& y, std::mt19937_64& rng) {
    return sum(y * constant(random_array(rng, y.shape(), 0.5, 1.5)));
}

struct BinaryCase {
    shape_type a;
    shape_type b;
};

const BinaryCase broadcast_cases[] = {
    {{3, 4}, {3, 4}}, {{3, 4}, {4}},    {{4}, {3, 4}},    {{3, 4}, {1}},    {{3, 4}, {}},
    {{}, {3, 4}},     {{3, 4}, {3, 1}}, {{3, 1}, {1, 4}}, {{1, 4}, {3, 1}}, {{5}, {}},
    {{5}, {5}},       {{}, {}},         {{3, 4}, {1, 4}}, {{2, 3}, {1, 1}}};

void check_binary(const std::function<Var(const Var&, const Var&)>& op, double low, double high) {
    std::mt19937_64 rng(7);
    for (const BinaryCase& c : broadcast_cases) {
        SCOPED_TRACE(format_shape(c.a) + " with " + format_shape(c.b));
        Var a = parameter(random_array(rng, c.a, low, high));
        Var b = parameter(random_array(rng, c.b, low, high));
        expect_gradients_match(weighted_sum(op(a, b), rng));
    }
}

TEST(Ops, AddBroadcastGradients) {
    check_binary([](auto& a, auto& b) { return a + b; }, -2, 2);
}
TEST(Ops, SubBroadcastGradients) {
    check_binary([](auto& a, auto& b) { return a - b; }, -2, 2);
}
TEST(Ops, MulBroadcastGradients) {
    check_binary([](auto& a, auto& b) { return a * b; }, -2, 2);
}
TEST(Ops, DivBroadcastGradients) {
    check_binary([](auto& a, auto& b) { return a / b; }, 0.5, 2);
}

TEST(Ops, DivNearSmallDenominators) {
    std::mt19937_64 rng(11);
    array denominators = {1e-3, -1e-3, 2.5e-3, -4e-4, 7e-4};
    Var a = parameter(random_array(rng, {5}, -1, 1));
    Var b = parameter(denominators);
    // h well below the denominators keeps the difference quotient's truncation error small.
    expect_gradients_match(weighted_sum(a / b, rng), 1e-6, 1e-8, 1e-9);
}

TEST(Ops, BroadcastForwardValues) {
    Var a = constant({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    Var row = constant({10.0, 20.0, 30.0});
    const array column_data = testing::column({100.0, 200.0});
    Var column = constant(column_data);
    EXPECT_EQ((a + row).value(), (array{{11.0, 22.0, 33.0}, {14.0, 25.0, 36.0}}));
    EXPECT_EQ((a * column).value(), (array{{100.0, 200.0, 300.0}, {800.0, 1000.0, 1200.0}}));
    EXPECT_EQ((row - column).shape(), (shape_type{2, 3}));
    EXPECT_EQ((2.0 / a).value()(1, 1), 0.4);
    EXPECT_EQ((a - 1.0).value()(0, 0), 0.0);
    EXPECT_EQ((1.0 - a).value()(0, 2), -2.0);
}

TEST(Ops, BroadcastInputGradientHasInputShape) {
    Var a = parameter(xt::ones<double>({3, 4}));
    Var bias = parameter(xt::zeros<double>({4}));
    Var scalar = parameter(0.0);
    sum(a + bias + scalar).backward();
    EXPECT_EQ(bias.grad(), (array{3.0, 3.0, 3.0, 3.0}));
    EXPECT_EQ(scalar.grad().shape(), shape_type{});
    EXPECT_EQ(scalar.grad()(), 12.0);
}

TEST(Ops, ScalarOperandGradients) {
    std::mt19937_64 rng(3);
    const std::function<Var(const Var&)> ops[] = {
        [](const Var& x) { return x + 2.5; }, [](const Var& x) { return 2.5 + x; },
        [](const Var& x) { return x - 2.5; }, [](const Var& x) { return 2.5 - x; },
        [](const Var& x) { return x * 2.5; }, [](const Var& x) { return 2.5 * x; },
        [](const Var& x) { return x / 2.5; }, [](const Var& x) { return 2.5 / x; },
        [](const Var& x) { return -x; }};
    for (const auto& op : ops) {
        Var x = parameter(random_array(rng, {3, 2}, 0.5, 2.0));
        expect_gradients_match(weighted_sum(op(x), rng));
    }
}

struct UnaryCase {
    const char* name;
    std::function<Var(const Var&)> op;
    array points;
};

TEST(Ops, UnaryGradientsAtSeveralPoints) {
    const array mixed = {-3.0, -1.2, -0.3, 0.4, 1.1, 2.9};
    const array positive = {0.05, 0.3, 0.9, 1.7, 4.0, 11.0};
    const UnaryCase cases[] = {
        {"exp", [](const Var& x) { return exp(x); }, mixed},
        {"log", [](const Var& x) { return log(x); }, positive},
        {"tanh", [](const Var& x) { return tanh(x); }, mixed},
        {"sigmoid", [](const Var& x) { return sigmoid(x); },
         array{-8.0, -2.0, -0.5, 0.0, 0.7, 3.0, 9.0}},
        {"relu", [](const Var& x) { return relu(x); }, mixed},  // no point at 0
        {"softplus", [](const Var& x) { return softplus(x); }, mixed},
        {"log_sigmoid", [](const Var& x) { return log_sigmoid(x); }, mixed},
        {"square", [](const Var& x) { return pow(x, 2.0); }, mixed},
        {"cube", [](const Var& x) { return pow(x, 3.0); }, mixed},
        {"sqrt", [](const Var& x) { return pow(x, 0.5); }, positive},
        {"reciprocal", [](const Var& x) { return pow(x, -1.0); }, positive},
    };
    std::mt19937_64 rng(5);
    for (const UnaryCase& c : cases) {
        SCOPED_TRACE(c.name);
        Var x = parameter(c.points);
        expect_gradients_match(weighted_sum(c.op(x), rng));
        Var m =
            parameter(xt::reshape_view(c.points, std::vector<std::size_t>{2, c.points.size() / 2}));
        expect_gradients_match(weighted_sum(c.op(m), rng));
    }
}

TEST(Ops, UnaryForwardValues) {
    Var x = constant({-2.0, 0.0, 3.0});
    EXPECT_EQ(relu(x).value(), (array{0.0, 0.0, 3.0}));
    EXPECT_DOUBLE_EQ(sigmoid(x).value()(2), 1.0 / (1.0 + std::exp(-3.0)));
    EXPECT_DOUBLE_EQ(softplus(x).value()(0), std::log1p(std::exp(-2.0)));
    // log1p keeps the digits that log(1/(1+e^-3)) loses.
    EXPECT_EQ(log_sigmoid(x).value()(2), -std::log1p(std::exp(-3.0)));
    EXPECT_DOUBLE_EQ(pow(x, 3.0).value()(0), -8.0);
    EXPECT_EQ(sigmoid(x).value()(1), 0.5);
}

/// @brief Naive triple loop, the reference for BLAS.
array naive_matmul(const array& a, const array& b) {
    const array A =
        a.dimension() == 1 ? xt::reshape_view(a, std::vector<std::size_t>{1, a.size()}) : a;
    const array B =
        b.dimension() == 1 ? xt::reshape_view(b, std::vector<std::size_t>{b.size(), 1}) : b;
    array C = xt::zeros<double>({A.shape()[0], B.shape()[1]});
    for (std::size_t i = 0; i < A.shape()[0]; ++i)
        for (std::size_t j = 0; j < B.shape()[1]; ++j)
            for (std::size_t k = 0; k < A.shape()[1]; ++k) C(i, j) += A(i, k) * B(k, j);
    if (a.dimension() == 1 && b.dimension() == 1) return array(C(0, 0));
    if (a.dimension() == 1) return xt::reshape_view(C, std::vector<std::size_t>{C.shape()[1]});
    if (b.dimension() == 1) return xt::reshape_view(C, std::vector<std::size_t>{C.shape()[0]});
    return C;
}

struct MatmulCase {
    shape_type a;
    shape_type b;
    bool transpose_a;
    bool transpose_b;
};

TEST(Ops, MatmulValuesAndGradients) {
    const MatmulCase cases[] = {{{3, 4}, {4, 5}, false, false}, {{4, 3}, {4, 5}, true, false},
                                {{3, 4}, {5, 4}, false, true},  {{4, 3}, {5, 4}, true, true},
                                {{3, 4}, {4}, false, false},    {{4, 3}, {4}, true, false},
                                {{4}, {4, 5}, false, false},    {{4}, {5, 4}, false, true},
                                {{4}, {4}, false, false},       {{1, 1}, {1, 1}, false, false},
                                {{1, 6}, {6}, false, false},    {{6, 1}, {6, 1}, true, false}};
    std::mt19937_64 rng(13);
    for (const MatmulCase& c : cases) {
        SCOPED_TRACE(format_shape(c.a) + (c.transpose_a ? "ᵀ" : "") + " · " + format_shape(c.b) +
                     (c.transpose_b ? "ᵀ" : ""));
        Var a = parameter(random_array(rng, c.a));
        Var b = parameter(random_array(rng, c.b));
        Var product = matmul(c.transpose_a ? transpose(a) : a, c.transpose_b ? transpose(b) : b);
        const array ra = c.transpose_a ? array(xt::transpose(a.value())) : a.value();
        const array rb = c.transpose_b ? array(xt::transpose(b.value())) : b.value();
        EXPECT_LE(testing::max_relative_error(product.value(), naive_matmul(ra, rb), 1e-12), 1e-13);
        expect_gradients_match(weighted_sum(product, rng));
    }
}

/// @brief numpy's matmul for stacks, by matrices: leading axes broadcast, from the right.
array naive_stacked_matmul(const array& a, const array& b) {
    const std::size_t ra = a.dimension(), rb = b.dimension();
    const shape_type a_batch(a.shape().begin(), a.shape().end() - 2);
    const shape_type b_batch(b.shape().begin(), b.shape().end() - 2);
    const std::size_t rank = std::max(a_batch.size(), b_batch.size());
    shape_type batch(rank);
    for (std::size_t d = 0; d < rank; ++d) {
        const std::size_t from_end = rank - d;
        const std::size_t ea = from_end <= a_batch.size() ? a_batch[a_batch.size() - from_end] : 1;
        const std::size_t eb = from_end <= b_batch.size() ? b_batch[b_batch.size() - from_end] : 1;
        batch[d] = std::max(ea, eb);
    }
    const std::size_t m = a.shape()[ra - 2], k = a.shape()[ra - 1], n = b.shape()[rb - 1];
    shape_type out_shape = batch;
    out_shape.push_back(m);
    out_shape.push_back(n);
    array out = xt::zeros<double>(out_shape);
    std::size_t count = 1;
    for (std::size_t e : batch) count *= e;
    for (std::size_t i = 0; i < count; ++i) {
        // the multi-index of matrix i, and the matrix of a and of b it reads
        std::size_t rest = i, ia = 0, ib = 0, stride_a = 1, stride_b = 1;
        for (std::size_t d = rank; d-- > 0;) {
            const std::size_t pos = rest % batch[d];
            rest /= batch[d];
            const std::size_t from_end = rank - d;
            if (from_end <= a_batch.size()) {
                const std::size_t e = a_batch[a_batch.size() - from_end];
                ia += (e == 1 ? 0 : pos) * stride_a;
                stride_a *= e;
            }
            if (from_end <= b_batch.size()) {
                const std::size_t e = b_batch[b_batch.size() - from_end];
                ib += (e == 1 ? 0 : pos) * stride_b;
                stride_b *= e;
            }
        }
        for (std::size_t r = 0; r < m; ++r)
            for (std::size_t c = 0; c < n; ++c)
                for (std::size_t p = 0; p < k; ++p)
                    out.data()[(i * m + r) * n + c] +=
                        a.data()[(ia * m + r) * k + p] * b.data()[(ib * k + p) * n + c];
    }
    return out;
}

TEST(Ops, MatmulOfStacksBroadcastsTheLeadingAxes) {
    // (shape of op(a), shape of op(b)): stacks on either side, broadcast leading axes, and a
    // stack times a plain matrix (a batch of inputs times a weight matrix).
    const std::pair<shape_type, shape_type> cases[] = {
        {{2, 3, 4}, {2, 4, 5}},    {{2, 3, 4}, {4, 5}},    {{3, 4}, {2, 4, 5}},
        {{2, 1, 3, 4}, {3, 4, 2}}, {{1, 3, 4}, {2, 4, 5}}, {{2, 3, 1, 4}, {2, 1, 4, 3}}};
    std::mt19937_64 rng(23);
    for (const auto& [sa, sb] : cases) {
        for (const bool transpose_a : {false, true}) {
            for (const bool transpose_b : {false, true}) {
                SCOPED_TRACE(format_shape(sa) + (transpose_a ? " stored transposed" : "") + " · " +
                             format_shape(sb) + (transpose_b ? " stored transposed" : ""));
                auto stored = [](shape_type s, bool t) {
                    if (t) std::swap(s[s.size() - 2], s[s.size() - 1]);
                    return s;
                };
                Var a = parameter(random_array(rng, stored(sa, transpose_a)));
                Var b = parameter(random_array(rng, stored(sb, transpose_b)));
                const Var op_a = transpose_a ? transpose(a) : a;
                const Var op_b = transpose_b ? transpose(b) : b;
                EXPECT_EQ(op_a.shape(), sa);
                Var product = matmul(op_a, op_b);
                const array expected = naive_stacked_matmul(op_a.value(), op_b.value());
                ASSERT_EQ(product.shape(), expected.shape());
                EXPECT_LE(testing::max_relative_error(product.value(), expected, 1e-12), 1e-13);
                expect_gradients_match(weighted_sum(product, rng));
            }
        }
    }
}

TEST(Ops, MatmulOfAStackAndAVectorDropsTheVectorsAxis) {
    std::mt19937_64 rng(29);
    Var stack = parameter(random_array(rng, {2, 3, 4}));
    Var right = parameter(random_array(rng, {4}));
    Var left = parameter(random_array(rng, {3}));
    const Var y = matmul(stack, right);  // (2,3,4)(4,) → (2,3)
    const Var z = matmul(left, stack);   // (3,)(2,3,4) → (2,4)
    ASSERT_EQ(y.shape(), (shape_type{2, 3}));
    ASSERT_EQ(z.shape(), (shape_type{2, 4}));
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t r = 0; r < 3; ++r) {
            double expected = 0.0;
            for (std::size_t p = 0; p < 4; ++p)
                expected += stack.value()(i, r, p) * right.value()(p);
            EXPECT_NEAR(y.value()(i, r), expected, 1e-14);
        }
        for (std::size_t c = 0; c < 4; ++c) {
            double expected = 0.0;
            for (std::size_t p = 0; p < 3; ++p)
                expected += left.value()(p) * stack.value()(i, p, c);
            EXPECT_NEAR(z.value()(i, c), expected, 1e-14);
        }
    }
    expect_gradients_match(weighted_sum(y, rng) + weighted_sum(z, rng));
}

TEST(Ops, MatmulOfStacksNamesBothShapesWhenTheyDoNotFit) {
    std::mt19937_64 rng(31);
    Var a = constant(random_array(rng, {2, 3, 4}));
    XGRAD_EXPECT_THROW_WITH(matmul(a, constant(random_array(rng, {3, 5, 2}))), shape_error,
                            "matmul: cannot multiply (2,3,4) by (3,5,2)");
    XGRAD_EXPECT_THROW_WITH(matmul(a, constant(random_array(rng, {3, 4, 2}))), shape_error,
                            "matmul: cannot multiply (2,3,4) by (3,4,2)");
    XGRAD_EXPECT_THROW_WITH(matmul(transpose(a), constant(random_array(rng, {2, 4, 5}))),
                            shape_error, "matmul: cannot multiply (2,4,3) by (2,4,5)");
}

TEST(Ops, MatmulWithConstantDataOnlyDifferentiatesTheParameter) {
    std::mt19937_64 rng(17);
    Var X = constant(random_array(rng, {6, 3}));
    Var w = parameter(random_array(rng, {3}));
    expect_gradients_match(weighted_sum(matmul(X, w), rng));
    expect_gradients_match(weighted_sum(matmul(transpose(X), matmul(X, w)), rng));
}

TEST(Ops, TransposeMaterializedForElementwiseUse) {
    std::mt19937_64 rng(19);
    Var a = parameter(random_array(rng, {2, 3}));
    Var t = transpose(a);
    EXPECT_EQ(t.shape(), (shape_type{3, 2}));
    EXPECT_EQ(t.value()(2, 1), a.value()(1, 2));
    expect_gradients_match(weighted_sum(t * t, rng));
    // A double transpose has a's values, in a node of its own (so its gradient is its own).
    EXPECT_EQ(transpose(t).value(), a.value());
    EXPECT_NE(transpose(t).node_ptr(), a.node_ptr());
    Var v = parameter({1.0, 2.0});
    EXPECT_EQ(transpose(v).value(), v.value());  // numpy: a vector's transpose has its values
    EXPECT_NE(transpose(v).node_ptr(), v.node_ptr());
    Var stack = parameter(random_array(rng, {2, 3, 4}));  // each matrix of a stack transposed
    Var ts = transpose(stack);
    EXPECT_EQ(ts.shape(), (shape_type{2, 4, 3}));
    EXPECT_EQ(ts.value()(1, 3, 2), stack.value()(1, 2, 3));
    expect_gradients_match(weighted_sum(ts * ts, rng));
}

TEST(Ops, SumAndMeanValues) {
    Var a = constant({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    EXPECT_EQ(sum(a).item(), 21.0);
    EXPECT_EQ(mean(a).item(), 3.5);
    EXPECT_EQ(sum(a, 0).value(), (array{5.0, 7.0, 9.0}));
    EXPECT_EQ(sum(a, 1).value(), (array{6.0, 15.0}));
    EXPECT_EQ(sum(a, -1).value(), (array{6.0, 15.0}));
    EXPECT_EQ(mean(a, 0).value(), (array{2.5, 3.5, 4.5}));
    EXPECT_EQ(mean(a, 1).value(), (array{2.0, 5.0}));
    EXPECT_EQ(sum(constant({1.0, 2.0}), 0).shape(), shape_type{});
}

TEST(Ops, SumAndMeanGradients) {
    std::mt19937_64 rng(23);
    const std::function<Var(const Var&)> reductions[] = {
        [](const Var& x) { return sum(x); },     [](const Var& x) { return mean(x); },
        [](const Var& x) { return sum(x, 0); },  [](const Var& x) { return sum(x, 1); },
        [](const Var& x) { return mean(x, 0); }, [](const Var& x) { return mean(x, -1); }};
    for (const auto& reduce : reductions) {
        Var x = parameter(random_array(rng, {3, 4}));
        Var r = reduce(x);
        expect_gradients_match(r.dimension() == 0 ? r * 1.5 : weighted_sum(r, rng));
    }
    Var v = parameter(random_array(rng, {5}));
    expect_gradients_match(mean(v, 0) * 2.0);
}

TEST(Ops, LeakyReluValuesAndGradients) {
    Var x = parameter({-2.0, -0.5, 0.5, 3.0});
    EXPECT_EQ(leaky_relu(x, 0.1).value(), (array{-0.2, -0.05, 0.5, 3.0}));
    std::mt19937_64 rng(31);
    expect_gradients_match(weighted_sum(leaky_relu(x, 0.1), rng));
    expect_gradients_match(weighted_sum(leaky_relu(x), rng));
}

TEST(Ops, SoftmaxRowsSumToOne) {
    Var logits = constant(array{{1.0, 2.0, 3.0}, {1000.0, -1000.0, 0.0}});
    const array p = softmax(logits).value();
    EXPECT_NEAR(p(0, 0) + p(0, 1) + p(0, 2), 1.0, 1e-15);
    EXPECT_EQ(p(1, 0), 1.0);  // e^1000 would overflow without the max shift
    EXPECT_EQ(p(1, 1), 0.0);
    const array lp = log_softmax(logits).value();
    EXPECT_DOUBLE_EQ(lp(0, 2), -std::log(std::exp(-2.0) + std::exp(-1.0) + 1.0));
    EXPECT_EQ(lp(1, 1), -2000.0);  // finite where log(softmax) would be −inf
    const array v = softmax(constant({0.0, std::log(3.0)})).value();  // a vector: one row
    EXPECT_NEAR(v(1), 0.75, 1e-15);
}

TEST(Ops, LogSoftmaxAndSoftmaxGradients) {
    std::mt19937_64 rng(37);
    Var m = parameter(random_array(rng, {4, 3}, -3.0, 3.0));
    expect_gradients_match(weighted_sum(log_softmax(m), rng));
    expect_gradients_match(weighted_sum(softmax(m), rng));
    Var v = parameter(random_array(rng, {5}, -3.0, 3.0));
    expect_gradients_match(weighted_sum(log_softmax(v), rng));
}

TEST(Ops, OneHot) {
    EXPECT_EQ(one_hot(constant({2.0, 0.0}), 3).value(), (array{{0.0, 0.0, 1.0}, {1.0, 0.0, 0.0}}));
    XGRAD_EXPECT_THROW_WITH(
        one_hot(constant({0.0, 3.0}), 3), std::invalid_argument,
        "one_hot: class index 3.000000 at position 1 is not a whole number in [0, 3)");
    XGRAD_EXPECT_THROW_WITH(one_hot(constant(array{0.5}), 3), std::invalid_argument, "position 0");
}

TEST(Ops, ComposedExpressionGradient) {
    // A small two-layer network touches most ops at once.
    std::mt19937_64 rng(29);
    Var X = constant(random_array(rng, {5, 3}));
    Var W1 = parameter(random_array(rng, {3, 4}));
    Var b1 = parameter(random_array(rng, {4}));
    Var w2 = parameter(random_array(rng, {4}));
    Var hidden = tanh(matmul(X, W1) + b1);
    Var out = sigmoid(matmul(hidden, w2));
    expect_gradients_match(mean(pow(out - 0.5, 2.0)) + 0.1 * sum(relu(W1)) / exp(mean(b1)));
}

// ---- the course's elementwise math (op-library issue, first part) --------------------------

struct UnaryMath {
    const char* name;
    std::function<Var(const Var&)> op;
    std::function<double(double)> value;  // the closed form
    double low, high;                     // where to sample
};

std::vector<UnaryMath> unary_math() {
    constexpr double pi = 3.14159265358979323846;
    return {
        {"sin", [](const Var& x) { return sin(x); }, [](double v) { return std::sin(v); }, -4, 4},
        {"cos", [](const Var& x) { return cos(x); }, [](double v) { return std::cos(v); }, -4, 4},
        {"tan", [](const Var& x) { return tan(x); }, [](double v) { return std::tan(v); }, -1.2,
         1.2},
        {"sqrt", [](const Var& x) { return sqrt(x); }, [](double v) { return std::sqrt(v); }, 0.1,
         4},
        {"square", [](const Var& x) { return square(x); }, [](double v) { return v * v; }, -3, 3},
        {"log1p", [](const Var& x) { return log1p(x); }, [](double v) { return std::log1p(v); },
         -0.9, 3},
        {"expm1", [](const Var& x) { return expm1(x); }, [](double v) { return std::expm1(v); }, -3,
         3},
        {"erf", [](const Var& x) { return erf(x); }, [](double v) { return std::erf(v); }, -3, 3},
        {"silu", [](const Var& x) { return silu(x); },
         [](double v) { return v / (1.0 + std::exp(-v)); }, -6, 6},
        {"gelu", [](const Var& x) { return gelu(x); },
         [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }, -4, 4},
        {"elu", [](const Var& x) { return elu(x, 1.5); },
         [](double v) { return v > 0 ? v : 1.5 * (std::exp(v) - 1.0); }, -3, 3},
        {"clip", [pi](const Var& x) { return clip(x, -0.5, pi / 4); },
         [pi](double v) { return std::min(std::max(v, -0.5), pi / 4); }, -2, 2},
    };
}

TEST(ElementwiseMath, ValuesMatchTheClosedForms) {
    std::mt19937_64 rng(211);
    for (const UnaryMath& m : unary_math()) {
        SCOPED_TRACE(m.name);
        const array x = random_array(rng, {3, 5}, m.low, m.high);
        const Var y = m.op(constant(x));
        ASSERT_EQ(y.shape(), x.shape());
        for (std::size_t i = 0; i < x.size(); ++i) {
            EXPECT_NEAR(y.value().data()[i], m.value(x.data()[i]),
                        1e-15 * std::max(1.0, std::abs(m.value(x.data()[i]))));
        }
        EXPECT_STREQ(y.op_name(), m.name);
    }
}

TEST(ElementwiseMath, GradientsMatchCentralDifferencesFirstAndSecondOrder) {
    std::mt19937_64 rng(223);
    GradcheckOptions strict;
    strict.atol = 1e-7;
    strict.rtol = 1e-6;
    for (const UnaryMath& m : unary_math()) {
        SCOPED_TRACE(m.name);
        // Away from clip's kinks (at −0.5 and π/4 the two one-sided slopes differ).
        array x = random_array(rng, {4, 3}, m.low, m.high);
        if (std::string(m.name) == "clip") x = array{{-1.5, -0.3, 0.2}, {0.7, 1.1, 1.9}};
        Var p = parameter(x);
        expect_gradients_match(weighted_sum(m.op(p), rng));
        const Var weights = constant(random_array(rng, x.shape(), 0.5, 1.5));
        const GradcheckReport report =
            gradgradcheck([&] { return sum(m.op(p) * weights); }, {p}, strict);
        EXPECT_TRUE(report.passed) << report.to_string();
    }
}

TEST(ElementwiseMath, EdgePoints) {
    // sqrt at 0: value 0, derivative +inf (as PyTorch).
    Var z = parameter({0.0, 4.0});
    sqrt(z).backward(array{1.0, 1.0});
    EXPECT_EQ(z.grad()(0), std::numeric_limits<double>::infinity());
    EXPECT_EQ(z.grad()(1), 0.25);
    // clip: gradient 1 on the bounds themselves, 0 outside; lo > hi refused.
    Var c = parameter({-1.0, -0.5, 0.0, 0.5, 1.0});
    sum(clip(c, -0.5, 0.5)).backward();
    EXPECT_EQ(c.grad(), (array{0.0, 1.0, 1.0, 1.0, 0.0}));
    XGRAD_EXPECT_THROW_WITH(clip(c, 1.0, 0.0), std::invalid_argument,
                            "clip: lower bound 1.000000 is above the upper bound 0.000000");
    // silu and gelu at ±1000: finite values, derivatives 1 and 0, finite second derivatives.
    for (const auto& f : std::vector<std::function<Var(const Var&)>>{
             [](const Var& x) { return silu(x); }, [](const Var& x) { return gelu(x); }}) {
        Var x = parameter({-1000.0, 1000.0, 0.0});
        const Var y = f(x);
        EXPECT_EQ(y.value()(0), -0.0);
        EXPECT_EQ(y.value()(1), 1000.0);
        sum(y).backward();
        EXPECT_EQ(x.grad()(0), 0.0);
        EXPECT_EQ(x.grad()(1), 1.0);
        EXPECT_EQ(x.grad()(2), 0.5);  // both are x/2 near 0
        const array H = hessian(sum(f(x)), {x});
        for (double h : H) EXPECT_TRUE(std::isfinite(h));
    }
    // elu at 0 takes the left slope α (as PyTorch), and is continuous there.
    Var e = parameter(0.0);
    elu(e, 2.0).backward();
    EXPECT_EQ(e.grad()(), 2.0);
    // The course's example: d/dx [x·y + sin x] at (x, y) = (2, 3) is y + cos x.
    Var x = parameter(2.0);
    Var y = parameter(3.0);
    (x * y + sin(x)).backward();
    EXPECT_DOUBLE_EQ(x.grad()(), 3.0 + std::cos(2.0));
    EXPECT_DOUBLE_EQ(y.grad()(), 2.0);
}

TEST(ElementwiseMath, MaximumAndMinimumBroadcastAndSplitTies) {
    check_binary([](const Var& a, const Var& b) { return maximum(a, b); }, -1.0, 1.0);
    check_binary([](const Var& a, const Var& b) { return minimum(a, b); }, -1.0, 1.0);
    Var a = parameter({1.0, 2.0, 3.0});
    Var b = parameter({3.0, 2.0, 1.0});
    const Var hi = maximum(a, b);
    const Var lo = minimum(a, b);
    EXPECT_EQ(hi.value(), (array{3.0, 2.0, 3.0}));
    EXPECT_EQ(lo.value(), (array{1.0, 2.0, 1.0}));
    sum(hi).backward();
    EXPECT_EQ(a.grad(), (array{0.0, 0.5, 1.0}));  // the tie at 2 splits evenly
    EXPECT_EQ(b.grad(), (array{1.0, 0.5, 0.0}));
    a.zero_grad();
    b.zero_grad();
    sum(lo * 2.0).backward();
    EXPECT_EQ(a.grad(), (array{2.0, 1.0, 0.0}));
    EXPECT_EQ(b.grad(), (array{0.0, 1.0, 2.0}));
    // A row against a matrix, ties included, and the graph form (second derivatives).
    Var m = parameter({{0.5, -1.0, 2.0}, {0.0, 3.0, -2.0}});
    Var r = parameter({0.5, 0.0, 0.0});
    sum(maximum(m, r)).backward();
    EXPECT_EQ(r.grad(), (array{0.5 + 1.0, 1.0, 1.0}));
    GradcheckOptions strict;
    strict.atol = 1e-7;
    strict.rtol = 1e-6;
    std::mt19937_64 rng(227);
    Var p = parameter(random_array(rng, {3, 4}));
    Var q = parameter(random_array(rng, {4}));
    EXPECT_TRUE(
        gradgradcheck([&] { return sum(maximum(p, q) * maximum(p, q)); }, {p, q}, strict).passed);
    EXPECT_TRUE(gradgradcheck([&] { return sum(exp(minimum(p, q))); }, {p, q}, strict).passed);
    XGRAD_EXPECT_THROW_WITH(maximum(m, parameter({1.0, 2.0})), shape_error,
                            "maximum: cannot broadcast (2,3) with (2,)");
}

TEST(ElementwiseMath, PowOfTwoVarsMatchesTheClosedFormsAndBroadcasts) {
    check_binary([](const Var& a, const Var& b) { return pow(a, b); }, 0.5, 2.0);
    Var a = parameter({2.0, 0.5, 3.0});
    Var b = parameter({3.0, -1.0, 0.5});
    const Var y = pow(a, b);
    EXPECT_EQ(y.value(), (array{8.0, 2.0, std::sqrt(3.0)}));
    EXPECT_STREQ(y.op_name(), "pow");
    sum(y).backward();
    for (std::size_t i = 0; i < 3; ++i) {
        const double av = a.value()(i), bv = b.value()(i), yv = std::pow(av, bv);
        EXPECT_NEAR(a.grad()(i), bv * std::pow(av, bv - 1.0), 1e-15 * std::abs(yv) + 1e-15);
        EXPECT_NEAR(b.grad()(i), yv * std::log(av), 1e-15 * std::abs(yv) + 1e-15);
    }
    GradcheckOptions strict;
    strict.atol = 1e-7;
    strict.rtol = 1e-6;
    std::mt19937_64 rng(229);
    Var p = parameter(random_array(rng, {3, 4}, 0.5, 2.0));
    Var q = parameter(random_array(rng, {4}, -1.5, 1.5));
    EXPECT_TRUE(gradgradcheck([&] { return sum(pow(p, q)); }, {p, q}, strict).passed);
    XGRAD_EXPECT_THROW_WITH(pow(p, parameter({1.0, 2.0})), shape_error,
                            "pow: cannot broadcast (3,4) with (2,)");
}

TEST(ElementwiseMath, PowOfTwoVarsAtZeroBaseAndZeroExponent) {
    // PyTorch 1.13's numbers: 0⁰ = 1 with both derivatives 0; 0² = 0 with ∂/∂exponent 0 (y = 0
    // there, not 0·log 0); 0^0.5 has ∂/∂base = +inf (the true slope).
    Var a = parameter({0.0, 0.0, 0.0, 2.0});
    Var b = parameter({0.0, 2.0, 0.5, 0.0});
    const Var y = pow(a, b);
    EXPECT_EQ(y.value(), (array{1.0, 0.0, 0.0, 1.0}));
    sum(y).backward();
    EXPECT_EQ(a.grad(), (array{0.0, 0.0, std::numeric_limits<double>::infinity(), 0.0}));
    EXPECT_EQ(b.grad(), (array{0.0, 0.0, 0.0, std::log(2.0)}));
    // The same by grad() and by forward mode, and a finite Hessian where the exponent is 0
    const std::vector<Var> g = grad(sum(y), {a, b});
    EXPECT_EQ(g[0].value(), a.grad());
    EXPECT_EQ(g[1].value(), b.grad());
    EXPECT_EQ(jvp(y, {b}, {array{1.0, 1.0, 1.0, 1.0}}), (array{0.0, 0.0, 0.0, std::log(2.0)}));
    Var a2 = parameter({0.0, 1.5});
    Var b2 = parameter({0.0, 0.0});
    for (double h : hessian(sum(pow(a2, b2)), {a2, b2})) EXPECT_TRUE(std::isfinite(h));
}

TEST(Where, SelectsAndBroadcasts) {
    const Var c = reshape(constant({1.0, 0.0}), {2, 1});  // (2,1) with (2,3) and ()
    Var a = parameter({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    Var b = parameter(-1.0);
    const Var y = where(c, a, b);
    EXPECT_EQ(y.value(), (array{{1.0, 2.0, 3.0}, {-1.0, -1.0, -1.0}}));
    EXPECT_STREQ(y.op_name(), "where");
    sum(y * 2.0).backward();
    EXPECT_EQ(a.grad(), (array{{2.0, 2.0, 2.0}, {0.0, 0.0, 0.0}}));
    EXPECT_EQ(b.grad()(), 6.0);  // summed back over the three elements it filled
    std::mt19937_64 rng(233);
    Var p = parameter(random_array(rng, {3, 4}));
    Var q = parameter(random_array(rng, {4}));
    const Var mask = greater(p, 0.0);
    expect_gradients_match(weighted_sum(where(mask, p * p, exp(q)), rng));
    GradcheckOptions strict;
    strict.atol = 1e-7;
    strict.rtol = 1e-6;
    EXPECT_TRUE(
        gradgradcheck([&] { return sum(where(mask, p * p * p, sin(q))); }, {p, q}, strict).passed);
    XGRAD_EXPECT_THROW_WITH(where(constant({0.5, 1.0, 1.0}), a, b), std::invalid_argument,
                            "where: condition element 0 is 0.500000, not 0 or 1");
    XGRAD_EXPECT_THROW_WITH(where(constant({1.0, 0.0}), a, b), shape_error,
                            "where: cannot broadcast (2,) with (2,3)");
}

TEST(Where, ComparisonsGiveConstantMasksThatAReplayRecomputes) {
    Var x = parameter({-1.0, 0.0, 2.0});
    EXPECT_EQ((x > 0.0).value(), (array{0.0, 0.0, 1.0}));
    EXPECT_EQ((x >= 0.0).value(), (array{0.0, 1.0, 1.0}));
    EXPECT_EQ((x < 0.0).value(), (array{1.0, 0.0, 0.0}));
    EXPECT_EQ((x <= 0.0).value(), (array{1.0, 1.0, 0.0}));
    EXPECT_EQ(equal(x, 0.0).value(), (array{0.0, 1.0, 0.0}));
    EXPECT_EQ(not_equal(x, 0.0).value(), (array{1.0, 0.0, 1.0}));
    EXPECT_EQ(greater(x, reshape(constant({0.0, -2.0}), {2, 1})).value(),
              (array{{0.0, 0.0, 1.0}, {1.0, 1.0, 1.0}}));
    EXPECT_FALSE((x > 0.0).requires_grad());
    // relu written with where: a Tape replay after x changes recomputes the mask
    Tape tape(sum(where(x > 0.0, x, 0.0)));
    tape.forward();
    tape.backward();
    EXPECT_EQ(x.grad(), (array{0.0, 0.0, 1.0}));
    x.mutable_value() = array{3.0, -2.0, -1.0};
    x.zero_grad();
    tape.forward();
    tape.backward();
    EXPECT_EQ(tape.output().item(), 3.0);
    EXPECT_EQ(x.grad(), (array{1.0, 0.0, 0.0}));
    XGRAD_EXPECT_THROW_WITH(greater(x, constant({1.0, 2.0})), shape_error,
                            "greater: cannot broadcast (3,) with (2,)");
}

TEST(Where, TheBranchNotTakenPutsNoNaNIntoAnyGradient) {
    // The classic trap: sqrt's slope is +inf at 0 and NaN below, x·log x's is −inf at 0, a/b's
    // is inf at b = 0. where() selects them away; every route to a gradient must agree.
    struct Trap {
        const char* name;
        std::function<Var(const Var&)> f;
        array expected_grad;
    };
    const array x0 = {-1.0, 0.0, 4.0};
    const std::vector<Trap> traps = {
        {"where(x > 0, sqrt(x), 0)", [](const Var& x) { return where(x > 0.0, sqrt(x), 0.0); },
         array{0.0, 0.0, 0.25}},
        {"where(x > 0, x log x, 0)", [](const Var& x) { return where(x > 0.0, x * log(x), 0.0); },
         array{0.0, 0.0, std::log(4.0) + 1.0}},
        {"where(x != 0, 1/x, 0)",
         [](const Var& x) { return where(not_equal(x, 0.0), 1.0 / x, 0.0); },
         array{-1.0, 0.0, -1.0 / 16.0}},
        {"where(x > 0, pow(x, x), 1)", [](const Var& x) { return where(x > 0.0, pow(x, x), 1.0); },
         array{0.0, 0.0, 256.0 * (std::log(4.0) + 1.0)}},
        {"where(x > 0, log(x), 0) * 3",
         [](const Var& x) { return where(x > 0.0, log(x), 0.0) * 3.0; }, array{0.0, 0.0, 0.75}},
    };
    for (const Trap& t : traps) {
        SCOPED_TRACE(t.name);
        Var x = parameter(x0);
        const Var y = t.f(x);
        sum(y).backward();
        EXPECT_EQ(x.grad(), t.expected_grad);                           // backward()
        EXPECT_EQ(grad(sum(t.f(x)), {x})[0].value(), t.expected_grad);  // grad()
        const array J = jacobian(y, x);
        const array Jf = jacobian_forward(y, x);  // forward mode
        for (std::size_t i = 0; i < 3; ++i) {
            EXPECT_DOUBLE_EQ(J(i, i), t.expected_grad(i));
            EXPECT_DOUBLE_EQ(Jf(i, i), t.expected_grad(i));
        }
        for (double h : hessian(sum(t.f(x)), {x})) EXPECT_TRUE(std::isfinite(h));  // 2nd order
        Tape tape(sum(t.f(x)));                                                    // a replay
        tape.forward();
        x.zero_grad();
        tape.backward();
        EXPECT_EQ(x.grad(), t.expected_grad);
    }
}

TEST(Where, AZeroGradientContributesExactlyZeroThroughEveryElementwiseOp) {
    // Strong zeros: at each op's singular points a zero seed gives exactly 0 (not 0·∞ = NaN),
    // and a non-zero seed still gives the true slope (inf or NaN) there.
    const std::vector<std::pair<const char*, std::function<Var(const Var&)>>> ops = {
        {"sqrt", [](const Var& x) { return sqrt(x); }},
        {"log", [](const Var& x) { return log(x); }},
        {"log1p", [](const Var& x) { return log1p(x - 1.0); }},
        {"pow(x, 0.5)", [](const Var& x) { return pow(x, 0.5); }},
        {"1/x", [](const Var& x) { return 1.0 / x; }},
        {"x * log(x)", [](const Var& x) { return x * log(x); }},
        {"tan", [](const Var& x) { return tan(x + M_PI / 2); }},
    };
    for (const auto& [name, f] : ops) {
        SCOPED_TRACE(name);
        Var x = parameter({0.0, -1.0});
        f(x).backward(array{0.0, 0.0});
        EXPECT_EQ(x.grad(), (array{0.0, 0.0}));
        const std::vector<Var> g = grad(f(x), {x}, constant({0.0, 0.0}));
        EXPECT_EQ(g[0].value(), (array{0.0, 0.0}));
    }
    Var x = parameter(array{0.0});
    sqrt(x).backward(array{1.0});
    EXPECT_EQ(x.grad()(0), std::numeric_limits<double>::infinity());
}

TEST(ElementwiseMath, MaximumMinimumAndClipPropagateNaNWhateverTheOperandOrder) {
    // numpy and PyTorch: maximum(1, NaN) = maximum(NaN, 1) = NaN, clip(NaN) = NaN. A NaN operand
    // is the chosen one and takes the gradient (as a NaN does in max(x)); ½ each if both are NaN.
    // Every path: same shapes, a row against a matrix, a one-element operand, and the graph
    // form (grad(), its value and its second derivative) and forward mode.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    struct Layout {
        const char* name;
        shape_type a, b;
    };
    const Layout layouts[] = {
        {"same shape", {4}, {4}}, {"matrix and row", {2, 4}, {4}}, {"row and matrix", {4}, {2, 4}}};
    const array a_row = {1.0, nan, nan, inf};
    const array b_row = {nan, 1.0, nan, inf};
    for (const bool is_max : {true, false}) {
        for (const Layout& l : layouts) {
            SCOPED_TRACE(std::string(is_max ? "maximum, " : "minimum, ") + l.name);
            Var a = parameter(array(xt::broadcast(a_row, l.a)));
            Var b = parameter(array(xt::broadcast(b_row, l.b)));
            auto f = [is_max](const Var& p, const Var& q) {
                return is_max ? maximum(p, q) : minimum(p, q);
            };
            const Var y = f(a, b);
            const shape_type out = y.shape();
            const array expected_y = xt::broadcast(array{nan, nan, nan, inf}, out);
            EXPECT_TRUE(xt::all(xt::equal(xt::isnan(y.value()), xt::isnan(expected_y))));
            EXPECT_EQ(f(b, a).value().shape(), out);
            EXPECT_TRUE(xt::all(xt::equal(xt::isnan(f(b, a).value()), xt::isnan(expected_y))));
            sum(y).backward();
            const double rows = l.a.size() == 2 || l.b.size() == 2 ? 2.0 : 1.0;
            const array ga = array{0.0, 1.0, 0.5, 0.5} * (l.a.size() == 2 ? 1.0 : rows);
            const array gb = array{1.0, 0.0, 0.5, 0.5} * (l.b.size() == 2 ? 1.0 : rows);
            EXPECT_EQ(a.grad(), array(xt::broadcast(ga, l.a)));
            EXPECT_EQ(b.grad(), array(xt::broadcast(gb, l.b)));
            const std::vector<Var> g = grad(sum(f(a, b)), {a, b});
            EXPECT_EQ(g[0].value(), a.grad());
            EXPECT_EQ(g[1].value(), b.grad());
            const std::vector<Var> gg = grad(sum(f(a, b)), {a, b}, true);
            EXPECT_EQ(gg[0].value(), a.grad());
            EXPECT_EQ(gg[1].value(), b.grad());
            const array ta = xt::ones<double>(l.a);
            const array tb = xt::zeros<double>(l.b);
            const array t = jvp(f(a, b), {a, b}, {ta, tb});
            EXPECT_EQ(t, array(xt::broadcast(array{0.0, 1.0, 0.5, 0.5}, out)));
        }
        // a one-element operand (passed to the rules as a number)
        Var v = parameter(array{1.0, nan, 3.0});
        Var s = parameter(nan);
        const Var y = is_max ? maximum(v, s) : minimum(s, v);
        EXPECT_TRUE(xt::all(xt::isnan(y.value())));
        sum(y).backward();
        EXPECT_EQ(v.grad(), (array{0.0, 0.5, 0.0}));
        EXPECT_EQ(s.grad()(), 2.5);
    }
    // clip: NaN stays NaN (not a bound), with gradient 0 there, as PyTorch's clamp
    Var x = parameter(array{nan, -inf, inf, 0.25});
    const Var c = clip(x, -1.0, 1.0);
    EXPECT_TRUE(std::isnan(c.value()(0)));
    for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(c.value()(i), (array{0.0, -1.0, 1.0, 0.25})(i));
    sum(c).backward();
    EXPECT_EQ(x.grad(), (array{0.0, 0.0, 0.0, 1.0}));
}

TEST(Where, EveryOpFamilyRefusesAnEmptyVarWithAGraphErrorNotACrash) {
    // An empty (default-constructed) Var in any operand position, with recording on or off,
    // and as the condition or a compared operand: graph_error, never a null dereference.
    for (const testing::Case& c : testing::every_op_family()) {
        SCOPED_TRACE(c.name);
        for (std::size_t k = 0; k < c.shapes.size(); ++k) {
            std::vector<Var> params = testing::make_parameters(c, 3);
            params[k] = Var();
            EXPECT_THROW(c.build(params), graph_error);
            const no_grad off;
            EXPECT_THROW(c.build(params), graph_error);
        }
    }
    const Var x = parameter({1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(where(Var(), x, x), graph_error, "'where': input 0 is an empty Var");
    XGRAD_EXPECT_THROW_WITH(greater(x, Var()), graph_error, "'greater': input 1 is an empty Var");
    XGRAD_EXPECT_THROW_WITH(less(Var(), 0.0), graph_error, "'less': input 0 is an empty Var");
    const no_grad off;
    XGRAD_EXPECT_THROW_WITH(exp(Var()), graph_error, "'exp': input 0 is an empty Var");
    XGRAD_EXPECT_THROW_WITH(x + Var(), graph_error, "'add': input 1 is an empty Var");
}

TEST(Where, TheBranchNotTakenHasExactlyZeroDerivativesOfEveryOrderForEveryOpFamily) {
    // sum(where(0, f(p + sqrt(z)), 1)) at z = 0 is the constant 1, while every route through f
    // meets sqrt's infinite slope. Strong zeros make the gradient, both Hessian-vector product
    // modes and jvp exactly 0, for every op family whose rules have them: matrix products
    // (matmul, conv2d) and losses follow IEEE (0·∞ = NaN, README), the log∘σ rewrites keep σ's
    // own rule (a separate note), and custom ops run the user's rules.
    const std::vector<std::string> ieee = {"matmul",
                                           "conv2d",
                                           "bce_with_logits",
                                           "binary_cross_entropy",
                                           "mse",
                                           "cross_entropy",
                                           "linear_bce_with_logits",
                                           "fusable logistic graph",
                                           "log_of_sigmoid",
                                           "log_one_minus_sigmoid",
                                           "custom op",
                                           "checkpoint with a captured weight",
                                           "checkpoint of a custom op"};
    std::size_t checked = 0;
    for (const testing::Case& c : testing::every_op_family()) {
        bool skip = false;
        for (const std::string& prefix : ieee) skip = skip || c.name.rfind(prefix, 0) == 0;
        if (skip) continue;
        SCOPED_TRACE(c.name);
        ++checked;
        const std::vector<Var> p = testing::make_parameters(c, 7);
        std::vector<Var> z, q;
        for (const Var& v : p) {
            z.push_back(parameter(xt::zeros<double>(v.shape())));
            q.push_back(v + sqrt(z.back()));
        }
        const Var loss = sum(where(constant(0.0), c.build(q), 1.0));
        std::vector<Var> all = z;
        all.insert(all.end(), p.begin(), p.end());
        std::vector<array> v;
        for (const Var& a : all) v.push_back(xt::ones<double>(a.shape()));
        const std::vector<Var> g = grad(loss, all);
        const auto rr = hessian_vector_product(loss, all, v, hvp_mode::reverse_over_reverse);
        const auto fr = hessian_vector_product(loss, all, v, hvp_mode::forward_over_reverse);
        for (std::size_t k = 0; k < all.size(); ++k) {
            const array zero = xt::zeros<double>(all[k].shape());
            EXPECT_EQ(g[k].value(), zero) << "gradient " << k;
            EXPECT_EQ(rr[k], zero) << "reverse-over-reverse H·v " << k;
            EXPECT_EQ(fr[k], zero) << "forward-over-reverse H·v " << k;
        }
        EXPECT_EQ(jvp(loss, all, v)(), 0.0);
    }
    EXPECT_GT(checked, 100u);
}

}  // namespace
}  // namespace xgrad
