// checkpoint(): gradients bit for bit equal to the plain graph's (a tanh chain, an MLP, several
// inputs, captured and shared weights), second order, forward mode, replays, NaN buffers,
// errors, and that the interior is really dropped.
#include <cmath>
#include <functional>
#include <random>
#include <stdexcept>
#include <vector>

#include "support.hpp"
#include "xgrad/core/checkpoint.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad {
namespace {

using testing::random_array;

/// @brief Parameters of a chain: x (rows, width) and `depth` weights (width, width).
struct Chain {
    Var x;
    std::vector<Var> weights;
    std::vector<Var> all() const {
        std::vector<Var> p{x};
        p.insert(p.end(), weights.begin(), weights.end());
        return p;
    }
};

Chain make_chain(std::size_t depth, std::size_t rows, std::size_t width, std::uint64_t seed) {
    std::mt19937_64 rng(seed);
    Chain c{parameter(random_array(rng, {rows, width})), {}};
    for (std::size_t i = 0; i < depth; ++i) {
        c.weights.push_back(parameter(random_array(rng, {width, width}, -0.6, 0.6)));
    }
    return c;
}

/// @brief sum(h²) of h = tanh(h·Wᵢ) over the chain; layers [k·segment, (k+1)·segment) are one
/// checkpoint each when segment > 0, their weights captured (or passed, if `pass_weights`).
Var chain_loss(const Chain& c, std::size_t segment, bool pass_weights = false) {
    Var h = c.x;
    const std::size_t depth = c.weights.size();
    for (std::size_t start = 0; start < depth;) {
        const std::size_t end = segment == 0 ? depth : std::min(depth, start + segment);
        if (segment == 0) {
            for (std::size_t i = start; i < end; ++i) h = tanh(matmul(h, c.weights[i]));
        } else if (pass_weights) {
            std::vector<Var> in{h};
            in.insert(in.end(), c.weights.begin() + static_cast<std::ptrdiff_t>(start),
                      c.weights.begin() + static_cast<std::ptrdiff_t>(end));
            h = checkpoint(
                [](const std::vector<Var>& v) {
                    Var y = v[0];
                    for (std::size_t i = 1; i < v.size(); ++i) y = tanh(matmul(y, v[i]));
                    return y;
                },
                in);
        } else {
            const std::vector<Var> ws(c.weights.begin() + static_cast<std::ptrdiff_t>(start),
                                      c.weights.begin() + static_cast<std::ptrdiff_t>(end));
            h = checkpoint(
                [ws](const std::vector<Var>& v) {
                    Var y = v[0];
                    for (const Var& w : ws) y = tanh(matmul(y, w));
                    return y;
                },
                {h});
        }
        start = end;
    }
    return sum(h * h);
}

std::vector<array> grads_of(const std::vector<Var>& params) {
    std::vector<array> g;
    for (const Var& p : params) g.push_back(p.grad());
    return g;
}

TEST(Checkpoint, TwentyLayerTanhChainGradientsAreBitIdentical) {
    const Chain plain = make_chain(20, 4, 8, 1);
    const Var reference = chain_loss(plain, 0);
    reference.backward();
    const std::vector<array> expected = grads_of(plain.all());
    for (std::size_t segment : {1u, 3u, 5u, 20u}) {
        for (bool pass_weights : {false, true}) {
            SCOPED_TRACE("segment " + std::to_string(segment) + (pass_weights ? " passed" : ""));
            const Chain c = make_chain(20, 4, 8, 1);
            const Var loss = chain_loss(c, segment, pass_weights);
            EXPECT_EQ(loss.value(), reference.value());
            loss.backward();
            const std::vector<array> got = grads_of(c.all());
            for (std::size_t k = 0; k < got.size(); ++k) EXPECT_EQ(got[k], expected[k]) << k;
        }
    }
}

TEST(Checkpoint, TheInteriorIsNotKept) {
    const Chain c = make_chain(20, 4, 8, 1);
    const std::size_t plain = Tape(chain_loss(c, 0)).size();
    const std::size_t checkpointed = Tape(chain_loss(c, 5)).size();
    // plain: x, 20 weights, 20 matmuls, 20 tanh, the square and the sum
    EXPECT_EQ(plain, 1u + 20u + 40u + 2u);
    // checkpointed: x, 20 weights, 4 checkpoint nodes, the square and the sum
    EXPECT_EQ(checkpointed, 1u + 20u + 4u + 2u);
    // and nothing of a segment's interior outlives the call (only the output value is held)
    const Var x = parameter(array{1.0, 2.0});
    std::weak_ptr<detail::Node> interior;
    const Var out = checkpoint(
        [&interior](const std::vector<Var>& v) {
            const Var inner = exp(v[0]);
            interior = inner.node_ptr();
            return inner * 2.0;
        },
        {x});
    EXPECT_TRUE(interior.expired());
    sum(out).backward();
    EXPECT_TRUE(interior.expired());
    // exp's kernel is within 1 ulp of the C library's (tests/backend/test_elementwise_kernels)
    EXPECT_LE(testing::max_relative_error(x.grad(), 2.0 * xt::exp(x.value())), 1e-15);
}

/// @brief A small MLP: 6 → 16 → 16 → 3, tanh/relu, cross-entropy; each layer a checkpoint (its
/// weight and bias passed, or captured) when `checkpointed`.
struct Mlp {
    std::vector<Var> params;  // W1 b1 W2 b2 W3 b3
    explicit Mlp(std::uint64_t seed) {
        std::mt19937_64 rng(seed);
        const std::vector<std::pair<std::size_t, std::size_t>> dims = {{6, 16}, {16, 16}, {16, 3}};
        for (const auto& [in, out] : dims) {
            params.push_back(parameter(random_array(rng, {in, out}, -0.5, 0.5)));
            params.push_back(parameter(random_array(rng, {out}, -0.1, 0.1)));
        }
    }
    Var loss(const Var& X, const Var& labels, bool checkpointed, bool capture) const {
        Var h = X;
        for (std::size_t layer = 0; layer < 3; ++layer) {
            const Var W = params[2 * layer];
            const Var b = params[2 * layer + 1];
            auto act = [layer](const Var& z) { return layer == 0 ? tanh(z) : relu(z); };
            if (!checkpointed) {
                h = layer == 2 ? matmul(h, W) + b : act(matmul(h, W) + b);
            } else if (capture) {
                h = checkpoint(
                    [W, b, layer, act](const std::vector<Var>& v) {
                        return layer == 2 ? matmul(v[0], W) + b : act(matmul(v[0], W) + b);
                    },
                    {h});
            } else {
                h = checkpoint(
                    [layer, act](const std::vector<Var>& v) {
                        return layer == 2 ? matmul(v[0], v[1]) + v[2]
                                          : act(matmul(v[0], v[1]) + v[2]);
                    },
                    {h, W, b});
            }
        }
        return cross_entropy(h, labels);
    }
};

TEST(Checkpoint, MlpGradientsAreBitIdenticalPerLayer) {
    std::mt19937_64 rng(2);
    const Var X = constant(random_array(rng, {10, 6}));
    const Var labels = constant(array{0, 1, 2, 0, 1, 2, 2, 1, 0, 0});
    const Mlp plain(3);
    const Var reference = plain.loss(X, labels, false, false);
    reference.backward();
    for (bool capture : {false, true}) {
        SCOPED_TRACE(capture ? "captured" : "passed");
        const Mlp net(3);
        const Var loss = net.loss(X, labels, true, capture);
        EXPECT_EQ(loss.value(), reference.value());
        loss.backward();
        for (std::size_t k = 0; k < net.params.size(); ++k) {
            EXPECT_EQ(net.params[k].grad(), plain.params[k].grad()) << k;
        }
    }
}

TEST(Checkpoint, SeveralInputsCapturedInteriorNodesAndSharedWeights) {
    // One weight used by every layer (captured by three checkpoints), an interior node of the
    // surrounding graph captured, an input passed twice, an input fn never reads.
    auto build = [](const Var& x, const Var& W, const Var& s, bool checkpointed) {
        const Var outside = sigmoid(x) * s;  // an interior node that needs a gradient
        auto layer = [W, outside](const std::vector<Var>& v) {
            return tanh(matmul(v[0], W) + outside) * v[1] + v[0] * v[1];
        };
        Var h = x;
        for (int i = 0; i < 3; ++i) {
            h = checkpointed ? checkpoint(layer, {h, s, h, constant(1.0)}) : layer({h, s});
        }
        return sum(h * h) + sum(outside);
    };
    std::mt19937_64 rng(4);
    const array x0 = random_array(rng, {3, 4});
    const array W0 = random_array(rng, {4, 4});
    const Var x = parameter(x0), W = parameter(W0), s = parameter(0.7);
    build(x, W, s, false).backward();
    const Var x2 = parameter(x0), W2 = parameter(W0), s2 = parameter(0.7);
    const Var loss = build(x2, W2, s2, true);
    loss.backward();
    EXPECT_EQ(x2.grad(), x.grad());
    EXPECT_EQ(W2.grad(), W.grad());
    EXPECT_EQ(s2.grad(), s.grad());
    // the captured weight is an input of each checkpoint: changing it is caught
    W2.mutable_value();
    XGRAD_EXPECT_THROW_WITH(loss.backward(), graph_error, "of 'checkpoint'");
}

TEST(Checkpoint, SecondOrderThroughACheckpointEqualsThePlainHessian) {
    const Chain plain = make_chain(4, 2, 3, 5);
    const Chain c = make_chain(4, 2, 3, 5);
    for (bool pass_weights : {false, true}) {
        const array expected = hessian(chain_loss(plain, 0), plain.all());
        const array got = hessian(chain_loss(c, 2, pass_weights), c.all());
        ASSERT_EQ(got.shape(), expected.shape());
        EXPECT_LE(testing::max_relative_error(got, expected, 1e-12), 1e-12);
    }
    // a gradient of the gradient through nested checkpoints, by gradgradcheck
    const Var x = parameter(array{0.3, -0.8, 1.1});
    const Var w = parameter(array{0.5, 0.2, -0.4});
    auto f = [&] {
        return sum(checkpoint(
            [w](const std::vector<Var>& v) {
                return sin(checkpoint([](const std::vector<Var>& u) { return u[0] * u[0]; },
                                      {v[0]})) *
                       w;
            },
            {x}));
    };
    EXPECT_TRUE(gradgradcheck(f, {x, w}).passed);
    // forward-over-reverse Hessian-vector products go through the rebuilt gradient graph
    const std::vector<array> v = {array{1.0, -1.0, 0.5}, array{0.0, 2.0, 1.0}};
    const auto rr = hessian_vector_product(f(), {x, w}, v, hvp_mode::reverse_over_reverse);
    const auto fr = hessian_vector_product(f(), {x, w}, v, hvp_mode::forward_over_reverse);
    for (std::size_t k = 0; k < 2; ++k) {
        EXPECT_LE(testing::max_relative_error(fr[k], rr[k], 1e-12), 1e-12);
    }
}

TEST(Checkpoint, ForwardModeThroughACheckpoint) {
    const Chain plain = make_chain(6, 2, 3, 8);
    const Chain c = make_chain(6, 2, 3, 8);
    std::mt19937_64 rng(6);
    std::vector<array> tangents;
    for (const Var& p : plain.all()) tangents.push_back(random_array(rng, p.shape()));
    const array expected = jvp(chain_loss(plain, 0), plain.all(), tangents);
    const array got = jvp(chain_loss(c, 4), c.all(), tangents);
    EXPECT_LE(testing::max_relative_error(got, expected, 1e-14), 1e-14);
    // only some inputs with a tangent (the others' are zero)
    const array only_x = jvp(chain_loss(c, 2, true), {c.x}, {tangents[0]});
    EXPECT_LE(
        testing::max_relative_error(only_x, jvp(chain_loss(plain, 0), {plain.x}, {tangents[0]})),
        1e-14);
    EXPECT_LE(testing::max_relative_error(jacobian_forward(chain_loss(c, 3), c.x),
                                          jacobian(chain_loss(c, 3), c.x), 1e-14),
              1e-13);
}

TEST(Checkpoint, TapeReplayRecomputesTheSegmentWithNewValues) {
    const Chain c = make_chain(6, 2, 3, 9);
    Tape tape(chain_loss(c, 2));
    std::mt19937_64 rng(10);
    const array new_x = random_array(rng, {5, 3});  // another batch size
    c.x.mutable_value() = new_x;
    c.weights[3].mutable_value() *= 0.5;
    XGRAD_EXPECT_THROW_WITH(tape.backward(), graph_error, "was given a new value");
    tape.forward();
    for (const Var& p : c.all()) p.zero_grad();
    tape.backward();
    Chain fresh = make_chain(6, 2, 3, 9);
    fresh.x.mutable_value() = new_x;
    fresh.weights[3].mutable_value() *= 0.5;
    const Var reference = chain_loss(fresh, 0);
    EXPECT_EQ(tape.output().value(), reference.value());
    reference.backward();
    for (std::size_t k = 0; k < c.all().size(); ++k) {
        EXPECT_EQ(c.all()[k].grad(), fresh.all()[k].grad()) << k;
    }
}

TEST(Checkpoint, ANaNSeededPassLeavesNothingBehindAfterZeroGrad) {
    const Chain c = make_chain(5, 2, 3, 12);
    const Chain fresh = make_chain(5, 2, 3, 12);
    const Var loss = chain_loss(c, 2);
    loss.backward(array(std::nan("")));
    for (const Var& p : c.all()) p.zero_grad();
    loss.backward();
    chain_loss(fresh, 2).backward();
    for (std::size_t k = 0; k < c.all().size(); ++k) {
        EXPECT_EQ(c.all()[k].grad(), fresh.all()[k].grad()) << k;
    }
    // and two passes accumulate
    loss.backward();
    EXPECT_EQ(c.x.grad(), 2.0 * fresh.x.grad());
}

TEST(Checkpoint, GradWithoutCreateGraphAndUnderNoGrad) {
    const Chain c = make_chain(4, 2, 3, 13);
    const Var loss = chain_loss(c, 2);
    loss.backward();
    // grad() runs under no_grad: the segment is rebuilt with recording on all the same
    const std::vector<Var> g = grad(loss, c.all());
    for (std::size_t k = 0; k < g.size(); ++k) {
        EXPECT_LE(testing::max_relative_error(g[k].value(), c.all()[k].grad(), 1e-14), 1e-14);
    }
    const no_grad scope;
    const Var value_only = chain_loss(c, 2);
    EXPECT_FALSE(value_only.requires_grad());
    EXPECT_EQ(value_only.value(), loss.value());
}

TEST(Checkpoint, ErrorsAndExceptionsLeaveTheGraphUsable) {
    const Var x = parameter(array{1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(checkpoint(nullptr, {x}), graph_error, "checkpoint: fn is empty");
    XGRAD_EXPECT_THROW_WITH(checkpoint([](const std::vector<Var>& v) { return v[0]; }, {x, Var()}),
                            graph_error, "checkpoint: input 1 is an empty Var");
    XGRAD_EXPECT_THROW_WITH(checkpoint([](const std::vector<Var>&) { return Var(); }, {x}),
                            graph_error, "checkpoint: fn returned an empty Var");
    // fn that throws: the exception propagates, at creation or during backward
    XGRAD_EXPECT_THROW_WITH(
        checkpoint([](const std::vector<Var>&) -> Var { throw std::runtime_error("boom"); }, {x}),
        std::runtime_error, "boom");
    bool fail = false;
    const Var y = sum(checkpoint(
                          [&fail](const std::vector<Var>& v) {
                              if (fail) throw std::runtime_error("recomputation failed");
                              return exp(v[0]);
                          },
                          {x}) *
                      x);
    fail = true;
    XGRAD_EXPECT_THROW_WITH(y.backward(), std::runtime_error, "recomputation failed");
    fail = false;
    x.zero_grad();
    y.backward();  // d/dx Σ eˣ·x = eˣ(1 + x)
    EXPECT_LE(testing::max_relative_error(x.grad(), xt::exp(x.value()) * (1.0 + x.value())), 1e-15);
    // a non-deterministic fn that reads another captured Var on recomputation is refused
    const Var a = parameter(1.5);
    const Var b = parameter(2.5);
    bool use_b = false;
    const Var z =
        checkpoint([&](const std::vector<Var>& v) { return v[0] * (use_b ? b : a); }, {x});
    use_b = true;
    XGRAD_EXPECT_THROW_WITH(sum(z).backward(), graph_error,
                            "on recomputation fn read 'parameter', a Var from outside it that "
                            "its first run did not read");
    // fn returning its own input: that Var itself; a result built from nothing: a constant
    EXPECT_EQ(checkpoint([](const std::vector<Var>& v) { return v[0]; }, {x}).node_ptr(),
              x.node_ptr());
    const Var built = checkpoint([](const std::vector<Var>&) { return constant(3.0) * 2.0; }, {});
    EXPECT_TRUE(built.is_leaf());
    EXPECT_EQ(built.item(), 6.0);
    // no inputs passed, everything captured
    const Var captured_only = checkpoint([a](const std::vector<Var>&) { return a * a; }, {});
    captured_only.backward();
    EXPECT_EQ(a.grad()(), 3.0);
}

TEST(Checkpoint, AnomalyModeNamesTheOpInsideTheSegment) {
    const Var x = parameter(array{0.0, 1.0});
    const Var y = sum(checkpoint([](const std::vector<Var>& v) { return sqrt(v[0]); }, {x}));
    const detect_anomaly scope;
    XGRAD_EXPECT_THROW_WITH(y.backward(), anomaly_error, "backward of 'sqrt'");
    XGRAD_EXPECT_THROW_WITH(jvp(y, {x}, {array{1.0, 1.0}}), anomaly_error, "'sqrt'");
    XGRAD_EXPECT_THROW_WITH(checkpoint([](const std::vector<Var>& v) { return log(v[0]); }, {x}),
                            anomaly_error, "'log'");
}

}  // namespace
}  // namespace xgrad
