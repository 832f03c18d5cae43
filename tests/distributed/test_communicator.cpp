// The collectives of a group of ranks (threads here: run_ranks), shards, the parameter broadcast
// and the bucketed gradient all-reduce; agreement on errors.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>

#include "distributed/rank_data.hpp"
#include "support.hpp"
#include "xgrad/distributed/communicator.hpp"
#include "xgrad/distributed/gradients.hpp"
#include "xgrad/distributed/thread_group.hpp"
#include "xgrad/ops.hpp"

namespace xd = xgrad::distributed;
using xgrad::array;

namespace {

using xgrad::testing::bytes_of;
using xgrad::testing::sample;

}  // namespace

TEST(Communicator, AllreduceSumIsTheRankOrderSumWithTheSameBitsOnEveryRank) {
    for (std::size_t ranks = 1; ranks <= 5; ++ranks) {
        for (std::size_t count :
             {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1001}}) {
            xd::run_ranks(ranks, [&](xd::Communicator& comm) {
                std::vector<double> data(count);
                for (std::size_t i = 0; i < count; ++i) data[i] = sample(comm.rank(), i);
                comm.allreduce_sum(data.data(), count);
                for (std::size_t i = 0; i < count; ++i) {
                    double expected = sample(0, i);
                    for (int r = 1; r < comm.size(); ++r) expected += sample(r, i);
                    EXPECT_EQ(data[i], expected) << "rank " << comm.rank() << " element " << i;
                }
                const std::vector<std::string> all = comm.allgather(bytes_of(data));
                for (const std::string& other : all) EXPECT_EQ(other, all[0]);
            });
        }
    }
}

TEST(Communicator, AllreduceMaxLetsNanWinAndBroadcastCopiesTheRootsBits) {
    xd::run_ranks(3, [](xd::Communicator& comm) {
        std::vector<double> v{static_cast<double>(comm.rank()), -1.0 * comm.rank(),
                              comm.rank() == 1 ? NAN : 2.0};
        comm.allreduce_max(v.data(), v.size());
        EXPECT_EQ(v[0], 2.0);
        EXPECT_EQ(v[1], 0.0);
        EXPECT_TRUE(std::isnan(v[2]));
        std::vector<double> b{sample(comm.rank(), 0), sample(comm.rank(), 1)};
        comm.broadcast(b.data(), b.size(), 2);
        EXPECT_EQ(b[0], sample(2, 0));
        EXPECT_EQ(b[1], sample(2, 1));
        XGRAD_EXPECT_THROW_WITH(comm.broadcast(b.data(), 2, 3), std::invalid_argument,
                                "root 3 is not in a group of 3");
    });
}

TEST(Communicator, AllgatherKeepsRankOrderAndLengthsIncludingEmpty) {
    xd::run_ranks(4, [](xd::Communicator& comm) {
        const std::string mine(static_cast<std::size_t>(comm.rank()), char('a' + comm.rank()));
        const std::vector<std::string> all = comm.allgather(mine);
        ASSERT_EQ(all.size(), 4u);
        EXPECT_EQ(all[0], "");
        EXPECT_EQ(all[1], "b");
        EXPECT_EQ(all[3], "ddd");
        const std::vector<double> values =
            xd::allgather_values(comm, std::vector<double>(comm.rank(), comm.rank()));
        EXPECT_EQ(values, (std::vector<double>{1, 2, 2, 3, 3, 3}));
        EXPECT_EQ(xd::allreduce_sum(comm, 0.5), 2.0);
    });
}

TEST(Communicator, SplitMakesGroupsOrderedByKeyThenRank) {
    xd::run_ranks(5, [](xd::Communicator& comm) {
        // even ranks and odd ranks; within each, the key reverses the order
        std::unique_ptr<xd::Communicator> sub = comm.split(comm.rank() % 2, -comm.rank());
        EXPECT_EQ(sub->size(), comm.rank() % 2 == 0 ? 3 : 2);
        const int expected_rank =
            comm.rank() % 2 == 0 ? (4 - comm.rank()) / 2 : (3 - comm.rank()) / 2;
        EXPECT_EQ(sub->rank(), expected_rank);
        double v = comm.rank();
        sub->allreduce_sum(&v, 1);
        EXPECT_EQ(v, comm.rank() % 2 == 0 ? 0.0 + 2 + 4 : 1.0 + 3);
        // a negative colour on one rank is refused on every rank (none is left waiting)
        XGRAD_EXPECT_THROW_WITH(comm.split(comm.rank() == 3 ? -1 : 0, 0), std::invalid_argument,
                                "split: every color must be >= 0");
        comm.barrier();
    });
}

TEST(Communicator, AgreeThrowsTheLowestFailingRanksMessageOnEveryRank) {
    std::atomic<int> agreed{0};
    xd::run_ranks(4, [&](xd::Communicator& comm) {
        try {
            xd::agree(comm, [&] {
                if (comm.rank() == 3) throw std::runtime_error("data.csv:9: bad row");
                if (comm.rank() == 2) throw std::invalid_argument("data.csv:7: ragged row");
            });
            ADD_FAILURE() << "agree returned on rank " << comm.rank();
        } catch (const xd::distributed_error& e) {
            EXPECT_STREQ(e.what(), "rank 2: data.csv:7: ragged row");
            EXPECT_EQ(e.failed_rank(), 2);
            ++agreed;
        }
        // the group is still usable afterwards: the error was agreed, not a failure
        double one = 1.0;
        comm.allreduce_sum(&one, 1);
        EXPECT_EQ(one, 4.0);
    });
    EXPECT_EQ(agreed.load(), 4);
    // The same error on every rank: no rank is named.
    xd::run_ranks(3, [](xd::Communicator& comm) {
        XGRAD_EXPECT_THROW_WITH(
            xd::agree(comm,
                      [] { throw std::runtime_error("--patience needs --validation-split"); }),
            xd::distributed_error, "--patience needs --validation-split");
        try {
            xd::agree(comm, [] { throw std::runtime_error("shared"); });
        } catch (const xd::distributed_error& e) {
            EXPECT_STREQ(e.what(), "shared");
        }
    });
    // Nothing thrown: agree returns everywhere; one rank: the message is not prefixed.
    xd::run_ranks(2, [](xd::Communicator& comm) { xd::agree(comm, [] {}); });
    xd::SingleProcess single;
    XGRAD_EXPECT_THROW_WITH(xd::agree(single, [] { throw std::runtime_error("plain"); }),
                            xd::distributed_error, "plain");
}

TEST(Communicator, ARankThatFailsAloneReleasesTheRanksWaitingForIt) {
    // Rank 1 throws outside any collective while the others wait in one: no hang, and
    // run_ranks rethrows rank 1's own exception.
    XGRAD_EXPECT_THROW_WITH(xd::run_ranks(3,
                                          [](xd::Communicator& comm) {
                                              if (comm.rank() == 1)
                                                  throw std::runtime_error("rank one broke");
                                              double v = 1.0;
                                              comm.allreduce_sum(&v, 1);
                                          }),
                            std::runtime_error, "rank one broke");
    XGRAD_EXPECT_THROW_WITH(xd::run_ranks(2,
                                          [](xd::Communicator& comm) {
                                              if (comm.rank() == 0) comm.abort(3);
                                              comm.barrier();
                                          }),
                            xd::distributed_error, "rank 0 aborted with code 3");
    XGRAD_EXPECT_THROW_WITH(xd::run_ranks(0, [](xd::Communicator&) {}), std::invalid_argument,
                            "at least one rank");
}

TEST(Communicator, CountsThatDifferBetweenRanksThrowOnEveryRankWithoutReadingPastTheData) {
    // Rank 2 passes more elements (then fewer) than the others: every rank throws the same
    // error, nobody reads past another rank's buffer, and the group works afterwards.
    std::atomic<int> thrown{0};
    xd::run_ranks(3, [&](xd::Communicator& comm) {
        for (std::size_t wrong : {std::size_t{1000}, std::size_t{1}}) {
            const std::size_t count = comm.rank() == 2 ? wrong : 4;
            std::vector<double> data(count, 1.0 + comm.rank());
            const std::string expected =
                "rank 2 passes " + std::to_string(wrong) + " elements; rank 0 passes 4";
            XGRAD_EXPECT_THROW_WITH(comm.allreduce_sum(data.data(), count), xd::distributed_error,
                                    "allreduce_sum: " + expected);
            XGRAD_EXPECT_THROW_WITH(comm.allreduce_max(data.data(), count), xd::distributed_error,
                                    "allreduce_max: " + expected);
            XGRAD_EXPECT_THROW_WITH(comm.broadcast(data.data(), count, 2), xd::distributed_error,
                                    "broadcast: " + expected);
            EXPECT_EQ(data, std::vector<double>(count, 1.0 + comm.rank()));  // left as it was
            try {
                comm.allreduce_sum(data.data(), count);
            } catch (const xd::distributed_error& e) {
                EXPECT_EQ(e.failed_rank(), 2);
                ++thrown;
            }
        }
        double one = 1.0;
        comm.allreduce_sum(&one, 1);
        EXPECT_EQ(one, 3.0);
    });
    EXPECT_EQ(thrown.load(), 6);
}

TEST(Shard, BlocksAreContiguousBalancedToOneRowAndCoverEveryRow) {
    for (std::size_t rows : {1u, 2u, 7u, 100u, 101u}) {
        for (int size = 1; size <= 7 && static_cast<std::size_t>(size) <= rows; ++size) {
            std::size_t next = 0;
            for (int rank = 0; rank < size; ++rank) {
                const xd::Shard s = xd::shard_rows(rows, rank, size);
                EXPECT_EQ(s.begin, next);
                EXPECT_TRUE(s.size() == rows / size || s.size() == rows / size + 1);
                EXPECT_EQ(s.size(), rows / size + (static_cast<std::size_t>(rank) < rows % size));
                next = s.end;
            }
            EXPECT_EQ(next, rows);
        }
    }
    XGRAD_EXPECT_THROW_WITH(
        xd::shard_rows(3, 0, 4), std::invalid_argument,
        "shard: 3 rows cannot be shared by 4 ranks (each needs at least one row)");
    XGRAD_EXPECT_THROW_WITH(xd::shard_rows(0, 0, 1), std::invalid_argument,
                            "0 rows cannot be shared by 1 ranks");
    XGRAD_EXPECT_THROW_WITH(xd::shard_rows(10, 2, 2), std::invalid_argument,
                            "rank 2 is not in a group of 2");
}

TEST(Parameters, BroadcastMakesEveryReplicaRank0sAndRefusesOtherShapes) {
    xd::run_ranks(3, [](xd::Communicator& comm) {
        xgrad::Var w = xgrad::parameter(array{sample(comm.rank(), 0), sample(comm.rank(), 1)});
        xgrad::Var b = xgrad::parameter(sample(comm.rank(), 2));
        xd::broadcast_parameters(comm, {w, b});
        EXPECT_EQ(w.value()(0), sample(0, 0));
        EXPECT_EQ(w.value()(1), sample(0, 1));
        EXPECT_EQ(b.value()(), sample(0, 2));
        xgrad::Var odd = xgrad::parameter(xt::zeros<double>({comm.rank() == 2 ? 3u : 2u}));
        XGRAD_EXPECT_THROW_WITH(
            xd::broadcast_parameters(comm, {odd}), xd::distributed_error,
            "broadcast_parameters: rank 2 has parameters (3,); rank 0 has (2,)");
    });
}

TEST(Gradients, ReduceSumsOrAveragesEveryBucketAndTheExtras) {
    for (std::size_t bucket_bytes :
         {std::size_t{8}, std::size_t{24}, xd::GradientReducer::default_bucket_bytes}) {
        xd::run_ranks(3, [&](xd::Communicator& comm) {
            xgrad::Var w = xgrad::parameter(xt::zeros<double>({2, 3}));
            xgrad::Var b = xgrad::parameter(array{0.0, 0.0});
            xgrad::Var unused = xgrad::parameter(array{5.0});  // no backward reaches it: zeros
            const array x = {{1.0 + comm.rank(), 2.0}, {3.0, -1.0 * comm.rank()}};
            xgrad::Var loss = xgrad::sum(xgrad::matmul(xgrad::constant(x), w)) * 1.5 +
                              xgrad::sum(b * static_cast<double>(comm.rank() + 1));
            loss.backward();
            xd::GradientReducer reducer(comm, {w, b, unused}, bucket_bytes);
            EXPECT_EQ(reducer.elements(), 9u);
            EXPECT_EQ(reducer.buckets(),
                      bucket_bytes >= 72 ? 1u : (72 + bucket_bytes - 1) / bucket_bytes);
            double extra[2] = {1.0 * comm.rank(), 2.0};
            reducer.reduce(xd::Reduction::sum, extra, 2);
            // d loss / d w[i][j] = 1.5 Σ_rows x[r][i]; summed over ranks 0, 1, 2
            EXPECT_EQ(w.grad()(0, 0), 1.5 * ((1 + 3) + (2 + 3) + (3 + 3)));
            EXPECT_EQ(w.grad()(1, 2), 1.5 * ((2 - 0) + (2 - 1) + (2 - 2)));
            EXPECT_EQ(b.grad()(1), 1.0 + 2.0 + 3.0);
            EXPECT_EQ(unused.grad()(0), 0.0);
            EXPECT_EQ(extra[0], 3.0);
            EXPECT_EQ(extra[1], 6.0);
            reducer.reduce(xd::Reduction::mean);  // the sums again, averaged
            EXPECT_EQ(b.grad()(0), 6.0);
        });
    }
}

TEST(Gradients, ReducersRefuseRanksWhoseParametersDiffer) {
    xd::run_ranks(2, [](xd::Communicator& comm) {
        std::vector<xgrad::Var> params{xgrad::parameter(array{1.0, 2.0, 3.0})};
        if (comm.rank() == 1) params.push_back(xgrad::parameter(array{1.0}));
        XGRAD_EXPECT_THROW_WITH(
            xd::GradientReducer(comm, params), xd::distributed_error,
            "allreduce_gradients: rank 1 has parameters (3,) (1,); rank 0 has (3,)");
        XGRAD_EXPECT_THROW_WITH(xd::GradientReducer(comm, params, 4), std::invalid_argument,
                                "holds no gradient");
    });
}

TEST(Gradients, AParameterWhoseShapeChangedSinceTheReducerStopsEveryRank) {
    // Rank 1's parameter grows (it would overrun the buffer), then rank 2's shrinks (it would
    // shift the gradients after it): every rank throws the lowest such rank's error and keeps
    // its gradients and extras; the reducer works again once the shapes are back.
    xd::run_ranks(3, [](xd::Communicator& comm) {
        xgrad::Var w = xgrad::parameter(array{1.0, 2.0, 3.0});
        xgrad::Var b = xgrad::parameter(array{1.0});
        xd::GradientReducer reducer(comm, {w, b});
        const auto step = [&] {
            w.zero_grad();
            b.zero_grad();
            (xgrad::sum(w * w) + xgrad::sum(b) * static_cast<double>(comm.rank())).backward();
        };
        for (int changed : {1, 2}) {
            if (comm.rank() == changed) {
                w.mutable_value() = changed == 1 ? array(xt::ones<double>({3000})) : array{1.0};
            }
            step();
            const array before = w.grad();
            double extra = 5.0;
            const std::string shape = changed == 1 ? "(3000,)" : "(1,)";
            XGRAD_EXPECT_THROW_WITH(
                reducer.reduce(xd::Reduction::sum, &extra, 1), xd::distributed_error,
                "rank " + std::to_string(changed) +
                    ": allreduce_gradients: parameter 0 now has shape " + shape +
                    " and a gradient of shape " + shape + "; the reducer was made for (3,)");
            EXPECT_EQ(w.grad(), before);
            EXPECT_EQ(extra, 5.0);
            w.mutable_value() = array{1.0, 2.0, 3.0};
        }
        step();
        reducer.reduce(xd::Reduction::sum);
        EXPECT_EQ(w.grad(), (array{6.0, 12.0, 18.0}));
        EXPECT_EQ(b.grad()(0), 0.0 + 1.0 + 2.0);
    });
    // One process: the same check, unprefixed.
    xd::SingleProcess one;
    xgrad::Var w = xgrad::parameter(array{1.0, 2.0});
    xd::GradientReducer reducer(one, {w});
    w.mutable_value() = array{1.0, 2.0, 3.0};
    xgrad::sum(w).backward();
    XGRAD_EXPECT_THROW_WITH(reducer.reduce(), xd::distributed_error,
                            "allreduce_gradients: parameter 0 now has shape (3,)");
}

TEST(Gradients, SingleProcessLeavesEverythingAsItIs) {
    xd::SingleProcess one;
    EXPECT_EQ(one.rank(), 0);
    EXPECT_EQ(one.size(), 1);
    xgrad::Var w = xgrad::parameter(array{2.0, -3.0});
    xgrad::sum(w * w).backward();
    xd::allreduce_gradients(one, {w});
    EXPECT_EQ(w.grad()(0), 4.0);
    EXPECT_EQ(w.grad()(1), -6.0);
    xd::broadcast_parameters(one, {w});
    EXPECT_EQ(w.value()(1), -3.0);
    EXPECT_EQ(one.split(0, 0)->size(), 1);
    XGRAD_EXPECT_THROW_WITH(one.broadcast(nullptr, 0, 1), std::invalid_argument,
                            "root 1 is not in a group of 1");
}
