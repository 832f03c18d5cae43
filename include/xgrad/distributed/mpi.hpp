// MPI's communicator (Debian's OpenMPI): ranks that are processes, on one host or many.
// Built and installed only when CMake finds MPI (target xgrad::distributed).
#pragma once

#include <mpi.h>

#include <memory>

#include "xgrad/distributed/communicator.hpp"

namespace xgrad::distributed {

/// @brief A Communicator over an MPI communicator. allreduce_sum runs a ring all-reduce
/// (reduce-scatter then all-gather over MPI_Sendrecv, 2(N − 1) steps, each rank sending
/// 2(N − 1)/N of the message), so each element is summed in an order fixed by (count, N) and
/// every rank gets the same bits; below 4 KiB it runs recursive doubling (⌊log₂ N⌋ exchanges of
/// the whole message, the ranks beyond a power of two folded in first), fixed by N in the same
/// way: fewer messages where latency dominates. MPI errors abort the job (MPI_ERRORS_ARE_FATAL).
class MpiCommunicator final : public Communicator {
  public:
    /// @brief Wraps `comm` (e.g. MPI_COMM_WORLD), which the caller keeps and frees; MPI must be
    /// initialised (MpiSession).
    explicit MpiCommunicator(MPI_Comm comm) : MpiCommunicator(comm, false) {}
    /// @brief Frees the communicator when this one made it (split()).
    ~MpiCommunicator() override;
    /// @brief Not copyable: it may own an MPI communicator.
    MpiCommunicator(const MpiCommunicator&) = delete;
    /// @brief Not copyable: it may own an MPI communicator.
    MpiCommunicator& operator=(const MpiCommunicator&) = delete;

    /// @brief MPI_Comm_rank.
    int rank() const override { return rank_; }
    /// @brief MPI_Comm_size.
    int size() const override { return size_; }
    /// @brief The ring all-reduce described above.
    void allreduce_sum(double* data, std::size_t count) override;
    /// @brief MPI_Allreduce with MPI_MAX after mapping NaN so that it wins.
    void allreduce_max(double* data, std::size_t count) override;
    /// @brief MPI_Bcast, in pieces of at most 2³⁰ elements.
    void broadcast(double* data, std::size_t count, int root) override;
    /// @brief MPI_Allgather of the lengths, then MPI_Allgatherv.
    std::vector<std::string> allgather(const std::string& bytes) override;
    /// @brief MPI_Barrier.
    void barrier() override;
    /// @brief MPI_Comm_split.
    std::unique_ptr<Communicator> split(int color, int key) override;
    /// @brief MPI_Abort on this communicator.
    [[noreturn]] void abort(int code) override;
    /// @brief The MPI communicator, for the user's own MPI calls.
    MPI_Comm handle() const { return comm_; }

  private:
    /// @brief Wraps `comm`; frees it on destruction when `owned`.
    MpiCommunicator(MPI_Comm comm, bool owned);
    /// @brief allreduce_sum of a short message by recursive doubling (see the class).
    void recursive_doubling_sum(double* data, std::size_t count);
    MPI_Comm comm_;                ///< the MPI communicator
    bool owned_;                   ///< made by split(): freed with this object
    int rank_ = 0;                 ///< MPI_Comm_rank, asked once
    int size_ = 1;                 ///< MPI_Comm_size, asked once
    std::vector<double> scratch_;  ///< the receive buffer of allreduce_sum
};

/// @brief MPI_Init_thread on construction (MPI_THREAD_FUNNELED: xgrad's worker threads never
/// call MPI) and MPI_Finalize on destruction, with the world's communicator in between. One per
/// process, for its whole life (MPI cannot be initialised twice).
/// @throw std::runtime_error when MPI is already initialised or initialisation fails.
class MpiSession {
  public:
    /// @brief Initialises MPI with the program's arguments (mpirun's are removed from them).
    MpiSession(int& argc, char**& argv);
    /// @brief MPI_Finalize (unless MPI was already finalised).
    ~MpiSession();
    /// @brief One per process: not copyable.
    MpiSession(const MpiSession&) = delete;
    /// @brief One per process: not copyable.
    MpiSession& operator=(const MpiSession&) = delete;
    /// @brief MPI_COMM_WORLD's Communicator.
    MpiCommunicator& world() { return *world_; }

  private:
    std::unique_ptr<MpiCommunicator> world_;  ///< MPI_COMM_WORLD, wrapped
};

}  // namespace xgrad::distributed
