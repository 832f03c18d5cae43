/***************************************************************************
 * xgrad: replaying a recorded graph with new values                        *
 ***************************************************************************/
#include <random>

#include "support.hpp"
#include "xgrad/backend/blas.hpp"

namespace xgrad {
namespace {

using testing::max_relative_error;
using testing::random_array;
using testing::random_labels;
using testing::relative_error;

TEST(Tape, RecordsInCreationOrder) {
    Var w = parameter(1.0);
    Var x = constant(2.0);
    Var y = w * x + w;
    Tape tape(y);
    EXPECT_EQ(tape.size(), 4u);  // w, x, mul, add
    ASSERT_EQ(tape.parameters().size(), 1u);
    EXPECT_EQ(tape.parameters()[0].node_ptr(), w.node_ptr());
}

/// @brief Replays a logistic-regression loss with new data and parameters each step and compares
/// value and gradients with a graph built fresh from the same numbers. `hold_logits` keeps a
/// handle to matmul(X, w) + b, which stops the tape from fusing it away.
void replay_against_fresh_graph(bool hold_logits, reduction how, double tolerance) {
    std::mt19937_64 rng(31);
    Var X = constant(random_array(rng, {8, 3}));
    Var y = constant(xt::ones<double>({8}));
    Var w = parameter(random_array(rng, {3}));
    Var b = parameter(0.2);
    Var logits = matmul(X, w) + b;
    Tape tape(bce_with_logits(logits, y, how));
    if (!hold_logits) logits = Var();
    for (int step = 0; step < 5; ++step) {
        // New data and new parameters, as in a training loop.
        X.mutable_value() = random_array(rng, {8, 3});
        y.mutable_value() = random_labels(rng, 8);
        w.mutable_value() = random_array(rng, {3});
        tape.forward();
        zero_grad(std::vector<Var>{w, b});
        tape.backward();

        Var w2 = parameter(w.value());
        Var b2 = parameter(b.value());
        Var fresh = bce_with_logits(matmul(constant(X.value()), w2) + b2, constant(y.value()), how);
        fresh.backward();
        EXPECT_LE(relative_error(tape.output().item(), fresh.item()), tolerance);
        EXPECT_LE(max_relative_error(w.grad(), w2.grad()), tolerance);
        EXPECT_LE(max_relative_error(b.grad(), b2.grad()), tolerance);
    }
    EXPECT_EQ(tape.fused(), hold_logits ? 0u : 1u);
}

TEST(Tape, ReplayMatchesAFreshGraph) {
    // Unfused, the replay runs the very same arithmetic: equal to the last bit.
    replay_against_fresh_graph(true, reduction::mean, 0.0);
    replay_against_fresh_graph(true, reduction::sum, 0.0);
}

TEST(Tape, FusedReplayMatchesAFreshGraph) {
    // Fused, only the order of the sums differs.
    replay_against_fresh_graph(false, reduction::mean, 1e-14);
    replay_against_fresh_graph(false, reduction::sum, 1e-14);
}

TEST(Tape, FusionCoversBiasFirstVectorBiasAndDataGradients) {
    // b + X·w, b of shape (1,), several 512-row blocks, and X and y needing gradients too.
    std::mt19937_64 rng(37);
    const array X0 = random_array(rng, {1300, 4});
    const array y0 = random_labels(rng, 1300);
    const array w0 = random_array(rng, {4});
    auto build = [&](Var& X, Var& y, Var& w, Var& b) {
        X = parameter(X0);
        y = parameter(y0);
        w = parameter(w0);
        b = parameter(array{0.3});
    };
    Var X, y, w, b, X2, y2, w2, b2;
    build(X, y, w, b);
    Tape tape(bce_with_logits(b + matmul(X, w), y));
    tape.forward();
    tape.backward();
    EXPECT_EQ(tape.fused(), 1u);
    build(X2, y2, w2, b2);
    Var fresh = bce_with_logits(b2 + matmul(X2, w2), y2);
    fresh.backward();
    EXPECT_LE(relative_error(tape.output().item(), fresh.item()), 1e-14);
    for (auto [fused, plain] : {std::pair{X, X2}, {y, y2}, {w, w2}, {b, b2}}) {
        EXPECT_EQ(fused.grad().shape(), plain.grad().shape());
        EXPECT_LE(max_relative_error(fused.grad(), plain.grad(), 1e-12), 1e-13);
    }
}

TEST(Tape, FusedReplaySplitsLargeProblemsBetweenThreads) {
    // Enough rows for the kernel to split them between two threads (one part per 2^17 elements
    // of X at least): the parts' sums agree with one thread's and with the unfused graph.
    const int threads_before = blas_threads();
    if (!set_blas_threads(2)) GTEST_SKIP() << "the BLAS does not take a thread count";
    std::mt19937_64 rng(47);
    const array X0 = random_array(rng, {30001, 20});
    const array y0 = random_labels(rng, 30001);
    const array w0 = random_array(rng, {20}, -0.2, 0.2);
    auto step = [&](bool hold_logits) {
        Var w = parameter(w0);
        Var b = parameter(0.1);
        Var logits = matmul(constant(X0), w) + b;
        Tape tape(bce_with_logits(logits, constant(y0)));
        if (!hold_logits) logits = Var();
        tape.forward();
        tape.backward();
        EXPECT_EQ(tape.fused(), hold_logits ? 0u : 1u);
        return std::pair{tape.output().item(), array(w.grad())};
    };
    const auto [two_threads_loss, two_threads_grad] = step(false);
    const auto [plain_loss, plain_grad] = step(true);
    set_blas_threads(1);
    const auto [one_thread_loss, one_thread_grad] = step(false);
    set_blas_threads(threads_before > 0 ? threads_before : 1);
    EXPECT_LE(relative_error(two_threads_loss, plain_loss), 1e-14);
    EXPECT_LE(relative_error(one_thread_loss, plain_loss), 1e-14);
    EXPECT_LE(max_relative_error(two_threads_grad, plain_grad, 1e-12), 1e-12);
    EXPECT_LE(max_relative_error(one_thread_grad, plain_grad, 1e-12), 1e-12);
}

TEST(Tape, FusedReplayTakesAMatrixWithoutColumns) {
    // X (m, 0): every logit is b, so the loss is softplus(b) − b·ȳ and dL/db = σ(b) − ȳ.
    Var X = constant(xt::zeros<double>({5, 0}));
    Var y = constant(array{1.0, 0.0, 1.0, 1.0, 0.0});
    Var w = parameter(xt::zeros<double>({0}));
    Var b = parameter(0.5);
    Tape tape(bce_with_logits(matmul(X, w) + b, y));
    tape.forward();
    tape.backward();
    EXPECT_EQ(tape.fused(), 1u);
    const double sigmoid_b = 1.0 / (1.0 + std::exp(-0.5));
    EXPECT_NEAR(tape.output().item(), std::log1p(std::exp(0.5)) - 0.5 * 0.6, 1e-15);
    EXPECT_NEAR(b.grad()(), sigmoid_b - 0.6, 1e-15);
    EXPECT_EQ(w.grad().size(), 0u);
}

TEST(Tape, HeldIntermediatesAreNotFusedAway) {
    std::mt19937_64 rng(41);
    Var X = constant(random_array(rng, {16, 3}));
    Var y = constant(random_labels(rng, 16));
    Var w = parameter(random_array(rng, {3}));
    Var b = parameter(0.0);
    Var product = matmul(X, w);  // the user wants to see this one's gradient
    Tape tape(bce_with_logits(product + b, y));
    tape.forward();
    tape.backward();
    EXPECT_EQ(tape.fused(), 0u);
    EXPECT_EQ(product.grad().shape(), (shape_type{16}));
    Tape per_sample(sum(bce_with_logits(matmul(X, w) + b, y, reduction::none)));
    per_sample.forward();
    EXPECT_EQ(per_sample.fused(), 0u);  // the kernel makes a mean or a sum only
}

TEST(Tape, AfterAFusedReplayOtherPassesSeeCurrentValues) {
    std::mt19937_64 rng(43);
    const array X0 = random_array(rng, {20, 3});
    const array y0 = random_labels(rng, 20);
    Var X = constant(X0);
    Var y = constant(y0);
    Var w = parameter(random_array(rng, {3}));
    Var b = parameter(0.1);
    Var loss = bce_with_logits(matmul(X, w) + b, y);
    Tape tape(loss);
    w.mutable_value() = random_array(rng, {3});
    tape.forward();  // fused: the sum and the product are skipped
    ASSERT_EQ(tape.fused(), 1u);

    // A plain backward pass (a new tape, never replayed) and a Hessian (graphs built on the
    // skipped nodes) both need z at the new w: the skipped nodes recompute it when read.
    w.zero_grad();
    loss.backward();
    Var w2 = parameter(w.value());
    Var fresh = bce_with_logits(matmul(constant(X0), w2) + b, constant(y0));
    fresh.backward();
    EXPECT_LE(max_relative_error(w.grad(), w2.grad()), 1e-14);
    const array H = hessian(loss, {w});
    const array H2 = hessian(fresh, {w2});
    EXPECT_LE(max_relative_error(H, H2), 1e-14);
}

TEST(Tape, FusedReplayFallsBackWhenShapesNoLongerFit) {
    Var X = constant(xt::ones<double>({8, 3}));
    Var y = constant(xt::zeros<double>({8}));
    Var w = parameter(xt::zeros<double>({3}));
    Var b = parameter(0.0);
    Tape tape(bce_with_logits(matmul(X, w) + b, y));
    tape.forward();
    ASSERT_EQ(tape.fused(), 1u);
    // New shapes that still fit: the kernel takes them.
    X.mutable_value() = xt::ones<double>({5, 2});
    y.mutable_value() = xt::zeros<double>({5});
    w.mutable_value() = xt::zeros<double>({2});
    tape.forward();
    EXPECT_NEAR(tape.output().item(), std::log(2.0), 1e-15);
    // Shapes that do not: the plain ops run and raise their own errors.
    X.mutable_value() = xt::ones<double>({5, 4});
    XGRAD_EXPECT_THROW_WITH(tape.forward(), shape_error, "matmul: cannot multiply (5,4) by (2,)");
    X.mutable_value() = xt::ones<double>({6, 2});
    XGRAD_EXPECT_THROW_WITH(tape.forward(), shape_error,
                            "bce_with_logits: logits (6,) and targets (5,) differ in shape");
}

TEST(Tape, ReplayFollowsANewBatchSize) {
    Var X = constant(xt::ones<double>({4, 2}));
    Var w = parameter({1.0, 2.0});
    Tape tape(mean(matmul(X, w)));
    tape.backward();
    EXPECT_EQ(w.grad(), (array{1.0, 1.0}));
    X.mutable_value() = array{{1.0, 0.0}, {3.0, 1.0}};
    w.zero_grad();
    tape.forward();
    EXPECT_EQ(tape.output().item(), (1.0 + 5.0) / 2.0);
    tape.backward();
    EXPECT_EQ(w.grad(), (array{2.0, 0.5}));
}

TEST(Tape, InteriorGradientsResetEachPass) {
    Var x = parameter(1.0);
    Var y = x * 2.0;
    Var z = y * y;
    Tape tape(z);
    tape.backward();
    tape.backward();
    EXPECT_EQ(y.grad()(), 4.0);   // one pass's worth
    EXPECT_EQ(x.grad()(), 16.0);  // two passes' worth: parameters accumulate
}

TEST(Tape, ConstantSubgraphsAreReplayed) {
    // (1 - y) depends only on data; it must still follow y on replay.
    Var y = constant({0.0, 1.0});
    Var w = parameter({1.0, 1.0});
    Var one_minus = 1.0 - y;
    Tape tape(sum(one_minus * w));
    y.mutable_value() = array{1.0, 1.0};
    tape.forward();
    EXPECT_EQ(tape.output().item(), 0.0);
    EXPECT_EQ(one_minus.value(), (array{0.0, 0.0}));
}

}  // namespace
}  // namespace xgrad
