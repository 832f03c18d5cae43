// Communicator: what data-parallel training needs from a group of processes (ranks), with the
// one-process group and the agreement on errors. MPI's is in xgrad/distributed/mpi.hpp.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace xgrad::distributed {

/// @brief An error every rank of a group agreed on: thrown on every rank with the same message
/// (that of the lowest rank that failed, prefixed "rank R: "), so that each can stop cleanly.
class distributed_error : public std::runtime_error {
  public:
    /// @brief `failed_rank` is the rank whose error this is (-1 when none is known).
    distributed_error(const std::string& message, int failed_rank)
        : std::runtime_error(message), failed_rank_(failed_rank) {}
    /// @brief The rank the error happened on (-1 when none is known).
    int failed_rank() const { return failed_rank_; }

  private:
    int failed_rank_;  ///< see failed_rank()
};

/// @brief A group of `size()` processes (ranks 0 .. size − 1) that run the same program on
/// different rows. Every method except rank(), size() and abort() is collective: every rank of
/// the group calls it, in the same order, with the same counts (as MPI's collectives); a rank
/// that does not arrive leaves the others waiting. Not thread-safe: one thread per rank uses it.
class Communicator {
  public:
    /// @brief A communicator made by split() frees what it holds.
    virtual ~Communicator() = default;
    /// @brief This process's index in the group, from 0.
    virtual int rank() const = 0;
    /// @brief The number of processes in the group (≥ 1).
    virtual int size() const = 0;
    /// @brief Replaces data[0, count) on every rank by its sum over the ranks, element by
    /// element. The additions happen in an order fixed by (count, size) alone, never by timing,
    /// and every rank receives the same bits: replicated parameters stay identical.
    virtual void allreduce_sum(double* data, std::size_t count) = 0;
    /// @brief Replaces data[0, count) on every rank by its maximum over the ranks (NaN wins).
    virtual void allreduce_max(double* data, std::size_t count) = 0;
    /// @brief Copies data[0, count) of rank `root` to every rank (bit for bit).
    virtual void broadcast(double* data, std::size_t count, int root) = 0;
    /// @brief Every rank's `bytes`, in rank order (the byte strings may differ in length).
    virtual std::vector<std::string> allgather(const std::string& bytes) = 0;
    /// @brief Waits until every rank has called it.
    virtual void barrier() = 0;
    /// @brief A group of the ranks that pass the same `color` (≥ 0; a negative one on any rank:
    /// std::invalid_argument on every rank), ordered by `key` then by
    /// rank (MPI_Comm_split). Collective over this group.
    virtual std::unique_ptr<Communicator> split(int color, int key) = 0;
    /// @brief Ends every rank of the job at once with exit code `code` (MPI_Abort): for an error
    /// this rank cannot share with the others because they may be waiting in a collective.
    /// Never returns (a thread group throws distributed_error on every thread instead).
    [[noreturn]] virtual void abort(int code) = 0;
};

/// @brief The group of one process: rank 0 of 1; every collective leaves the data as it is.
class SingleProcess final : public Communicator {
  public:
    /// @brief 0.
    int rank() const override { return 0; }
    /// @brief 1.
    int size() const override { return 1; }
    /// @brief Leaves data as it is.
    void allreduce_sum(double*, std::size_t) override {}
    /// @brief Leaves data as it is.
    void allreduce_max(double*, std::size_t) override {}
    /// @brief Leaves data as it is; std::invalid_argument for a root other than 0.
    void broadcast(double*, std::size_t, int root) override;
    /// @brief {bytes}.
    std::vector<std::string> allgather(const std::string& bytes) override { return {bytes}; }
    /// @brief Returns at once.
    void barrier() override {}
    /// @brief Another SingleProcess.
    std::unique_ptr<Communicator> split(int, int) override;
    /// @brief std::exit(code).
    [[noreturn]] void abort(int code) override;
};

/// @brief Runs `body` on every rank and agrees on its outcome: when it throws on any rank, every
/// rank throws distributed_error with the message of the lowest failing rank ("rank R: what";
/// just "what" when every rank failed with that same message, e.g. a check of shared values).
/// Collective (one allgather), so a rank's bad input (a malformed row in its shard) stops all ranks
/// with one message instead of leaving them waiting. `body` itself must not call collectives when
/// it can throw on some ranks only.
void agree(Communicator& comm, const std::function<void()>& body);

/// @brief agree(*comm, body) in a group; just body() when comm is null (one process).
void agree(Communicator* comm, const std::function<void()>& body);

/// @brief Every rank's values, concatenated in rank order (the counts may differ by rank).
std::vector<double> allgather_values(Communicator& comm, const std::vector<double>& values);

/// @brief Σ over ranks of `value`, as allreduce_sum does it.
double allreduce_sum(Communicator& comm, double value);

}  // namespace xgrad::distributed
