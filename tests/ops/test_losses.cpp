/***************************************************************************
 * xgrad: losses: values, gradients, and stability at saturated logits      *
 ***************************************************************************/
#include <cmath>
#include <random>

#include "support.hpp"

namespace xgrad {
namespace {

using testing::random_array;
using testing::random_labels;

TEST(Losses, SigmoidAtHugeLogitsIsFiniteAndExact) {
    Var z = parameter({-1000.0, -40.0, 0.0, 40.0, 1000.0, 1e308});
    Var p = sigmoid(z);
    const array& v = p.value();
    EXPECT_EQ(v(0), 0.0);
    EXPECT_DOUBLE_EQ(v(1), std::exp(-40.0) / (1.0 + std::exp(-40.0)));
    EXPECT_EQ(v(2), 0.5);
    EXPECT_EQ(v(4), 1.0);
    EXPECT_EQ(v(5), 1.0);
    sum(p).backward();
    for (double g : z.grad()) EXPECT_TRUE(std::isfinite(g));
    EXPECT_EQ(z.grad()(0), 0.0);
    EXPECT_EQ(z.grad()(4), 0.0);
    EXPECT_EQ(z.grad()(2), 0.25);
}

TEST(Losses, BceWithLogitsAtHugeLogits) {
    // Correct side: loss ≈ 0; wrong side: loss = |z|; both exactly representable here.
    Var z = parameter({1000.0, -1000.0, 1000.0, -1000.0});
    Var y = constant({1.0, 0.0, 0.0, 1.0});
    Var loss = bce_with_logits(z, y);
    EXPECT_DOUBLE_EQ(loss.item(), (0.0 + 0.0 + 1000.0 + 1000.0) / 4.0);
    loss.backward();
    // (σ(z) − y)/m exactly: 0, 0, 1/4, −1/4.
    EXPECT_EQ(z.grad(), (array{0.0, 0.0, 0.25, -0.25}));
}

TEST(Losses, BceWithLogitsGradientIsSigmoidMinusTargetOverM) {
    std::mt19937_64 rng(41);
    const array z0 = random_array(rng, {50}, -30.0, 30.0);
    const array y0 = random_labels(rng, 50);
    Var z = parameter(z0);
    Var loss = bce_with_logits(z, constant(y0));
    loss.backward();
    double expected_loss = 0.0;
    for (std::size_t i = 0; i < 50; ++i) {
        const double p = 1.0 / (1.0 + std::exp(-z0(i)));
        EXPECT_NEAR(z.grad()(i), (p - y0(i)) / 50.0, 1e-17) << i;
        expected_loss += y0(i) == 1.0 ? std::log1p(std::exp(-z0(i))) : std::log1p(std::exp(z0(i)));
    }
    EXPECT_LE(testing::relative_error(loss.item(), expected_loss / 50.0), 1e-14);
}

TEST(Losses, BceWithLogitsCentralDifferences) {
    std::mt19937_64 rng(43);
    Var z = parameter(random_array(rng, {7}, -4.0, 4.0));
    Var y = parameter(random_array(rng, {7}, 0.0, 1.0));  // soft targets, differentiable too
    testing::expect_gradients_match(bce_with_logits(z, y));
    testing::expect_gradients_match(bce_with_logits(z, y, reduction::sum));
}

TEST(Losses, GraphBceOnSigmoidIsStableAtHugeLogits) {
    // log(σ(z)) and log(1 − σ(z)) are rewritten to their stable forms: no inf, no NaN.
    Var z = parameter({1000.0, -1000.0, 1000.0, -1000.0, 2.0});
    Var y = constant({1.0, 0.0, 0.0, 1.0, 1.0});
    Var loss = -mean(y * log(sigmoid(z)) + (1.0 - y) * log(1.0 - sigmoid(z)));  // written out
    Var fused = bce_with_logits(z, y);
    EXPECT_TRUE(std::isfinite(loss.item()));
    EXPECT_LE(testing::relative_error(loss.item(), fused.item()), 1e-14);
    loss.backward();
    const array graph_grad = z.grad();
    z.zero_grad();
    fused.backward();
    EXPECT_LE(testing::max_relative_error(graph_grad, z.grad(), 1e-300), 1e-14);
}

TEST(Losses, BinaryCrossEntropyOfSigmoidIsBceWithLogits) {
    std::mt19937_64 rng(29);
    Var z = parameter(random_array(rng, {6}, -30.0, 30.0));
    Var y = constant({1.0, 0.0, 1.0, 1.0, 0.0, 0.0});
    for (reduction how : {reduction::mean, reduction::sum, reduction::none}) {
        Var loss = binary_cross_entropy(sigmoid(z), y, how);
        EXPECT_STREQ(loss.op_name(), "bce_with_logits");
        EXPECT_EQ(loss.value(), bce_with_logits(z, y, how).value());
    }
    // Probabilities that do not come from sigmoid get the loss on probabilities.
    EXPECT_STREQ(binary_cross_entropy(constant({0.3, 0.6}), constant({0.0, 1.0})).op_name(),
                 "binary_cross_entropy");
}

TEST(Losses, LogOfSigmoidIsRewritten) {
    Var z = parameter({-800.0, 3.0});
    EXPECT_STREQ(log(sigmoid(z)).op_name(), "log_sigmoid");
    EXPECT_EQ(log(sigmoid(z)).value()(0), -800.0);
    EXPECT_STREQ(log(1.0 - sigmoid(z)).op_name(), "log_one_minus_sigmoid");  // −softplus(z)
    EXPECT_EQ(log(1.0 - sigmoid(-z)).value()(0), -800.0);
    EXPECT_STREQ(log(2.0 - sigmoid(z)).op_name(), "log");  // not the pattern
}

TEST(Losses, BinaryCrossEntropyOnProbabilities) {
    Var p = parameter({0.9, 0.2, 0.6});
    Var y = constant({1.0, 0.0, 1.0});
    Var loss = binary_cross_entropy(p, y);
    EXPECT_DOUBLE_EQ(loss.item(), -(std::log(0.9) + std::log(0.8) + std::log(0.6)) / 3.0);
    testing::expect_gradients_match(loss);
}

TEST(Losses, MeanSquaredError) {
    Var pred = parameter({1.0, 2.0, 4.0});
    Var target = constant({1.5, 2.0, 3.0});
    Var loss = mse(pred, target);
    EXPECT_DOUBLE_EQ(loss.item(), (0.25 + 0.0 + 1.0) / 3.0);
    loss.backward();  // 2(ŷ − y)/m
    EXPECT_LE(testing::max_relative_error(pred.grad(), array{-1.0 / 3.0, 0.0, 2.0 / 3.0}), 1e-15);
    EXPECT_DOUBLE_EQ(mse(pred, target, reduction::sum).item(), 1.25);
}

TEST(Losses, CrossEntropyValueAndGradient) {
    // Gradient of the mean: (softmax − one_hot) / m.
    const array logits0 = {{2.0, 1.0, 0.1}, {0.5, 2.5, -1.0}};
    Var logits = parameter(logits0);
    Var labels = constant({0.0, 2.0});
    Var loss = cross_entropy(logits, labels);
    double expected = 0.0;
    for (std::size_t i = 0; i < 2; ++i) {
        double total = 0.0;
        for (std::size_t k = 0; k < 3; ++k) total += std::exp(logits0(i, k));
        const std::size_t c = i == 0 ? 0 : 2;
        expected -= std::log(std::exp(logits0(i, c)) / total) / 2.0;
    }
    EXPECT_LE(testing::relative_error(loss.item(), expected), 1e-15);
    loss.backward();
    for (std::size_t i = 0; i < 2; ++i) {
        double total = 0.0;
        for (std::size_t k = 0; k < 3; ++k) total += std::exp(logits0(i, k));
        for (std::size_t k = 0; k < 3; ++k) {
            const double target = (k == (i == 0 ? 0u : 2u)) ? 1.0 : 0.0;
            EXPECT_NEAR(logits.grad()(i, k), (std::exp(logits0(i, k)) / total - target) / 2.0,
                        1e-15);
        }
    }
    testing::expect_gradients_match(cross_entropy(logits, labels, reduction::sum));
}

TEST(Losses, CrossEntropyAtHugeLogits) {
    Var logits = parameter(array{{1000.0, -1000.0, 0.0}, {-1000.0, 1000.0, 999.0}});
    Var loss = cross_entropy(logits, constant({1.0, 2.0}), reduction::sum);
    // Row 1: −log softmax = 2000. Row 2: log(1 + e) exactly as log1p(e) around the shift.
    EXPECT_DOUBLE_EQ(loss.item(), 2000.0 + std::log1p(std::exp(1.0)));
    loss.backward();
    for (double g : logits.grad()) EXPECT_TRUE(std::isfinite(g));
    EXPECT_EQ(logits.grad()(0, 0), 1.0);
    EXPECT_EQ(logits.grad()(0, 1), -1.0);
}

TEST(Losses, PerSampleReductionNone) {
    std::mt19937_64 rng(67);
    Var z = parameter(random_array(rng, {5}, -3.0, 3.0));
    Var y = parameter(random_array(rng, {5}, 0.0, 1.0));
    Var weights = constant(random_array(rng, {5}, 0.5, 2.0));
    const Var per_sample = bce_with_logits(z, y, reduction::none);
    EXPECT_EQ(per_sample.shape(), (shape_type{5}));
    EXPECT_LE(testing::relative_error(sum(per_sample).item(),
                                      bce_with_logits(z, y, reduction::sum).item()),
              1e-15);
    testing::expect_gradients_match(sum(bce_with_logits(z, y, reduction::none) * weights));
    testing::expect_gradients_match(sum(mse(z, y, reduction::none) * weights));
    EXPECT_TRUE(gradgradcheck([&] { return sum(bce_with_logits(z, y, reduction::none) * weights); },
                              {z, y}, GradcheckOptions{1e-6, 1e-7, 1e-5})
                    .passed);
}

TEST(Losses, FusedLinearBceEqualsTheSeparateOps) {
    std::mt19937_64 rng(59);
    for (auto [m, n] :
         {std::pair<std::size_t, std::size_t>{1, 1}, {7, 3}, {511, 4}, {513, 6}, {2000, 30}}) {
        for (reduction how : {reduction::mean, reduction::sum}) {
            const array X0 = random_array(rng, {m, n});
            const array y0 = random_labels(rng, m);
            Var X = constant(X0);
            Var y = constant(y0);
            Var w1 = parameter(random_array(rng, {n}));
            Var b1 = parameter(0.3);
            Var w2 = parameter(w1.value());
            Var b2 = parameter(0.3);
            Var fused = linear_bce_with_logits(X, w1, b1, y, how);
            Var separate = bce_with_logits(matmul(X, w2) + b2, y, how);
            EXPECT_LE(testing::relative_error(fused.item(), separate.item()), 1e-13)
                << m << "x" << n;
            fused.backward();
            separate.backward();
            EXPECT_LE(normwise_relative_error(w1.grad(), w2.grad()), 1e-13) << m << "x" << n;
            EXPECT_LE(testing::relative_error(b1.grad()(), b2.grad()()), 1e-12) << m << "x" << n;
        }
    }
}

TEST(Losses, FusedLinearBceGradientsForEveryInput) {
    std::mt19937_64 rng(61);
    Var X = parameter(random_array(rng, {9, 3}));
    Var w = parameter(random_array(rng, {3}));
    Var b = parameter(array{0.2});
    Var y = parameter(random_array(rng, {9}, 0.0, 1.0));  // soft targets
    testing::expect_gradients_match(linear_bce_with_logits(X, w, b, y));
    testing::expect_gradients_match(linear_bce_with_logits(X, w, b, y, reduction::sum) * 0.5);
    const GradcheckOptions strict{1e-6, 1e-7, 1e-5};
    EXPECT_TRUE(
        gradgradcheck([&] { return linear_bce_with_logits(X, w, b, y); }, {X, w, b, y}, strict)
            .passed);
    XGRAD_EXPECT_THROW_WITH(
        linear_bce_with_logits(X, parameter(array{1.0, 2.0}), b, y), shape_error,
        "linear_bce_with_logits: X (9,3), w (2,), b (1,) and y (9,) do not fit");
}

TEST(Losses, ShapeMismatchIsRefusedNotBroadcast) {
    Var z = parameter(xt::zeros<double>({4}));
    Var y_column = constant(xt::zeros<double>({4, 1}));
    XGRAD_EXPECT_THROW_WITH(bce_with_logits(z, y_column), shape_error,
                            "bce_with_logits: logits (4,) and targets (4,1) differ in shape");
    XGRAD_EXPECT_THROW_WITH(mse(z, y_column), shape_error,
                            "mse: predictions (4,) and targets (4,1) differ in shape");
    XGRAD_EXPECT_THROW_WITH(binary_cross_entropy(sigmoid(z), y_column), shape_error,
                            "binary_cross_entropy: probabilities (4,) and targets (4,1)");
    XGRAD_EXPECT_THROW_WITH(cross_entropy(z, y_column), shape_error,
                            "cross_entropy: expects logits (m, classes) and class indices (m,), "
                            "got (4,) and (4,1)");
}

}  // namespace
}  // namespace xgrad
