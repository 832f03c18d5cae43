/***************************************************************************
 * xgrad: a replayed training step makes no heap allocation, and a dropped  *
 * graph leaves nothing behind. Counts through a replaced operator new.     *
 ***************************************************************************/
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>

#include "support.hpp"
#include "xgrad/backend/blas.hpp"

namespace {
std::atomic<long long> allocations{0};  // operator new calls since start
std::atomic<long long> live_blocks{0};  // allocated and not yet freed
std::atomic<std::size_t> largest{0};    // the largest block asked for since the last reset

void* counted_alloc(std::size_t size) {
    void* p = std::malloc(size == 0 ? 1 : size);
    if (p == nullptr) throw std::bad_alloc();
    ++allocations;
    if (size > largest.load()) largest = size;
    ++live_blocks;
    return p;
}
void counted_free(void* p) noexcept {
    if (p == nullptr) return;
    --live_blocks;
    std::free(p);
}
}  // namespace

#include "replace_new.hpp"  // operator new and delete through counted_alloc/counted_free

namespace xgrad {
namespace {

using testing::random_array;
using testing::random_labels;

struct LogisticStep {
    Var X, y, w, b;
    Tape tape;
};

/// @brief The loss of the logistic step: the fused op, the fused BCE on logits, or the
/// written-out BCE on sigmoid.
enum class Loss { linear_bce, bce_with_logits, bce_on_sigmoid };

LogisticStep build(std::size_t m, std::size_t n, Loss kind, std::mt19937_64& rng) {
    Var X = constant(random_array(rng, {m, n}));
    Var y = constant(random_labels(rng, m));
    Var w = parameter(xt::zeros<double>({n}));
    Var b = parameter(0.0);
    Var z = matmul(X, w) + b;
    Var loss = kind == Loss::linear_bce        ? linear_bce_with_logits(X, w, b, y)
               : kind == Loss::bce_with_logits ? bce_with_logits(z, y)
                                               : binary_cross_entropy(sigmoid(z), y);
    return {X, y, w, b, Tape(loss)};
}

/// @brief forward, zero_grad, backward and an SGD update, on new data each time.
void train_steps(LogisticStep& s, const array& batches, int steps) {
    const std::size_t block = s.X.size();
    for (int k = 0; k < steps; ++k) {
        const double* src = batches.data() + (static_cast<std::size_t>(k) % 2) * block;
        std::copy(src, src + block, s.X.mutable_value().data());
        s.tape.forward();
        s.w.zero_grad();
        s.b.zero_grad();
        s.tape.backward();
        xt::noalias(s.w.mutable_value()) -= 0.1 * s.w.grad();
        xt::noalias(s.b.mutable_value()) -= 0.1 * s.b.grad();
    }
}

TEST(Allocations, ReplayedLogisticStepAllocatesNothing) {
    std::mt19937_64 rng(61);
    for (Loss kind : {Loss::linear_bce, Loss::bce_with_logits, Loss::bce_on_sigmoid}) {
        for (auto [m, n] : {std::pair<std::size_t, std::size_t>{64, 10}, {1000, 20}, {1, 3}}) {
            SCOPED_TRACE(std::to_string(m) + "x" + std::to_string(n) + " loss " +
                         std::to_string(static_cast<int>(kind)));
            LogisticStep step = build(m, n, kind, rng);
            const array batches = random_array(rng, {2, m, n});
            train_steps(step, batches, 2);  // first runs size the gradient buffers
            const long long before = allocations.load();
            train_steps(step, batches, 20);
            EXPECT_EQ(allocations.load() - before, 0);
            EXPECT_TRUE(std::isfinite(step.tape.output().item()));
        }
    }
}

TEST(Allocations, ReplayedStepSplitBetweenThreadsAllocatesNothing) {
    // Large enough for the fused kernel to hand half of the rows to a worker thread.
    const int threads_before = blas_threads();
    if (!set_blas_threads(2)) GTEST_SKIP() << "the BLAS does not take a thread count";
    std::mt19937_64 rng(71);
    LogisticStep step = build(20000, 20, Loss::bce_with_logits, rng);
    const array batches = random_array(rng, {2, 20000, 20});
    train_steps(step, batches, 2);  // first runs start the worker and size the buffers
    const long long before = allocations.load();
    train_steps(step, batches, 10);
    EXPECT_EQ(allocations.load() - before, 0);
    EXPECT_EQ(step.tape.fused(), 1u);
    set_blas_threads(threads_before > 0 ? threads_before : 1);
}

TEST(Allocations, ReplayedMatrixProductsAndBroadcastsAllocateNothing) {
    std::mt19937_64 rng(67);
    Var X = constant(random_array(rng, {32, 8}));
    Var W = parameter(random_array(rng, {8, 4}));
    Var bias = parameter(random_array(rng, {4}));
    Var hidden = tanh(matmul(X, W) + bias);
    Var out = sum(mean(relu(matmul(transpose(hidden), hidden)), 0)) + sum(pow(W, 3.0));
    Tape tape(out);
    tape.forward();
    tape.backward();
    const long long before = allocations.load();
    for (int k = 0; k < 5; ++k) {
        tape.forward();
        zero_grad(std::vector<Var>{});
        W.zero_grad();
        bias.zero_grad();
        tape.backward();
    }
    EXPECT_EQ(allocations.load() - before, 0);
}

TEST(Allocations, ReplayedMlpStepAllocatesNothingOnOneOrTwoThreads) {
    // The MLP of the peer benchmark: its large products go through the packed product, which
    // keeps its packing space per thread between calls.
    const int threads_before = blas_threads();
    std::mt19937_64 rng(73);
    Var X = constant(random_array(rng, {256, 784}));
    Var labels = constant(xt::floor(10.0 * random_array(rng, {256}, 0.0, 0.999)));
    Var W1 = parameter(random_array(rng, {784, 256}, -0.05, 0.05)),
        b1 = parameter(xt::zeros<double>({256}));
    Var W2 = parameter(random_array(rng, {256, 10}, -0.1, 0.1)),
        b2 = parameter(xt::zeros<double>({10}));
    Tape tape(cross_entropy(matmul(relu(matmul(X, W1) + b1), W2) + b2, labels));
    const std::vector<Var> params{W1, b1, W2, b2};
    auto steps = [&](int count) {
        for (int k = 0; k < count; ++k) {
            tape.forward();
            zero_grad(params);
            tape.backward();
            for (Var p : params) xt::noalias(p.mutable_value()) -= 0.01 * p.grad();
        }
    };
    for (const int threads : {1, 2}) {
        if (!set_blas_threads(threads) && threads > 1) continue;
        steps(2);  // first runs size the gradient and packing buffers (and start a worker)
        const long long before = allocations.load();
        steps(5);
        EXPECT_EQ(allocations.load() - before, 0) << threads << " thread(s)";
        EXPECT_TRUE(std::isfinite(tape.output().item()));
    }
    set_blas_threads(threads_before > 0 ? threads_before : 1);
}

TEST(Allocations, ReplayedCnnStepAllocatesNothing) {
    // The image issue's layers in one replayed training step: conv2d (its column matrix kept by
    // the node), batch norm (its scratch kept, its running statistics updated in place), ReLU,
    // max pooling (its argmax positions), dropout (a fresh mask each replay), flatten, linear.
    std::mt19937_64 rng(75);
    nn::Sequential net;
    net.add<nn::Conv2d>(1, 4, 3, 1, 1, 1);
    net.add<nn::BatchNorm2d>(4);
    net.add<nn::ReLU>();
    net.add<nn::MaxPool2d>(2);
    net.add<nn::Dropout>(0.25, 2);
    net.add<nn::Flatten>();
    net.add<nn::Linear>(4 * 6 * 6, 10, 3);
    Var X = constant(random_array(rng, {8, 1, 12, 12}));
    Var labels = constant(xt::floor(10.0 * random_array(rng, {8}, 0.0, 0.999)));
    Tape tape(cross_entropy(net(X), labels));
    const std::vector<Var> params = net.parameters();
    auto steps = [&](int count) {
        for (int k = 0; k < count; ++k) {
            tape.forward();
            zero_grad(params);
            tape.backward();
            for (Var p : params) xt::noalias(p.mutable_value()) -= 0.01 * p.grad();
        }
    };
    steps(2);  // first runs size the buffers
    const long long before = allocations.load();
    steps(5);
    EXPECT_EQ(allocations.load() - before, 0);
    EXPECT_TRUE(std::isfinite(tape.output().item()));
}

TEST(Allocations, DroppedMillionNodeGraphLeavesNothing) {
    const long long baseline = live_blocks.load();
    {
        Var x = parameter({1.0, 2.0});
        Var y = x;
        for (int i = 0; i < 1000000; ++i) y = y * 1.0;
        Var loss = sum(y);
        loss.backward();
        EXPECT_EQ(x.grad(), (array{1.0, 1.0}));
        EXPECT_GT(live_blocks.load() - baseline, 1000000);
    }
    EXPECT_EQ(live_blocks.load(), baseline);
}

TEST(Allocations, BuildingATapeAllocatesPerDoublingNotPerNode) {
    // The walk's visited set is one flat table: a 20 000-node chain costs a few dozen blocks
    // (the table, the order and stack vectors growing), not one per node.
    Var x = parameter({1.0, 2.0});
    Var y = x;
    for (int i = 0; i < 10000; ++i) y = tanh(y) * 0.5;
    const Var loss = sum(y);
    const long long before = allocations.load();
    const Tape tape(loss);
    EXPECT_LT(allocations.load() - before, 100);
    EXPECT_EQ(tape.size(), 20002u);  // x, 10 000 × (tanh, ·0.5), sum
}

TEST(Allocations, ATransposeFeedingMatmulIsNeverCopied) {
    // X is 400×50 (160 000 bytes): no block that large may be asked for by products with Xᵀ,
    // their gradients, or their gradients as graphs (which write transpose(transpose(X))).
    std::mt19937_64 rng(83);
    const Var X = constant(testing::random_array(rng, {400, 50}));
    const Var w = parameter(testing::random_array(rng, {400}));
    const Var loss = sum(matmul(transpose(X), w) * matmul(transpose(X), w));
    const std::size_t x_bytes = 400 * 50 * sizeof(double);
    largest = 0;
    loss.backward();
    EXPECT_LT(largest.load(), x_bytes) << "backward";
    (void)grad(loss, {w});
    EXPECT_LT(largest.load(), x_bytes) << "grad";
    (void)grad(loss, {w}, true);
    EXPECT_LT(largest.load(), x_bytes) << "grad as a graph";
    (void)hessian_vector_product(loss, {w}, {xt::ones<double>({400})});
    EXPECT_LT(largest.load(), x_bytes) << "hessian_vector_product";
    (void)matmul(transpose(transpose(transpose(X))), w);
    EXPECT_LT(largest.load(), x_bytes) << "three transposes";
}

}  // namespace
}  // namespace xgrad
