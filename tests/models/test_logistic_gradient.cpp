/***************************************************************************
 * xgrad: backprop through the logistic-regression graph equals the analytic *
 * gradient (1/m)·Xᵀ(ŷ − y), and the course's worked examples to 1e-12.      *
 ***************************************************************************/
#include <cmath>
#include <random>

#include "support.hpp"

namespace xgrad {
namespace {

using testing::max_relative_error;

struct AnalyticGradient {
    array theta;
    double bias;
};

/// @brief Xᵀ(ŷ − y)·scale and Σ(ŷ − y)·scale, by plain loops: the formula the course derives.
AnalyticGradient analytic(const array& X, const array& y, const array& theta, double b,
                          double scale) {
    const std::size_t m = X.shape()[0];
    const std::size_t n = X.shape()[1];
    AnalyticGradient g{xt::zeros<double>({n}), 0.0};
    for (std::size_t i = 0; i < m; ++i) {
        double z = b;
        for (std::size_t j = 0; j < n; ++j) z += X(i, j) * theta(j);
        const double residual = 1.0 / (1.0 + std::exp(-z)) - y(i);
        for (std::size_t j = 0; j < n; ++j) g.theta(j) += scale * X(i, j) * residual;
        g.bias += scale * residual;
    }
    return g;
}

struct Case {
    std::size_t m;
    std::size_t n;
};

// m = 1 (stochastic), small mini-batches and full batches; n from 1 to 50.
const Case cases[] = {{1, 1},    {1, 7},     {1, 50},   {2, 3},   {4, 2},    {8, 1},
                      {16, 5},   {32, 10},   {32, 50},  {64, 13}, {64, 20},  {100, 1},
                      {128, 3},  {150, 2},   {200, 50}, {256, 7}, {300, 30}, {500, 4},
                      {569, 30}, {1000, 25}, {3, 49},   {7, 11}};

enum class LossKind { graph_bce, fused_bce };

void check_all_cases(LossKind kind, reduction how) {
    std::mt19937_64 rng(20261123);
    for (const Case& c : cases) {
        const array X = testing::random_array(rng, {c.m, c.n});
        array y = testing::random_array(rng, {c.m}, 0.0, 1.0);
        for (auto& v : y) v = v < 0.5 ? 0.0 : 1.0;
        // Scaled so z stays O(1): the reference formula σ(z) − 1 loses digits as σ → 1.
        const double s = 2.0 / std::sqrt(static_cast<double>(c.n));
        const array theta0 = testing::random_array(rng, {c.n}, -s, s);
        const double b0 = testing::random_array(rng, {1})(0);

        Var Xv = constant(X);
        Var yv = constant(y);
        Var theta = parameter(theta0);
        Var b = parameter(b0);
        Var z = matmul(Xv, theta) + b;
        Var loss = kind == LossKind::graph_bce ? binary_cross_entropy(sigmoid(z), yv, how)
                                               : bce_with_logits(z, yv, how);
        loss.backward();

        const double scale = how == reduction::mean ? 1.0 / static_cast<double>(c.m) : 1.0;
        const AnalyticGradient expected = analytic(X, y, theta0, b0, scale);
        EXPECT_LE(normwise_relative_error(theta.grad(), expected.theta), 1e-12)
            << "m=" << c.m << " n=" << c.n;
        EXPECT_LE(testing::relative_error(b.grad()(), expected.bias), 1e-12)
            << "m=" << c.m << " n=" << c.n;
    }
}

TEST(LogisticGradient, GraphBceMeanEqualsAnalytic) {
    check_all_cases(LossKind::graph_bce, reduction::mean);
}
TEST(LogisticGradient, GraphBceSumEqualsAnalytic) {
    check_all_cases(LossKind::graph_bce, reduction::sum);
}
TEST(LogisticGradient, FusedBceMeanEqualsAnalytic) {
    check_all_cases(LossKind::fused_bce, reduction::mean);
}
TEST(LogisticGradient, FusedBceSumEqualsAnalytic) {
    check_all_cases(LossKind::fused_bce, reduction::sum);
}

TEST(LogisticGradient, WrittenOutBceFormulaEqualsAnalytic) {
    // The loss exactly as a learner writes it, operator by operator.
    const array X = {{1.0, 1.5, 0.2}, {1.0, 4.1, 1.3}, {1.0, -0.7, 2.2}};
    const array y_data = {0.0, 1.0, 1.0};
    const array theta0 = {0.1, 0.5, -0.1};
    Var x = constant(X);
    Var y = constant(y_data);
    Var theta = parameter(theta0);
    Var y_hat = sigmoid(matmul(x, theta));
    Var loss = -mean(y * log(y_hat) + (1.0 - y) * log(1.0 - y_hat));
    loss.backward();
    const AnalyticGradient expected = analytic(X, y_data, theta0, 0.0, 1.0 / 3.0);
    EXPECT_LE(max_relative_error(theta.grad(), expected.theta), 1e-12);
}

/// @brief One gradient-descent step of the course's worked examples (bias folded into θ).
struct WorkedExample {
    array X;
    array y;
    array z;
    array y_hat;
    double loss;
    array grad;
    array theta_after;
};

void check_worked_example(const WorkedExample& ex) {
    const double learning_rate = 0.01;
    Var X = constant(ex.X);
    Var y = constant(ex.y);
    Var theta = parameter({0.1, 0.5, -0.1});
    Var z = matmul(X, theta);
    Var y_hat = sigmoid(z);
    Var loss = binary_cross_entropy(y_hat, y);
    loss.backward();
    EXPECT_LE(max_relative_error(z.value(), ex.z), 1e-12);
    EXPECT_LE(max_relative_error(y_hat.value(), ex.y_hat), 1e-12);
    EXPECT_LE(testing::relative_error(loss.item(), ex.loss), 1e-12);
    EXPECT_LE(max_relative_error(theta.grad(), ex.grad), 1e-12);
    xt::noalias(theta.mutable_value()) -= learning_rate * theta.grad();
    EXPECT_LE(max_relative_error(theta.value(), ex.theta_after), 1e-12);
}

TEST(LogisticGradient, WorkedExampleMiniBatchOfTwo) {
    check_worked_example({{{1.0, 1.5, 0.2}, {1.0, 4.1, 1.3}},
                          {0.0, 1.0},
                          {0.83, 2.02},
                          {0.696354929823834, 0.882881009124220},
                          0.658230318475239,
                          {0.289617969474027, 0.282172266072526, -0.006491851086874},
                          {0.097103820305260, 0.497178277339275, -0.099935081489131}});
}

TEST(LogisticGradient, WorkedExampleFullBatchOfFour) {
    check_worked_example(
        {{{1.0, 1.4, 0.2}, {1.0, 1.5, 0.2}, {1.0, 3.0, 1.1}, {1.0, 4.1, 1.3}},
         {0.0, 0.0, 1.0, 1.0},
         {0.78, 0.83, 1.49, 2.02},
         {0.685680113938254, 0.696354929823834, 0.816078272580496, 0.882881009124220},
         0.669262427378000,
         {0.270248581366701, 0.243132877350024, -0.019540394886888},
         {0.097297514186333, 0.497568671226500, -0.099804596051131}});
}

}  // namespace
}  // namespace xgrad
