// Data-parallel training (ranks as threads, run_ranks): the solvers, train_minibatches and the
// models' fit() on each rank's shard give the single-process results on all rows, with
// bitwise identical parameters on every rank; input errors stop every rank with one message.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "support.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/distributed/communicator.hpp"
#include "xgrad/distributed/gradients.hpp"
#include "xgrad/distributed/thread_group.hpp"
#include "xgrad/losses.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/mlp_model.hpp"
#include "xgrad/models/one_vs_rest.hpp"
#include "xgrad/models/softmax_regression.hpp"
#include "xgrad/nn/activations.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/optim/solvers.hpp"
#include "xgrad/optim/training.hpp"
#include "xgrad/regularization.hpp"

namespace xd = xgrad::distributed;
using xgrad::array;
using xgrad::Var;

namespace {

/// @brief Two-class data: X (m, n) standard normal, y = 1 where X·w + noise > 0 (seeded).
std::pair<array, array> make_classification(std::size_t m, std::size_t n, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    array X = array::from_shape({m, n});
    array y = array::from_shape({m});
    std::vector<double> w(n);
    for (double& v : w) v = normal(engine);
    for (std::size_t i = 0; i < m; ++i) {
        double z = 0.0;
        for (std::size_t j = 0; j < n; ++j) z += (X(i, j) = normal(engine)) * w[j];
        y(i) = z + 0.8 * normal(engine) > 0.3 ? 1.0 : 0.0;
    }
    return {X, y};
}

/// @brief Three Gaussian clusters in 4 dimensions, as iris: labels 0, 1, 2 (seeded).
std::pair<array, array> make_three_classes(std::size_t m, std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0.0, 1.0);
    array X = array::from_shape({m, std::size_t{4}});
    array y = array::from_shape({m});
    for (std::size_t i = 0; i < m; ++i) {
        const std::size_t k = i % 3;
        y(i) = static_cast<double>(k);
        for (std::size_t j = 0; j < 4; ++j)
            X(i, j) = 1.2 * normal(engine) + (j == k ? 2.0 : 0.0) - (j == 3 ? 0.5 * k : 0.0);
    }
    return {X, y};
}

/// @brief The given rows of a (rows, ...) array, in that order.
array take_rows(const array& a, const std::vector<std::size_t>& rows) {
    xgrad::shape_type shape = a.shape();
    const std::size_t width = a.shape()[0] == 0 ? 0 : a.size() / a.shape()[0];
    shape[0] = rows.size();
    array out = array::from_shape(shape);
    for (std::size_t r = 0; r < rows.size(); ++r)
        std::copy(a.data() + rows[r] * width, a.data() + (rows[r] + 1) * width,
                  out.data() + r * width);
    return out;
}

/// @brief Rank r's contiguous block (shard_rows) as a list of row indices.
std::vector<std::size_t> block_rows(std::size_t m, const xd::Communicator& comm) {
    const xd::Shard shard = xd::shard_rows(m, comm.rank(), comm.size());
    std::vector<std::size_t> rows;
    for (std::size_t i = shard.begin; i < shard.end; ++i) rows.push_back(i);
    return rows;
}

/// @brief Rows i with i % size == rank (a non-contiguous assignment).
std::vector<std::size_t> round_robin_rows(std::size_t m, const xd::Communicator& comm) {
    std::vector<std::size_t> rows;
    for (std::size_t i = static_cast<std::size_t>(comm.rank()); i < m;
         i += static_cast<std::size_t>(comm.size()))
        rows.push_back(i);
    return rows;
}

/// @brief max |a − b| / max |b|, over all elements.
double relative(const array& a, const array& b) {
    EXPECT_EQ(a.shape(), b.shape());
    double diff = 0.0;
    double scale = 0.0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) {
        diff = std::max(diff, std::abs(a.data()[i] - b.data()[i]));
        scale = std::max(scale, std::abs(b.data()[i]));
    }
    return scale == 0.0 ? diff : diff / scale;
}
double relative(const std::vector<double>& a, const std::vector<double>& b) {
    EXPECT_EQ(a.size(), b.size());
    array x = array::from_shape({a.size()});
    array y = array::from_shape({b.size()});
    std::copy(a.begin(), a.end(), x.begin());
    std::copy(b.begin(), b.end(), y.begin());
    return a.size() == b.size() ? relative(x, y) : INFINITY;
}

/// @brief The worst relative error seen per test, printed at its end (the measured tolerances).
class Worst {
  public:
    explicit Worst(std::string what) : what_(std::move(what)) {}
    ~Worst() { std::cout << "[ worst    ] " << what_ << ": " << value_ << "\n"; }
    void see(double error) {
        const std::lock_guard<std::mutex> lock(mutex_);
        value_ = std::max(value_, error);
    }

  private:
    std::string what_;
    std::mutex mutex_;
    double value_ = 0.0;
};

/// @brief Expects every rank to hold the same bits in `values` (compared through allgather).
void expect_identical_on_every_rank(xd::Communicator& comm, const std::vector<array>& values) {
    std::string bytes;
    for (const array& v : values)
        bytes.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(double));
    const std::vector<std::string> all = comm.allgather(bytes);
    for (std::size_t r = 1; r < all.size(); ++r)
        EXPECT_EQ(all[r], all[0]) << "rank " << r << " differs from rank 0";
}
std::vector<array> values_of(const std::vector<Var>& params) {
    std::vector<array> out;
    for (const Var& p : params) out.push_back(p.value());
    return out;
}

/// @brief The logistic objective of rows (X, y) as a share of `global_rows` rows:
/// Σ bce / global_rows + (l2/2·global_rows)‖w‖² · rows/global_rows.
Var logistic_share(const array& X, const array& y, const Var& w, const Var& b, double l2,
                   std::size_t global_rows) {
    const double share = static_cast<double>(X.shape()[0]) / static_cast<double>(global_rows);
    Var f = xgrad::bce_with_logits(xgrad::matmul(xgrad::constant(X), w) + b, xgrad::constant(y));
    if (l2 > 0.0) f = f + xgrad::l2_penalty(w, l2, global_rows);
    return f * share;
}

enum class Solver { gradient_descent, adam, lbfgs, newton };
const char* solver_name(Solver s) {
    switch (s) {
        case Solver::gradient_descent:
            return "gradient_descent";
        case Solver::adam:
            return "adam";
        case Solver::lbfgs:
            return "lbfgs";
        case Solver::newton:
            return "newton";
    }
    return "";
}

xgrad::solvers::SolveResult solve(Solver s, const Var& f, const std::vector<Var>& params,
                                  xd::Communicator* comm) {
    namespace solvers = xgrad::solvers;
    solvers::StopOptions stop(50, 1e-10);
    stop.communicator = comm;
    switch (s) {
        case Solver::gradient_descent:
            return solvers::gradient_descent(f, params, 0.5, stop);
        case Solver::adam:
            return solvers::adam(f, params, 0.05, stop);
        case Solver::lbfgs: {
            solvers::LbfgsOptions options;
            options.stop = stop;
            return solvers::lbfgs(f, params, options);
        }
        case Solver::newton:
            return solvers::newton(f, params, stop);
    }
    return {};
}

}  // namespace

// gradient descent, Adam (50 steps), L-BFGS and Newton (to convergence) on a hand-built
// logistic objective: each rank's graph is its share, and the iterates match one process.
TEST(DataParallelSolvers, EveryRankTakesTheSingleProcessIterations) {
    const auto [X, y] = make_classification(103, 5, 11);
    for (Solver s : {Solver::gradient_descent, Solver::adam, Solver::lbfgs, Solver::newton}) {
        const double l2 = s == Solver::gradient_descent ? 0.0 : 0.5;
        Var w = xgrad::parameter(xgrad::array(xt::zeros<double>({5})));
        Var b = xgrad::parameter(0.0);
        const auto reference =
            solve(s, logistic_share(X, y, w, b, l2, X.shape()[0]), {w, b}, nullptr);
        const array w_ref = w.value();
        const array b_ref = b.value();
        const bool first_order = s == Solver::gradient_descent || s == Solver::adam;
        // 50 fixed steps agree to rounding; converged solvers to the optimum's conditioning.
        const double weight_tolerance = first_order ? 1e-12 : 1e-8;
        Worst worst_w(std::string(solver_name(s)) + " weights");
        Worst worst_f(std::string(solver_name(s)) + " objective");
        for (std::size_t ranks : {2, 3, 4}) {
            xd::run_ranks(ranks, [&](xd::Communicator& comm) {
                const auto rows = block_rows(X.shape()[0], comm);
                Var wr = xgrad::parameter(xgrad::array(xt::zeros<double>({5})));
                Var br = xgrad::parameter(0.0);
                const auto result = solve(
                    s, logistic_share(take_rows(X, rows), take_rows(y, rows), wr, br, l2, 103),
                    {wr, br}, &comm);
                EXPECT_EQ(result.iterations, reference.iterations) << solver_name(s);
                EXPECT_EQ(result.converged, reference.converged);
                const double ew =
                    std::max(relative(wr.value(), w_ref), relative(br.value(), b_ref));
                const double ef = relative(result.objective_history, reference.objective_history);
                worst_w.see(ew);
                worst_f.see(ef);
                EXPECT_LE(ew, weight_tolerance) << solver_name(s) << " ranks " << ranks;
                EXPECT_LE(ef, 1e-12) << solver_name(s) << " ranks " << ranks;
                // grad() holds the global gradient, the same on every rank
                expect_identical_on_every_rank(comm, {wr.value(), br.value(), wr.grad()});
                if (!first_order) {
                    EXPECT_TRUE(result.converged);
                }
            });
        }
    }
}

TEST(DataParallelSolvers, RanksWithOtherParameterShapesStopWithOneError) {
    xd::run_ranks(3, [](xd::Communicator& comm) {
        const std::size_t n = comm.rank() == 2 ? 4 : 3;
        Var w = xgrad::parameter(xgrad::array(xt::ones<double>({n})));
        xgrad::solvers::StopOptions stop(5);
        stop.communicator = &comm;
        XGRAD_EXPECT_THROW_WITH(xgrad::solvers::gradient_descent(xgrad::sum(w * w), {w}, 0.1, stop),
                                xd::distributed_error,
                                "rank 2 has parameters (4,); rank 0 has (3,)");
    });
}

TEST(DataParallelSolvers, AnObjectiveOfManyElementsOnOneRankStopsEveryRank) {
    xd::run_ranks(2, [](xd::Communicator& comm) {
        Var w = xgrad::parameter(xgrad::array(xt::ones<double>({3})));
        const Var f = comm.rank() == 1 ? w * w : xgrad::sum(w * w);
        xgrad::solvers::StopOptions stop(5);
        stop.communicator = &comm;
        XGRAD_EXPECT_THROW_WITH(xgrad::solvers::lbfgs(f, {w}, {stop}), xd::distributed_error,
                                "rank 1: solver: the objective must be a single number");
    });
}

TEST(DataParallelSolvers, ANonFiniteObjectiveOnOneRankStopsEveryRank) {
    xd::run_ranks(3, [](xd::Communicator& comm) {
        Var w = xgrad::parameter(xgrad::array(xt::ones<double>({2})));
        const double c = comm.rank() == 1 ? NAN : 1.0;
        xgrad::solvers::StopOptions stop(5);
        stop.communicator = &comm;
        XGRAD_EXPECT_THROW_WITH(xgrad::solvers::newton(xgrad::sum(w * w) * c, {w}, stop),
                                std::runtime_error, "solver: the objective is not finite");
    });
}

namespace {

/// @brief How a test trains a logistic model with train_minibatches.
struct MinibatchRun {
    std::vector<double> history;
    std::vector<array> params;
};

/// @brief Logistic regression by train_minibatches (SGD or Adam), on (X, y) alone or as a rank;
/// the L2 term is scaled by `penalty_rows` (the global rows; 0: X's rows).
MinibatchRun train_logistic(const array& X, const array& y, bool adam, std::size_t batch,
                            std::size_t epochs, xd::Communicator* comm,
                            std::vector<std::size_t> global_rows = {},
                            std::size_t penalty_rows = 0) {
    if (penalty_rows == 0) penalty_rows = X.shape()[0];
    Var w = xgrad::parameter(xgrad::array(xt::zeros<double>({X.shape()[1]})));
    Var b = xgrad::parameter(0.0);
    const std::vector<Var> params{w, b};
    std::unique_ptr<xgrad::optim::Optimizer> optimizer;
    if (adam) {
        optimizer = std::make_unique<xgrad::optim::Adam>(params, 0.05);
    } else {
        optimizer = std::make_unique<xgrad::optim::SGD>(params, 0.3);
    }
    xgrad::EpochOptions options(epochs, batch, 7);
    options.communicator = comm;
    options.global_rows = std::move(global_rows);
    MinibatchRun run;
    run.history = xgrad::train_minibatches(
        X, y,
        [&](const Var& f, const Var& t) {
            return xgrad::bce_with_logits(xgrad::matmul(f, w) + b, t) +
                   xgrad::l2_penalty(w, 0.1, penalty_rows);
        },
        params, [&] { optimizer->step(); }, options);
    run.params = values_of(params);
    return run;
}

}  // namespace

// 150 rows in batches of 16 (9 full, a last one of 6), 10 epochs, SGD and Adam; the ranks hold
// contiguous blocks, then every size-th row (global_rows), and the batches are still the
// single-process ones. (The L2 term is scaled by the global rows in both.)
TEST(DataParallelMinibatches, SgdAndAdamMatchOneProcessForContiguousAndRoundRobinRows) {
    const auto [X, y] = make_classification(150, 4, 5);
    for (bool adam : {false, true}) {
        for (std::size_t batch : {std::size_t{16}, std::size_t{0}}) {
            // the L2 term uses X.shape()[0]: give every run the global rows
            const MinibatchRun reference = train_logistic(X, y, adam, batch, 10, nullptr);
            Worst worst(std::string(adam ? "adam" : "sgd") + " batch " + std::to_string(batch) +
                        " weights and history");
            for (bool round_robin : {false, true}) {
                for (std::size_t ranks : {2, 3, 4}) {
                    xd::run_ranks(ranks, [&](xd::Communicator& comm) {
                        const auto rows =
                            round_robin ? round_robin_rows(150, comm) : block_rows(150, comm);
                        // global_rows given for round robin; the contiguous default
                        // otherwise; the penalty's m is the global 150
                        const MinibatchRun mine = train_logistic(
                            take_rows(X, rows), take_rows(y, rows), adam, batch, 10, &comm,
                            round_robin ? rows : std::vector<std::size_t>{}, 150);
                        const auto& history = mine.history;
                        const double e = std::max({relative(mine.params[0], reference.params[0]),
                                                   relative(mine.params[1], reference.params[1]),
                                                   relative(history, reference.history)});
                        worst.see(e);
                        EXPECT_LE(e, 1e-12) << "ranks " << ranks << " round robin " << round_robin;
                        expect_identical_on_every_rank(comm, mine.params);
                        const std::vector<double> all = xd::allgather_values(comm, history);
                        for (std::size_t k = 0; k < all.size(); ++k)
                            EXPECT_EQ(all[k], all[k % history.size()]);
                    });
                }
            }
        }
    }
}

// Batches of 512 of 3000 rows over 6 epochs: a rank's share of a batch takes more than 16
// different sizes, so graphs are dropped and built again (the cache is bounded); the results
// are still the single-process ones.
TEST(DataParallelMinibatches, ManyShareSizesRebuildDroppedGraphsWithTheSameResults) {
    const auto [X, y] = make_classification(3000, 3, 11);
    const std::size_t batch = 512;
    const std::size_t epochs = 6;
    // How many sizes rank 0 of 2 sees: the shuffle train_minibatches draws.
    std::vector<std::size_t> order(3000);
    std::iota(order.begin(), order.end(), std::size_t{0});
    xgrad::Random random(7);
    std::set<std::size_t> sizes;
    for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
        random.shuffle(order);
        for (std::size_t first = 0; first < 3000; first += batch) {
            sizes.insert(static_cast<std::size_t>(std::count_if(
                order.begin() + first, order.begin() + std::min<std::size_t>(first + batch, 3000),
                [](std::size_t r) { return r < 1500; })));
        }
    }
    ASSERT_GT(sizes.size(), 16u);
    const MinibatchRun reference = train_logistic(X, y, true, batch, epochs, nullptr);
    xd::run_ranks(2, [&](xd::Communicator& comm) {
        const auto rows = block_rows(3000, comm);
        const MinibatchRun mine = train_logistic(take_rows(X, rows), take_rows(y, rows), true,
                                                 batch, epochs, &comm, {}, 3000);
        EXPECT_LE(relative(mine.params[0], reference.params[0]), 1e-12);
        EXPECT_LE(relative(mine.params[1], reference.params[1]), 1e-12);
        EXPECT_LE(relative(mine.history, reference.history), 1e-12);
        expect_identical_on_every_rank(comm, mine.params);
    });
}

// A rank may hold no rows at all (it contributes zeros to every batch), and the parameters
// start from rank 0's values whatever the others hold.
TEST(DataParallelMinibatches, ARankWithoutRowsAndOtherStartingValuesStillMatch) {
    const auto [X, y] = make_classification(40, 3, 9);
    const MinibatchRun reference = train_logistic(X, y, false, 8, 5, nullptr);
    xd::run_ranks(3, [&](xd::Communicator& comm) {
        std::vector<std::size_t> rows;
        if (comm.rank() == 0) rows = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        if (comm.rank() == 2)
            for (std::size_t i = 16; i < 40; ++i) rows.push_back(i);
        Var w = xgrad::parameter(xgrad::array(xt::zeros<double>({3})) + comm.rank());
        Var b = xgrad::parameter(0.0);
        xgrad::optim::SGD sgd({w, b}, 0.3);
        xgrad::EpochOptions options(5, 8, 7);
        options.communicator = &comm;
        const auto history = xgrad::train_minibatches(
            take_rows(X, rows), take_rows(y, rows),
            [&](const Var& f, const Var& t) {
                return xgrad::bce_with_logits(xgrad::matmul(f, w) + b, t) +
                       xgrad::l2_penalty(w, 0.1, 40);
            },
            {w, b}, [&] { sgd.step(); }, options);
        EXPECT_LE(relative(w.value(), reference.params[0]), 1e-12);
        EXPECT_LE(relative(history, reference.history), 1e-12);
        expect_identical_on_every_rank(comm, {w.value(), b.value()});
    });
}

// An nn::Sequential (Linear, ReLU, Linear) trained by train_minibatches and Adam on 3 classes.
TEST(DataParallelMinibatches, ASequentialNetworkWithAdamMatchesOneProcess) {
    const auto [X, y] = make_three_classes(90, 3);
    auto make_net = [] {
        auto net = std::make_shared<xgrad::nn::Sequential>();
        net->add<xgrad::nn::Linear>(4, 8, 1);
        net->add<xgrad::nn::ReLU>();
        net->add<xgrad::nn::Linear>(8, 3, 2);
        return net;
    };
    auto train = [&](const array& Xr, const array& yr, xd::Communicator* comm,
                     std::vector<std::size_t> global_rows) {
        auto net = make_net();
        const std::vector<Var> params = net->parameters();
        xgrad::optim::Adam adam(params, 0.01);
        xgrad::EpochOptions options(10, 16, 3);
        options.communicator = comm;
        options.global_rows = std::move(global_rows);
        auto history = xgrad::train_minibatches(
            Xr, yr, [&](const Var& f, const Var& t) { return xgrad::cross_entropy((*net)(f), t); },
            params, [&] { adam.step(); }, options);
        return MinibatchRun{history, values_of(params)};
    };
    const MinibatchRun reference = train(X, y, nullptr, {});
    Worst worst("nn::Sequential adam parameters and history");
    for (std::size_t ranks : {2, 3, 4}) {
        xd::run_ranks(ranks, [&](xd::Communicator& comm) {
            const auto rows = round_robin_rows(90, comm);
            const MinibatchRun run = train(take_rows(X, rows), take_rows(y, rows), &comm, rows);
            double e = relative(run.history, reference.history);
            for (std::size_t k = 0; k < run.params.size(); ++k)
                e = std::max(e, relative(run.params[k], reference.params[k]));
            worst.see(e);
            EXPECT_LE(e, 1e-12) << "ranks " << ranks;
            expect_identical_on_every_rank(comm, run.params);
        });
    }
}

TEST(DataParallelMinibatches, GlobalRowsHeldTwiceOrOutOfRangeStopEveryRank) {
    const auto [X, y] = make_classification(12, 2, 1);
    auto run = [&](xd::Communicator& comm, std::vector<std::size_t> ids) {
        Var w = xgrad::parameter(xgrad::array(xt::zeros<double>({2})));
        xgrad::EpochOptions options(1, 4, 0);
        options.communicator = &comm;
        options.global_rows = ids;
        std::vector<std::size_t> rows(ids.size());
        std::iota(rows.begin(), rows.end(), std::size_t{0});
        xgrad::train_minibatches(
            take_rows(X, rows), take_rows(y, rows),
            [&](const Var& f, const Var& t) { return xgrad::mse(xgrad::matmul(f, w), t); }, {w},
            [] {}, options);
    };
    xd::run_ranks(2, [&](xd::Communicator& comm) {
        // rank 1 claims global row 4, which rank 0 holds as its row 4
        const std::vector<std::size_t> ids = comm.rank() == 0
                                                 ? std::vector<std::size_t>{0, 1, 2, 3, 4, 5}
                                                 : std::vector<std::size_t>{6, 7, 4, 9, 10, 11};
        XGRAD_EXPECT_THROW_WITH(run(comm, ids), xd::distributed_error,
                                "train_minibatches: global row 4 is held by rank 0 (row 4) and by "
                                "rank 1 (row 2)");
    });
    xd::run_ranks(3, [&](xd::Communicator& comm) {
        const std::vector<std::size_t> ids =
            comm.rank() == 2 ? std::vector<std::size_t>{4, 5, 12} : std::vector<std::size_t>{};
        std::vector<std::size_t> mine = ids;
        if (comm.rank() == 0) mine = {0, 1, 2};
        if (comm.rank() == 1) mine = {3, 6};
        XGRAD_EXPECT_THROW_WITH(run(comm, mine), xd::distributed_error,
                                "global row 12 of rank 2 (row 2) is not below the 8 rows");
    });
    // Indices a double cannot hold exactly (2^60 + 1, the largest size_t) are named exactly,
    // the lowest rank's first; a rank's duplicate does not hide another rank's bad index.
    xd::run_ranks(3, [&](xd::Communicator& comm) {
        std::vector<std::size_t> mine{0, 1, 1};
        if (comm.rank() == 1) mine = {2, (std::size_t{1} << 60) + 1, 3};
        if (comm.rank() == 2) mine = {std::numeric_limits<std::size_t>::max(), 4};
        XGRAD_EXPECT_THROW_WITH(run(comm, mine), xd::distributed_error,
                                "train_minibatches: global row 1152921504606846977 of rank 1 "
                                "(row 1) is not below the 8 rows of all ranks");
        if (comm.rank() == 1) mine = {2, 3, 5};
        try {
            run(comm, mine);
            ADD_FAILURE() << "no error on rank " << comm.rank();
        } catch (const xd::distributed_error& e) {
            EXPECT_EQ(std::string(e.what()),
                      "train_minibatches: global row 18446744073709551615 of rank 2 (row 0) is "
                      "not below the 8 rows of all ranks");
            EXPECT_EQ(e.failed_rank(), 2);
        }
    });
    xd::run_ranks(2, [&](xd::Communicator& comm) {
        // global_rows of another length than the rank's rows
        Var w = xgrad::parameter(xgrad::array(xt::zeros<double>({2})));
        xgrad::EpochOptions options(1, 4, 0);
        options.communicator = &comm;
        if (comm.rank() == 1) options.global_rows = {0, 1};
        XGRAD_EXPECT_THROW_WITH(
            xgrad::train_minibatches(
                X, y,
                [&](const Var& f, const Var& t) { return xgrad::mse(xgrad::matmul(f, w), t); }, {w},
                [] {}, options),
            xd::distributed_error,
            "rank 1: train_minibatches: global_rows holds 2 indices for 12 rows");
    });
}

TEST(DataParallelMinibatches, OtherRowShapesOrParameterShapesStopEveryRank) {
    xd::run_ranks(2, [](xd::Communicator& comm) {
        const std::size_t n = comm.rank() == 1 ? 3 : 2;
        Var w = xgrad::parameter(xgrad::array(xt::zeros<double>({n})));
        xgrad::EpochOptions options(1, 0, 0);
        options.communicator = &comm;
        const array X = xt::ones<double>({std::size_t{4}, n});
        const array y = xt::ones<double>({std::size_t{4}});
        XGRAD_EXPECT_THROW_WITH(
            xgrad::train_minibatches(
                X, y,
                [&](const Var& f, const Var& t) { return xgrad::mse(xgrad::matmul(f, w), t); }, {w},
                [] {}, options),
            xd::distributed_error, "rank 1 has X rows (3,), y rows (); rank 0 has X rows (2,)");
    });
    xd::run_ranks(2, [](xd::Communicator& comm) {
        Var w = xgrad::parameter(xgrad::array(xt::zeros<double>({2})));
        Var extra = xgrad::parameter(xgrad::array(xt::zeros<double>({comm.rank() + 1u})));
        xgrad::EpochOptions options(1, 0, 0);
        options.communicator = &comm;
        const array X = xt::ones<double>({std::size_t{4}, std::size_t{2}});
        const array y = xt::ones<double>({std::size_t{4}});
        XGRAD_EXPECT_THROW_WITH(
            xgrad::train_minibatches(
                X, y,
                [&](const Var& f, const Var& t) {
                    return xgrad::mse(xgrad::matmul(f, w), t) + xgrad::sum(extra);
                },
                {w, extra}, [] {}, options),
            xd::distributed_error, "rank 1 has parameters (2,) (2,); rank 0 has (2,) (1,)");
    });
}

namespace {

namespace xm = xgrad::models;

/// @brief The fitted parameters of a linear model (weights, then the bias if any).
std::vector<array> parameters_of(const xm::LinearModel& model) {
    std::vector<array> out{model.weights().value()};
    if (model.fit_intercept()) out.push_back(model.bias().value());
    return out;
}

/// @brief The worst relative error over two lists of arrays.
double relative(const std::vector<array>& a, const std::vector<array>& b) {
    EXPECT_EQ(a.size(), b.size());
    double e = 0.0;
    for (std::size_t k = 0; k < std::min(a.size(), b.size()); ++k)
        e = std::max(e, relative(a[k], b[k]));
    return e;
}

void expect_same_summary(const xm::LinearModel::FitSummary& a,
                         const xm::LinearModel::FitSummary& b) {
    EXPECT_EQ(a.steps, b.steps);
    EXPECT_EQ(a.budget, b.budget);
    EXPECT_EQ(a.converged, b.converged);
    EXPECT_EQ(a.stopped_early, b.stopped_early);
}

/// @brief Fits `Model` on all rows, then on each rank's rows for 2, 3 and 4 ranks (contiguous
/// blocks, or round robin with row_ids), and compares the parameters (to `weight_tolerance`),
/// the loss and validation histories (to `history_tolerance`), the summary (exactly), and the
/// bits of the parameters across ranks. Validation rows, when given, are shared out too.
template <class Model, class Make>
void expect_data_parallel_fit(const std::string& what, Make make, const array& X, const array& y,
                              xm::TrainOptions options, double weight_tolerance,
                              double history_tolerance, bool round_robin = false) {
    Model reference = make();
    reference.fit(X, y, options);
    const std::vector<array> expected = parameters_of(reference);
    Worst worst_weights(what + " weights");
    Worst worst_history(what + " histories");
    const array validation_X = options.validation_X;
    const array validation_y = options.validation_y;
    const bool validating = validation_X.dimension() == 2;
    for (std::size_t ranks : {2, 3, 4}) {
        xd::run_ranks(ranks, [&](xd::Communicator& comm) {
            const std::size_t m = X.shape()[0];
            const auto rows = round_robin ? round_robin_rows(m, comm) : block_rows(m, comm);
            xm::TrainOptions mine = options;
            mine.communicator = &comm;
            if (round_robin) mine.row_ids = rows;
            if (validating) {
                // rank 0 holds no validation rows; the others share them
                std::vector<std::size_t> v;
                for (std::size_t i = 0; i < validation_X.shape()[0]; ++i) {
                    if (comm.rank() != 0 && i % (ranks - 1) == std::size_t(comm.rank() - 1))
                        v.push_back(i);
                }
                mine.validation_X = take_rows(validation_X, v);
                mine.validation_y = take_rows(validation_y, v);
            }
            Model model = make();
            model.fit(take_rows(X, rows), take_rows(y, rows), mine);
            const double ew = relative(parameters_of(model), expected);
            const double eh = std::max(
                relative(model.loss_history(), reference.loss_history()),
                relative(model.validation_loss_history(), reference.validation_loss_history()));
            worst_weights.see(ew);
            worst_history.see(eh);
            EXPECT_LE(ew, weight_tolerance) << what << ", ranks " << ranks;
            EXPECT_LE(eh, history_tolerance) << what << ", ranks " << ranks;
            expect_same_summary(model.fit_summary(), reference.fit_summary());
            expect_identical_on_every_rank(comm, parameters_of(model));
            const std::vector<double> histories = xd::allgather_values(comm, model.loss_history());
            for (std::size_t k = 0; k < histories.size(); ++k)
                EXPECT_EQ(histories[k], histories[k % model.loss_history().size()]);
        });
    }
}

xm::TrainOptions train_options(const std::string& optimizer, double learning_rate,
                               std::size_t epochs, std::size_t batch) {
    xm::TrainOptions options(learning_rate, epochs, batch, 13);
    options.optimizer = optimizer;
    return options;
}

}  // namespace

// Full-batch gradient descent, 50 epochs (logistic; linear with L2): as one process to 1e-12.
TEST(DataParallelModels, LogisticAndLinearRegressionFullBatchGradientDescent) {
    const auto [X, y] = make_classification(101, 6, 21);
    expect_data_parallel_fit<xm::LogisticRegression>(
        "LogisticRegression sgd full batch", [] { return xm::LogisticRegression(); }, X, y,
        train_options("sgd", 0.5, 50, 0), 1e-12, 1e-12);
    array targets = array::from_shape({101});
    for (std::size_t i = 0; i < 101; ++i) targets(i) = 2.0 * X(i, 0) - X(i, 3) + 0.1 * y(i);
    xm::TrainOptions options = train_options("sgd", 0.1, 50, 0);
    options.l2 = 0.3;
    expect_data_parallel_fit<xm::LinearRegression>(
        "LinearRegression sgd full batch, L2", [] { return xm::LinearRegression(); }, X, targets,
        options, 1e-12, 1e-12);
}

// L-BFGS and Newton to convergence: the objective to 1e-12, the weights to 1e-8 (the
// converged point is determined only to the conditioning of the optimum times rounding).
TEST(DataParallelModels, LogisticAndSoftmaxRegressionWithLbfgsAndNewton) {
    const auto [X, y] = make_classification(120, 5, 31);
    const auto [X3, y3] = make_three_classes(150, 8);
    for (const std::string optimizer : {"lbfgs", "newton"}) {
        xm::TrainOptions options = train_options(optimizer, 0.1, 100, 0);
        options.l2 = 1.0;
        expect_data_parallel_fit<xm::LogisticRegression>(
            "LogisticRegression " + optimizer, [] { return xm::LogisticRegression(); }, X, y,
            options, 1e-8, 1e-12);
        options.l2 = 0.5;
        for (bool round_robin : {false, true}) {
            expect_data_parallel_fit<xm::SoftmaxRegression>(
                "SoftmaxRegression " + optimizer + (round_robin ? " round robin" : ""),
                [] { return xm::SoftmaxRegression(); }, X3, y3, options, 1e-8, 1e-12, round_robin);
        }
    }
}

// Mini-batches of 16 with a shorter last batch, 10 epochs, SGD and Adam, contiguous and
// round-robin rows (row_ids); the same with SoftmaxRegression (round robin over 3 ranks gives
// each rank one class only: the class count is global).
TEST(DataParallelModels, MinibatchSgdAndAdamWithContiguousAndRoundRobinRows) {
    const auto [X, y] = make_classification(150, 4, 41);
    const auto [X3, y3] = make_three_classes(150, 9);
    for (const std::string optimizer : {"sgd", "adam"}) {
        for (bool round_robin : {false, true}) {
            const std::string what = optimizer + (round_robin ? " round robin" : " blocks");
            expect_data_parallel_fit<xm::LogisticRegression>(
                "LogisticRegression " + what, [] { return xm::LogisticRegression(); }, X, y,
                train_options(optimizer, 0.1, 10, 16), 1e-12, 1e-12, round_robin);
            expect_data_parallel_fit<xm::SoftmaxRegression>(
                "SoftmaxRegression " + what, [] { return xm::SoftmaxRegression(); }, X3, y3,
                train_options(optimizer, 0.1, 10, 16), 1e-12, 1e-12, round_robin);
        }
    }
}

// Validation rows (none on rank 0), patience, balanced class weights, L2 and L1: the same
// validation history, stopping epoch and restored best parameters as one process.
TEST(DataParallelModels, ValidationEarlyStoppingBalancedWeightsAndPenalties) {
    // few noisy rows and many features: the validation loss turns up and training stops early
    const auto [X, y] = make_classification(140, 30, 51);
    std::vector<std::size_t> train_rows;
    std::vector<std::size_t> validation_rows;
    for (std::size_t i = 0; i < 140; ++i) (i < 60 ? train_rows : validation_rows).push_back(i);
    xm::TrainOptions options = train_options("sgd", 2.0, 300, 8);
    options.validation_X = take_rows(X, validation_rows);
    options.validation_y = take_rows(y, validation_rows);
    options.patience = 5;
    options.balanced_class_weights = true;
    options.l2 = 0.01;
    options.l1 = 0.01;
    xm::LogisticRegression probe;
    probe.fit(take_rows(X, train_rows), take_rows(y, train_rows), options);
    ASSERT_TRUE(probe.fit_summary().stopped_early);  // the case under test happens
    ASSERT_LT(probe.fit_summary().steps, 300u);
    for (bool round_robin : {false, true}) {
        expect_data_parallel_fit<xm::LogisticRegression>(
            std::string("LogisticRegression early stopping") + (round_robin ? " round robin" : ""),
            [] { return xm::LogisticRegression(); }, take_rows(X, train_rows),
            take_rows(y, train_rows), options, 1e-12, 1e-12, round_robin);
    }
    const auto [X3, y3] = make_three_classes(90, 4);
    xm::TrainOptions softmax = train_options("adam", 0.05, 40, 16);
    softmax.validation_X = X3;
    softmax.validation_y = y3;
    softmax.balanced_class_weights = true;
    softmax.l2 = 0.1;
    softmax.l1 = 0.05;
    softmax.patience = 3;
    expect_data_parallel_fit<xm::SoftmaxRegression>(
        "SoftmaxRegression validation, balanced, L1+L2", [] { return xm::SoftmaxRegression(); }, X3,
        y3, softmax, 1e-12, 1e-12);
}

TEST(DataParallelModels, OneVsRestFitsEveryBinaryModelAsOneProcess) {
    const auto [X, y] = make_three_classes(120, 12);
    xm::TrainOptions options = train_options("lbfgs", 0.1, 100, 0);
    options.l2 = 0.5;
    xm::OneVsRest reference;
    reference.fit(X, y, options);
    Worst worst("OneVsRest lbfgs weights");
    for (std::size_t ranks : {2, 3, 4}) {
        xd::run_ranks(ranks, [&](xd::Communicator& comm) {
            const auto rows = round_robin_rows(120, comm);  // one class per rank for 3 ranks
            xm::TrainOptions mine = options;
            mine.communicator = &comm;
            xm::OneVsRest model;
            model.fit(take_rows(X, rows), take_rows(y, rows), mine);
            ASSERT_EQ(model.classes(), 3u);
            for (std::size_t k = 0; k < 3; ++k) {
                const double e =
                    relative(parameters_of(model.model(k)), parameters_of(reference.model(k)));
                worst.see(e);
                EXPECT_LE(e, 1e-8);
                expect_identical_on_every_rank(comm, parameters_of(model.model(k)));
            }
        });
    }
}

namespace {

std::vector<array> layers_of(const xm::MLPModel& model) {
    std::vector<array> out;
    for (const auto& layer : model.layers()) {
        out.push_back(layer.weight);
        out.push_back(layer.bias);
    }
    return out;
}

}  // namespace

// MLPClassifier (Adam, batch 16, validation with patience, L2) and MLPRegressor (SGD): the
// single-process network to 1e-12 on every rank.
TEST(DataParallelModels, MlpClassifierAndRegressorMatchOneProcess) {
    const auto [X, y] = make_three_classes(120, 14);
    const auto [Xv, yv] = make_three_classes(45, 15);
    xm::TrainOptions options = train_options("adam", 0.01, 12, 16);
    options.l2 = 0.1;
    options.validation_X = Xv;
    options.validation_y = yv;
    options.patience = 4;
    xm::MLPClassifier reference({8}, xgrad::nn::Activation::relu);
    reference.fit(X, y, options);
    array yr = array::from_shape({120});
    for (std::size_t i = 0; i < 120; ++i) yr(i) = X(i, 0) - 0.5 * X(i, 1) * X(i, 2);
    xm::TrainOptions regression = train_options("sgd", 0.05, 12, 16);
    xm::MLPRegressor reference_r({6}, xgrad::nn::Activation::tanh);
    reference_r.fit(X, yr, regression);
    Worst worst("MLPClassifier adam and MLPRegressor sgd parameters and histories");
    for (std::size_t ranks : {2, 3, 4}) {
        xd::run_ranks(ranks, [&](xd::Communicator& comm) {
            const auto rows = round_robin_rows(120, comm);
            const xd::Shard v = xd::shard_rows(45, comm.rank(), comm.size());
            std::vector<std::size_t> vrows;
            for (std::size_t i = v.begin; i < v.end; ++i) vrows.push_back(i);
            xm::TrainOptions mine = options;
            mine.communicator = &comm;
            mine.row_ids = rows;
            mine.validation_X = take_rows(Xv, vrows);
            mine.validation_y = take_rows(yv, vrows);
            xm::MLPClassifier model({8}, xgrad::nn::Activation::relu);
            model.fit(take_rows(X, rows), take_rows(y, rows), mine);
            double e = std::max(
                {relative(layers_of(model), layers_of(reference)),
                 relative(model.loss_history(), reference.loss_history()),
                 relative(model.validation_loss_history(), reference.validation_loss_history())});
            expect_same_summary(model.fit_summary(), reference.fit_summary());
            expect_identical_on_every_rank(comm, layers_of(model));
            xm::TrainOptions mine_r = regression;
            mine_r.communicator = &comm;  // contiguous blocks
            const auto blocks = block_rows(120, comm);
            xm::MLPRegressor model_r({6}, xgrad::nn::Activation::tanh);
            model_r.fit(take_rows(X, blocks), take_rows(yr, blocks), mine_r);
            e = std::max({e, relative(layers_of(model_r), layers_of(reference_r)),
                          relative(model_r.loss_history(), reference_r.loss_history())});
            worst.see(e);
            EXPECT_LE(e, 1e-12) << "ranks " << ranks;
            expect_identical_on_every_rank(comm, layers_of(model_r));
        });
    }
}

TEST(DataParallelModels, ANonFiniteValueOnOneRankStopsEveryRankWithOneMessage) {
    const auto [X, y] = make_classification(40, 3, 61);
    xd::run_ranks(3, [&](xd::Communicator& comm) {
        const auto rows = block_rows(40, comm);
        array Xr = take_rows(X, rows);
        if (comm.rank() == 1) Xr(3, 2) = NAN;
        xm::TrainOptions options = train_options("lbfgs", 0.1, 10, 0);
        options.communicator = &comm;
        xm::LogisticRegression model;
        XGRAD_EXPECT_THROW_WITH(
            model.fit(Xr, take_rows(y, rows), options), xd::distributed_error,
            "rank 1: LogisticRegression.fit: X has a non-finite value at row 3, column 2");
        options.optimizer = "adam";
        xm::MLPClassifier mlp({4}, xgrad::nn::Activation::relu);
        XGRAD_EXPECT_THROW_WITH(
            mlp.fit(Xr, take_rows(y, rows), options), xd::distributed_error,
            "rank 1: MLPClassifier.fit: X holds a non-finite value at row 3, column 2");
        // a bad label on rank 2 only
        array yr = take_rows(y, rows);
        if (comm.rank() == 2) yr(0) = 0.5;
        XGRAD_EXPECT_THROW_WITH(model.fit(take_rows(X, rows), yr, options), xd::distributed_error,
                                "rank 2: LogisticRegression.fit: labels");
        xm::SoftmaxRegression softmax;
        XGRAD_EXPECT_THROW_WITH(softmax.fit(take_rows(X, rows), yr, options), xd::distributed_error,
                                "rank 2: SoftmaxRegression.fit: label at row 0");
    });
}

TEST(DataParallelModels, ARankWithoutTrainingRowsIsRefusedOnEveryRank) {
    const auto [X, y] = make_classification(20, 2, 71);
    xd::run_ranks(3, [&](xd::Communicator& comm) {
        std::vector<std::size_t> rows;
        if (comm.rank() != 2)
            for (std::size_t i = 0; i < 10; ++i) rows.push_back(10 * comm.rank() + i);
        xm::TrainOptions options = train_options("sgd", 0.1, 3, 4);
        options.communicator = &comm;
        xm::LogisticRegression model;
        XGRAD_EXPECT_THROW_WITH(model.fit(take_rows(X, rows), take_rows(y, rows), options),
                                xd::distributed_error,
                                "rank 2: LogisticRegression.fit: rank 2 has no training rows");
        xm::MLPRegressor mlp({3}, xgrad::nn::Activation::relu);
        XGRAD_EXPECT_THROW_WITH(mlp.fit(take_rows(X, rows), take_rows(y, rows), options),
                                xd::distributed_error, "rank 2 has no training rows");
    });
}

TEST(DataParallelModels, ClassesOfAllRanksCountAndOneClassOverallIsRefused) {
    xd::run_ranks(2, [](xd::Communicator& comm) {
        const array X = xt::ones<double>({std::size_t{3}, std::size_t{2}});
        const array y = xt::zeros<double>({std::size_t{3}});  // class 0 on both ranks
        xm::TrainOptions options = train_options("sgd", 0.1, 3, 0);
        options.communicator = &comm;
        xm::SoftmaxRegression model;
        XGRAD_EXPECT_THROW_WITH(model.fit(X, y, options), std::invalid_argument,
                                "the labels hold only one class (0)");
        options.balanced_class_weights = true;
        xm::LogisticRegression logistic;
        XGRAD_EXPECT_THROW_WITH(logistic.fit(X, y, options), std::invalid_argument,
                                "both classes must occur");
        // class 0 on rank 0 and class 1 on rank 1: two classes overall
        const array yk = xt::zeros<double>({std::size_t{3}}) + comm.rank();
        logistic.fit(X, yk, options);
        EXPECT_EQ(logistic.fit_summary().steps, 3u);
    });
}
