// Reductions: sum/mean with keepdims, max, min, argmax, argmin, logsumexp, variance, stddev and
// norm. Values against closed forms and xtensor, gradients against central differences (first
// and second order), ties, NaN, ±inf and ±1000, constant slices, zero vectors, sizes 0 and 1,
// and every error with its message.
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "support.hpp"

namespace xgrad {
namespace {

using testing::expect_gradients_match;
using testing::max_relative_error;
using testing::random_array;

constexpr double inf = std::numeric_limits<double>::infinity();
constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();

/// @brief A scalar that weighs every element of y differently, so a wrong index shows up.
Var weighted_sum(const Var& y, std::mt19937_64& rng) {
    return sum(y * constant(random_array(rng, y.shape(), 0.5, 1.5)));
}

bool all_finite(const array& a) {
    for (double v : a) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

/// @brief dL/dx of L = sum(f(x) · seed) at x, by one backward pass.
array gradient_of(const std::function<Var(const Var&)>& f, const array& x) {
    const Var p = parameter(x);
    const Var y = f(p);
    y.backward(xt::ones<double>(y.shape()));
    return p.grad();
}

GradcheckOptions strict() {
    GradcheckOptions o;
    o.atol = 1e-7;
    o.rtol = 1e-6;
    return o;
}

/// @brief Checks first and second derivatives of f against central differences at x.
void check_derivatives(const std::function<Var(const Var&)>& f, const array& x,
                       std::mt19937_64& rng) {
    const Var p = parameter(x);
    expect_gradients_match(weighted_sum(f(p), rng));
    const Var weights = constant(random_array(rng, f(p).shape(), 0.5, 1.5));
    // a square on top, so that reductions whose own second derivative is 0 are still checked
    // through a chain
    const GradcheckReport report =
        gradgradcheck([&] { return sum(square(f(p)) * weights); }, {p}, strict());
    EXPECT_TRUE(report.passed) << report.to_string();
    const GradcheckReport plain = gradgradcheck([&] { return sum(f(p) * weights); }, {p}, strict());
    EXPECT_TRUE(plain.passed) << plain.to_string();
}

// ---- sum and mean with keepdims ------------------------------------------------------------

TEST(SumMean, KeepdimsKeepsTheAxisAsOne) {
    const Var x = parameter({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    EXPECT_EQ(sum(x, 0, true).value(), (array{{5.0, 7.0, 9.0}}));
    EXPECT_EQ(sum(x, -1, true).value(), testing::column({6.0, 15.0}));
    EXPECT_EQ(sum(x, 1, false).value(), (array{6.0, 15.0}));
    EXPECT_EQ(sum(x, 1).value(), (array{6.0, 15.0}));  // the old call, unchanged
    EXPECT_EQ(mean(x, 0, true).value(), (array{{2.5, 3.5, 4.5}}));
    EXPECT_LE(max_relative_error(mean(x, 1, true).value(), testing::column({2.0, 5.0})), 1e-15);
    EXPECT_EQ(mean(x, 1).shape(), (shape_type{2}));
    // 3-D, the middle axis
    array cube = xt::arange<double>(24.0);
    cube.reshape({2, 3, 4});
    const Var c = constant(cube);
    EXPECT_EQ(sum(c, 1, true).value(), array(xt::sum(cube, {1}, xt::keep_dims)));
    EXPECT_LE(
        max_relative_error(mean(c, -2, true).value(), array(xt::mean(cube, {1}, xt::keep_dims))),
        1e-15);
    // a keepdims result broadcasts against x: x − mean centres every row
    EXPECT_LE(max_relative_error((x - mean(x, 1, true)).value(),
                                 array{{-1.0, 0.0, 1.0}, {-1.0, 0.0, 1.0}}, 1.0),
              1e-15);
    // sizes 0: an empty sum is 0, an empty mean is refused as before
    const Var e = constant(array::from_shape({0, 3}));
    EXPECT_EQ(sum(e, 0, true).value(), array(xt::zeros<double>({1, 3})));
    EXPECT_EQ(mean(e, 1, true).shape(), (shape_type{0, 1}));
    XGRAD_EXPECT_THROW_WITH(mean(e, 0, true), shape_error,
                            "mean: cannot average over axis 0 of length 0 (shape (0,3))");
    XGRAD_EXPECT_THROW_WITH(sum(x, 2, true), shape_error,
                            "sum: axis 2 is out of range for shape (2,3)");
}

TEST(SumMean, KeepdimsGradients) {
    std::mt19937_64 rng(1);
    for (int axis : {0, 1, -1, 2}) {
        SCOPED_TRACE(axis);
        const Var x = parameter(random_array(rng, {2, 3, 4}));
        expect_gradients_match(weighted_sum(sum(x, axis, true) * x, rng));
        expect_gradients_match(weighted_sum(x - mean(x, axis, true), rng));
        const Var w = constant(random_array(rng, {2, 3, 4}));
        const GradcheckReport report =
            gradgradcheck([&] { return sum(square(x - mean(x, axis, true)) * w); }, {x}, strict());
        EXPECT_TRUE(report.passed) << report.to_string();
    }
}

// ---- max and min -------------------------------------------------------------------------

TEST(MaxMin, ValuesWholeAndAlongEachAxis) {
    const array a = {{1.0, 5.0, 3.0}, {4.0, 2.0, 6.0}};
    const Var x = constant(a);
    EXPECT_EQ(max(x).shape(), shape_type{});
    EXPECT_EQ(max(x).item(), 6.0);
    EXPECT_EQ(min(x).item(), 1.0);
    EXPECT_EQ(max(x, 0).value(), (array{4.0, 5.0, 6.0}));
    EXPECT_EQ(max(x, 1).value(), (array{5.0, 6.0}));
    EXPECT_EQ(max(x, -1).value(), (array{5.0, 6.0}));
    EXPECT_EQ(max(x, -2).value(), (array{4.0, 5.0, 6.0}));
    EXPECT_EQ(min(x, 0).value(), (array{1.0, 2.0, 3.0}));
    EXPECT_EQ(min(x, 1).value(), (array{1.0, 2.0}));
    EXPECT_EQ(max(x, 1, true).value(), testing::column({5.0, 6.0}));
    EXPECT_EQ(min(x, 0, true).value(), (array{{1.0, 2.0, 3.0}}));
    // 3-D against xtensor, every axis, with and without keepdims
    std::mt19937_64 rng(2);
    const array cube = random_array(rng, {2, 3, 4});
    const Var c = constant(cube);
    EXPECT_EQ(max(c).item(), xt::amax(cube)());
    EXPECT_EQ(min(c).item(), xt::amin(cube)());
    for (int axis = -3; axis < 3; ++axis) {
        SCOPED_TRACE(axis);
        const std::size_t a3 = static_cast<std::size_t>((axis + 3) % 3);
        EXPECT_EQ(max(c, axis).value(), array(xt::amax(cube, {a3})));
        EXPECT_EQ(min(c, axis).value(), array(xt::amin(cube, {a3})));
        EXPECT_EQ(max(c, axis, true).value(), array(xt::amax(cube, {a3}, xt::keep_dims)));
        EXPECT_EQ(min(c, axis, true).value(), array(xt::amin(cube, {a3}, xt::keep_dims)));
    }
    // size-1 axes, a 0-d input and a one-element array
    const Var row = constant({{7.0, -1.0, 3.0}});
    EXPECT_EQ(max(row, 0).value(), (array{7.0, -1.0, 3.0}));
    EXPECT_EQ(max(row, 1).value(), (array{7.0}));
    EXPECT_EQ(min(constant(testing::column({2.0, -8.0})), 1).value(), (array{2.0, -8.0}));
    EXPECT_EQ(max(constant(4.5)).item(), 4.5);
    EXPECT_EQ(min(constant(array{-2.0})).item(), -2.0);
    // ±inf are ordinary values
    EXPECT_EQ(max(constant({-inf, 1.0})).item(), 1.0);
    EXPECT_EQ(min(constant({inf, -inf, 0.0})).item(), -inf);
}

TEST(MaxMin, TiesSplitTheGradientEvenly) {
    EXPECT_EQ(gradient_of([](const Var& x) { return max(x); }, {1.0, 3.0, 3.0}),
              (array{0.0, 0.5, 0.5}));
    EXPECT_EQ(gradient_of([](const Var& x) { return min(x); }, {2.0, 1.0, 1.0, 1.0, 5.0}),
              (array{0.0, 1.0 / 3.0, 1.0 / 3.0, 1.0 / 3.0, 0.0}));
    // along axes: each lane splits its own gradient
    const array a = {{3.0, 3.0, 1.0}, {2.0, 5.0, 5.0}};
    EXPECT_EQ(gradient_of([](const Var& x) { return max(x, 1); }, a),
              (array{{0.5, 0.5, 0.0}, {0.0, 0.5, 0.5}}));
    EXPECT_EQ(gradient_of([](const Var& x) { return max(x, -1, true); }, a),
              (array{{0.5, 0.5, 0.0}, {0.0, 0.5, 0.5}}));
    const array b = {{1.0, 2.0}, {1.0, 0.0}};
    EXPECT_EQ(gradient_of([](const Var& x) { return max(x, 0); }, b),
              (array{{0.5, 1.0}, {0.5, 0.0}}));
    EXPECT_EQ(gradient_of([](const Var& x) { return min(x, 0); }, b),
              (array{{0.5, 0.0}, {0.5, 1.0}}));
    // all equal: everyone shares
    EXPECT_EQ(gradient_of([](const Var& x) { return max(x); }, xt::full_like(a, 2.0)),
              array(xt::full_like(a, 1.0 / 6.0)));
    // the graph form and the tangent rule share the same way
    const Var x = parameter({1.0, 3.0, 3.0});
    const std::vector<Var> g = grad(max(x), {x}, true);
    EXPECT_EQ(g[0].value(), (array{0.0, 0.5, 0.5}));
    EXPECT_EQ(jacobian_forward(max(x), x), (array{0.0, 0.5, 0.5}));
    EXPECT_EQ(hessian(max(x), {x}), array(xt::zeros<double>({3, 3})));
    const Var m = parameter({{3.0, 3.0, 1.0}, {2.0, 5.0, 5.0}});
    EXPECT_EQ(jacobian_forward(max(m, 1), m), jacobian(max(m, 1), m));
    EXPECT_EQ(jacobian(max(m, 1), m)(0, 0, 1), 0.5);
}

TEST(MaxMin, NaNWinsAndTakesTheGradient) {
    const array a = {1.0, nan_value, 3.0};
    EXPECT_TRUE(std::isnan(max(constant(a)).item()));
    EXPECT_TRUE(std::isnan(min(constant(a)).item()));
    EXPECT_EQ(gradient_of([](const Var& x) { return max(x); }, a), (array{0.0, 1.0, 0.0}));
    EXPECT_EQ(gradient_of([](const Var& x) { return min(x); }, {nan_value, 2.0, nan_value}),
              (array{0.5, 0.0, 0.5}));
    const array rows = {{1.0, nan_value}, {2.0, 0.0}};
    const array g = gradient_of([](const Var& x) { return max(x, 1); }, rows);
    EXPECT_EQ(g, (array{{0.0, 1.0}, {1.0, 0.0}}));
    const Var r = constant(rows);
    EXPECT_TRUE(std::isnan(max(r, 1).value()(0)));
    EXPECT_EQ(max(r, 1).value()(1), 2.0);
    EXPECT_EQ(argmax(r, 1), (array{1.0, 0.0}));
    EXPECT_EQ(argmin(r, 1), (array{1.0, 1.0}));
    // anomaly mode names the op that made the NaN... here it was already in the input, so the
    // max itself is the first non-finite op result
    const Var p = parameter(a);
    const detect_anomaly scope;
    XGRAD_EXPECT_THROW_WITH(max(p), anomaly_error, "'max'");
}

TEST(MaxMin, GradientsMatchCentralDifferences) {
    std::mt19937_64 rng(3);
    using F = std::function<Var(const Var&)>;
    const std::vector<std::pair<std::string, F>> variants = {
        {"max", [](const Var& x) { return max(x); }},
        {"min", [](const Var& x) { return min(x); }},
        {"max 0", [](const Var& x) { return max(x, 0); }},
        {"max 1", [](const Var& x) { return max(x, 1); }},
        {"max -1", [](const Var& x) { return max(x, -1); }},
        {"max 2 keepdims", [](const Var& x) { return max(x, 2, true); }},
        {"min 0 keepdims", [](const Var& x) { return min(x, 0, true); }},
        {"min -2", [](const Var& x) { return min(x, -2); }},
        {"min 2", [](const Var& x) { return min(x, 2); }},
    };
    for (const auto& [name, f] : variants) {
        SCOPED_TRACE(name);
        check_derivatives(f, random_array(rng, {2, 3, 4}), rng);
    }
    check_derivatives([](const Var& x) { return max(x, 0); }, random_array(rng, {1, 3}), rng);
    check_derivatives([](const Var& x) { return min(x, 1); }, random_array(rng, {4, 1}), rng);
}

TEST(MaxMin, EmptyAndBadAxesAreRefused) {
    const Var e = parameter(array::from_shape({0}));
    XGRAD_EXPECT_THROW_WITH(max(e), shape_error, "max: cannot reduce the empty shape (0,)");
    XGRAD_EXPECT_THROW_WITH(min(e), shape_error, "min: cannot reduce the empty shape (0,)");
    XGRAD_EXPECT_THROW_WITH(max(e, 0), shape_error,
                            "max: cannot reduce axis 0 of length 0 (shape (0,))");
    const Var wide = constant(array::from_shape({2, 0}));
    XGRAD_EXPECT_THROW_WITH(max(wide, 1), shape_error,
                            "max: cannot reduce axis 1 of length 0 (shape (2,0))");
    XGRAD_EXPECT_THROW_WITH(min(wide, -1, true), shape_error,
                            "min: cannot reduce axis -1 of length 0 (shape (2,0))");
    XGRAD_EXPECT_THROW_WITH(argmax(wide, 1), shape_error,
                            "argmax: cannot reduce axis 1 of length 0 (shape (2,0))");
    XGRAD_EXPECT_THROW_WITH(argmin(e, 0), shape_error,
                            "argmin: cannot reduce axis 0 of length 0 (shape (0,))");
    // an empty result is returned empty (numpy): axis 0 of (2,0), axis 1 of (0,3)
    EXPECT_EQ(max(wide, 0).shape(), (shape_type{0}));
    const Var tall = parameter(array::from_shape({0, 3}));
    const Var empty_max = max(tall, 1);
    EXPECT_EQ(empty_max.shape(), (shape_type{0}));
    empty_max.backward(array::from_shape({0}));
    EXPECT_EQ(tall.grad().shape(), (shape_type{0, 3}));
    EXPECT_EQ(argmin(tall, 1).shape(), (shape_type{0}));
    // axes out of range
    const Var x = constant({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    XGRAD_EXPECT_THROW_WITH(max(x, 2), shape_error, "max: axis 2 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(min(x, -3), shape_error,
                            "min: axis -3 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(argmax(x, 5), shape_error,
                            "argmax: axis 5 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(argmin(constant(1.0), 0), shape_error,
                            "argmin: axis 0 is out of range for shape ()");
}

TEST(MaxMin, ReplayFollowsTheAxisTheUserNamed) {
    Var x = parameter({{1.0, 5.0, 3.0}, {4.0, 2.0, 6.0}});
    Tape tape(sum(max(x, -1) * 2.0));
    EXPECT_EQ(tape.output().item(), 22.0);
    x.mutable_value() = array{{{1.0, 9.0}, {3.0, 3.0}}};  // (1,2,2): the last axis is new
    tape.forward();
    EXPECT_EQ(tape.output().item(), 24.0);
    x.zero_grad();
    tape.backward();
    EXPECT_EQ(x.grad(), (array{{{0.0, 2.0}, {1.0, 1.0}}}));
    x.mutable_value() = array::from_shape({2, 0});
    XGRAD_EXPECT_THROW_WITH(tape.forward(), shape_error, "max: cannot reduce axis -1 of length 0");
}

// ---- argmax and argmin -------------------------------------------------------------------

/// @brief The index of the largest (smallest) element of a 3-D array along `axis`, by nested
/// loops over xtensor's own indexing.
array reference_arg(const array& x, std::size_t axis, bool is_max) {
    shape_type out_shape = x.shape();
    out_shape.erase(out_shape.begin() + static_cast<std::ptrdiff_t>(axis));
    array out = xt::zeros<double>(out_shape);
    const std::size_t n = x.shape()[axis];
    for (std::size_t i = 0; i < out_shape[0]; ++i) {
        for (std::size_t j = 0; j < out_shape[1]; ++j) {
            auto at = [&](std::size_t k) {
                return axis == 0 ? x(k, i, j) : axis == 1 ? x(i, k, j) : x(i, j, k);
            };
            std::size_t best = 0;
            for (std::size_t k = 1; k < n; ++k) {
                if (is_max ? at(k) > at(best) : at(k) < at(best)) best = k;
            }
            out(i, j) = static_cast<double>(best);
        }
    }
    return out;
}

TEST(ArgMaxMin, FirstOccurrenceWinsTiesAndNegativeAxesCountFromTheEnd) {
    const Var x = constant({{3.0, 7.0, 7.0}, {2.0, 2.0, 1.0}, {9.0, 0.0, 9.0}});
    EXPECT_EQ(argmax(x, 1), (array{1.0, 0.0, 0.0}));
    EXPECT_EQ(argmax(x, -1), (array{1.0, 0.0, 0.0}));
    EXPECT_EQ(argmin(x, 1), (array{0.0, 2.0, 1.0}));
    EXPECT_EQ(argmax(x, 0), (array{2.0, 0.0, 2.0}));
    EXPECT_EQ(argmax(x, -2), (array{2.0, 0.0, 2.0}));
    EXPECT_EQ(argmin(x, 0), (array{1.0, 2.0, 1.0}));
    EXPECT_EQ(argmax(constant({4.0, 4.0, 4.0}), 0), array(0.0));
    EXPECT_EQ(argmax(constant({4.0, 4.0, 4.0}), 0).shape(), shape_type{});
    EXPECT_EQ(argmin(constant({-inf, 0.0, -inf}), -1), array(0.0));
    // size-1 axes give index 0
    EXPECT_EQ(argmax(constant({{5.0, 1.0}}), 0), (array{0.0, 0.0}));
    // 3-D against xtensor (random values: no ties)
    std::mt19937_64 rng(4);
    const array cube = random_array(rng, {3, 4, 5});
    for (int axis = -3; axis < 3; ++axis) {
        SCOPED_TRACE(axis);
        const std::size_t a3 = static_cast<std::size_t>((axis + 3) % 3);
        EXPECT_EQ(argmax(constant(cube), axis), reference_arg(cube, a3, true));
        EXPECT_EQ(argmin(constant(cube), axis), reference_arg(cube, a3, false));
    }
    // no graph is recorded: the result is a plain array, the input's gradient untouched
    const Var p = parameter({1.0, 2.0});
    EXPECT_EQ(argmax(p, 0)(), 1.0);
}

// ---- logsumexp ---------------------------------------------------------------------------

TEST(Logsumexp, ValuesAgainstTheClosedForm) {
    std::mt19937_64 rng(5);
    const array cube = random_array(rng, {2, 3, 4}, -3.0, 3.0);
    const Var c = constant(cube);
    EXPECT_NEAR(logsumexp(c).item(), std::log(xt::sum(xt::exp(cube))()), 1e-14);
    EXPECT_EQ(logsumexp(c).shape(), shape_type{});
    for (int axis = -3; axis < 3; ++axis) {
        SCOPED_TRACE(axis);
        const std::size_t a3 = static_cast<std::size_t>((axis + 3) % 3);
        const array expected = xt::log(xt::sum(xt::exp(cube), {a3}));
        EXPECT_LE(max_relative_error(logsumexp(c, axis).value(), expected), 1e-14);
        const array kept = xt::log(xt::sum(xt::exp(cube), {a3}, xt::keep_dims));
        EXPECT_LE(max_relative_error(logsumexp(c, axis, true).value(), kept), 1e-14);
    }
    // size 1: the element itself
    EXPECT_EQ(logsumexp(constant({2.5})).item(), 2.5);
    EXPECT_EQ(logsumexp(constant({{2.5, -1.0}}), 0).value(), (array{2.5, -1.0}));
}

TEST(Logsumexp, FiniteAndExactAtPlusMinusAThousandAndInfinities) {
    EXPECT_EQ(logsumexp(constant({1000.0, 1000.0})).item(), 1000.0 + std::log(2.0));
    EXPECT_EQ(logsumexp(constant({-1000.0, -1000.0})).item(), -1000.0 + std::log(2.0));
    EXPECT_EQ(logsumexp(constant({1000.0, -1000.0})).item(), 1000.0);
    const Var rows = parameter({{1000.0, 1000.0}, {-inf, -inf}, {-inf, 0.0}, {inf, 1.0}});
    const Var y = logsumexp(rows, 1);
    EXPECT_EQ(y.value()(0), 1000.0 + std::log(2.0));
    EXPECT_EQ(y.value()(1), -inf);  // not NaN: the shift is 0 when the maximum is infinite
    EXPECT_EQ(y.value()(2), 0.0);
    EXPECT_EQ(y.value()(3), inf);
    // the gradient is the softmax: ½ each at ±1000, 0 in the all −inf row (not NaN)
    const Var finite_rows = parameter({{1000.0, 1000.0}, {-inf, -inf}, {-inf, 0.0}});
    logsumexp(finite_rows, 1).backward(array{1.0, 1.0, 1.0});
    // exact: e^(x − max)/Σ, not e^(x − y), which would lose the low digits of 1000 + log 2
    EXPECT_EQ(finite_rows.grad(), (array{{0.5, 0.5}, {0.0, 0.0}, {0.0, 1.0}}));
    EXPECT_EQ(jacobian_forward(logsumexp(finite_rows, -1), finite_rows),
              jacobian(logsumexp(finite_rows, -1), finite_rows));
    // second order there: finite, 0 in the −inf row
    const Var big = parameter({{1000.0, 1000.0}, {-inf, -inf}});
    const array H = hessian(sum(logsumexp(big, 1)), {big});
    EXPECT_EQ(H(0, 0), 0.25);
    EXPECT_EQ(H(0, 1), -0.25);
    EXPECT_EQ(H(2, 2), 0.0);
    EXPECT_EQ(H(3, 3), 0.0);
    // an empty sum: log 0 = −inf (as torch); an empty result stays empty
    EXPECT_EQ(logsumexp(constant(array::from_shape({0}))).item(), -inf);
    const Var e = constant(array::from_shape({0, 3}));
    EXPECT_EQ(logsumexp(e, 0).value(), (array{-inf, -inf, -inf}));
    EXPECT_EQ(logsumexp(e, 1).shape(), (shape_type{0}));
    XGRAD_EXPECT_THROW_WITH(logsumexp(e, 2), shape_error,
                            "logsumexp: axis 2 is out of range for shape (0,3)");
    // NaN stays NaN
    EXPECT_TRUE(std::isnan(logsumexp(constant({nan_value, 1.0})).item()));
}

TEST(Logsumexp, GradientIsTheSoftmaxAndMatchesCentralDifferences) {
    std::mt19937_64 rng(6);
    const array x = random_array(rng, {3, 4}, -2.0, 2.0);
    const array y = logsumexp(constant(x), 1, true).value();
    const array softmax_rows = xt::exp(x - y);
    EXPECT_LE(max_relative_error(gradient_of([](const Var& v) { return logsumexp(v, 1); }, x),
                                 softmax_rows),
              1e-15);
    using F = std::function<Var(const Var&)>;
    const std::vector<std::pair<std::string, F>> variants = {
        {"whole", [](const Var& v) { return logsumexp(v); }},
        {"0", [](const Var& v) { return logsumexp(v, 0); }},
        {"1", [](const Var& v) { return logsumexp(v, 1); }},
        {"-1 keepdims", [](const Var& v) { return logsumexp(v, -1, true); }},
        {"2", [](const Var& v) { return logsumexp(v, 2); }},
        {"scaled", [](const Var& v) { return logsumexp(v * 4.0, 1); }},
    };
    for (const auto& [name, f] : variants) {
        SCOPED_TRACE(name);
        check_derivatives(f, random_array(rng, {2, 3, 4}, -2.0, 2.0), rng);
    }
    // third order through the softmax node's own graph form
    const Var p = parameter(random_array(rng, {3}));
    const Var w = constant(random_array(rng, {3}, 0.5, 1.5));
    const GradcheckReport report =  // the softmax's second derivative
        gradgradcheck([&] { return sum(grad(logsumexp(p), {p}, true)[0] * w); }, {p}, strict());
    EXPECT_TRUE(report.passed) << report.to_string();
}

// ---- variance and stddev -----------------------------------------------------------------

/// @brief numpy's var: Σ(x − mean)² / (n − ddof) along `axis`.
array numpy_var(const array& x, std::size_t axis, int ddof) {
    // evaluated first: xtensor 0.24 broadcasts a lazy keep_dims reducer wrongly
    const array means = xt::mean(x, {axis}, xt::keep_dims);
    const array centred = x - means;
    const double n = static_cast<double>(x.shape()[axis]);
    return xt::sum(centred * centred, {axis}) / (n - ddof);
}

TEST(VarianceStddev, ValuesAgainstNumpysDefinition) {
    const Var x = constant({{1.0, 2.0, 4.0}, {3.0, 3.0, 9.0}});
    // row 0: mean 7/3, squares (16 + 1 + 25)/9 = 42/9; row 1: mean 5, squares 4 + 4 + 16 = 24
    EXPECT_LE(max_relative_error(variance(x, 1).value(), array{42.0 / 27.0, 8.0}), 1e-15);
    EXPECT_LE(max_relative_error(variance(x, 1, 1).value(), array{42.0 / 18.0, 12.0}), 1e-15);
    EXPECT_LE(max_relative_error(stddev(x, -1, 1).value(),
                                 array{std::sqrt(42.0 / 18.0), std::sqrt(12.0)}),
              1e-15);
    EXPECT_EQ(variance(x, 0).value(), (array{1.0, 0.25, 6.25}));
    EXPECT_EQ(variance(x, 0, 1).value(), (array{2.0, 0.5, 12.5}));
    EXPECT_EQ(stddev(x, 0).value(), (array{1.0, 0.5, 2.5}));
    // all elements: mean 11/3
    const double whole = (xt::sum(xt::square(x.value() - 11.0 / 3.0))() / 6.0);
    EXPECT_NEAR(variance(x).item(), whole, 1e-15);
    EXPECT_NEAR(stddev(x).item(), std::sqrt(whole), 1e-15);
    EXPECT_EQ(variance(x).shape(), shape_type{});
    // 3-D against the definition, every axis, ddof 0 and 1
    std::mt19937_64 rng(7);
    const array cube = random_array(rng, {3, 4, 5}, -2.0, 5.0);
    for (int axis = -3; axis < 3; ++axis) {
        for (int ddof : {0, 1, 2}) {
            SCOPED_TRACE(std::to_string(axis) + " ddof " + std::to_string(ddof));
            const std::size_t a3 = static_cast<std::size_t>((axis + 3) % 3);
            const array expected = numpy_var(cube, a3, ddof);
            EXPECT_LE(max_relative_error(variance(constant(cube), axis, ddof).value(), expected),
                      1e-14);
            EXPECT_LE(max_relative_error(stddev(constant(cube), axis, ddof).value(),
                                         array(xt::sqrt(expected))),
                      1e-14);
        }
    }
    // a negative ddof divides by more than n, as numpy
    EXPECT_EQ(variance(constant({1.0, 3.0}), 0, -2).item(), 0.5);
    // size 1: a single element has variance 0 (ddof 0), with gradient 0 for both
    EXPECT_EQ(variance(constant(testing::column({4.0, 5.0})), 1).value(), (array{0.0, 0.0}));
    EXPECT_EQ(gradient_of([](const Var& v) { return stddev(v, 0); }, {7.0}), (array{0.0}));
    EXPECT_EQ(gradient_of([](const Var& v) { return variance(v, 0); }, {7.0}), (array{0.0}));
}

TEST(VarianceStddev, NotEnoughDegreesOfFreedomIsRefused) {
    const Var x = constant({{1.0, 2.0, 3.0}});
    XGRAD_EXPECT_THROW_WITH(variance(x, 0, 1), shape_error,
                            "variance: needs n > ddof, got n = 1 and ddof = 1 (axis 0 of shape "
                            "(1,3))");
    XGRAD_EXPECT_THROW_WITH(stddev(x, -1, 3), shape_error,
                            "stddev: needs n > ddof, got n = 3 and ddof = 3 (axis -1 of shape "
                            "(1,3))");
    XGRAD_EXPECT_THROW_WITH(variance(constant(array::from_shape({0}))), shape_error,
                            "variance: needs n > ddof, got n = 0 and ddof = 0 (all elements of "
                            "shape (0,))");
    XGRAD_EXPECT_THROW_WITH(stddev(constant(array::from_shape({2, 0})), 1), shape_error,
                            "stddev: needs n > ddof, got n = 0 and ddof = 0 (axis 1 of shape "
                            "(2,0))");
    XGRAD_EXPECT_THROW_WITH(variance(x, 2), shape_error,
                            "variance: axis 2 is out of range for shape (1,3)");
    XGRAD_EXPECT_THROW_WITH(stddev(x, -3), shape_error,
                            "stddev: axis -3 is out of range for shape (1,3)");
}

TEST(VarianceStddev, GradientsMatchCentralDifferences) {
    std::mt19937_64 rng(8);
    const array x = random_array(rng, {3, 4});
    // the closed form: 2(x − mean)/(n − ddof) and (x − mean)/((n − ddof)·std)
    const array means = xt::mean(x, {1}, xt::keep_dims);
    const array centred = x - means;
    const array expected_var = 2.0 * centred / 3.0;
    EXPECT_LE(max_relative_error(gradient_of([](const Var& v) { return variance(v, 1, 1); }, x),
                                 expected_var),
              1e-13);
    const array squares = xt::sum(centred * centred, {1}, xt::keep_dims);
    const array sd = xt::sqrt(squares / 3.0);
    EXPECT_LE(max_relative_error(gradient_of([](const Var& v) { return stddev(v, 1, 1); }, x),
                                 array(centred / (3.0 * sd))),
              1e-13);
    using F = std::function<Var(const Var&)>;
    const std::vector<std::pair<std::string, F>> variants = {
        {"variance", [](const Var& v) { return variance(v); }},
        {"variance 0", [](const Var& v) { return variance(v, 0); }},
        {"variance 1 ddof 1", [](const Var& v) { return variance(v, 1, 1); }},
        {"variance -1 ddof 2", [](const Var& v) { return variance(v, -1, 2); }},
        {"stddev", [](const Var& v) { return stddev(v); }},
        {"stddev 0 ddof 1", [](const Var& v) { return stddev(v, 0, 1); }},
        {"stddev -2", [](const Var& v) { return stddev(v, -2); }},
        {"stddev 2 ddof 1", [](const Var& v) { return stddev(v, 2, 1); }},
    };
    for (const auto& [name, f] : variants) {
        SCOPED_TRACE(name);
        check_derivatives(f, random_array(rng, {2, 3, 4}), rng);
    }
}

TEST(VarianceStddev, ConstantSliceHasGradientZeroAndFiniteHessian) {
    // 0.1 three times: a plain sum would give a mean 1 ulp off and a variance of ~1e-34
    const array x = {{0.1, 0.1, 0.1}, {1.0, 2.0, 4.0}};
    const Var p = parameter(x);
    EXPECT_EQ(stddev(p, 1).value()(0), 0.0);
    EXPECT_EQ(variance(p, 1).value()(0), 0.0);
    const array g = gradient_of([](const Var& v) { return stddev(v, 1); }, x);
    EXPECT_EQ(g(0, 0), 0.0);
    EXPECT_EQ(g(0, 1), 0.0);
    EXPECT_EQ(g(0, 2), 0.0);
    EXPECT_TRUE(all_finite(g));
    const array gv = gradient_of([](const Var& v) { return variance(v, 1); }, x);
    EXPECT_EQ(gv(0, 0), 0.0);
    EXPECT_EQ(gv(0, 1), 0.0);
    EXPECT_EQ(gv(0, 2), 0.0);
    for (const auto& f : std::vector<std::function<Var(const Var&)>>{
             [](const Var& v) { return stddev(v, 1); },
             [](const Var& v) { return stddev(v, 1, 1); },
             [](const Var& v) { return square(stddev(v, -1)); },
             [](const Var& v) { return stddev(v); }}) {
        const array H = hessian(sum(f(p)), {p});
        EXPECT_TRUE(all_finite(H));
        const std::vector<Var> first = grad(sum(f(p)), {p}, true);
        EXPECT_TRUE(all_finite(first[0].value()));
        EXPECT_TRUE(all_finite(jacobian_forward(f(p), p)));
        EXPECT_TRUE(all_finite(hessian_vector_product(sum(f(p)), {p}, {array(xt::ones_like(x))},
                                                      hvp_mode::forward_over_reverse)[0]));
    }
    // the constant row's block of the Hessian is 0 (taken so, documented)
    const array H = hessian(sum(stddev(p, 1)), {p});
    for (std::size_t i = 0; i < 3; ++i) {
        for (std::size_t j = 0; j < 6; ++j) EXPECT_EQ(H(i, j), 0.0) << i << "," << j;
    }
    // a row of one constant: every element the same, the whole std is 0
    const Var c = parameter(xt::full_like(x, -3.7));
    stddev(c).backward();
    EXPECT_EQ(c.grad(), array(xt::zeros_like(x)));
    EXPECT_TRUE(all_finite(hessian(stddev(c), {c})));
}

// ---- norm --------------------------------------------------------------------------------

TEST(Norm, ValuesAgainstClosedForms) {
    const Var x = constant({3.0, -4.0});
    EXPECT_EQ(norm(x).item(), 5.0);
    EXPECT_EQ(norm(x, 2.0).item(), 5.0);
    EXPECT_EQ(norm(x, 1.0).item(), 7.0);
    EXPECT_NEAR(norm(x, 3.0).item(), std::cbrt(27.0 + 64.0), 1e-14);
    EXPECT_EQ(norm(x, inf).item(), 4.0);
    EXPECT_EQ(norm(x).shape(), shape_type{});
    // all elements of a matrix: the Frobenius norm for p = 2
    std::mt19937_64 rng(9);
    const array m = random_array(rng, {3, 4});
    EXPECT_NEAR(norm(constant(m)).item(), std::sqrt(xt::sum(m * m)()), 1e-14);
    EXPECT_NEAR(norm(constant(m), 1.0).item(), xt::sum(xt::abs(m))(), 1e-14);
    EXPECT_NEAR(norm(constant(m), 3.5).item(),
                std::pow(xt::sum(xt::pow(xt::abs(m), 3.5))(), 1.0 / 3.5), 1e-14);
    EXPECT_EQ(norm(constant(m), inf).item(), xt::amax(xt::abs(m))());
    // scaled by the largest magnitude: no overflow or underflow at the extremes
    EXPECT_NEAR(norm(constant({3e200, 4e200})).item(), 5e200, 1e185);
    EXPECT_NEAR(norm(constant({3e-200, -4e-200})).item(), 5e-200, 1e-214);
    EXPECT_NEAR(norm(constant({3e200, 4e200}), 3.0).item(), std::cbrt(91.0) * 1e200, 1e186);
    // sizes 0 and 1, zeros, infinities, NaN
    EXPECT_EQ(norm(constant(array::from_shape({0}))).item(), 0.0);
    EXPECT_EQ(norm(constant({-2.5}), 3.0).item(), 2.5);
    EXPECT_EQ(norm(constant(xt::zeros<double>({2, 2}))).item(), 0.0);
    EXPECT_EQ(norm(constant({1.0, -inf})).item(), inf);
    EXPECT_TRUE(std::isnan(norm(constant({1.0, nan_value}), inf).item()));
}

TEST(Norm, DerivativesAgainstClosedForms) {
    const array x = {3.0, -4.0, 0.0};
    auto norm_p = [](double p) { return [p](const Var& v) { return norm(v, p); }; };
    EXPECT_EQ(gradient_of(norm_p(2.0), x), (array{0.6, -0.8, 0.0}));
    EXPECT_EQ(gradient_of(norm_p(1.0), x), (array{1.0, -1.0, 0.0}));
    // p = 3: sign(x)x²/y²
    const double y3 = std::cbrt(91.0);
    EXPECT_LE(max_relative_error(gradient_of(norm_p(3.0), x),
                                 array{9.0 / (y3 * y3), -16.0 / (y3 * y3), 0.0}),
              1e-15);
    // p = inf: ties at the largest |x| share, with x's sign
    EXPECT_EQ(gradient_of(norm_p(inf), {-4.0, 4.0, 1.0}), (array{-0.5, 0.5, 0.0}));
    EXPECT_EQ(gradient_of(norm_p(inf), {-4.0, 2.0, 1.0}), (array{-1.0, 0.0, 0.0}));
    // p = 2's Hessian: (I − x xᵀ/y²)/y
    const Var v = parameter({3.0, -4.0});
    const array H = hessian(norm(v), {v});
    const array expected = array{{16.0, 12.0}, {12.0, 9.0}} / 125.0;
    EXPECT_LE(max_relative_error(H, expected), 1e-15);
}

TEST(Norm, GradientsMatchCentralDifferences) {
    std::mt19937_64 rng(10);
    for (double p : {1.0, 1.5, 2.0, 3.0, 4.5, inf}) {
        SCOPED_TRACE(p);
        check_derivatives([p](const Var& v) { return norm(v, p); }, random_array(rng, {3, 4}), rng);
    }
    check_derivatives([](const Var& v) { return norm(v); }, random_array(rng, {1}), rng);
}

TEST(Norm, AtAndNearZeroNoNaNInAnyOrder) {
    for (double p : {1.0, 2.0, 3.0, 1.5, inf}) {
        SCOPED_TRACE(p);
        const Var z = parameter(xt::zeros<double>({2, 3}));
        const Var y = norm(z, p);
        EXPECT_EQ(y.item(), 0.0);
        y.backward();
        EXPECT_EQ(z.grad(), array(xt::zeros<double>({2, 3})));  // the subgradient 0
        EXPECT_EQ(grad(norm(z, p), {z}, true)[0].value(), array(xt::zeros<double>({2, 3})));
        EXPECT_EQ(jacobian_forward(norm(z, p), z), array(xt::zeros<double>({2, 3})));
        // the Hessian at 0 is taken as 0
        EXPECT_EQ(hessian(norm(z, p), {z}), array(xt::zeros<double>({6, 6})));
        EXPECT_EQ(hessian_vector_product(norm(z, p), {z}, {array(xt::ones<double>({2, 3}))},
                                         hvp_mode::forward_over_reverse)[0],
                  array(xt::zeros<double>({2, 3})));
    }
    // 1 < p < 2: an element at 0 (the others not) has an infinite second derivative, taken as 0
    const Var partly = parameter({0.0, 1.0, -2.0});
    const array H = hessian(norm(partly, 1.5), {partly});
    EXPECT_TRUE(all_finite(H));
    EXPECT_EQ(H(0, 0), 0.0);
    EXPECT_EQ(H(0, 1), 0.0);
    EXPECT_TRUE(all_finite(hessian_vector_product(
        norm(partly, 1.5), {partly}, {array{1.0, 1.0, 1.0}}, hvp_mode::forward_over_reverse)[0]));
    // near 0: finite, and the gradient x/‖x‖ keeps its size
    std::mt19937_64 rng(11);
    const array tiny = random_array(rng, {4}) * 1e-150;
    const Var t = parameter(tiny);
    norm(t).backward();
    EXPECT_LE(max_relative_error(t.grad(), array(tiny / norm(constant(tiny)).item())), 1e-15);
    EXPECT_TRUE(all_finite(hessian(norm(t), {t})));
    for (double p : {2.0, 3.0}) {
        const Var s = parameter(random_array(rng, {4}) * 1e-3);
        GradcheckOptions near_zero = strict();
        near_zero.step = 1e-8;
        const GradcheckReport report = gradgradcheck([&] { return norm(s, p); }, {s}, near_zero);
        EXPECT_TRUE(report.passed) << report.to_string();
        EXPECT_TRUE(all_finite(hessian(norm(s, p), {s})));
    }
}

TEST(Reductions, TheBranchNotTakenStaysExactlyZeroAtSecondOrder) {
    // where(0, r(sqrt(x)), 1) is the constant 1 for each reduction r whose slope depends on x:
    // its zero gradient meets sqrt's +inf slope at x = 0. Strong zeros give 0 (not 0·∞ = NaN)
    // in the gradient and in the Hessian, by hessian() and by both H·v modes.
    const std::vector<std::pair<const char*, std::function<Var(const Var&)>>> reductions = {
        {"logsumexp", [](const Var& v) { return logsumexp(v); }},
        {"logsumexp axis", [](const Var& v) { return sum(logsumexp(v, 1, true)); }},
        {"variance", [](const Var& v) { return variance(v); }},
        {"variance axis ddof", [](const Var& v) { return sum(variance(v, 0, 1)); }},
        {"stddev", [](const Var& v) { return stddev(v); }},
        {"stddev axis", [](const Var& v) { return sum(stddev(v, 1)); }},
        {"norm", [](const Var& v) { return norm(v); }},
        {"norm p = 3", [](const Var& v) { return norm(v, 3.0); }},
        {"norm p = 1.5", [](const Var& v) { return norm(v, 1.5); }},
        {"softmax", [](const Var& v) { return sum(square(softmax(v))); }},
        {"log_softmax", [](const Var& v) { return sum(square(log_softmax(v))); }},
    };
    const array x0 = {{0.0, 1.0, 4.0}, {0.0, 0.25, 9.0}};
    const array zero_h = xt::zeros<double>({6, 6});
    const array zero_x = xt::zeros<double>({2, 3});
    for (const auto& [name, r] : reductions) {
        SCOPED_TRACE(name);
        const Var x = parameter(x0);
        auto loss = [&, r = r] { return where(constant(0.0), r(sqrt(x)), 1.0); };
        EXPECT_EQ(grad(loss(), {x})[0].value(), zero_x);
        EXPECT_EQ(hessian(loss(), {x}), zero_h);
        for (const hvp_mode mode :
             {hvp_mode::reverse_over_reverse, hvp_mode::forward_over_reverse}) {
            EXPECT_EQ(
                hessian_vector_product(loss(), {x}, {array(xt::ones<double>({2, 3}))}, mode)[0],
                zero_x);
        }
        // the branch taken still has the true (finite, non-zero) second derivative
        const Var y = parameter(x0 + 1.0);
        const array H = hessian(r(sqrt(y)), {y});
        EXPECT_TRUE(all_finite(H));
        EXPECT_GT(xt::amax(xt::abs(H))(), 1e-3);
    }
}

TEST(Norm, PBelowOneIsRefused) {
    const Var x = constant({1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(norm(x, 0.5), std::invalid_argument, "norm: p = 0.5 is below 1");
    XGRAD_EXPECT_THROW_WITH(norm(x, -2.0), std::invalid_argument, "norm: p = -2 is below 1");
    XGRAD_EXPECT_THROW_WITH(norm(x, nan_value), std::invalid_argument, "norm: p = nan");
    XGRAD_EXPECT_THROW_WITH(norm(x, -inf), std::invalid_argument, "norm: p = -inf");
}

// ---- all of them -------------------------------------------------------------------------

TEST(Reductions, GraphExportNamesAreTheOpNames) {
    const Var x = parameter({{1.0, 2.0}, {3.0, 5.0}});
    EXPECT_STREQ(max(x).op_name(), "max");
    EXPECT_STREQ(min(x, 0).op_name(), "min");
    EXPECT_STREQ(logsumexp(x, 1).op_name(), "logsumexp");
    EXPECT_STREQ(logsumexp(x).op_name(), "logsumexp");
    EXPECT_STREQ(variance(x, 0).op_name(), "variance");
    EXPECT_STREQ(stddev(x).op_name(), "stddev");
    EXPECT_STREQ(norm(x, 3.0).op_name(), "norm");
    EXPECT_STREQ(sum(x, 0, true).op_name(), "sum");
    EXPECT_STREQ(mean(x, 1, true).op_name(), "mean");
}

TEST(Reductions, ReplayedTapesRecomputeEveryReduction) {
    // one graph through all of them; a replay at a new point equals a fresh build there
    std::mt19937_64 rng(12);
    auto build = [](const Var& x) {
        return max(x) + min(x, 0, true) * logsumexp(x, 1, true) + variance(x, 1, 1) +
               stddev(x, 0) * norm(x, 3.0) + sum(x, -1, true);
    };
    const Var x = parameter(random_array(rng, {3, 3}));
    Tape tape(sum(build(x)));
    x.mutable_value() = random_array(rng, {3, 3});
    tape.forward();
    x.zero_grad();
    tape.backward();
    const array replayed = x.grad();
    const Var fresh = parameter(x.value());
    sum(build(fresh)).backward();
    EXPECT_LE(max_relative_error(replayed, fresh.grad()), 1e-14);
    EXPECT_NEAR(tape.output().item(), sum(build(fresh)).item(), 1e-12);
}

}  // namespace
}  // namespace xgrad
