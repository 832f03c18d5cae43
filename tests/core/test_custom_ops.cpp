// Custom ops (xgrad::Function): the Huber loss against its closed forms on both branches and at
// |r| = δ, gradient checks of both orders, forward mode, the messages for missing rules and
// wrong gradients, replays, reuse, and inputs that need no gradient.
#include <atomic>
#include <cmath>
#include <random>
#include <vector>

#include "core/op_families.hpp"
#include "support.hpp"
#include "xgrad/check/gradcheck.hpp"
#include "xgrad/core/function.hpp"

namespace xgrad {
namespace {

using testing::huber_function;

/// @brief Closed forms: ℓ(r) and ℓ'(r) for δ.
double huber_term(double r, double delta) {
    return std::abs(r) <= delta ? 0.5 * r * r : delta * (std::abs(r) - 0.5 * delta);
}
double huber_slope(double r, double delta) {
    return std::abs(r) <= delta ? r : (r > 0 ? delta : -delta);
}

TEST(CustomOps, HuberValuesAndGradientsMatchTheClosedFormOnBothBranchesAndAtDelta) {
    const double delta = 1.0;
    // r = p − t: inside, outside on both sides, and exactly ±δ
    const array p0 = {0.5, 3.0, -2.5, 1.0, -1.0, 0.0};
    const array t0 = {0.2, 0.0, 0.5, 0.0, 0.0, 0.0};
    Var p = parameter(p0);
    Var t = parameter(t0);
    const Var loss = apply(huber_function(delta), {p, t});
    double expected = 0.0;
    for (std::size_t i = 0; i < p0.size(); ++i) expected += huber_term(p0(i) - t0(i), delta);
    expected /= 6.0;
    EXPECT_NEAR(loss.item(), expected, 1e-15);
    EXPECT_NEAR(loss.item(), (0.045 + 2.5 + 2.5 + 0.5 + 0.5 + 0.0) / 6.0, 1e-15);
    EXPECT_EQ(loss.op_name(), std::string("huber"));
    loss.backward();
    for (std::size_t i = 0; i < p0.size(); ++i) {
        const double slope = huber_slope(p0(i) - t0(i), delta) / 6.0;
        EXPECT_NEAR(p.grad()(i), slope, 1e-16) << i;
        EXPECT_NEAR(t.grad()(i), -slope, 1e-16) << i;
    }
    // at |r| = δ both branches meet: slope ±δ
    EXPECT_EQ(p.grad()(3), 1.0 / 6.0);
    EXPECT_EQ(p.grad()(4), -1.0 / 6.0);
    // second derivative: 1/n where |r| ≤ δ (δ included), 0 beyond
    const array H = hessian(apply(huber_function(delta), {p, t}), {p});
    const array expected_diagonal = array{1.0, 0.0, 0.0, 1.0, 1.0, 1.0} / 6.0;
    EXPECT_EQ(array(xt::diagonal(H)), expected_diagonal);
    EXPECT_EQ(xt::sum(xt::abs(H))(), xt::sum(expected_diagonal)());
}

TEST(CustomOps, HuberPassesGradcheckAndGradgradcheck) {
    std::mt19937_64 rng(17);
    // away from the kink |r| = δ, where central differences of the second derivative jump
    const array p0 = {0.3, -2.0, 1.7, -0.4, 2.6};
    const array t0 = {0.1, 0.4, -0.3, 0.2, 0.3};
    Var p = parameter(p0);
    Var t = parameter(t0);
    const Function h = huber_function(1.0);
    const GradcheckReport first = gradcheck([&] { return h({p, t}); }, {p, t});
    EXPECT_TRUE(first.passed) << first.to_string();
    const GradcheckReport second = gradgradcheck([&] { return h({p, t}); }, {p, t});
    EXPECT_TRUE(second.passed) << second.to_string();
    // and against central differences of a weighted use (support.hpp)
    const Var w = constant(testing::random_array(rng, {5}));
    testing::expect_gradients_match(h({p * w, t}) * 3.0 + sum(p * p));
}

TEST(CustomOps, JvpThroughTheCustomOpEqualsTheReverseJacobian) {
    const Var p = parameter(array{0.3, -2.0, 1.7, -0.4});
    const Var t = parameter(array{0.1, 0.4, -0.3, 1.2});
    const Var loss = apply(huber_function(1.0), {p, t}) * 2.0;
    const array tp = {1.0, -0.5, 0.25, 2.0};
    const array tt = {0.5, 0.5, -1.0, 0.0};
    double expected = 0.0;
    for (std::size_t i = 0; i < 4; ++i) {
        expected += 2.0 * huber_slope(p.value()(i) - t.value()(i), 1.0) / 4.0 * (tp(i) - tt(i));
    }
    EXPECT_NEAR(jvp(loss, {p, t}, {tp, tt})(), expected, 1e-15);
    EXPECT_NEAR(jvp(loss, {t}, {tt})(), jvp(loss, {p, t}, {xt::zeros<double>({4}), tt})(), 1e-15);
    EXPECT_LE(testing::max_relative_error(jacobian_forward(loss, p), jacobian(loss, p)), 1e-15);
    // forward-over-reverse Hessian-vector products use the tangent rules of the graph rule
    const auto reverse = hessian_vector_product(loss, {p}, {tp}, hvp_mode::reverse_over_reverse);
    const auto forward = hessian_vector_product(loss, {p}, {tp}, hvp_mode::forward_over_reverse);
    EXPECT_EQ(forward[0], reverse[0]);
}

/// @brief y = x³ with only the rules given.
Function cube(bool with_backward, bool with_graph, bool with_tangent) {
    Function f;
    f.name = "cube";
    f.forward = [](const Function::Inputs& in) { return array(in[0] * in[0] * in[0]); };
    if (with_backward) {
        f.backward = [](const array& g, const Function::Inputs& in, const array&) {
            return std::vector<array>{3.0 * in[0] * in[0] * g};
        };
    }
    if (with_graph) {
        f.backward_as_graph = [](const Var& g, const std::vector<Var>& in, const Var&) {
            return std::vector<Var>{3.0 * in[0] * in[0] * g};
        };
    }
    if (with_tangent) {
        f.tangent = [](const std::vector<const array*>& t, const Function::Inputs& in,
                       const array&) { return array(3.0 * in[0] * in[0] * *t[0]); };
    }
    return f;
}

TEST(CustomOps, AMissingRuleIsAnErrorOnlyWhereItIsNeeded) {
    const Var x = parameter(array{1.0, -2.0});
    // forward alone: fine under no_grad and on constants
    {
        const no_grad scope;
        EXPECT_EQ(cube(false, false, false)({x}).value(), (array{1.0, -8.0}));
    }
    EXPECT_FALSE(cube(false, false, false)({constant(2.0)}).requires_grad());
    XGRAD_EXPECT_THROW_WITH(
        sum(cube(false, false, false)({x})).backward(), graph_error,
        "custom op 'cube' has no backward: reverse mode (backward, grad, jacobian) cannot pass "
        "through it");
    // first order without the graph rule: backward and grad() both work
    const Var y = sum(cube(true, false, false)({x}));
    y.backward();
    EXPECT_EQ(x.grad(), (array{3.0, 12.0}));
    EXPECT_EQ(grad(y, {x})[0].value(), (array{3.0, 12.0}));
    EXPECT_EQ(jacobian(cube(true, false, false)({x}), x), (array{{3.0, 0.0}, {0.0, 12.0}}));
    XGRAD_EXPECT_THROW_WITH(hessian(y, {x}), graph_error,
                            "custom op 'cube' has no second-order rule (backward_as_graph): "
                            "grad(create_graph=true), hessian and gradgradcheck cannot pass "
                            "through it");
    XGRAD_EXPECT_THROW_WITH(grad(y, {x}, true), graph_error, "no second-order rule");
    XGRAD_EXPECT_THROW_WITH(jvp(y, {x}, {array{1.0, 0.0}}), graph_error,
                            "custom op 'cube' has no tangent rule (tangent): jvp, "
                            "jacobian_forward and forward-over-reverse Hessian-vector products "
                            "cannot pass through it");
    // with every rule: all of them
    const Var z = sum(cube(true, true, true)({x}));
    EXPECT_EQ(hessian(z, {x}), (array{{6.0, 0.0}, {0.0, -12.0}}));
    EXPECT_EQ(jvp(z, {x}, {array{1.0, 1.0}})(), 15.0);
    // the Function itself
    Function nameless = cube(true, true, true);
    nameless.name.clear();
    XGRAD_EXPECT_THROW_WITH(apply(nameless, {x}), graph_error, "the Function has no name");
    Function no_forward = cube(true, true, true);
    no_forward.forward = nullptr;
    XGRAD_EXPECT_THROW_WITH(apply(no_forward, {x}), graph_error, "'cube' has no forward");
    XGRAD_EXPECT_THROW_WITH(apply(cube(true, true, true), {}), graph_error, "no inputs");
    XGRAD_EXPECT_THROW_WITH(apply(cube(true, true, true), {x, Var()}), graph_error,
                            "input 1 is an empty Var");
}

TEST(CustomOps, WrongGradientsAreRefusedNamingTheOpInputAndShapes) {
    const Var a = parameter(array{1.0, 2.0});
    const Var b = parameter(testing::column({1.0, 2.0}));
    Function f;
    f.name = "pair";
    f.forward = [](const Function::Inputs& in) { return array(xt::sum(in[0])() * in[1]); };
    f.backward = [](const array&, const Function::Inputs&, const array&) {
        return std::vector<array>{array{1.0}};  // one gradient for two inputs
    };
    XGRAD_EXPECT_THROW_WITH(sum(f({a, b})).backward(), shape_error,
                            "custom op 'pair': backward returned 1 gradients for 2 inputs");
    f.backward = [](const array&, const Function::Inputs&, const array&) {
        return std::vector<array>{array{1.0, 1.0}, array{1.0, 2.0}};  // b is (2,1)
    };
    XGRAD_EXPECT_THROW_WITH(sum(f({a, b})).backward(), shape_error,
                            "custom op 'pair': backward returned a gradient of shape (2,) for "
                            "input 1, which has shape (2,1)");
    XGRAD_EXPECT_THROW_WITH(grad(sum(f({a, b})), {a, b}), shape_error, "for input 1");
    f.backward_as_graph = [](const Var&, const std::vector<Var>&, const Var&) {
        return std::vector<Var>{constant(array{1.0, 1.0, 1.0}), Var()};
    };
    XGRAD_EXPECT_THROW_WITH(grad(sum(f({a, b})), {a, b}, true), shape_error,
                            "custom op 'pair': backward_as_graph returned a gradient of shape "
                            "(3,) for input 0, which has shape (2,)");
    f.tangent = [](const std::vector<const array*>&, const Function::Inputs&, const array&) {
        return array{1.0};
    };
    XGRAD_EXPECT_THROW_WITH(jvp(f({a, b}), {a}, {array{1.0, 0.0}}), shape_error,
                            "custom op 'pair': tangent returned shape (1,), but the output has "
                            "shape (2,1)");
    // the forward's own errors propagate
    XGRAD_EXPECT_THROW_WITH(apply(huber_function(), {a, b}), shape_error,
                            "huber: predictions (2,) and targets (2,1) differ in shape");
    XGRAD_EXPECT_THROW_WITH(apply(huber_function(), {parameter(array::from_shape({0})),
                                                     parameter(array::from_shape({0}))}),
                            shape_error, "cannot average over no elements");
    // the inputs' view is bounds-checked
    Function reader = cube(true, true, true);
    reader.forward = [](const Function::Inputs& in) { return array(in[1]); };
    XGRAD_EXPECT_THROW_WITH(reader({a}), std::out_of_range, "input index 1 is out of range for 1");
}

TEST(CustomOps, TapeReplayRerunsTheForwardWithTheNewValues) {
    Var p = parameter(array{0.5, 3.0});
    Var t = constant(array{0.0, 0.0});
    Tape tape(apply(huber_function(1.0), {p, t}) * 2.0);
    EXPECT_EQ(tape.output().item(), 2.0 * (0.125 + 2.5) / 2.0);
    p.mutable_value() = array{-2.0, 0.25, 1.0};
    t.mutable_value() = array{0.0, 0.0, 0.5};
    XGRAD_EXPECT_THROW_WITH(tape.backward(), graph_error, "was given a new value");
    tape.forward();
    EXPECT_EQ(tape.output().item(), 2.0 * (1.5 + 0.03125 + 0.125) / 3.0);
    p.zero_grad();
    tape.backward();
    EXPECT_EQ(p.grad(), (array{-2.0, 0.5, 1.0} / 3.0));
    // the same replay on a NaN-filled gradient: the first contribution overwrites
    tape.backward(array(std::nan("")));
    p.zero_grad();
    tape.backward();
    EXPECT_EQ(p.grad(), (array{-2.0, 0.5, 1.0} / 3.0));
}

TEST(CustomOps, UsedTwiceInOneGraphTheContributionsAdd) {
    const Function h = huber_function(1.0);
    Var p = parameter(array{0.5, -3.0});
    const Var t = constant(array{0.0, 0.0});
    const Var loss = h({p, t}) + h({p * 2.0, t});
    loss.backward();
    // d/dp [mean ℓ(p) + mean ℓ(2p)] = (ℓ'(p) + 2ℓ'(2p))/2
    EXPECT_EQ(p.grad(), (array{(0.5 + 2.0 * 1.0) / 2.0, (-1.0 + 2.0 * -1.0) / 2.0}));
    // the same input twice in one application
    Var q = parameter(array{0.25, 2.0});
    const Var zero = h({q, q});
    EXPECT_EQ(zero.item(), 0.0);
    zero.backward();
    EXPECT_EQ(q.grad(), (array{0.0, 0.0}));
    testing::expect_gradients_match(h({q, q * q}) + h({q * 3.0, q}));
}

TEST(CustomOps, OnlyTheInputsThatNeedAGradientAreAskedFor) {
    std::atomic<int> asked_for_target{0};
    Function f = huber_function(1.0);
    const Function::BackwardFn plain = f.backward;
    f.backward = [plain, &asked_for_target](const array& g, const Function::Inputs& in,
                                            const array& y) {
        if (in.requires_grad(1)) ++asked_for_target;
        EXPECT_TRUE(in.requires_grad(0));
        std::vector<array> grads = plain(g, in, y);
        grads[1] = array();  // ignored: the target needs no gradient
        return grads;
    };
    Var p = parameter(array{0.5, -3.0});
    const Var t = constant(array{1.0, 1.0});
    const Var loss = f({p, t});
    loss.backward();
    EXPECT_EQ(asked_for_target.load(), 0);
    EXPECT_EQ(p.grad(), (array{-0.25, -0.5}));
    XGRAD_EXPECT_THROW_WITH(t.grad(), graph_error, "has no gradient");
    // the forward pass never asks for gradients
    Function probe = huber_function(1.0);
    probe.forward = [](const Function::Inputs& in) {
        EXPECT_FALSE(in.requires_grad(0));
        return array(xt::sum(in[0]));
    };
    probe({p, t});
}

TEST(CustomOps, NoGradAnomalyAndVersions) {
    Var p = parameter(array{0.5, -3.0});
    const Var t = constant(array{0.0, 0.0});
    {
        const no_grad scope;
        const Var loss = apply(huber_function(), {p, t});
        EXPECT_FALSE(loss.requires_grad());
        EXPECT_TRUE(loss.is_leaf());  // no node kept
    }
    Function bad = huber_function();
    bad.backward = [](const array&, const Function::Inputs&, const array&) {
        return std::vector<array>{array{std::nan(""), 0.0}, array{0.0, 0.0}};
    };
    bad.forward = [](const Function::Inputs& in) { return array(xt::sum(in[0])); };
    {
        const detect_anomaly scope;
        XGRAD_EXPECT_THROW_WITH(bad({p, t}).backward(), anomaly_error, "'huber'");
        Function inf = huber_function();
        inf.forward = [](const Function::Inputs&) { return array(INFINITY); };
        XGRAD_EXPECT_THROW_WITH(inf({p, t}), anomaly_error, "'huber'");
    }
    const Var loss = apply(huber_function(), {p, t});
    p.mutable_value();
    XGRAD_EXPECT_THROW_WITH(loss.backward(), graph_error, "input 0 of 'huber'");
}

TEST(CustomOps, TheFamiliesAreInTheEngineWideTests) {
    int found = 0;
    for (const testing::Case& c : testing::every_op_family()) {
        if (c.name.rfind("custom op", 0) == 0 || c.name.rfind("checkpoint", 0) == 0) ++found;
    }
    EXPECT_EQ(found, 4);
}

}  // namespace
}  // namespace xgrad
