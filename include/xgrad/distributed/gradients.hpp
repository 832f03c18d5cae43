// Data parallelism over a Communicator: rows shared out by rank, parameters broadcast,
// gradients all-reduced in buckets (as PyTorch's DistributedDataParallel does).
#pragma once

#include <cstddef>
#include <vector>

#include "xgrad/core/var.hpp"
#include "xgrad/distributed/communicator.hpp"

namespace xgrad::distributed {

/// @brief The rows [begin, end) of one rank.
struct Shard {
    std::size_t begin = 0;  ///< first row (from 0)
    std::size_t end = 0;    ///< one past the last row
    /// @brief end − begin.
    std::size_t size() const { return end - begin; }
};

/// @brief Rank `rank`'s contiguous block of `rows` rows shared by `size` ranks, balanced to one
/// row: with q = rows / size and r = rows % size, ranks below r get q + 1 rows, the others q,
/// in rank order (numpy.array_split's blocks).
/// @throw std::invalid_argument "shard: <rows> rows cannot be shared by <size> ranks (each needs
/// at least one row)" when rows < size; "shard: rank R is not in a group of S" when rank ∉ [0,
/// size).
Shard shard_rows(std::size_t rows, int rank, int size);

/// @brief Copies the values of `params` on rank `root` to every rank, packed into one message
/// (replicas start identical, as DDP's constructor makes them). Collective.
/// @throw distributed_error (on every rank) when the ranks' parameter shapes differ, naming the
/// ranks and shapes; std::invalid_argument for a root outside the group.
void broadcast_parameters(Communicator& comm, const std::vector<Var>& params, int root = 0);

/// @brief How allreduce_gradients combines the ranks' gradients.
enum class Reduction {
    mean,  ///< Σ over ranks / size: each rank's loss is a mean over an equal share of the batch
    sum,   ///< Σ over ranks: each rank's loss is its rows' share of the global objective
};

/// @brief Sums (or averages) the gradients of `params` over the ranks, in place, in buckets of
/// about `bucket_bytes` (parameters packed in order into one buffer, each bucket reduced by
/// Communicator::allreduce_sum: a fixed order, the same bits on every rank). Keeps its buffer
/// between steps: make one per training run. The constructor is collective: it checks that
/// every rank passes parameters of the same shapes, in the same order.
class GradientReducer {
  public:
    /// @brief DDP's default bucket: 25 MiB.
    static constexpr std::size_t default_bucket_bytes = std::size_t{25} << 20;

    /// @brief Prepares the buffer for `params` (parameter() leaves; their shapes are fixed from
    /// here on).
    /// @throw distributed_error on every rank when the shapes differ between ranks ("rank R has
    /// parameters (3,) (1,); rank 0 has (3,)"); std::invalid_argument for bucket_bytes < 8.
    GradientReducer(Communicator& comm, std::vector<Var> params,
                    std::size_t bucket_bytes = default_bucket_bytes);

    /// @brief Replaces each parameter's grad() by its sum (or mean) over the ranks; a parameter
    /// no backward reached counts as zeros. `extras[0, extra_count)` (e.g. the batch loss) travel
    /// in the last bucket and are combined the same way (every rank passes the same
    /// extra_count). Collective.
    /// @throw distributed_error on every rank, leaving the gradients and extras as they were,
    /// when on some rank a parameter or its gradient no longer has the shape the constructor saw
    /// ("rank R: allreduce_gradients: parameter 0 now has shape (5,) and a gradient of shape
    /// (5,); the reducer was made for (3,)"): a flag in the last bucket tells every rank.
    void reduce(Reduction op = Reduction::mean, double* extras = nullptr,
                std::size_t extra_count = 0);

    /// @brief Parameter elements per step (the message, without extras), and the buckets.
    std::size_t elements() const { return elements_; }
    /// @brief The number of allreduce_sum calls per reduce() (at least one).
    std::size_t buckets() const;

  private:
    Communicator& comm_;              ///< the group the gradients are summed over
    std::vector<Var> params_;         ///< in the order they are packed
    std::vector<shape_type> shapes_;  ///< the parameters' shapes at construction
    std::size_t elements_ = 0;        ///< Σ of the parameters' sizes
    std::size_t bucket_elements_;     ///< doubles per allreduce_sum call
    std::vector<double> buffer_;      ///< the packed gradients and extras, kept between steps
};

/// @brief One GradientReducer's reduce(op), for a single step; for loops keep a GradientReducer
/// (its constructor's shape check is a collective). Collective.
void allreduce_gradients(Communicator& comm, const std::vector<Var>& params,
                         Reduction op = Reduction::mean);

}  // namespace xgrad::distributed
