// MPI's communicator under mpirun (ctest runs this file with 2 to 5 ranks): the ring
// all-reduce's sums, bits and determinism, the other collectives, agreement on errors, and
// data-parallel training equal to one process.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "distributed/rank_data.hpp"
#include "support.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/distributed.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/mlp_model.hpp"
#include "xgrad/ops.hpp"

namespace xd = xgrad::distributed;
using xgrad::array;

namespace {

xd::MpiCommunicator* world = nullptr;

using xgrad::testing::bytes_of;
using xgrad::testing::sample;

/// @brief Prints only the failures of a rank other than 0, prefixed with the rank.
class FailurePrinter : public ::testing::EmptyTestEventListener {
  public:
    explicit FailurePrinter(int rank) : rank_(rank) {}
    void OnTestPartResult(const ::testing::TestPartResult& result) override {
        if (result.failed()) {
            std::printf("[rank %d] %s:%d: %s\n", rank_, result.file_name(), result.line_number(),
                        result.summary());
        }
    }

  private:
    int rank_;
};

}  // namespace

TEST(MpiCommunicator, RingSumsAreExactToRoundingWithTheSameBitsOnEveryRankEveryTime) {
    xd::Communicator& comm = *world;
    // recursive doubling below 4 KiB, the ring above (fewer elements than ranks, uneven pieces)
    for (std::size_t count : {0u, 1u, 2u, 7u, 511u, 512u, 513u, 100003u, 1u << 20}) {
        std::vector<double> data(count);
        for (std::size_t i = 0; i < count; ++i) data[i] = sample(comm.rank(), i);
        std::vector<double> again = data;
        comm.allreduce_sum(data.data(), count);
        comm.allreduce_sum(again.data(), count);
        EXPECT_EQ(bytes_of(data), bytes_of(again)) << count << " elements: not deterministic";
        double worst = 0.0;
        for (std::size_t i = 0; i < count; ++i) {
            long double exact = 0.0L;
            double magnitude = 0.0;
            for (int r = 0; r < comm.size(); ++r) {
                exact += sample(r, i);
                magnitude += std::abs(sample(r, i));
            }
            worst = std::max(worst, std::abs(static_cast<double>(data[i] - exact)) / magnitude);
        }
        EXPECT_LE(worst, comm.size() * 1.2e-16) << count << " elements";
        const std::vector<std::string> all = comm.allgather(bytes_of(data));
        for (std::size_t r = 1; r < all.size(); ++r)
            EXPECT_EQ(all[r], all[0]) << count << " elements: rank " << r << " differs";
    }
}

TEST(MpiCommunicator, MaxBroadcastAllgatherAndSplit) {
    xd::Communicator& comm = *world;
    const int n = comm.size();
    std::vector<double> v{static_cast<double>(comm.rank()), comm.rank() == n - 1 ? NAN : 1.0};
    comm.allreduce_max(v.data(), v.size());
    EXPECT_EQ(v[0], n - 1.0);
    EXPECT_TRUE(std::isnan(v[1]));
    std::vector<double> b(3, sample(comm.rank(), 5));
    comm.broadcast(b.data(), b.size(), n - 1);
    EXPECT_EQ(b[2], sample(n - 1, 5));
    const std::vector<std::string> all =
        comm.allgather(std::string(static_cast<std::size_t>(comm.rank()), 'x'));
    ASSERT_EQ(all.size(), static_cast<std::size_t>(n));
    for (int r = 0; r < n; ++r) EXPECT_EQ(all[r].size(), static_cast<std::size_t>(r));
    std::unique_ptr<xd::Communicator> sub = comm.split(comm.rank() % 2, comm.rank());
    EXPECT_EQ(sub->rank(), comm.rank() / 2);
    double one = 1.0;
    sub->allreduce_sum(&one, 1);
    EXPECT_EQ(one, sub->size());
    XGRAD_EXPECT_THROW_WITH(comm.broadcast(b.data(), 1, n), std::invalid_argument,
                            "is not in a group of");
    XGRAD_EXPECT_THROW_WITH(comm.split(comm.rank() == n - 1 ? -2 : 1, 0), std::invalid_argument,
                            "split: every color must be >= 0");
}

TEST(MpiCommunicator, AgreeStopsEveryRankWithTheFailingRanksMessage) {
    xd::Communicator& comm = *world;
    const int bad = comm.size() - 1;
    try {
        xd::agree(comm, [&] {
            if (comm.rank() == bad) throw std::runtime_error("shard.csv:12:3: 'x' is not a number");
        });
        ADD_FAILURE() << "agree returned";
    } catch (const xd::distributed_error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "rank " + std::to_string(bad) + ": shard.csv:12:3: 'x' is not a number");
        EXPECT_EQ(e.failed_rank(), bad);
    }
}

TEST(MpiCommunicator, BucketedGradientsAreTheSumOverRanksWhateverTheBucketSize) {
    xd::Communicator& comm = *world;
    std::vector<std::string> results;
    for (std::size_t bucket : {std::size_t{8}, std::size_t{4096}, std::size_t{1} << 25}) {
        xgrad::Var w = xgrad::parameter(xt::zeros<double>({300, 7}));
        xgrad::Var b = xgrad::parameter(xt::zeros<double>({7}));
        array x = array::from_shape({5, 300});
        for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = sample(comm.rank(), i);
        xgrad::sum(xgrad::matmul(xgrad::constant(x), w) + b).backward();
        xd::GradientReducer reducer(comm, {w, b}, bucket);
        double loss = 1.0;
        reducer.reduce(xd::Reduction::sum, &loss, 1);
        EXPECT_EQ(loss, comm.size());
        EXPECT_EQ(b.grad()(3), 5.0 * comm.size());
        double expected = 0.0;
        for (int r = 0; r < comm.size(); ++r)
            for (std::size_t row = 0; row < 5; ++row) expected += sample(r, row * 300 + 17);
        EXPECT_NEAR(w.grad()(17, 2), expected, 1e-13 * std::abs(expected) + 1e-15);
        const std::vector<std::string> all =
            comm.allgather(bytes_of(std::vector<double>(w.grad().begin(), w.grad().end())));
        for (const std::string& other : all) EXPECT_EQ(other, all[0]);
    }
}

/// @brief max |a − b| / max |b|.
double relative_difference(const array& a, const array& b) {
    double worst = 0.0;
    double largest = 0.0;
    for (std::size_t i = 0; i < b.size(); ++i) {
        worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
        largest = std::max(largest, std::abs(b.data()[i]));
    }
    return worst / largest;
}

/// @brief The standardised breast-cancer rows and labels, and this rank's block of them.
struct Shared {
    array X, y, X_mine, y_mine;
};

Shared breast_cancer(xd::Communicator& comm) {
    const xgrad::data::Dataset d = xgrad::data::read_csv(XGRAD_DATA_DIR "/breast_cancer.csv");
    const array X = xgrad::data::Standardizer().fit_transform(d.features);
    const xd::Shard s = xd::shard_rows(X.shape()[0], comm.rank(), comm.size());
    std::vector<std::size_t> rows;
    for (std::size_t r = s.begin; r < s.end; ++r) rows.push_back(r);
    return {X, d.labels, xgrad::data::take_rows(X, rows), xgrad::data::take_rows(d.labels, rows)};
}

TEST(MpiTraining, ModelsFitOnBlocksOfRowsAsOneProcessFitsAllRows) {
    xd::Communicator& comm = *world;
    const Shared data = breast_cancer(comm);
    struct Case {
        const char* optimizer;
        std::size_t epochs;
        std::size_t batch;
        double tolerance;  // 1e-12 for gradient steps; the solvers' optimum to 1e-8
    };
    for (const Case& c : {Case{"sgd", 50, 0, 1e-12}, Case{"adam", 10, 32, 1e-12},
                          Case{"lbfgs", 200, 0, 1e-8}, Case{"newton", 20, 0, 1e-8}}) {
        xgrad::models::TrainOptions options(0.1, c.epochs, c.batch, 5);
        options.optimizer = c.optimizer;
        options.l2 = 1.0;
        xgrad::models::LogisticRegression one;
        one.fit(data.X, data.y, options);
        options.communicator = &comm;
        xgrad::models::LogisticRegression many;
        many.fit(data.X_mine, data.y_mine, options);
        EXPECT_LE(relative_difference(many.weights().value(), one.weights().value()), c.tolerance)
            << c.optimizer << " on " << comm.size() << " ranks";
        EXPECT_LE(std::abs(many.loss_history().back() - one.loss_history().back()),
                  1e-12 * std::abs(one.loss_history().back()))
            << c.optimizer;
        const std::vector<std::string> all = comm.allgather(bytes_of(
            std::vector<double>(many.weights().value().begin(), many.weights().value().end())));
        for (const std::string& other : all) EXPECT_EQ(other, all[0]) << c.optimizer;
    }
    // An MLP with mini-batches of the global order: the same weights to 1e-12.
    xgrad::models::TrainOptions options(0.01, 5, 16, 3);
    options.optimizer = "adam";
    xgrad::models::MLPClassifier one({8}, xgrad::nn::Activation::tanh);
    one.fit(data.X, data.y, options);
    options.communicator = &comm;
    xgrad::models::MLPClassifier many({8}, xgrad::nn::Activation::tanh);
    many.fit(data.X_mine, data.y_mine, options);
    for (std::size_t l = 0; l < one.layers().size(); ++l) {
        EXPECT_LE(relative_difference(many.layers()[l].weight, one.layers()[l].weight), 1e-12);
        EXPECT_LE(relative_difference(many.layers()[l].bias, one.layers()[l].bias), 1e-12);
    }
}

int main(int argc, char** argv) {
    xd::MpiSession session(argc, argv);
    world = &session.world();
    ::testing::InitGoogleTest(&argc, argv);
    if (world->rank() != 0) {  // one full report (rank 0's); the others print their failures
        ::testing::TestEventListeners& listeners = ::testing::UnitTest::GetInstance()->listeners();
        delete listeners.Release(listeners.default_result_printer());
        listeners.Append(new FailurePrinter(world->rank()));
    }
    double failed = RUN_ALL_TESTS() != 0 ? 1.0 : 0.0;
    world->allreduce_max(&failed, 1);
    return failed != 0.0 ? 1 : 0;
}
