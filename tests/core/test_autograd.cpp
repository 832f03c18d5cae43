/***************************************************************************
 * xgrad: gradients as graphs, second derivatives, Hessians                 *
 ***************************************************************************/
#include <functional>
#include <random>

#include "support.hpp"

namespace xgrad {
namespace {

using testing::random_array;
using testing::random_labels;

TEST(Autograd, GradLeavesAccumulatedGradientsAlone) {
    Var x = parameter(3.0);
    Var f = x * x;
    f.backward();
    const std::vector<Var> g = grad(f, {x});
    EXPECT_EQ(g[0].item(), 6.0);
    EXPECT_FALSE(g[0].requires_grad());  // values only without create_graph
    EXPECT_EQ(x.grad()(), 6.0);          // still the one backward pass
}

TEST(Autograd, UnusedInputGetsZeros) {
    Var x = parameter({1.0, 2.0});
    Var unused = parameter(xt::zeros<double>({2, 2}));
    const std::vector<Var> g = grad(sum(x * x), {x, unused});
    EXPECT_EQ(g[1].value(), (xt::zeros<double>({2, 2})));
}

TEST(Autograd, SecondDerivativeOfCube) {
    Var x = parameter(2.0);
    Var f = x * x * x;
    Var df = grad(f, {x}, true)[0];  // 3x²
    EXPECT_EQ(df.item(), 12.0);
    Var d2f = grad(df, {x}, true)[0];  // 6x
    EXPECT_EQ(d2f.item(), 12.0);
    Var d3f = grad(d2f, {x})[0];  // 6
    EXPECT_EQ(d3f.item(), 6.0);
}

TEST(Autograd, HessianOfPolynomial) {
    // f(x, y) = x² + 2x²y + y³ → H = [[2 + 4y, 4x], [4x, 6y]].
    for (auto [x0, y0] : {std::pair{1.0, 2.0}, {-0.5, 0.25}, {3.0, -1.5}, {0.0, 0.0}}) {
        Var x = parameter(x0);
        Var y = parameter(y0);
        Var f = x * x + 2.0 * x * x * y + pow(y, 3.0);
        const array H = hessian(f, {x, y});
        const array expected = {{2.0 + 4.0 * y0, 4.0 * x0}, {4.0 * x0, 6.0 * y0}};
        EXPECT_LE(testing::max_relative_error(H, expected, 1e-12), 1e-14) << x0 << ", " << y0;
    }
}

TEST(Autograd, HessianOfBilinearPlusSquare) {
    Var x = parameter(0.7);
    Var y = parameter(-1.3);
    EXPECT_EQ(hessian(x * y + x * x, {x, y}), (array{{2.0, 1.0}, {1.0, 0.0}}));
}

/// @brief (1/m)·Xᵀ·diag(ŷ(1 − ŷ))·X by loops, plus (λ/m) on the weights (not the bias).
array analytic_logistic_hessian(const array& X, const array& w, double b, double lambda,
                                bool with_bias) {
    const std::size_t m = X.shape()[0];
    const std::size_t n = X.shape()[1];
    const std::size_t size = n + (with_bias ? 1 : 0);
    array H = xt::zeros<double>({size, size});
    for (std::size_t i = 0; i < m; ++i) {
        double z = b;
        for (std::size_t j = 0; j < n; ++j) z += X(i, j) * w(j);
        const double p = 1.0 / (1.0 + std::exp(-z));
        const double weight = p * (1.0 - p) / static_cast<double>(m);
        for (std::size_t j = 0; j < size; ++j) {
            const double xj = j < n ? X(i, j) : 1.0;
            for (std::size_t k = 0; k < size; ++k) {
                H(j, k) += weight * xj * (k < n ? X(i, k) : 1.0);
            }
        }
    }
    for (std::size_t j = 0; j < n; ++j) H(j, j) += lambda / static_cast<double>(m);
    return H;
}

TEST(Autograd, LogisticRegressionHessianEqualsAnalytic) {
    std::mt19937_64 rng(71);
    for (auto [m, n] : {std::pair<std::size_t, std::size_t>{1, 1}, {5, 3}, {40, 6}, {200, 12}}) {
        for (double lambda : {0.0, 1.0, 7.5}) {
            for (bool fused : {true, false}) {
                const array X = random_array(rng, {m, n});
                const array y = random_labels(rng, m);
                Var w = parameter(random_array(rng, {n}, -0.5, 0.5));
                Var b = parameter(random_array(rng, {1}, -0.5, 0.5)(0));
                Var z = matmul(constant(X), w) + b;
                Var loss = fused ? bce_with_logits(z, constant(y))
                                 : binary_cross_entropy(sigmoid(z), constant(y));
                if (lambda > 0.0) loss = loss + (lambda / (2.0 * m)) * sum(w * w);
                const array H = hessian(loss, {w, b});
                const array expected =
                    analytic_logistic_hessian(X, w.value(), b.value()(), lambda, true);
                EXPECT_LE(normwise_relative_error(H, expected), 1e-12)
                    << "m=" << m << " n=" << n << " λ=" << lambda;
            }
        }
    }
}

TEST(Autograd, BceCurvatureIsNonNegative) {
    // One sample: d²L/dθᵢ² = xᵢ²·ŷ(1 − ŷ) ≥ 0, the convexity argument.
    std::mt19937_64 rng(73);
    for (int trial = 0; trial < 10; ++trial) {
        const array x = random_array(rng, {1, 4}, -3.0, 3.0);
        Var theta = parameter(random_array(rng, {4}, -2.0, 2.0));
        Var loss = bce_with_logits(matmul(constant(x), theta),
                                   constant(array{trial % 2 == 0 ? 1.0 : 0.0}));
        const array H = hessian(loss, {theta});
        double z = 0.0;
        for (std::size_t j = 0; j < 4; ++j) z += x(0, j) * theta.value()(j);
        const double p = 1.0 / (1.0 + std::exp(-z));
        for (std::size_t j = 0; j < 4; ++j) {
            EXPECT_GE(H(j, j), 0.0);
            EXPECT_NEAR(H(j, j), x(0, j) * x(0, j) * p * (1.0 - p), 1e-15);
        }
    }
}

TEST(Autograd, HessianVectorProductMatchesHessian) {
    std::mt19937_64 rng(79);
    Var W = parameter(random_array(rng, {3, 2}));
    Var b = parameter(random_array(rng, {2}));
    Var X = constant(random_array(rng, {5, 3}));
    Var loss = mean(pow(tanh(matmul(X, W) + b), 2.0)) + sum(exp(b));
    const array H = hessian(loss, {W, b});
    const std::vector<array> v = {random_array(rng, {3, 2}), random_array(rng, {2})};
    const std::vector<array> Hv = hessian_vector_product(loss, {W, b}, v);
    for (std::size_t r = 0; r < 8; ++r) {
        double expected = 0.0;
        for (std::size_t c = 0; c < 6; ++c) expected += H(r, c) * v[0].data()[c];
        for (std::size_t c = 0; c < 2; ++c) expected += H(r, 6 + c) * v[1].data()[c];
        const double got = r < 6 ? Hv[0].data()[r] : Hv[1].data()[r - 6];
        EXPECT_NEAR(got, expected, 1e-14) << r;
    }
}

TEST(Autograd, SecondOrderErrors) {
    Var x = parameter({1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(grad(x * 2.0, {x}), graph_error, "not a single number");
    XGRAD_EXPECT_THROW_WITH(grad(sum(x), {x}, constant({1.0, 1.0})), shape_error,
                            "seed of shape (2,) does not match the output's shape ()");
    XGRAD_EXPECT_THROW_WITH(hessian_vector_product(sum(x * x), {x}, {array{1.0}}), shape_error,
                            "vector 0 has shape (1,), its parameter (2,)");
}

}  // namespace
}  // namespace xgrad
