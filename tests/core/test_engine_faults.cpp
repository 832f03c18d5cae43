/***************************************************************************
 * xgrad: tests of the kinds of engine fault found in peer libraries        *
 ***************************************************************************/
// One suite per kind of fault, each over every op family rather than one input:
// first contributions that scale old memory, 0·∞ in derivative rules, losses that are NaN on
// valid inputs, rewrites that hide a held intermediate's gradient, values changed under a
// recorded graph, graph walks shared between threads, and shapes of size 0 and 1.
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <xtensor/xio.hpp>

#include "core/op_families.hpp"
#include "support.hpp"
#include "xgrad/optim/adagrad.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/sgd.hpp"

namespace xgrad {
namespace {

using testing::Case;
using testing::every_op_family;
using testing::make_parameters;
using testing::random_array;

constexpr double nan_value = std::numeric_limits<double>::quiet_NaN();
constexpr double inf_value = std::numeric_limits<double>::infinity();

bool all_finite(const array& a) {
    for (double v : a) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

array seed_for(const Var& out, double value) {
    array seed = array::from_shape(out.shape());
    seed.fill(value);
    return seed;
}

/// @brief Gradients of `c` at a fresh graph seeded with 0.5s; by a fresh tape's first replay
/// if `replayed` (which may fuse, and so round differently).
std::vector<array> fresh_gradients(const Case& c, bool replayed = false) {
    const std::vector<Var> params = make_parameters(c, 7);
    if (replayed) {
        Tape tape(c.build(params));
        tape.forward();
        tape.backward(seed_for(tape.output(), 0.5));
    } else {
        const Var out = c.build(params);
        out.backward(seed_for(out, 0.5));
    }
    std::vector<array> grads;
    for (const Var& p : params) grads.push_back(p.grad());
    return grads;
}

// ---- 1. A first gradient contribution overwrites, never scales old memory ----------------

TEST(FirstContribution, TheReportedVectorProduct) {
    Var w = parameter({.1, .2, .3});
    matmul(constant({1.0, nan_value, -.5}), w).backward();
    w.zero_grad();
    matmul(constant({1.0, 2.0, -.5}), w).backward();
    EXPECT_EQ(w.grad(), (array{1.0, 2.0, -0.5}));
}

TEST(FirstContribution, NaNInEveryGradientBufferNeverSurvivesZeroGrad) {
    // Every buffer (parameters and interior nodes) is filled with NaN by a NaN seed; after
    // zero_grad the next pass must equal a pass on a fresh graph bit for bit.
    for (const Case& c : every_op_family()) {
        SCOPED_TRACE(c.name);
        const std::vector<array> expected = fresh_gradients(c);
        const std::vector<Var> params = make_parameters(c, 7);
        const Var out = c.build(params);
        out.backward(seed_for(out, nan_value));
        for (const Var& p : params) p.zero_grad();
        out.backward(seed_for(out, 0.5));
        for (std::size_t k = 0; k < params.size(); ++k) EXPECT_EQ(params[k].grad(), expected[k]);
    }
}

TEST(FirstContribution, TapeReplaysOverwriteToo) {
    for (const Case& c : every_op_family()) {
        SCOPED_TRACE(c.name);
        const std::vector<array> expected = fresh_gradients(c, true);
        const std::vector<Var> params = make_parameters(c, 7);
        Tape tape(c.build(params));
        tape.forward();
        tape.backward(seed_for(tape.output(), nan_value));
        for (const Var& p : params) p.zero_grad();
        tape.forward();
        tape.backward(seed_for(tape.output(), 0.5));
        for (std::size_t k = 0; k < params.size(); ++k) EXPECT_EQ(params[k].grad(), expected[k]);
    }
}

TEST(FirstContribution, GradientsAccumulateAcrossPassesUntilZeroGrad) {
    for (const Case& c : every_op_family()) {
        SCOPED_TRACE(c.name);
        const std::vector<array> once = fresh_gradients(c);
        const std::vector<Var> params = make_parameters(c, 7);
        const Var out = c.build(params);
        out.backward(seed_for(out, 0.5));
        out.backward(seed_for(out, 0.5));
        for (std::size_t k = 0; k < params.size(); ++k) {
            EXPECT_LE(testing::max_relative_error(params[k].grad(), 2.0 * once[k], 1e-12), 1e-14);
        }
    }
}

// ---- 2. 0·∞ corners in derivative rules ------------------------------------------------

TEST(ZeroTimesInfinity, PowerZeroHasZeroDerivativeEverywhere) {
    for (double x0 : {0.0, -0.0, 1.0, -2.0, 1e-300}) {
        Var x = parameter(x0);
        Var f = pow(x, 0.0);
        EXPECT_EQ(f.item(), 1.0);
        f.backward();
        EXPECT_EQ(x.grad()(), 0.0) << "x = " << x0;
        EXPECT_EQ(hessian(pow(x, 0.0), {x})(0, 0), 0.0);
    }
    // p = 1: derivative 1 at 0, second derivative 0 (its rule is pow(x, 0)).
    Var x = parameter(0.0);
    pow(x, 1.0).backward();
    EXPECT_EQ(x.grad()(), 1.0);
    EXPECT_EQ(hessian(pow(x, 1.0), {x})(0, 0), 0.0);
    EXPECT_EQ(hessian(pow(x, 3.0), {x})(0, 0), 0.0);
}

TEST(ZeroTimesInfinity, EveryRuleIsFiniteAtKinksZerosAndLargeInputs) {
    // First and second derivatives of each op at its kinks and at ±1000 (where exp overflows
    // and sigmoid saturates), all finite.
    const std::vector<std::pair<std::string, std::function<Var(const Var&)>>> ops = {
        {"relu", [](const Var& x) { return relu(x); }},
        {"abs", [](const Var& x) { return abs(x); }},
        {"leaky_relu", [](const Var& x) { return leaky_relu(x); }},
        {"sigmoid", [](const Var& x) { return sigmoid(x); }},
        {"tanh", [](const Var& x) { return tanh(x); }},
        {"softplus", [](const Var& x) { return softplus(x); }},
        {"log_sigmoid", [](const Var& x) { return log_sigmoid(x); }},
        {"log(sigmoid)", [](const Var& x) { return log(sigmoid(x)); }},
        {"log(1-sigmoid)", [](const Var& x) { return log(1.0 - sigmoid(x)); }},
        {"pow0", [](const Var& x) { return pow(x, 0.0); }},
        {"sin", [](const Var& x) { return sin(x); }},
        {"erf", [](const Var& x) { return erf(x); }},
        {"silu", [](const Var& x) { return silu(x); }},
        {"gelu", [](const Var& x) { return gelu(x); }},
        {"elu", [](const Var& x) { return elu(x); }},
        {"clip", [](const Var& x) { return clip(x, 0.0, 40.0); }},
        {"square", [](const Var& x) { return square(x); }},
        {"pow1", [](const Var& x) { return pow(x, 1.0); }},
        {"pow2", [](const Var& x) { return pow(x, 2.0); }},
        {"pow3", [](const Var& x) { return pow(x, 3.0); }},
        {"log_softmax", [](const Var& x) { return log_softmax(x); }},
        {"bce_with_logits",
         [](const Var& x) { return bce_with_logits(x, constant(xt::zeros_like(x.value()))); }},
        {"bce_with_logits y=1",
         [](const Var& x) { return bce_with_logits(x, constant(xt::ones_like(x.value()))); }},
        {"bce(sigmoid)",
         [](const Var& x) {
             return binary_cross_entropy(sigmoid(x), constant(xt::ones_like(x.value())));
         }},
    };
    for (const auto& [name, f] : ops) {
        Var x = parameter({0.0, -0.0, 1000.0, -1000.0, 40.0, -40.0});
        const Var out = sum(f(x));
        SCOPED_TRACE(name);
        EXPECT_TRUE(all_finite(out.value())) << out.value();
        out.backward();
        EXPECT_TRUE(all_finite(x.grad())) << x.grad();
        const array H = hessian(sum(f(x)), {x});
        EXPECT_TRUE(all_finite(H)) << H;
    }
}

// ---- 3. Losses on valid inputs are finite --------------------------------------------------

TEST(LossesOnValidInputs, BinaryCrossEntropyAtCertainRightAnswers) {
    // The reported case: p = 0 with y = 0 and p = 1 with y = 1 cost nothing (0·log 0 is 0).
    Var p = parameter({0.0, 1.0, 0.3});
    Var loss = binary_cross_entropy(p, constant({0.0, 1.0, 1.0}));
    EXPECT_NEAR(loss.item(), 0.401324268108645, 1e-15);
    loss.backward();
    EXPECT_EQ(p.grad()(0), 0.0);
    EXPECT_EQ(p.grad()(1), 0.0);
    EXPECT_NEAR(p.grad()(2), -(1.0 / 0.3) / 3.0, 1e-15);  // −1.111…
    // Second derivatives there are finite too.
    EXPECT_TRUE(all_finite(
        hessian(binary_cross_entropy(p, constant({0.0, 1.0, 1.0}), reduction::sum), {p})));
}

TEST(LossesOnValidInputs, EveryCornerOfBinaryCrossEntropy) {
    // Each reduction, each corner: matching certainties are 0 with gradient 0; a certain wrong
    // answer is an infinite loss with an infinite (never NaN) gradient; soft labels are finite
    // inside (0, 1).
    for (reduction how : {reduction::mean, reduction::sum, reduction::none}) {
        Var p = parameter({0.0, 1.0, 0.0, 1.0, 0.5, 1e-300});
        Var y = constant({0.0, 1.0, 1.0, 0.0, 0.25, 0.0});
        Var terms = binary_cross_entropy(p, y, reduction::none);
        EXPECT_EQ(terms.value()(0), 0.0);
        EXPECT_EQ(terms.value()(1), 0.0);
        EXPECT_EQ(terms.value()(2), inf_value);
        EXPECT_EQ(terms.value()(3), inf_value);
        EXPECT_NEAR(terms.value()(4), -(0.25 * std::log(0.5) + 0.75 * std::log(0.5)), 1e-15);
        EXPECT_EQ(terms.value()(5), 0.0);  // −log(1 − 1e-300) rounds to 0
        Var loss = binary_cross_entropy(p, y, how);
        if (how == reduction::none) {
            loss.backward(xt::ones_like(loss.value()));
        } else {
            loss.backward();
        }
        for (double g : p.grad()) EXPECT_FALSE(std::isnan(g));
        EXPECT_EQ(p.grad()(0), 0.0);
        EXPECT_EQ(p.grad()(1), 0.0);
        EXPECT_EQ(p.grad()(2), -inf_value);
        EXPECT_EQ(p.grad()(3), inf_value);
    }
    XGRAD_EXPECT_THROW_WITH(binary_cross_entropy(constant({0.5, 1.5}), constant({0.0, 1.0})),
                            std::domain_error, "probability 1.500000 at element 1");
    XGRAD_EXPECT_THROW_WITH(binary_cross_entropy(constant({nan_value}), constant({0.0})),
                            std::domain_error, "outside [0, 1]");
}

TEST(LossesOnValidInputs, LogitLossesAreFiniteForAnyLogit) {
    const array z = {-1000.0, -40.0, 0.0, 40.0, 1000.0};
    for (double label : {0.0, 1.0}) {
        Var logits = parameter(z);
        Var y = constant(xt::full_like(z, label));
        for (const Var& loss :
             {bce_with_logits(logits, y), binary_cross_entropy(sigmoid(logits), y),
              -mean(y * log(sigmoid(logits)) + (1.0 - y) * log(1.0 - sigmoid(logits)))}) {
            logits.zero_grad();
            EXPECT_TRUE(std::isfinite(loss.item()));
            loss.backward();
            EXPECT_TRUE(all_finite(logits.grad())) << logits.grad();
        }
    }
    // Softmax cross-entropy at ±1000.
    Var logits = parameter({{1000.0, -1000.0, 0.0}, {-1000.0, -1000.0, 1000.0}});
    Var loss = cross_entropy(logits, constant({0.0, 1.0}));
    EXPECT_TRUE(std::isfinite(loss.item()));
    loss.backward();
    EXPECT_TRUE(all_finite(logits.grad()));
    // MSE of equal values is 0 with gradient 0.
    Var p = parameter({1.0, 2.0});
    Var m = mse(p, constant({1.0, 2.0}));
    m.backward();
    EXPECT_EQ(m.item(), 0.0);
    EXPECT_EQ(p.grad(), (array{0.0, 0.0}));
}

// ---- 4. A rewrite never changes what the user can observe ---------------------------------

/// @brief The gradient a held intermediate should have: the same loss built on a parameter leaf
/// with the intermediate's value in its place.
array gradient_through_leaf(const array& value, const std::function<Var(const Var&)>& loss_of) {
    Var leaf = parameter(value);
    loss_of(leaf).backward();
    return leaf.grad();
}

TEST(RewritesKeepObservableGradients, TheReportedHeldSigmoid) {
    Var z = parameter({0.5, -1.0});
    Var y = constant({1.0, 0.0});
    Var p = sigmoid(z);
    Var loss = -mean(y * log(p) + (1.0 - y) * log(1.0 - p));
    loss.backward();
    EXPECT_NEAR(p.grad()(0), -0.803265, 1e-6);
    EXPECT_NEAR(p.grad()(1), 0.683940, 1e-6);
    EXPECT_LE(testing::max_relative_error(z.grad(), (p.value() - y.value()) / 2.0), 1e-14);
    // The same through grad(), which must not need .grad() at all.
    const std::vector<Var> g = grad(-mean(y * log(p) + (1.0 - y) * log(1.0 - p)), {p, z});
    EXPECT_LE(testing::max_relative_error(g[0].value(), p.grad()), 1e-15);
    EXPECT_LE(testing::max_relative_error(g[1].value(), z.grad()), 1e-15);
}

TEST(RewritesKeepObservableGradients, EveryRewriteWithItsIntermediateHeld) {
    std::mt19937_64 rng(3);
    const array z0 = random_array(rng, {5}, -3.0, 3.0);
    const array y0 = testing::random_labels(rng, 5);
    const Var y = constant(y0);
    struct Rewrite {
        std::string name;
        std::function<Var(const Var&)> intermediate;  // of z
        std::function<Var(const Var&)> loss_of;       // of the intermediate
    };
    const std::vector<Rewrite> rewrites = {
        {"log(sigmoid)", [](const Var& z) { return sigmoid(z); },
         [](const Var& p) { return sum(log(p) * p); }},
        {"log(1 - sigmoid) with sigmoid held", [](const Var& z) { return sigmoid(z); },
         [](const Var& p) { return sum(log(1.0 - p)); }},
        {"log(1 - sigmoid) with 1 - sigmoid held", [](const Var& z) { return 1.0 - sigmoid(z); },
         [](const Var& s) { return sum(log(s)); }},
        {"bce(sigmoid)", [](const Var& z) { return sigmoid(z); },
         [y](const Var& p) { return binary_cross_entropy(p, y); }},
        {"bce(sigmoid), sum", [](const Var& z) { return sigmoid(z); },
         [y](const Var& p) { return binary_cross_entropy(p, y, reduction::sum); }},
        {"identity reshape", [](const Var& z) { return reshape(z, z.shape()); },
         [](const Var& r) { return sum(r * r); }},
        {"vector transpose", [](const Var& z) { return transpose(z); },
         [](const Var& t) { return sum(exp(t)); }},
    };
    for (const Rewrite& r : rewrites) {
        SCOPED_TRACE(r.name);
        Var z = parameter(z0);
        const Var held = r.intermediate(z);
        // The loss also uses z directly, so a gradient that reached z by two routes would show.
        Var loss = r.loss_of(held) + sum(z * 0.25);
        loss.backward();
        const array expected = gradient_through_leaf(held.value(), r.loss_of);
        EXPECT_LE(testing::max_relative_error(held.grad(), expected, 1e-12), 1e-12);
        // And z's gradient is the whole chain rule, to rounding.
        Var z2 = parameter(z0);
        Var reference = r.loss_of(r.intermediate(z2)) + sum(z2 * 0.25);
        reference.backward();
        EXPECT_LE(testing::max_relative_error(z.grad(), z2.grad(), 1e-12), 1e-12);
        // grad() with respect to the held intermediate agrees.
        const Var again = r.loss_of(held) + sum(z * 0.25);
        EXPECT_LE(testing::max_relative_error(grad(again, {held})[0].value(), expected, 1e-12),
                  1e-12);
        EXPECT_LE(
            testing::max_relative_error(grad(again, {held}, true)[0].value(), expected, 1e-12),
            1e-12);
    }
}

TEST(RewritesKeepObservableGradients, HeldTransposeFeedingMatmul) {
    std::mt19937_64 rng(5);
    for (const auto& [a_shape, b_shape, transpose_a] :
         std::vector<std::tuple<shape_type, shape_type, bool>>{{{3, 2}, {3, 4}, true},
                                                               {{2, 3}, {4, 3}, false},
                                                               {{3, 2}, {3}, true},
                                                               {{3}, {2, 3}, false},
                                                               {{2, 3, 2}, {2, 3, 4}, true},
                                                               {{2, 2, 3}, {4, 3}, false}}) {
        const array a0 = random_array(rng, a_shape);
        const array b0 = random_array(rng, b_shape);
        Var a = parameter(a0);
        Var b = parameter(b0);
        const Var t = transpose_a ? transpose(a) : transpose(b);
        const Var product = transpose_a ? matmul(t, b) : matmul(a, t);
        const array weights = random_array(rng, product.shape());
        Var loss = sum(product * constant(weights)) + sum(t * t);
        loss.backward();
        const array expected = gradient_through_leaf(t.value(), [&](const Var& leaf) {
            const Var p = transpose_a ? matmul(leaf, constant(b0)) : matmul(constant(a0), leaf);
            return sum(p * constant(weights)) + sum(leaf * leaf);
        });
        EXPECT_LE(testing::max_relative_error(t.grad(), expected, 1e-12), 1e-12);
        // The operand's own gradient is unchanged by holding its transpose.
        Var a2 = parameter(a0);
        Var b2 = parameter(b0);
        const Var t2 = transpose_a ? transpose(a2) : transpose(b2);
        const Var loss2 =
            sum((transpose_a ? matmul(transpose(a2), b2) : matmul(a2, transpose(b2))) *
                constant(weights)) +
            sum(t2 * t2);
        loss2.backward();
        EXPECT_LE(testing::max_relative_error(a.grad(), a2.grad(), 1e-12), 1e-12);
        EXPECT_LE(testing::max_relative_error(b.grad(), b2.grad(), 1e-12), 1e-12);
    }
}

TEST(RewritesKeepObservableGradients, ReplayFusionSkipsAHeldSigmoid) {
    std::mt19937_64 rng(9);
    Var X = constant(random_array(rng, {50, 4}));
    Var w = parameter(random_array(rng, {4}));
    Var b = parameter(0.1);
    Var y = constant(testing::random_labels(rng, 50));
    Var p = sigmoid(matmul(X, w) + b);
    Tape tape(binary_cross_entropy(p, y));
    tape.forward();
    EXPECT_EQ(tape.fused(), 0u);  // p is held: nothing is fused away
    tape.backward();
    const array expected = gradient_through_leaf(
        p.value(), [&](const Var& leaf) { return binary_cross_entropy(leaf, y); });
    EXPECT_LE(testing::max_relative_error(p.grad(), expected, 1e-12), 1e-12);
    // Not held: the same graph fuses and gives the same parameter gradients.
    Var w2 = parameter(w.value());
    Var b2 = parameter(b.value());
    Tape fused(binary_cross_entropy(sigmoid(matmul(X, w2) + b2), y));
    fused.forward();
    EXPECT_EQ(fused.fused(), 1u);
    fused.backward();
    EXPECT_LE(testing::max_relative_error(w2.grad(), w.grad(), 1e-12), 1e-12);
    EXPECT_LE(testing::max_relative_error(b2.grad(), b.grad(), 1e-12), 1e-12);
}

TEST(RewritesKeepObservableGradients, UnheldIntermediatesStillTakeTheStableRoute) {
    Var z = parameter({-1000.0, 1000.0});
    Var y = constant({1.0, 0.0});
    Var loss = -mean(y * log(sigmoid(z)) + (1.0 - y) * log(1.0 - sigmoid(z)));
    EXPECT_EQ(loss.item(), 1000.0);
    loss.backward();
    EXPECT_EQ(z.grad(), (array{-0.5, 0.5}));
}

// ---- 5. Misuse is an error, not a silent mixture or a crash ------------------------------

TEST(Misuse, ValueChangedUnderARecordedGraph) {
    Var w = parameter({.5, -1.0});
    w.set_label("w");
    Var f = sum(exp(w) * w);
    w.mutable_value() = array{1.0, 2.0};
    XGRAD_EXPECT_THROW_WITH(f.backward(), graph_error, "(label 'w'), was given a new value");
    XGRAD_EXPECT_THROW_WITH(grad(f, {w}), graph_error, "run the graph forward again");
    // A new shape is refused the same way, not read out of bounds.
    Var f2 = sum(exp(w) * w);
    w.mutable_value() = array{1.0, 2.0, 3.0};
    XGRAD_EXPECT_THROW_WITH(f2.backward(), graph_error, "was given a new value");
    // Writing through a reference kept from before the graph was built is caught by shape.
    array& kept = w.mutable_value();
    Var f3 = sum(exp(w) * w);
    kept = array{1.0};
    XGRAD_EXPECT_THROW_WITH(f3.backward(), graph_error, "changed shape");
}

TEST(Misuse, EveryOpFamilyRefusesAChangedLeaf) {
    for (const Case& c : every_op_family()) {
        SCOPED_TRACE(c.name);
        const std::vector<Var> params = make_parameters(c, 7);
        const Var out = c.build(params);
        params.back().mutable_value();  // counts as a change
        EXPECT_THROW(out.backward(seed_for(out, 1.0)), graph_error);
        // A replay recomputes at the new point and is then accepted.
        Tape tape(out);
        tape.forward();
        EXPECT_NO_THROW(tape.backward(seed_for(out, 1.0)));
    }
}

TEST(Misuse, ReplayWithOtherShapesRecomputesOrThrows) {
    // Another rank: sum over axis -1 follows the new last axis.
    Var x = parameter(xt::ones<double>({2, 3}));
    Tape tape(sum(sum(x, -1) * 2.0));
    x.mutable_value() = xt::ones<double>({2, 3, 4});
    tape.forward();
    EXPECT_EQ(tape.output().item(), 48.0);
    x.zero_grad();
    tape.backward();
    EXPECT_EQ(x.grad(), xt::full_like(x.value(), 2.0));
    // An axis that no longer exists is refused.
    Var v = parameter(xt::ones<double>({2, 3}));
    Tape by_axis(sum(mean(v, 1)));
    v.mutable_value() = xt::ones<double>({3});
    XGRAD_EXPECT_THROW_WITH(by_axis.forward(), shape_error, "mean: axis 1 is out of range");
    // Operands that stop fitting are refused, not broadcast.
    Var p = parameter(xt::ones<double>({4}));
    Var t = constant(xt::ones<double>({4}));
    Tape loss(mse(p, t));
    t.mutable_value() = xt::ones<double>({4, 1});
    XGRAD_EXPECT_THROW_WITH(loss.forward(), shape_error, "mse: predictions (4,) and targets (4,1)");
    Var A = parameter(xt::ones<double>({2, 3}));
    Var B = parameter(xt::ones<double>({3, 2}));
    Tape product(sum(matmul(A, B)));
    B.mutable_value() = xt::ones<double>({2, 2});
    XGRAD_EXPECT_THROW_WITH(product.forward(), shape_error,
                            "matmul: cannot multiply (2,3) by (2,2)");
    // A parameter whose accumulated gradient no longer fits its value.
    Var q = parameter(xt::ones<double>({3}));
    sum(q * q).backward();
    q.mutable_value() = xt::ones<double>({4});
    XGRAD_EXPECT_THROW_WITH(sum(q * q).backward(), graph_error, "call zero_grad()");
    q.zero_grad();
    sum(q * q).backward();
    EXPECT_EQ(q.grad(), xt::full_like(q.value(), 2.0));
}

TEST(Misuse, OptimizersRefuseAParameterWhoseShapeChanged) {
    Var w = parameter({1.0, 2.0});
    optim::SGD sgd({w}, 0.1, 0.9);
    optim::Adam adam({w}, 0.1);
    optim::AdaGrad adagrad({w}, 0.1);
    optim::RMSProp rmsprop({w}, 0.1, 0.99, 1e-8, 0.9);
    sum(w * w).backward();
    sgd.step();  // makes the velocity
    w.mutable_value() = array{1.0, 2.0, 3.0};
    w.zero_grad();
    sum(w * w).backward();
    XGRAD_EXPECT_THROW_WITH(sgd.step(), graph_error, "parameter 0 has shape (3,) but its state");
    XGRAD_EXPECT_THROW_WITH(adam.step(), graph_error, "make a new optimizer");
    XGRAD_EXPECT_THROW_WITH(adagrad.step(), graph_error, "make a new optimizer");
    XGRAD_EXPECT_THROW_WITH(rmsprop.step(), graph_error, "make a new optimizer");
    EXPECT_EQ(w.value(), (array{1.0, 2.0, 3.0}));  // nothing was written
}

// ---- 6. Threads: concurrent read-only use of a built graph ------------------------------

TEST(Threads, ConcurrentGradOnASharedGraph) {
    std::mt19937_64 rng(11);
    Var w = parameter(random_array(rng, {8}));
    Var A = constant(random_array(rng, {8, 8}, -0.3, 0.3));
    Var S = w;
    for (int layer = 0; layer < 500; ++layer) {  // ~3 000 nodes, a lazy transpose among them
        S = tanh(matmul(layer % 2 ? transpose(A) : A, S) + w * 0.1);
    }
    S = sum(S * S);
    const array expected = grad(S * 2.0, {w})[0].value();
    std::vector<std::thread> threads;
    std::vector<int> wrong(2, 0);
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) {
                const array g = grad(S * 2.0, {w})[0].value();
                if (!(g == expected)) ++wrong[static_cast<std::size_t>(t)];
                const array hv = hessian_vector_product(S, {w}, {xt::ones<double>({8})})[0];
                if (!all_finite(hv)) ++wrong[static_cast<std::size_t>(t)];
            }
        });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_EQ(wrong[0] + wrong[1], 0);
}

TEST(Threads, ConcurrentGradThroughRewritesGivesEveryThreadTheSameNumbers) {
    // Rewrites choose their route by what is observed; under grad() that is what was asked for,
    // never another thread's temporary handles, so every thread gets the serial numbers.
    std::mt19937_64 rng(13);
    Var X = constant(random_array(rng, {30, 4}));
    Var w = parameter(random_array(rng, {4}));
    Var y = constant(testing::random_labels(rng, 30));
    Var W = parameter(random_array(rng, {4, 4}));
    Var loss = constant(0.0);
    for (int layer = 0; layer < 50; ++layer) {
        const Var z = matmul(matmul(X, transpose(W)), w) * 0.1;
        loss = loss + binary_cross_entropy(sigmoid(z), y) -
               mean(y * log(sigmoid(z)) + (1.0 - y) * log(1.0 - sigmoid(z)));
    }
    const std::vector<Var> expected = grad(loss, {w, W});
    std::vector<int> wrong(2, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 2; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) {
                const std::vector<Var> g = grad(loss, {w, W});
                if (!(g[0].value() == expected[0].value() && g[1].value() == expected[1].value())) {
                    ++wrong[t];
                }
            }
        });
    }
    for (std::thread& th : threads) th.join();
    EXPECT_EQ(wrong[0] + wrong[1], 0);
}

TEST(Threads, ConcurrentTapesOverOneGraphWalkIndependently) {
    Var x = parameter({1.0, 2.0, 3.0});
    Var y = x;
    for (int i = 0; i < 2000; ++i) y = y * 1.0001 + x * 0.0;
    Var out = sum(y);
    std::vector<std::size_t> sizes(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 20; ++i) sizes[t] = Tape(out).size();
        });
    }
    for (std::thread& th : threads) th.join();
    for (std::size_t s : sizes) EXPECT_EQ(s, Tape(out).size());
}

// ---- 7. Size 0 and size 1 ----------------------------------------------------------------

TEST(EmptyShapes, ReductionsFollowNumpy) {
    Var x = parameter(xt::zeros<double>({3, 0}));
    Var m = mean(x, 0);  // numpy: an empty (0,) array
    EXPECT_EQ(m.shape(), (shape_type{0}));
    Var s = sum(x, 1);  // numpy: three zeros
    EXPECT_EQ(s.value(), xt::zeros<double>({3}));
    EXPECT_EQ(sum(x).item(), 0.0);
    (sum(m) + sum(s * 2.0) + sum(x)).backward();
    EXPECT_EQ(x.grad().shape(), (shape_type{3, 0}));
    // Where numpy would answer NaN (the mean of an empty slice), xgrad refuses.
    XGRAD_EXPECT_THROW_WITH(mean(x, 1), shape_error,
                            "mean: cannot average over axis 1 of length 0");
    XGRAD_EXPECT_THROW_WITH(mean(x), shape_error, "mean: cannot average the empty shape (3,0)");
    Var e = parameter(xt::zeros<double>({0, 0}));
    EXPECT_EQ(mean(e, 1).shape(), (shape_type{0}));
}

TEST(EmptyShapes, EveryOpFamilyOnAnEmptyBatch) {
    // Elementwise ops, broadcasting, products and losses on a batch of 0 rows.
    Var X = parameter(xt::zeros<double>({0, 3}));
    Var w = parameter(xt::ones<double>({3}));
    Var W = parameter(xt::ones<double>({3, 2}));
    Var bias = parameter(xt::ones<double>({3}));
    Var y = constant(xt::zeros<double>({0}));
    const std::vector<Var> outputs = {
        sum(tanh(X) + bias),
        sum(sigmoid(X) * bias),
        sum(exp(X) / bias),
        sum(relu(X - bias)),
        sum(pow(X, 3.0)),
        sum(matmul(X, w)),
        sum(matmul(X, W)),
        sum(matmul(transpose(X), X)),
        sum(log_softmax(X)),
        bce_with_logits(matmul(X, w), y, reduction::sum),
        mse(matmul(X, w), y, reduction::sum),
        binary_cross_entropy(sigmoid(matmul(X, w)), y, reduction::sum)};
    for (const Var& out : outputs) {
        SCOPED_TRACE(out.op_name());
        EXPECT_EQ(out.item(), 0.0);
        zero_grad(std::vector<Var>{X, w, W, bias});
        out.backward();
        EXPECT_EQ(X.grad().shape(), (shape_type{0, 3}));
        EXPECT_EQ(w.grad(), xt::zeros<double>({3}));
        EXPECT_EQ(bias.grad(), xt::zeros<double>({3}));
    }
    // A stack of no matrices, times a matrix, forward and backward (the folded-stack product).
    for (const shape_type& shape : std::vector<shape_type>{{0, 2, 3}, {2, 0, 3}, {0, 0, 3}}) {
        Var stack = parameter(xt::zeros<double>(shape));
        Var product = matmul(stack, W);
        shape_type expected = shape;
        expected.back() = 2;
        EXPECT_EQ(product.shape(), expected);
        W.zero_grad();
        sum(product).backward();
        EXPECT_EQ(stack.grad().shape(), shape);
        EXPECT_EQ(W.grad(), xt::zeros<double>({3, 2}));
    }
    XGRAD_EXPECT_THROW_WITH(bce_with_logits(matmul(X, w), y), shape_error,
                            "cannot average over no samples");
    XGRAD_EXPECT_THROW_WITH(mse(matmul(X, w), y), shape_error, "cannot average over no samples");
    EXPECT_EQ(bce_with_logits(matmul(X, w), y, reduction::none).shape(), (shape_type{0}));
}

TEST(SizeOneShapes, BroadcastGradientsAreSummedBack) {
    // (), (1,), (1,1) and (1,3) operands against (2,3): each gradient is the sum, in its shape.
    for (const shape_type& shape : std::vector<shape_type>{{}, {1}, {1, 1}, {1, 3}, {2, 1}}) {
        Var a = parameter(xt::ones<double>({2, 3}));
        Var b = parameter(array(xt::ones<double>(shape)) * 2.0);
        (sum(a * b) + sum(b - a) + sum(a / b)).backward();
        EXPECT_EQ(b.grad().shape(), shape);
        const double per_element = 1.0 + 1.0 - 1.0 / 4.0;  // a + 1 − a/b²
        const double count = 6.0 / static_cast<double>(b.size());
        for (double g : b.grad()) EXPECT_DOUBLE_EQ(g, per_element * count);
        EXPECT_EQ(a.grad(), xt::full_like(a.value(), 2.0 - 1.0 + 0.5));
    }
}

}  // namespace
}  // namespace xgrad
