/***************************************************************************
 * xgrad: optimizers follow torch.optim's trajectories; the table of        *
 * optimizer names; schedules; mini-batch training                          *
 ***************************************************************************/
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "reference/nn_torch.hpp"
#include "reference/optim_torch.hpp"
#include "support.hpp"
#include "xgrad/backend/blas.hpp"
#include "xgrad/optim/adagrad.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/registry.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/schedules.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/optim/training.hpp"

namespace xgrad {
namespace {

namespace ref = reference::optim_torch;

std::unique_ptr<optim::Optimizer> make(const ref::Case& c, const std::vector<Var>& params) {
    const std::string name = c.optimizer;
    if (name == "sgd") {
        return std::make_unique<optim::SGD>(params, c.learning_rate, c.momentum, c.nesterov,
                                            c.weight_decay);
    }
    if (name == "adagrad")
        return std::make_unique<optim::AdaGrad>(params, c.learning_rate, 1e-10, c.weight_decay);
    if (name == "rmsprop") {
        return std::make_unique<optim::RMSProp>(params, c.learning_rate, 0.99, 1e-8, c.momentum,
                                                c.weight_decay);
    }
    return std::make_unique<optim::Adam>(params, c.learning_rate, 0.9, 0.999, 1e-8, c.weight_decay);
}

TEST(Optimizers, FollowTorchTrajectoriesForTenSteps) {
    array X = array::from_shape({8, 3});
    std::copy(ref::X.begin(), ref::X.end(), X.begin());
    array y = array::from_shape({8});
    std::copy(ref::y.begin(), ref::y.end(), y.begin());
    for (const ref::Case& c : ref::cases) {
        SCOPED_TRACE(std::string(c.optimizer) + " lr " + std::to_string(c.learning_rate) +
                     " momentum " + std::to_string(c.momentum) + (c.nesterov ? " nesterov" : "") +
                     " decay " + std::to_string(c.weight_decay));
        array w0 = array::from_shape({3});
        std::copy(ref::w0.begin(), ref::w0.end(), w0.begin());
        Var w = parameter(w0);
        Var b = parameter(ref::b0);
        Tape tape(bce_with_logits(matmul(constant(X), w) + b, constant(y)));
        const auto optimizer = make(c, {w, b});
        for (std::size_t step = 0; step < 10; ++step) {
            tape.forward();
            optimizer->zero_grad();
            tape.backward();
            optimizer->step();
            const array expected = {c.trajectory[4 * step], c.trajectory[4 * step + 1],
                                    c.trajectory[4 * step + 2], c.trajectory[4 * step + 3]};
            const array got = {w.value()(0), w.value()(1), w.value()(2), b.value()()};
            // Normwise: RMSProp's first step takes b from 0.1 to about 1e-7, where an entrywise
            // relative error would only measure the cancellation.
            EXPECT_LE(normwise_relative_error(got, expected), 1e-12) << "step " << step + 1;
        }
    }
}

TEST(Optimizers, SgdOnALargeParameterSplitBetweenThreadsMatchesOneThread) {
    // 300 000 elements: with two BLAS threads the update is split between them; every element
    // gets the same arithmetic, so the results agree bit for bit, with and without momentum.
    const int threads_before = blas_threads();
    std::mt19937_64 rng(83);
    const array start = testing::random_array(rng, {600, 500});
    const array gradient = testing::random_array(rng, {600, 500});
    auto three_steps = [&](int threads, double momentum, bool nesterov, double weight_decay) {
        set_blas_threads(threads);
        Var w = parameter(start);
        optim::SGD sgd({w}, 0.1, momentum, nesterov, weight_decay);
        for (int step = 0; step < 3; ++step) {
            zero_grad(std::vector<Var>{w});
            sum(w * constant(gradient)).backward();  // d/dw = gradient
            sgd.step();
        }
        return array(w.value());
    };
    for (const auto& [momentum, nesterov, weight_decay] :
         {std::tuple{0.0, false, 0.0}, std::tuple{0.9, true, 1e-2}}) {
        const array one = three_steps(1, momentum, nesterov, weight_decay);
        if (!set_blas_threads(2)) GTEST_SKIP() << "the BLAS does not take a thread count";
        const array two = three_steps(2, momentum, nesterov, weight_decay);
        EXPECT_EQ(one, two) << "momentum " << momentum;
        if (momentum == 0.0) {
            const array expected = start - 0.3 * gradient;  // |w| ≤ 1.3: a few roundings apart
            EXPECT_LE(xt::amax(xt::abs(one - expected))(), 2e-15);
        }
    }
    set_blas_threads(threads_before > 0 ? threads_before : 1);
}

TEST(Optimizers, RequireParametersNamesTheCallerAndTheOffendingOp) {
    Var p = parameter({1.0, 2.0});
    EXPECT_NO_THROW(optim::require_parameters({p, parameter(3.0)}, "who"));
    XGRAD_EXPECT_THROW_WITH(optim::require_parameters({p, p * 2.0}, "who"), graph_error,
                            "who: parameters must be parameter() leaves, got 'mul'");
    XGRAD_EXPECT_THROW_WITH(optim::require_parameters({constant(1.0)}, "who"), graph_error,
                            "who: parameters must be parameter() leaves, got 'constant'");
    // The optimizers and the solvers both ask it, each under its own name.
    XGRAD_EXPECT_THROW_WITH(optim::SGD({p * 2.0}, 0.1), graph_error,
                            "optimizer: parameters must be parameter() leaves, got 'mul'");
}

TEST(OptimizerRegistry, NamesEveryOptimizerOnceInTheEnumerationsOrder) {
    const std::vector<std::string> expected = {"sgd",     "momentum", "nesterov", "adagrad",
                                               "rmsprop", "adam",     "lbfgs",    "newton"};
    EXPECT_EQ(optim::optimizer_names(), expected);
    for (std::size_t i = 0; i < expected.size(); ++i) {
        SCOPED_TRACE(expected[i]);
        const std::optional<optim::OptimizerKind> kind = optim::parse_optimizer(expected[i]);
        ASSERT_TRUE(kind.has_value());
        EXPECT_EQ(static_cast<std::size_t>(*kind), i);
        EXPECT_EQ(optim::optimizer_name(*kind), expected[i]);
        EXPECT_EQ(optim::is_solver(*kind), expected[i] == "lbfgs" || expected[i] == "newton");
    }
    for (const char* unknown : {"", "Adam", "ADAM", " adam", "adam ", "magic", "l-bfgs", "sgd2"}) {
        EXPECT_FALSE(optim::parse_optimizer(unknown).has_value()) << "'" << unknown << "'";
    }
    const auto outside = static_cast<optim::OptimizerKind>(8);
    XGRAD_EXPECT_THROW_WITH(optim::optimizer_name(outside), std::invalid_argument,
                            "no optimizer has kind 8");
    EXPECT_FALSE(optim::is_solver(outside));
}

TEST(OptimizerRegistry, FactoryMakesWhatEachNameStandsFor) {
    // Three steps on a weighted quadratic from the factory and from the constructor each name
    // stands for (the command line's meanings) land on the same bits.
    auto three_steps = [](auto make) {
        Var p = parameter({1.0, -2.0, 0.5});
        const std::unique_ptr<optim::Optimizer> optimizer = make(std::vector<Var>{p});
        Tape tape(sum(pow(p - constant({0.3, 0.2, -0.1}), 2.0) * constant({1.0, 4.0, 0.5})));
        for (int step = 0; step < 3; ++step) {
            tape.forward();
            optimizer->zero_grad();
            tape.backward();
            optimizer->step();
        }
        return array(p.value());
    };
    using Params = std::vector<Var>;
    using Make = std::function<std::unique_ptr<optim::Optimizer>(Params)>;
    const double rate = 0.05;
    const std::vector<std::pair<optim::OptimizerKind, Make>> meanings = {
        {optim::OptimizerKind::sgd,
         [&](Params p) { return std::make_unique<optim::SGD>(p, rate); }},
        {optim::OptimizerKind::momentum,
         [&](Params p) { return std::make_unique<optim::SGD>(p, rate, 0.9); }},
        {optim::OptimizerKind::nesterov,
         [&](Params p) { return std::make_unique<optim::SGD>(p, rate, 0.9, true); }},
        {optim::OptimizerKind::adagrad,
         [&](Params p) { return std::make_unique<optim::AdaGrad>(p, rate); }},
        {optim::OptimizerKind::rmsprop,
         [&](Params p) { return std::make_unique<optim::RMSProp>(p, rate); }},
        {optim::OptimizerKind::adam,
         [&](Params p) { return std::make_unique<optim::Adam>(p, rate); }},
    };
    std::vector<array> results;
    for (const auto& [kind, make] : meanings) {
        SCOPED_TRACE(optim::optimizer_name(kind));
        const array from_factory =
            three_steps([&](Params p) { return optim::make_optimizer(kind, p, rate); });
        EXPECT_EQ(from_factory, three_steps(make));
        for (const array& other : results) EXPECT_NE(from_factory, other);  // six distinct updates
        results.push_back(from_factory);
        const auto made = optim::make_optimizer(kind, {parameter(1.0)}, rate);
        EXPECT_EQ(made->learning_rate(), rate);
        EXPECT_EQ(made->parameters().size(), 1u);
    }
    EXPECT_NE(
        dynamic_cast<optim::SGD*>(
            optim::make_optimizer(optim::OptimizerKind::nesterov, {parameter(1.0)}, rate).get()),
        nullptr);
    EXPECT_NE(dynamic_cast<optim::Adam*>(
                  optim::make_optimizer(optim::OptimizerKind::adam, {parameter(1.0)}, rate).get()),
              nullptr);
}

TEST(OptimizerRegistry, FactoryRefusesSolversAndWhatTheOptimizersRefuse) {
    Var p = parameter({1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(
        optim::make_optimizer(optim::OptimizerKind::lbfgs, {p}, 0.1), std::invalid_argument,
        "'lbfgs' is a solver, not a step-by-step optimizer: call solvers::lbfgs");
    XGRAD_EXPECT_THROW_WITH(optim::make_optimizer(optim::OptimizerKind::newton, {p}, 0.1),
                            std::invalid_argument, "call solvers::newton");
    XGRAD_EXPECT_THROW_WITH(optim::make_optimizer(static_cast<optim::OptimizerKind>(8), {p}, 0.1),
                            std::invalid_argument, "make_optimizer: no optimizer has kind 8");
    XGRAD_EXPECT_THROW_WITH(optim::make_optimizer(optim::OptimizerKind::adam, {p * 2.0}, 0.1),
                            graph_error, "parameters must be parameter() leaves, got 'mul'");
    XGRAD_EXPECT_THROW_WITH(optim::make_optimizer(optim::OptimizerKind::sgd, {p}, 0.0),
                            std::invalid_argument, "learning rate must be > 0");
}

TEST(Training, MinibatchesCarryWholeRowsOfAnyRank) {
    // X of shape (7, 2, 3) and y of shape (7, 1, 2): each batch must get whole rows (a 2×3 and
    // a 1×2 block each), so each epoch's loss, Σ over rows of ⟨Xᵣ, w⟩ + Σ yᵣ divided by 7, is
    // the same for any batch size and shuffle.
    std::mt19937_64 rng(29);
    const array X = testing::random_array(rng, {7, 2, 3});
    const array y = testing::random_array(rng, {7, 1, 2});
    const array w0 = testing::random_array(rng, {2, 3});
    const double expected = (xt::sum(X * w0)() + xt::sum(y)()) / 7.0;
    for (std::size_t batch_size : {0, 1, 3, 7}) {
        SCOPED_TRACE("batch size " + std::to_string(batch_size));
        Var w = parameter(w0);
        std::size_t steps = 0;
        const std::vector<double> losses = train_minibatches(
            X, y,
            [&](const Var& features, const Var& targets) {
                EXPECT_EQ(features.shape()[1], 2u);
                EXPECT_EQ(targets.shape()[2], 2u);
                const double rows = static_cast<double>(features.shape()[0]);
                return (sum(features * w) + sum(targets)) * (1.0 / rows);
            },
            {w}, [&] { ++steps; }, EpochOptions(3, batch_size, 5));
        ASSERT_EQ(losses.size(), 3u);
        for (double loss : losses) EXPECT_NEAR(loss, expected, 1e-14);
        const std::size_t per_epoch = batch_size == 0 ? 1 : (7 + batch_size - 1) / batch_size;
        EXPECT_EQ(steps, 3 * per_epoch);
    }
}

TEST(Schedules, Values) {
    EXPECT_DOUBLE_EQ(optim::time_based_decay(0.1, 0.5)(4), 0.1 / 3.0);
    EXPECT_DOUBLE_EQ(optim::exponential_decay(0.1, 0.2)(5), 0.1 * std::exp(-1.0));
    EXPECT_DOUBLE_EQ(optim::step_decay(0.1, 0.5, 10)(9), 0.1);
    EXPECT_DOUBLE_EQ(optim::step_decay(0.1, 0.5, 10)(25), 0.025);
    const auto cosine = optim::cosine_warm_restarts(0.1, 10, 2, 0.0);
    EXPECT_DOUBLE_EQ(cosine(0), 0.1);
    EXPECT_NEAR(cosine(5), 0.05, 1e-17);  // half way through the first cycle
    EXPECT_DOUBLE_EQ(cosine(10), 0.1);    // restart; the next cycle lasts 20
    EXPECT_NEAR(cosine(20), 0.05, 1e-17);
    EXPECT_DOUBLE_EQ(cosine(30), 0.1);
    EXPECT_DOUBLE_EQ(optim::constant_rate(0.3)(100), 0.3);
    XGRAD_EXPECT_THROW_WITH(optim::step_decay(0.1, 0.5, 0), std::invalid_argument,
                            "every must be > 0");
}

/// @brief Expects schedule(t) to be torch's rate for every t listed: relative error 1e-12, or an
/// absolute one of 1e-17 near 0.
void expect_rates(const optim::Schedule& schedule, const std::vector<double>& torch_rates) {
    for (std::size_t t = 0; t < torch_rates.size(); ++t) {
        const double rate = schedule(t), expected = torch_rates[t];
        EXPECT_LE(std::abs(rate - expected), 1e-12 * std::abs(expected) + 1e-17)
            << "step " << t << ": " << rate << " vs torch " << expected;
    }
}

TEST(Schedules, OneCycleFollowsTorchsOneCycleLR) {
    for (const auto& c : reference::nn_torch::one_cycle_cases) {
        SCOPED_TRACE(std::to_string(c.max_rate) + ", " + std::to_string(c.total_steps) + ", " +
                     std::to_string(c.pct_start) + (c.three_phase ? ", three phases" : "") +
                     (c.linear ? ", linear" : ", cosine"));
        const auto schedule = optim::one_cycle(
            c.max_rate, c.total_steps, c.pct_start, c.div_factor, c.final_div_factor,
            c.linear ? optim::Anneal::linear : optim::Anneal::cosine, c.three_phase);
        ASSERT_EQ(c.rates.size(), c.total_steps);
        expect_rates(schedule, c.rates);
        // past the last step the rate stays at the final one
        const double final_rate = c.max_rate / c.div_factor / c.final_div_factor;
        EXPECT_EQ(schedule(c.total_steps), final_rate);
        EXPECT_EQ(schedule(10 * c.total_steps + 3), final_rate);
    }
    // the defaults: 25 and 1e4, cosine, two phases; the peak at step pct_start·T − 1
    const auto defaults = optim::one_cycle(0.1, 100);
    EXPECT_NEAR(defaults(0), 0.1 / 25.0, 1e-17);
    EXPECT_DOUBLE_EQ(defaults(29), 0.1);
    EXPECT_NEAR(defaults(99), 0.1 / 25.0 / 1e4, 1e-20);
    // a rising phase of length 0 (pct_start·T = 1; torch divides by zero there) starts at the peak
    EXPECT_DOUBLE_EQ(optim::one_cycle(0.2, 10, 0.1)(0), 0.2);
    XGRAD_EXPECT_THROW_WITH(optim::one_cycle(0.1, 0), std::invalid_argument,
                            "one_cycle: total_steps must be > 0");
    XGRAD_EXPECT_THROW_WITH(optim::one_cycle(0.1, 10, 1.5), std::invalid_argument,
                            "one_cycle: pct_start must be in [0, 1], got 1.5");
    XGRAD_EXPECT_THROW_WITH(optim::one_cycle(0.1, 10, 0.3, 0.0), std::invalid_argument,
                            "one_cycle: div_factor and final_div_factor must be > 0");
    XGRAD_EXPECT_THROW_WITH(optim::one_cycle(0.1, 10, 0.3, 25.0, -1.0), std::invalid_argument,
                            "must be > 0");
}

TEST(Schedules, StepAndCosineFollowTorch) {
    namespace r = reference::nn_torch;
    expect_rates(optim::cosine_annealing(0.1, 10, 0.001), r::cosine_annealing);
    expect_rates(optim::cosine_warm_restarts(0.1, 5, 2, 0.01), r::cosine_warm_restarts);
    expect_rates(optim::step_decay(0.1, 0.5, 3), r::step_decay);
    XGRAD_EXPECT_THROW_WITH(optim::cosine_annealing(0.1, 0), std::invalid_argument,
                            "cosine_annealing: period must be > 0");
}

}  // namespace
}  // namespace xgrad
