/***************************************************************************
 * xgrad: replaying a recorded graph with new values                        *
 ***************************************************************************/
#include <random>

#include "support.hpp"

namespace xgrad {
namespace {

using testing::random_array;

TEST(Tape, RecordsInCreationOrder) {
    Var w = parameter(1.0);
    Var x = constant(2.0);
    Var y = w * x + w;
    Tape tape(y);
    EXPECT_EQ(tape.size(), 4u);  // w, x, mul, add
    ASSERT_EQ(tape.parameters().size(), 1u);
    EXPECT_EQ(tape.parameters()[0].node_ptr(), w.node_ptr());
}

TEST(Tape, ReplayMatchesAFreshGraph) {
    std::mt19937_64 rng(31);
    Var X = constant(random_array(rng, {8, 3}));
    Var y = constant(xt::ones<double>({8}));
    Var w = parameter(random_array(rng, {3}));
    Var b = parameter(0.2);
    Tape tape(bce_with_logits(matmul(X, w) + b, y));
    for (int step = 0; step < 5; ++step) {
        // New data and new parameters, as in a training loop.
        X.mutable_value() = random_array(rng, {8, 3});
        y.mutable_value() = xt::round(random_array(rng, {8}, 0.0, 1.0));
        w.mutable_value() = random_array(rng, {3});
        tape.forward();
        zero_grad(std::vector<Var>{w, b});
        tape.backward();

        Var w2 = parameter(w.value());
        Var b2 = parameter(b.value());
        Var fresh = bce_with_logits(matmul(constant(X.value()), w2) + b2, constant(y.value()));
        fresh.backward();
        EXPECT_EQ(tape.output().item(), fresh.item());
        EXPECT_EQ(w.grad(), w2.grad());
        EXPECT_EQ(b.grad(), b2.grad());
    }
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
