/***************************************************************************
 * xgrad: conv2d, max_pool2d, avg_pool2d: values and gradients against      *
 * torch.autograd (float64), central differences, second and third          *
 * derivatives (gradgradcheck), Hessian-vector products in every mode,      *
 * forward-mode tangents against reverse-mode Jacobians, Tape replays       *
 * (new values, new batch size), sizes 0 and 1, and every error message.    *
 ***************************************************************************/
#include <cmath>
#include <cstddef>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "reference/conv_torch.hpp"
#include "support.hpp"
#include "xgrad/ops/conv.hpp"

namespace xgrad {
namespace {

namespace ref = reference::conv_torch;
using testing::expect_gradients_match;
using testing::random_array;

array to_array(const ref::Tensor& t) {
    shape_type shape(t.shape.begin(), t.shape.end());
    array a = array::from_shape(shape);
    EXPECT_EQ(a.size(), t.values.size());
    std::copy(t.values.begin(), t.values.end(), a.begin());
    return a;
}

/// @brief The largest |actual − expected| / |expected| over the elements (NaN where both are NaN
/// and equal infinities count as exact; a NaN on one side only is an infinite error). Elements
/// whose reference is exactly 0 must be exactly 0.
double worst_relative_error(const array& actual, const array& expected) {
    EXPECT_EQ(actual.shape(), expected.shape());
    if (actual.shape() != expected.shape()) return std::numeric_limits<double>::infinity();
    double worst = 0.0;
    for (std::size_t i = 0; i < actual.size(); ++i) {
        const double a = actual.data()[i], e = expected.data()[i];
        if (std::isnan(a) && std::isnan(e)) continue;
        if (a == e) continue;
        if (std::isnan(a) || std::isnan(e) || std::isinf(a) || std::isinf(e) || e == 0.0) {
            return std::numeric_limits<double>::infinity();
        }
        worst = std::max(worst, std::abs(a - e) / std::abs(e));
    }
    return worst;
}

constexpr double reference_tolerance = 1e-12;

/// @brief sum(tanh(y) ⊙ weights): a scalar that weighs every element of y differently and is
/// not linear, so that second derivatives are not zero.
Var weighted_tanh_sum(const Var& y, const Var& weights) {
    return sum(tanh(y) * weights);
}

// ---- against torch.autograd ------------------------------------------------------------------

TEST(Conv2dReference, ValuesAndGradientsMatchTorch) {
    ASSERT_EQ(ref::conv_cases.size(), 11u);
    for (const ref::ConvCase& c : ref::conv_cases) {
        SCOPED_TRACE(c.name);
        const Var x = parameter(to_array(c.input));
        const Var w = parameter(to_array(c.weight));
        const Var b = c.has_bias ? parameter(to_array(c.bias)) : Var();
        const Var y = conv2d(x, w, b, c.stride, c.padding);
        EXPECT_STREQ(y.op_name(), "conv2d");
        EXPECT_LE(worst_relative_error(y.value(), to_array(c.output)), reference_tolerance);
        y.backward(to_array(c.seed));
        EXPECT_LE(worst_relative_error(x.grad(), to_array(c.grad_input)), reference_tolerance);
        EXPECT_LE(worst_relative_error(w.grad(), to_array(c.grad_weight)), reference_tolerance);
        if (c.has_bias) {
            EXPECT_LE(worst_relative_error(b.grad(), to_array(c.grad_bias)), reference_tolerance);
        }
    }
}

TEST(PoolReference, ValuesAndGradientsMatchTorch) {
    ASSERT_EQ(ref::pool_cases.size(), 13u);
    for (const ref::PoolCase& c : ref::pool_cases) {
        SCOPED_TRACE(c.name);
        const Var x = parameter(to_array(c.input));
        const Var y =
            c.is_max ? max_pool2d(x, c.kernel, c.stride) : avg_pool2d(x, c.kernel, c.stride);
        EXPECT_LE(worst_relative_error(y.value(), to_array(c.output)), reference_tolerance);
        y.backward(to_array(c.seed));
        EXPECT_LE(worst_relative_error(x.grad(), to_array(c.grad_input)), reference_tolerance);
    }
}

TEST(Pool, StrideZeroMeansStrideEqualsKernel) {
    std::mt19937_64 rng(7);
    const Var x = constant(random_array(rng, {2, 3, 7, 8}));
    EXPECT_EQ(max_pool2d(x, 3).value(), max_pool2d(x, 3, 3).value());
    EXPECT_EQ(avg_pool2d(x, 2).value(), avg_pool2d(x, 2, 2).value());
    EXPECT_EQ(max_pool2d(x, 3).shape(), (shape_type{2, 3, 2, 2}));
}

TEST(MaxPool, TiesNaNsAndInfinitiesAsTorch) {
    // A window [1, NaN; NaN, 0] takes its last NaN, a constant window its first position, a
    // window of −inf its first position (value −inf).
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const Var x = parameter(array{{{{1.0, nan, 3.0, 3.0}, {nan, 0.0, 3.0, 3.0}},
                                   {{-inf, -inf, 2.0, inf}, {-inf, -inf, inf, 2.0}}}});
    const Var y = max_pool2d(x, 2);
    const array& v = y.value();
    EXPECT_TRUE(std::isnan(v(0, 0, 0, 0)));
    EXPECT_EQ(v(0, 0, 0, 1), 3.0);
    EXPECT_EQ(v(0, 1, 0, 0), -inf);
    EXPECT_EQ(v(0, 1, 0, 1), inf);
    y.backward(array{{{{10.0, 20.0}}, {{30.0, 40.0}}}});
    EXPECT_EQ(x.grad(), (array{{{{0.0, 0.0, 20.0, 0.0}, {10.0, 0.0, 0.0, 0.0}},
                                {{30.0, 0.0, 0.0, 40.0}, {0.0, 0.0, 0.0, 0.0}}}}));
}

TEST(MaxPool, TwoByTwoMatchesTheRunningMaximumOnTiesNaNsAndInfinities) {
    // Kernel 2, stride 2 has a loop of its own (two windows at a time, a last odd one alone):
    // its values and routed gradients against the running maximum written out here (start at
    // −inf on the first position, move to a larger element or a NaN), on planes of odd and even
    // widths full of ties, NaNs and infinities.
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const double inf = std::numeric_limits<double>::infinity();
    const std::vector<double> pool = {nan, -inf, inf, 0.0, 0.0, 1.0, 1.0, -1.0, 2.0};
    std::mt19937_64 rng(29);
    for (const shape_type& shape : {shape_type{2, 3, 6, 8}, shape_type{1, 2, 5, 7},
                                    shape_type{3, 1, 4, 3}, shape_type{1, 1, 2, 2}}) {
        SCOPED_TRACE(format_shape(shape));
        array data = array::from_shape(shape);
        for (double& v : data) v = pool[rng() % pool.size()];
        const std::size_t planes = shape[0] * shape[1], h = shape[2], w = shape[3];
        const std::size_t ho = h / 2, wo = w / 2;
        array expected_y = array::from_shape({shape[0], shape[1], ho, wo});
        array seed = array::from_shape(expected_y.shape());
        array expected_grad = xt::zeros<double>(shape);
        for (std::size_t p = 0, e = 0; p < planes; ++p) {
            for (std::size_t oh = 0; oh < ho; ++oh) {
                for (std::size_t ow = 0; ow < wo; ++ow, ++e) {
                    double best = -inf;
                    std::size_t at = (p * h + 2 * oh) * w + 2 * ow;
                    for (std::size_t i = 0; i < 2; ++i) {
                        for (std::size_t j = 0; j < 2; ++j) {
                            const std::size_t q = (p * h + 2 * oh + i) * w + 2 * ow + j;
                            if (data.data()[q] > best || std::isnan(data.data()[q])) {
                                best = data.data()[q];
                                at = q;
                            }
                        }
                    }
                    expected_y.data()[e] = best;
                    seed.data()[e] = static_cast<double>(e + 1);
                    expected_grad.data()[at] += seed.data()[e];
                }
            }
        }
        const Var x = parameter(data);
        const Var y = max_pool2d(x, 2);
        ASSERT_EQ(y.shape(), expected_y.shape());
        for (std::size_t e = 0; e < expected_y.size(); ++e) {
            const double a = y.value().data()[e], b = expected_y.data()[e];
            EXPECT_TRUE((std::isnan(a) && std::isnan(b)) || a == b) << "output " << e;
        }
        y.backward(seed);
        EXPECT_EQ(x.grad(), expected_grad);
        // the same routing added to a gradient that x already has from another use
        const array other = random_array(rng, shape);
        const std::vector<Var> both =
            grad(sum(max_pool2d(x, 2) * constant(seed)) + sum(x * constant(other)), {x});
        EXPECT_EQ(both[0].value(), array(expected_grad + other));
    }
}

// ---- central differences ----------------------------------------------------------------------

TEST(Conv2dDirect, ValuesAndGradientsMatchTheSumsWrittenOut) {
    // Stride 1 with an output as wide as the input builds and scatters the column matrix a
    // block of rows at a time; these shapes put every shift j − p, rows and columns wholly in
    // the padding, and images shorter or narrower than the kernel through it, against the sums
    // of the definition in long double.
    struct Config {
        shape_type x, w;
        std::size_t stride, pad;
    };
    const std::vector<Config> configs = {
        {{2, 3, 6, 5}, {4, 3, 3, 3}, 1, 1}, {{1, 2, 3, 7}, {3, 2, 5, 5}, 1, 2},
        {{2, 1, 1, 4}, {2, 1, 3, 3}, 1, 1}, {{1, 2, 4, 1}, {2, 2, 5, 5}, 1, 2},
        {{1, 1, 2, 6}, {2, 1, 1, 3}, 1, 1}, {{2, 2, 5, 4}, {3, 2, 3, 1}, 1, 0},
        {{1, 2, 5, 6}, {2, 2, 3, 3}, 2, 1},  // stride 2: the element-by-element loops
    };
    std::mt19937_64 rng(31);
    for (const Config& c : configs) {
        SCOPED_TRACE(format_shape(c.x) + " * " + format_shape(c.w) + " padding " +
                     std::to_string(c.pad));
        const array xv = random_array(rng, c.x), wv = random_array(rng, c.w);
        const Var x = parameter(xv), w = parameter(wv);
        const Var y = conv2d(x, w, Var(), c.stride, c.pad);
        const array seed = random_array(rng, y.shape());
        sum(y * constant(seed)).backward();
        const std::size_t N = c.x[0], C = c.x[1], H = c.x[2], W = c.x[3];
        const std::size_t K = c.w[0], kh = c.w[2], kw = c.w[3];
        const std::size_t ho = y.shape()[2], wo = y.shape()[3];
        std::vector<long double> ys(y.value().size(), 0.0L), dx(xv.size(), 0.0L),
            dw(wv.size(), 0.0L);
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t k = 0; k < K; ++k) {
                for (std::size_t oh = 0; oh < ho; ++oh) {
                    for (std::size_t ow = 0; ow < wo; ++ow) {
                        const std::size_t out = ((n * K + k) * ho + oh) * wo + ow;
                        for (std::size_t ch = 0; ch < C; ++ch) {
                            for (std::size_t i = 0; i < kh; ++i) {
                                for (std::size_t j = 0; j < kw; ++j) {
                                    const std::ptrdiff_t r =
                                        static_cast<std::ptrdiff_t>(oh * c.stride + i) -
                                        static_cast<std::ptrdiff_t>(c.pad);
                                    const std::ptrdiff_t q =
                                        static_cast<std::ptrdiff_t>(ow * c.stride + j) -
                                        static_cast<std::ptrdiff_t>(c.pad);
                                    if (r < 0 || q < 0 || r >= static_cast<std::ptrdiff_t>(H) ||
                                        q >= static_cast<std::ptrdiff_t>(W)) {
                                        continue;
                                    }
                                    const std::size_t in = ((n * C + ch) * H + r) * W + q;
                                    const std::size_t at = ((k * C + ch) * kh + i) * kw + j;
                                    ys[out] +=
                                        static_cast<long double>(wv.data()[at]) * xv.data()[in];
                                    dx[in] +=
                                        static_cast<long double>(seed.data()[out]) * wv.data()[at];
                                    dw[at] +=
                                        static_cast<long double>(seed.data()[out]) * xv.data()[in];
                                }
                            }
                        }
                    }
                }
            }
        }
        auto as_array = [](const std::vector<long double>& v, const shape_type& shape) {
            array a = array::from_shape(shape);
            for (std::size_t e = 0; e < v.size(); ++e) a.data()[e] = static_cast<double>(v[e]);
            return a;
        };
        EXPECT_LE(testing::max_relative_error(y.value(), as_array(ys, y.shape()), 1.0), 1e-12);
        EXPECT_LE(testing::max_relative_error(x.grad(), as_array(dx, c.x), 1.0), 1e-12);
        EXPECT_LE(testing::max_relative_error(w.grad(), as_array(dw, c.w), 1.0), 1e-12);
    }
}

TEST(Conv2dGradients, MatchCentralDifferences) {
    std::mt19937_64 rng(11);
    struct Config {
        shape_type x, w;
        std::size_t stride, pad;
        bool bias;
    };
    const std::vector<Config> configs = {
        {{2, 3, 5, 6}, {4, 3, 3, 3}, 1, 1, true},  {{1, 2, 7, 6}, {3, 2, 3, 2}, 2, 0, true},
        {{3, 1, 4, 4}, {2, 1, 1, 1}, 1, 0, false}, {{1, 2, 5, 5}, {2, 2, 5, 5}, 1, 2, true},
        {{2, 2, 6, 5}, {3, 2, 2, 2}, 2, 2, false},
    };
    for (const Config& c : configs) {
        const Var x = parameter(random_array(rng, c.x));
        const Var w = parameter(random_array(rng, c.w, -0.5, 0.5));
        const Var b = c.bias ? parameter(random_array(rng, {c.w[0]})) : Var();
        const Var y = conv2d(x, w, b, c.stride, c.pad);
        SCOPED_TRACE(format_shape(c.x) + " * " + format_shape(c.w));
        expect_gradients_match(weighted_tanh_sum(y, constant(random_array(rng, y.shape()))));
    }
}

TEST(PoolGradients, MatchCentralDifferences) {
    std::mt19937_64 rng(13);
    for (std::size_t stride : {1, 2, 3}) {
        SCOPED_TRACE("stride " + std::to_string(stride));
        // distinct values, far apart compared with the step: no window changes its maximum
        array data = array::from_shape({2, 2, 7, 6});
        std::vector<double> values(data.size());
        for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.01 * static_cast<double>(i);
        std::shuffle(values.begin(), values.end(), rng);
        std::copy(values.begin(), values.end(), data.begin());
        const Var x = parameter(data);
        const Var m = max_pool2d(x, 3, stride);
        expect_gradients_match(weighted_tanh_sum(m, constant(random_array(rng, m.shape()))));
        const Var a = avg_pool2d(x, 3, stride);
        expect_gradients_match(weighted_tanh_sum(a, constant(random_array(rng, a.shape()))));
    }
}

// ---- second and third derivatives -------------------------------------------------------------

GradcheckOptions strict() {
    GradcheckOptions o;
    o.atol = 1e-7;
    o.rtol = 1e-6;
    return o;
}

TEST(Conv2dGradients, SecondDerivativesMatchCentralDifferences) {
    std::mt19937_64 rng(17);
    for (std::size_t stride : {1, 2}) {
        SCOPED_TRACE("stride " + std::to_string(stride));
        const Var x = parameter(random_array(rng, {2, 2, 5, 4}));
        const Var w = parameter(random_array(rng, {3, 2, 3, 2}));
        const Var b = parameter(random_array(rng, {3}));
        const Var weights =
            constant(random_array(rng, conv2d(x, w, b, stride, 1).shape(), 0.5, 1.5));
        const GradcheckReport report =
            gradgradcheck([&] { return weighted_tanh_sum(conv2d(x, w, b, stride, 1), weights); },
                          {x, w, b}, strict());
        EXPECT_TRUE(report.passed) << report.to_string();
    }
}

TEST(Conv2dGradients, ThirdDerivativesMatchCentralDifferences) {
    // The gradient graph holds conv2d_input_grad and conv2d_weight_grad nodes; gradgradcheck of
    // a function of that gradient differentiates them twice more (their graph forms build conv2d
    // and each other), and replays the gradient graph for the central differences.
    std::mt19937_64 rng(19);
    const Var x = parameter(random_array(rng, {1, 2, 4, 5}));
    const Var w = parameter(random_array(rng, {2, 2, 2, 3}));
    const Var b = parameter(random_array(rng, {2}));
    const Var weights = constant(random_array(rng, conv2d(x, w, b, 2, 1).shape(), 0.5, 1.5));
    const Var rx = constant(random_array(rng, x.shape()));
    const Var rw = constant(random_array(rng, w.shape()));
    const GradcheckReport report = gradgradcheck(
        [&] {
            const Var loss = weighted_tanh_sum(conv2d(x, w, b, 2, 1), weights);
            const std::vector<Var> g = grad(loss, {x, w}, true);
            return sum(tanh(g[0]) * rx) + sum(tanh(g[1]) * rw);
        },
        {x, w, b}, strict());
    EXPECT_TRUE(report.passed) << report.to_string();
}

TEST(PoolGradients, SecondAndThirdDerivativesMatchCentralDifferences) {
    std::mt19937_64 rng(23);
    array data = array::from_shape({1, 2, 6, 5});
    std::vector<double> values(data.size());
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = 0.02 * static_cast<double>(i) - 0.5;
    std::shuffle(values.begin(), values.end(), rng);
    std::copy(values.begin(), values.end(), data.begin());
    const Var x = parameter(data);
    const Var rx = constant(random_array(rng, x.shape()));
    using Pool = std::function<Var(const Var&)>;
    const std::vector<std::pair<std::string, Pool>> pools = {
        {"max k3 s2", [](const Var& v) { return max_pool2d(v, 3, 2); }},
        {"max k2 s1", [](const Var& v) { return max_pool2d(v, 2, 1); }},
        {"avg k3 s2", [](const Var& v) { return avg_pool2d(v, 3, 2); }},
        {"avg k2 s2", [](const Var& v) { return avg_pool2d(v, 2); }},
    };
    for (const auto& [name, pool] : pools) {
        SCOPED_TRACE(name);
        const Var weights = constant(random_array(rng, pool(x).shape(), 0.5, 1.5));
        const GradcheckReport second =
            gradgradcheck([&] { return weighted_tanh_sum(pool(x), weights); }, {x}, strict());
        EXPECT_TRUE(second.passed) << second.to_string();
        // sin before the pool: the gradient graph's routing node is differentiated again
        const GradcheckReport third = gradgradcheck(
            [&] {
                const Var loss = weighted_tanh_sum(pool(sin(x)), weights);
                return sum(tanh(grad(loss, {x}, true)[0]) * rx);
            },
            {x}, strict());
        EXPECT_TRUE(third.passed) << third.to_string();
    }
}

TEST(ConvAndPoolGradients, HessianVectorProductsAgreeInEveryMode) {
    // H·v three ways: grad() of the gradient graph (graph forms), forward mode through it (the
    // tangent rules of conv2d_input_grad, conv2d_weight_grad and the pool adjoints) and
    // backward() of ∇f·v (their first-order rules); and the gradient graph's value equals
    // backward()'s gradient.
    std::mt19937_64 rng(29);
    const Var x = parameter(random_array(rng, {2, 2, 6, 6}));
    const Var w = parameter(random_array(rng, {3, 2, 3, 3}));
    const Var b = parameter(random_array(rng, {3}));
    const Var w2 = parameter(random_array(rng, {2, 3, 2, 2}));
    const Var h = tanh(conv2d(x, w, b, 1, 1));  // (2,3,6,6)
    const Var m = max_pool2d(h, 3, 2);          // (2,3,2,2)
    const Var a = avg_pool2d(h, 2);             // (2,3,3,3)
    const Var f = sum(square(conv2d(m, w2, Var(), 1, 1))) + sum(sin(a) * a);
    const std::vector<Var> p = {x, w, b, w2};
    std::vector<array> v;
    for (const Var& q : p) v.push_back(random_array(rng, q.shape()));
    const auto reverse = hessian_vector_product(f, p, v, hvp_mode::reverse_over_reverse);
    const auto forward = hessian_vector_product(f, p, v, hvp_mode::forward_over_reverse);
    const std::vector<Var> g = grad(f, p, true);
    zero_grad(p);
    f.backward();
    for (std::size_t k = 0; k < p.size(); ++k) {
        EXPECT_LE(normwise_relative_error(g[k].value(), p[k].grad()), 1e-14);
    }
    Var directional = sum(g[0] * constant(v[0]));
    for (std::size_t k = 1; k < p.size(); ++k)
        directional = directional + sum(g[k] * constant(v[k]));
    zero_grad(p);
    directional.backward();
    for (std::size_t k = 0; k < p.size(); ++k) {
        SCOPED_TRACE("parameter " + std::to_string(k));
        EXPECT_LE(testing::max_relative_error(forward[k], reverse[k], 1e-10), 1e-11);
        EXPECT_LE(testing::max_relative_error(p[k].grad(), reverse[k], 1e-10), 1e-11);
        EXPECT_GT(xt::amax(xt::abs(reverse[k]))(), 0.1);  // not a vacuous zero
    }
}

// ---- forward mode -------------------------------------------------------------------------------

/// @brief J·t from the reverse-mode Jacobian of y with respect to `input` (shape y ++ input).
array jacobian_times(const Var& y, const Var& input, const array& t) {
    const array J = jacobian(y, input);
    array out = xt::zeros<double>(y.shape());
    const std::size_t n = t.size();
    for (std::size_t i = 0; i < out.size(); ++i) {
        double total = 0.0;
        for (std::size_t j = 0; j < n; ++j) total += J.data()[i * n + j] * t.data()[j];
        out.data()[i] = total;
    }
    return out;
}

TEST(ConvForwardMode, TangentsEqualReverseModeJacobianTimesT) {
    std::mt19937_64 rng(31);
    const Var x = parameter(random_array(rng, {2, 2, 5, 6}));
    const Var w = parameter(random_array(rng, {3, 2, 3, 2}));
    const Var b = parameter(random_array(rng, {3}));
    const array tx = random_array(rng, x.shape());
    const array tw = random_array(rng, w.shape());
    const array tb = random_array(rng, b.shape());
    for (std::size_t stride : {1, 2}) {
        SCOPED_TRACE("stride " + std::to_string(stride));
        const Var y = conv2d(x, w, b, stride, 1);
        const array expected =
            jacobian_times(y, x, tx) + jacobian_times(y, w, tw) + jacobian_times(y, b, tb);
        EXPECT_LE(testing::max_relative_error(jvp(y, {x, w, b}, {tx, tw, tb}), expected, 1e-12),
                  1e-12);
        // one direction at a time (the others null)
        EXPECT_LE(testing::max_relative_error(jvp(y, {w}, {tw}), jacobian_times(y, w, tw), 1e-12),
                  1e-12);
        EXPECT_LE(testing::max_relative_error(jvp(y, {b}, {tb}), jacobian_times(y, b, tb), 1e-12),
                  1e-12);
    }
    for (std::size_t stride : {1, 2}) {
        SCOPED_TRACE("pools, stride " + std::to_string(stride));
        const Var m = max_pool2d(x, 3, stride);
        EXPECT_LE(testing::max_relative_error(jvp(m, {x}, {tx}), jacobian_times(m, x, tx), 1e-12),
                  1e-12);
        const Var a = avg_pool2d(x, 3, stride);
        EXPECT_LE(testing::max_relative_error(jvp(a, {x}, {tx}), jacobian_times(a, x, tx), 1e-12),
                  1e-12);
    }
}

// ---- replay
// --------------------------------------------------------------------------------------

/// @brief A small CNN: conv → tanh → max pool → conv → avg pool → weighted sum.
Var small_cnn(const Var& x, const Var& w1, const Var& b1, const Var& w2) {
    const Var h = max_pool2d(tanh(conv2d(x, w1, b1, 1, 1)), 2);
    const Var z = avg_pool2d(conv2d(h, w2, Var(), 2, 1), 2, 1);
    return sum(square(z)) + sum(h);
}

TEST(ConvReplay, TapeReplayEqualsAFreshGraph) {
    std::mt19937_64 rng(37);
    const Var x = parameter(random_array(rng, {2, 1, 9, 8}));
    const Var w1 = parameter(random_array(rng, {4, 1, 3, 3}));
    const Var b1 = parameter(random_array(rng, {4}));
    const Var w2 = parameter(random_array(rng, {3, 4, 2, 2}));
    const std::vector<Var> p = {x, w1, b1, w2};
    const Var loss = small_cnn(x, w1, b1, w2);
    Tape tape(loss);
    // new values, then a new batch size and image size: shapes are worked out again
    for (const shape_type& shape : {shape_type{2, 1, 9, 8}, shape_type{3, 1, 12, 10}}) {
        SCOPED_TRACE(format_shape(shape));
        x.mutable_value() = random_array(rng, shape);
        tape.forward();
        zero_grad(p);
        tape.backward();
        std::vector<array> replayed;
        for (const Var& q : p) replayed.push_back(q.grad());
        const Var fresh = small_cnn(x, w1, b1, w2);
        EXPECT_EQ(tape.output().value(), fresh.value());
        zero_grad(p);
        fresh.backward();
        for (std::size_t k = 0; k < p.size(); ++k) EXPECT_EQ(replayed[k], p[k].grad());
    }
    // a shape that no longer fits throws on replay, naming the op
    x.mutable_value() = random_array(rng, {2, 2, 9, 8});
    XGRAD_EXPECT_THROW_WITH(tape.forward(), shape_error,
                            "conv2d: weight (4,1,3,3) expects 1 input channels, input (2,2,9,8) "
                            "has 2");
}

TEST(ConvReplay, GradientsAccumulateOverSeveralUses) {
    // x feeds two convolutions and a pool; w two convolutions: the contributions add.
    std::mt19937_64 rng(41);
    const Var x = parameter(random_array(rng, {1, 2, 5, 5}));
    const Var w = parameter(random_array(rng, {2, 2, 3, 3}));
    const array s1 = random_array(rng, {1, 2, 5, 5});
    const array s2 = random_array(rng, {1, 2, 2, 2});
    const array s3 = random_array(rng, {1, 2, 2, 2});
    auto gradients = [&](const Var& y, const array& seed) {
        zero_grad(std::vector<Var>{x, w});
        y.backward(seed);
        return std::vector<array>{x.grad(), w.grad()};
    };
    const auto g1 = gradients(conv2d(x, w, Var(), 1, 1), s1);
    const auto g2 = gradients(conv2d(x, w, Var(), 2, 0), s2);
    const auto g3 = gradients(max_pool2d(x, 2), s3);
    const Var total = sum(conv2d(x, w, Var(), 1, 1) * constant(s1)) +
                      sum(conv2d(x, w, Var(), 2, 0) * constant(s2)) +
                      sum(max_pool2d(x, 2) * constant(s3));
    zero_grad(std::vector<Var>{x, w});
    total.backward();
    EXPECT_LE(testing::max_relative_error(x.grad(), g1[0] + g2[0] + g3[0], 1e-12), 1e-14);
    EXPECT_LE(testing::max_relative_error(w.grad(), g1[1] + g2[1], 1e-12), 1e-14);
}

// ---- sizes 0 and 1 -----------------------------------------------------------------------------

/// @brief One image of one channel of one pixel: shape (1,1,1,1).
array pixel(double v) {
    array a = array::from_shape({1, 1, 1, 1});
    a(0, 0, 0, 0) = v;
    return a;
}

TEST(ConvEdges, OnePixelOneChannelOneImage) {
    const Var x = parameter(pixel(3.0));
    const Var w = parameter(pixel(-2.0));
    const Var b = parameter(array{0.5});
    const Var y = conv2d(x, w, b);
    EXPECT_EQ(y.value(), pixel(-5.5));
    y.backward(pixel(2.0));
    EXPECT_EQ(x.grad(), pixel(-4.0));
    EXPECT_EQ(w.grad(), pixel(6.0));
    EXPECT_EQ(b.grad(), (array{2.0}));
    // a 3×3 kernel on one pixel padded by 1: only the kernel's centre meets the pixel
    const Var w3 = parameter(array{{{{9.0, 9.0, 9.0}, {9.0, -2.0, 9.0}, {9.0, 9.0, 9.0}}}});
    const Var y3 = conv2d(x, w3, b, 1, 1);
    EXPECT_EQ(y3.value(), pixel(-5.5));
    zero_grad(std::vector<Var>{x, w3});
    y3.backward(pixel(2.0));
    EXPECT_EQ(x.grad(), pixel(-4.0));
    EXPECT_EQ(w3.grad(), (array{{{{0.0, 0.0, 0.0}, {0.0, 6.0, 0.0}, {0.0, 0.0, 0.0}}}}));
    // pools of one pixel are the identity
    for (const Var& pooled : {max_pool2d(x, 1), avg_pool2d(x, 1)}) {
        EXPECT_EQ(pooled.value(), x.value());
        x.zero_grad();
        pooled.backward(pixel(2.0));
        EXPECT_EQ(x.grad(), (pixel(2.0)));
    }
    {  // under no_grad: a value, no graph
        const no_grad off;
        EXPECT_FALSE(conv2d(x, w, b).requires_grad());
        EXPECT_EQ(conv2d(x, w, b).value(), pixel(-5.5));
        EXPECT_FALSE(max_pool2d(x, 1).requires_grad());
    }
    // a pool over the whole image (global pooling)
    const Var img = parameter(array{{{{1.0, 4.0}, {2.0, 3.0}}}});
    EXPECT_EQ(max_pool2d(img, 2).value(), pixel(4.0));
    EXPECT_EQ(avg_pool2d(img, 2).value(), pixel(2.5));
}

TEST(ConvEdges, EmptyBatchGivesEmptyOutputAndZeroGradients) {
    std::mt19937_64 rng(43);
    const Var x = parameter(array::from_shape({0, 2, 5, 5}));
    const Var w = parameter(random_array(rng, {3, 2, 3, 3}));
    const Var b = parameter(random_array(rng, {3}));
    const Var y = conv2d(x, w, b, 2, 1);
    EXPECT_EQ(y.shape(), (shape_type{0, 3, 3, 3}));
    // a first contribution overwrites: the previous pass's gradients do not survive
    const Var warm = sum(conv2d(constant(random_array(rng, {1, 2, 5, 5})), w, b, 2, 1));
    warm.backward();
    w.zero_grad();
    b.zero_grad();
    y.backward(array::from_shape({0, 3, 3, 3}));
    EXPECT_EQ(w.grad(), xt::zeros<double>(w.shape()));
    EXPECT_EQ(b.grad(), xt::zeros<double>(b.shape()));
    EXPECT_EQ(x.grad().shape(), x.shape());
    EXPECT_EQ(max_pool2d(x, 2).shape(), (shape_type{0, 2, 2, 2}));
    EXPECT_EQ(avg_pool2d(x, 3, 1).shape(), (shape_type{0, 2, 3, 3}));
}

// ---- errors -------------------------------------------------------------------------------------

TEST(ConvErrors, EveryShapeErrorNamesTheOpAndTheShapes) {
    const Var x = constant(array::from_shape({2, 1, 28, 28}));
    const Var w = constant(array::from_shape({8, 3, 3, 3}));
    XGRAD_EXPECT_THROW_WITH(conv2d(x, w, Var()), shape_error,
                            "conv2d: weight (8,3,3,3) expects 3 input channels, input (2,1,28,28) "
                            "has 1");
    XGRAD_EXPECT_THROW_WITH(conv2d(constant(array::from_shape({1, 28, 28})), w, Var()), shape_error,
                            "conv2d: expects a 4-D input (N,C_in,H,W), got (1,28,28)");
    XGRAD_EXPECT_THROW_WITH(conv2d(x, constant(array::from_shape({8, 1, 3})), Var()), shape_error,
                            "conv2d: expects a 4-D weight (C_out,C_in,kH,kW), got (8,1,3)");
    const Var w1 = constant(array::from_shape({8, 1, 3, 3}));
    XGRAD_EXPECT_THROW_WITH(conv2d(x, w1, constant(array::from_shape({4}))), shape_error,
                            "conv2d: bias (4,) does not match weight (8,1,3,3): expected (8,)");
    XGRAD_EXPECT_THROW_WITH(conv2d(x, w1, constant(array::from_shape({8, 1}))), shape_error,
                            "conv2d: bias (8,1) does not match weight (8,1,3,3): expected (8,)");
    XGRAD_EXPECT_THROW_WITH(
        conv2d(constant(array::from_shape({1, 1, 2, 2})), constant(array::from_shape({1, 1, 5, 5})),
               Var(), 1, 1),
        shape_error,
        "conv2d: kernel 5x5 is larger than the padded input 4x4 (weight (1,1,5,5), input "
        "(1,1,2,2), padding 1)");
    XGRAD_EXPECT_THROW_WITH(conv2d(x, w1, Var(), 0), shape_error,
                            "conv2d: stride must be at least 1 (weight (8,1,3,3), input "
                            "(2,1,28,28))");
    XGRAD_EXPECT_THROW_WITH(
        conv2d(x, constant(array::from_shape({8, 1, 0, 3})), Var()), shape_error,
        "conv2d: the kernel 0x3 is empty (weight (8,1,0,3), input (2,1,28,28))");
    XGRAD_EXPECT_THROW_WITH(conv2d(Var(), w1, Var()), graph_error, "conv2d");
}

TEST(ConvErrors, APaddingThatWouldOverflowOrAnOutputTooLargeIsRefused) {
    // an int −1 passed as the size_t padding wrapped h + 2·pad around: a (1,2,1,1) output of
    // zeros, a wrong value at 2⁶³ and a crash at 2⁶² (found in review)
    const Var x = constant(xt::ones<double>({1, 1, 3, 3}));
    const Var w = constant(xt::ones<double>({2, 1, 3, 3}));
    for (std::size_t pad :
         {std::numeric_limits<std::size_t>::max(), std::size_t{1} << 63, std::size_t{1} << 62}) {
        XGRAD_EXPECT_THROW_WITH(conv2d(x, w, Var(), 1, pad), shape_error,
                                "conv2d: padding " + std::to_string(pad) + " is too large");
    }
    XGRAD_EXPECT_THROW_WITH(conv2d(x, w, Var(), 1, std::size_t{1} << 30), shape_error,
                            "conv2d: the output (1,2,2147483649,2147483649) is too large");
    EXPECT_EQ(conv2d(x, w, Var(), 1, 2).value()(0, 0, 2, 2), 9.0);  // a sane padding still works
}

TEST(PoolErrors, EveryShapeErrorNamesTheOpAndTheShape) {
    const Var x = constant(array::from_shape({1, 1, 2, 5}));
    XGRAD_EXPECT_THROW_WITH(max_pool2d(x, 3), shape_error,
                            "max_pool2d: kernel 3x3 is larger than the input (1,1,2,5)");
    XGRAD_EXPECT_THROW_WITH(avg_pool2d(x, 3, 1), shape_error,
                            "avg_pool2d: kernel 3x3 is larger than the input (1,1,2,5)");
    XGRAD_EXPECT_THROW_WITH(max_pool2d(x, 0), shape_error,
                            "max_pool2d: kernel must be at least 1 (input (1,1,2,5))");
    XGRAD_EXPECT_THROW_WITH(avg_pool2d(x, 0), shape_error,
                            "avg_pool2d: kernel must be at least 1 (input (1,1,2,5))");
    XGRAD_EXPECT_THROW_WITH(max_pool2d(constant(array::from_shape({4, 4})), 2), shape_error,
                            "max_pool2d: expects a 4-D input (N,C,H,W), got (4,4)");
    XGRAD_EXPECT_THROW_WITH(avg_pool2d(constant(array::from_shape({1, 4, 4})), 2), shape_error,
                            "avg_pool2d: expects a 4-D input (N,C,H,W), got (1,4,4)");
}

TEST(ConvReplay, GradientGraphReplaysWithANewImageSize) {
    // The gradient graph's nodes read the input's and the weight's shapes on every pass: a
    // replay with another batch and image size gives what a freshly built gradient graph gives.
    // (The seeds are leaves given the new output shapes too: the graph form of sum() keeps the
    // shape it was built for.)
    std::mt19937_64 rng(53);
    const Var x = parameter(random_array(rng, {1, 2, 7, 6}));
    const Var w = parameter(random_array(rng, {3, 2, 3, 3}));
    const Var b = parameter(random_array(rng, {3}));
    const Var s_max = constant(random_array(rng, {1, 3, 3, 2}));
    const Var s_avg = constant(random_array(rng, {1, 3, 2, 1}));
    auto penalty = [&] {
        const Var h = tanh(conv2d(x, w, b, 2, 1));
        const std::vector<Var> gm = grad(max_pool2d(h, 2, 1), {x, w, b}, s_max, true);
        const std::vector<Var> ga = grad(avg_pool2d(h, 2), {x, w, b}, s_avg, true);
        Var total = sum(square(gm[0]) * ga[0]);
        for (std::size_t k = 1; k < 3; ++k) total = total + sum(square(gm[k]) * ga[k]);
        return total;
    };
    const Var out = penalty();
    Tape tape(out);
    x.mutable_value() = random_array(rng, {2, 2, 9, 8});  // h (2,3,5,4)
    s_max.mutable_value() = random_array(rng, {2, 3, 4, 3});
    s_avg.mutable_value() = random_array(rng, {2, 3, 2, 2});
    tape.forward();
    const Var fresh = penalty();
    EXPECT_EQ(tape.output().value(), fresh.value());
    const std::vector<Var> p = {x, w, b};
    zero_grad(p);
    tape.backward();
    std::vector<array> replayed;
    for (const Var& q : p) replayed.push_back(q.grad());
    zero_grad(p);
    fresh.backward();
    for (std::size_t k = 0; k < p.size(); ++k) EXPECT_EQ(replayed[k], p[k].grad());
}

TEST(ConvErrors, GradientNodesRefuseAGradientThatDoesNotFit) {
    // Given a seed whose shape a replay changes, the gradient graph's nodes throw, naming
    // themselves and the shapes.
    std::mt19937_64 rng(47);
    const Var x = parameter(random_array(rng, {1, 1, 6, 6}));
    const Var w = parameter(random_array(rng, {2, 1, 3, 3}));
    const Var y = conv2d(x, w, Var(), 1, 0);  // (1,2,4,4)
    const Var seed = parameter(random_array(rng, y.shape()));
    const std::vector<Var> g = grad(y, {x, w}, seed, true);
    EXPECT_STREQ(g[0].op_name(), "conv2d_input_grad");
    EXPECT_STREQ(g[1].op_name(), "conv2d_weight_grad");
    Tape input_tape(sum(g[0]));
    Tape weight_tape(sum(g[1]));
    seed.mutable_value() = random_array(rng, {1, 2, 5, 5});
    XGRAD_EXPECT_THROW_WITH(input_tape.forward(), shape_error,
                            "conv2d_input_grad: gradient (1,2,5,5) does not fit weight (2,1,3,3), "
                            "input (1,1,6,6) (stride 1, padding 0): expected (1,2,4,4)");
    XGRAD_EXPECT_THROW_WITH(weight_tape.forward(), shape_error,
                            "conv2d_weight_grad: gradient (1,2,5,5) does not fit weight (2,1,3,3), "
                            "input (1,1,6,6) (stride 1, padding 0): expected (1,2,4,4)");

    const Var p = parameter(random_array(rng, {1, 1, 6, 6}));
    const Var avg = avg_pool2d(p, 2);  // (1,1,3,3)
    const Var max = max_pool2d(p, 2);
    const Var avg_seed = parameter(random_array(rng, avg.shape()));
    const Var max_seed = parameter(random_array(rng, max.shape()));
    const Var ga = grad(avg, {p}, avg_seed, true)[0];
    const Var gm = grad(max, {p}, max_seed, true)[0];
    EXPECT_STREQ(ga.op_name(), "avg_pool2d_transpose");
    EXPECT_STREQ(gm.op_name(), "max_pool2d_scatter");
    Tape avg_tape(sum(ga));
    Tape max_tape(sum(gm));
    avg_seed.mutable_value() = random_array(rng, {1, 1, 4, 4});
    max_seed.mutable_value() = random_array(rng, {1, 1, 3, 2});
    XGRAD_EXPECT_THROW_WITH(avg_tape.forward(), shape_error,
                            "avg_pool2d_transpose: gradient (1,1,4,4) does not fit the pooled "
                            "output (1,1,3,3) of input (1,1,6,6) (kernel 2, stride 2)");
    XGRAD_EXPECT_THROW_WITH(max_tape.forward(), shape_error,
                            "max_pool2d_scatter: an operand of shape (1,1,3,2) does not fit "
                            "max_pool2d of (1,1,6,6) into (1,1,3,3): expected (1,1,3,3)");
}

TEST(MaxPool, GradientGraphRoutesThroughTheRecordedMaxima) {
    const Var x = parameter(array{{{{1.0, 5.0, 2.0}, {4.0, 3.0, 0.0}, {7.0, 6.0, 8.0}}}});
    const Var y = max_pool2d(x, 2, 1);  // maxima 5, 5, 7, 8: the 5 is shared by two windows
    EXPECT_EQ(y.value(), (array{{{{5.0, 5.0}, {7.0, 8.0}}}}));
    const Var g = grad(sum(y * constant(array{{{{1.0, 2.0}, {3.0, 4.0}}}})), {x}, true)[0];
    EXPECT_STREQ(g.op_name(), "max_pool2d_scatter");
    EXPECT_EQ(g.value(), (array{{{{0.0, 3.0, 0.0}, {0.0, 0.0, 0.0}, {3.0, 0.0, 4.0}}}}));
    // the positions move with a replay of the pool (and the gradient graph after it)
    Tape tape(sum(g * constant(array{{{{1.0, 10.0, 100.0}, {1e3, 1e4, 1e5}, {1e6, 1e7, 1e8}}}})));
    x.mutable_value() = array{{{{9.0, 5.0, 2.0}, {4.0, 3.0, 0.0}, {7.0, 6.0, 1.0}}}};
    tape.forward();
    // maxima now 9, 5, 7, 6
    EXPECT_EQ(g.value(), (array{{{{1.0, 2.0, 0.0}, {0.0, 0.0, 0.0}, {3.0, 4.0, 0.0}}}}));
}

}  // namespace
}  // namespace xgrad
