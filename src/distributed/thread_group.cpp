// run_ranks: ranks as threads; each collective is two barriers around a shared table of
// pointers (post, barrier, read every rank's data in rank order, barrier, write one's own).
#include "xgrad/distributed/thread_group.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <exception>
#include <map>
#include <mutex>
#include <thread>

namespace xgrad::distributed {

namespace {

/// @brief What the threads of one group share.
struct Group {
    explicit Group(std::size_t n) : size(n), slots(n), counts(n), strings(n), groups(n) {}

    std::size_t size;
    std::mutex mutex;
    std::condition_variable changed;
    std::size_t arrived = 0;
    std::size_t generation = 0;
    bool failed = false;
    int failed_rank = -1;
    std::vector<double*> slots;
    std::vector<std::size_t> counts;  ///< each rank's element count in the current collective
    std::vector<std::string> strings;
    std::vector<std::shared_ptr<Group>> groups;  ///< split(): each rank's new group
};

/// @brief Every group of one run_ranks (the world and what split() made).
struct Registry {
    std::mutex mutex;
    std::vector<std::shared_ptr<Group>> groups;

    void add(std::shared_ptr<Group> group) {
        std::lock_guard<std::mutex> lock(mutex);
        groups.push_back(std::move(group));
    }
    /// @brief Marks every group failed by `rank` and wakes the ranks waiting in them.
    void fail(int rank) {
        std::lock_guard<std::mutex> lock(mutex);
        for (const auto& group : groups) {
            std::lock_guard<std::mutex> group_lock(group->mutex);
            if (!group->failed) {
                group->failed = true;
                group->failed_rank = rank;
            }
            group->changed.notify_all();
        }
    }
};

/// @brief A collective's counts that differ between ranks: the lowest such rank (−1: none).
struct Mismatch {
    int rank = -1;
    std::string message;
};

class ThreadCommunicator final : public Communicator {
  public:
    ThreadCommunicator(std::shared_ptr<Group> group, int rank, std::shared_ptr<Registry> all)
        : group_(std::move(group)), rank_(rank), all_(std::move(all)) {}

    int rank() const override { return rank_; }
    int size() const override { return static_cast<int>(group_->size); }

    void allreduce_sum(double* data, std::size_t count) override {
        combine("allreduce_sum", data, count, [](double a, double b) { return a + b; });
    }
    void allreduce_max(double* data, std::size_t count) override {
        combine("allreduce_max", data, count, [](double a, double b) {
            return std::isnan(a) || std::isnan(b) ? NAN : std::max(a, b);
        });
    }

    void broadcast(double* data, std::size_t count, int root) override {
        if (root < 0 || root >= size()) {
            throw std::invalid_argument("broadcast: root " + std::to_string(root) +
                                        " is not in a group of " + std::to_string(size()));
        }
        post(data, count);
        const Mismatch mismatch = count_mismatch("broadcast");
        if (mismatch.rank < 0 && rank_ != root)
            std::copy(group_->slots[root], group_->slots[root] + count, data);
        finish(mismatch);
    }

    std::vector<std::string> allgather(const std::string& bytes) override {
        group_->strings[rank_] = bytes;
        barrier();
        std::vector<std::string> all = group_->strings;
        barrier();
        return all;
    }

    void barrier() override {
        std::unique_lock<std::mutex> lock(group_->mutex);
        check_failed();
        const std::size_t generation = group_->generation;
        if (++group_->arrived == group_->size) {
            group_->arrived = 0;
            ++group_->generation;
            group_->changed.notify_all();
            return;
        }
        group_->changed.wait(lock,
                             [&] { return group_->generation != generation || group_->failed; });
        if (group_->generation == generation) check_failed();
    }

    std::unique_ptr<Communicator> split(int color, int key) override {
        const std::vector<std::string> keys =
            allgather(std::to_string(color) + " " + std::to_string(key));
        for (const std::string& k : keys) {  // refused on every rank, not only on the one
            if (k[0] == '-') throw std::invalid_argument("split: every color must be >= 0");
        }
        std::map<int, std::vector<std::pair<int, int>>> members;  // color → (key, rank)
        for (std::size_t r = 0; r < keys.size(); ++r) {
            const std::size_t space = keys[r].find(' ');
            members[std::stoi(keys[r].substr(0, space))].push_back(
                {std::stoi(keys[r].substr(space + 1)), static_cast<int>(r)});
        }
        auto& mine = members[color];
        std::sort(mine.begin(), mine.end());
        int new_rank = 0;
        while (mine[new_rank].second != rank_) ++new_rank;
        if (new_rank == 0) {  // the first member makes the group and hands it to the others
            auto made = std::make_shared<Group>(mine.size());
            all_->add(made);
            std::lock_guard<std::mutex> lock(group_->mutex);
            for (const auto& member : mine) group_->groups[member.second] = made;
        }
        barrier();
        std::shared_ptr<Group> made = group_->groups[rank_];
        barrier();
        return std::make_unique<ThreadCommunicator>(made, new_rank, all_);
    }

    [[noreturn]] void abort(int code) override {
        all_->fail(rank_);
        throw distributed_error(
            "rank " + std::to_string(rank_) + " aborted with code " + std::to_string(code), rank_);
    }

  private:
    template <class Op>
    void combine(const char* who, double* data, std::size_t count, Op op) {
        post(data, count);
        const Mismatch mismatch = count_mismatch(who);
        std::vector<double> result;
        if (mismatch.rank < 0) {
            result.assign(group_->slots[0], group_->slots[0] + count);
            for (std::size_t r = 1; r < group_->size; ++r) {
                const double* other = group_->slots[r];
                for (std::size_t i = 0; i < count; ++i) result[i] = op(result[i], other[i]);
            }
        }
        finish(mismatch);
        std::copy(result.begin(), result.end(), data);
    }

    /// @brief Posts this rank's data and count and waits for every rank's.
    void post(double* data, std::size_t count) {
        group_->slots[rank_] = data;
        group_->counts[rank_] = count;
        barrier();
    }

    /// @brief The lowest rank whose posted count is not rank 0's, with the message every rank
    /// throws; rank −1 when they all match (MPI's collectives need the same count everywhere;
    /// reading another rank's data past its count would overrun it).
    Mismatch count_mismatch(const char* who) const {
        for (std::size_t r = 1; r < group_->size; ++r) {
            if (group_->counts[r] != group_->counts[0]) {
                return {static_cast<int>(r), std::string(who) + ": rank " + std::to_string(r) +
                                                 " passes " + std::to_string(group_->counts[r]) +
                                                 " elements; rank 0 passes " +
                                                 std::to_string(group_->counts[0])};
            }
        }
        return {};
    }

    /// @brief Waits until every rank has read the posted data, then throws `mismatch` (the same
    /// on every rank) as distributed_error if there is one.
    void finish(const Mismatch& mismatch) {
        barrier();
        if (mismatch.rank >= 0) throw distributed_error(mismatch.message, mismatch.rank);
    }

    void check_failed() const {
        if (group_->failed) {
            throw distributed_error("rank " + std::to_string(group_->failed_rank) + " failed",
                                    group_->failed_rank);
        }
    }

    std::shared_ptr<Group> group_;
    int rank_;
    std::shared_ptr<Registry> all_;  ///< every group of the run
};

}  // namespace

void run_ranks(std::size_t ranks, const std::function<void(Communicator&)>& body) {
    if (ranks == 0) throw std::invalid_argument("run_ranks: needs at least one rank");
    auto world = std::make_shared<Group>(ranks);
    auto all = std::make_shared<Registry>();
    all->add(world);
    std::vector<std::exception_ptr> errors(ranks);
    // Not std::vector<bool>: its elements share bytes, so threads setting theirs would race.
    std::vector<char> first_hand(ranks, 0);
    std::vector<std::thread> threads;
    for (std::size_t r = 0; r < ranks; ++r) {
        threads.emplace_back([&, r] {
            ThreadCommunicator comm(world, static_cast<int>(r), all);
            try {
                body(comm);
            } catch (const distributed_error& e) {
                errors[r] = std::current_exception();
                first_hand[r] = e.failed_rank() == static_cast<int>(r) ||
                                std::string(e.what()).rfind("rank ", 0) != 0;
                all->fail(static_cast<int>(r));
            } catch (...) {
                errors[r] = std::current_exception();
                first_hand[r] = 1;
                all->fail(static_cast<int>(r));
            }
        });
    }
    for (std::thread& t : threads) t.join();
    for (std::size_t r = 0; r < ranks; ++r)
        if (errors[r] && first_hand[r]) std::rethrow_exception(errors[r]);
    for (std::size_t r = 0; r < ranks; ++r)
        if (errors[r]) std::rethrow_exception(errors[r]);
}

}  // namespace xgrad::distributed
