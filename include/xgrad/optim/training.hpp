// train_minibatches: epochs of seeded mini-batches on replayed loss graphs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::distributed {
class Communicator;
}  // namespace xgrad::distributed

namespace xgrad {

/// @brief How the rows are walked: epochs of batches, reshuffled each epoch with the seed.
struct EpochOptions {
    /// @brief The fields below, in order; never throws.
    EpochOptions(std::size_t epochs_ = 100, std::size_t batch_size_ = 0, std::uint64_t seed_ = 0,
                 std::function<bool(std::size_t, double)> after_epoch_ = {})
        : epochs(epochs_),
          batch_size(batch_size_),
          seed(seed_),
          after_epoch(std::move(after_epoch_)) {}

    std::size_t epochs;  ///< passes over the rows (0: none, an empty history)
    /// @brief Rows per step: 0 (or ≥ rows) is the full batch, 1 is stochastic.
    std::size_t batch_size;
    std::uint64_t seed;  ///< seeds the shuffle once, before the first epoch
    /// @brief Called after each epoch with its index (from 0) and mean loss; returning false
    /// stops training (early stopping). Empty: train all epochs.
    std::function<bool(std::size_t epoch, double loss)> after_epoch;
    /// @brief Data-parallel training (null, the default: this process alone). With a group,
    /// X and y are this rank's rows of a global set of M rows, and train_minibatches runs
    /// PyTorch DistributedDataParallel's step on exactly the single-process batch sequence (see
    /// train_minibatches). Collective: every rank calls it with the same options otherwise.
    distributed::Communicator* communicator = nullptr;
    /// @brief With a communicator: global_rows[i] is the index, among all ranks' M rows, of
    /// this rank's row i (every index in [0, M) held by exactly one rank). Empty: contiguous
    /// blocks in rank order (rank r's rows follow those of ranks 0 … r − 1). Ignored without a
    /// communicator.
    std::vector<std::size_t> global_rows;
};

/// @brief The scalar loss of one batch, built from the batch's features and targets: constant
/// leaves of shapes (b, X's other axes) and (b, y's other axes) for a batch of b rows.
using BatchLoss = std::function<Var(const Var& features, const Var& targets)>;

/// @brief Mini-batch training on replayed graphs. The loss graph is built once per batch size
/// (full batches, and the shorter last one if any: loss_of is called once or twice) from
/// constant leaves; each step copies the batch's rows into them, replays forward, zeroes the
/// parameters' gradients, replays backward and calls `update` (an optimizer step). The rows are
/// walked in order for full batches, else shuffled each epoch by a generator seeded once with
/// options.seed.
/// @param X shape (m, ...) of any rank ≥ 1 with m > 0 rows; row r is X[r, ...].
/// @param y shape (m, ...) of any rank ≥ 1, the same m.
/// @param loss_of builds a batch's loss: a Var of one element that some parameter feeds (e.g.
/// a mean over the batch's rows).
/// @param params the parameter() leaves whose gradients are zeroed before each backward.
/// @param update called after each backward, with the batch's gradients in params' grad().
/// @param options epochs, batch size (0 or ≥ m: the full batch), seed, and the after-epoch
/// callback that may stop training early.
/// @return each epoch's loss before its updates, Σ over batches of (batch loss × batch rows)/m
/// (the mean over rows when the batch loss is a mean): one entry per epoch run.
/// @throw shape_error "train_minibatches: X and y need the same number of rows (> 0)" when X or
/// y has rank 0, their first axes differ, or m = 0.
///
/// With options.communicator (a group of ranks, each calling this with its own rows): the
/// global batches are exactly those of one process holding all M rows in global_rows order
/// (the same batch size, the same shuffle of [0, M) seeded with options.seed, the same shorter
/// last batch). For each global batch of b rows, each rank evaluates the k of them it holds
/// (in batch order) on a graph built for k rows (loss_of on k rows; the 16 most recently used
/// are kept, k varying from batch to batch after a shuffle, so memory stays bounded) whose loss
/// is scaled by k / b, so that the ranks' losses sum to the batch loss (a mean over the batch when
/// loss_of is a mean); a rank holding none of the batch contributes zeros (no graph is run). One
/// GradientReducer::reduce(Reduction::sum) then sums the gradients and the batch loss over the
/// ranks (the same bits on every rank) before `update`. The parameters are first copied from
/// rank 0 (broadcast_parameters), so every rank steps identical replicas. The history holds the
/// global epoch losses, the same on every rank; after_epoch runs on every rank with them. A rank
/// may hold 0 rows (X and y of shape (0, ...)), but M must be > 0. Each rank also keeps three
/// tables of M indices (the shuffle, this rank's row of each global row, the ids' check).
/// Input errors are agreed:
/// every rank throws distributed::distributed_error with the message of the lowest failing rank
/// ("rank R: train_minibatches: ..."): X and y of mismatched rows, other trailing shapes than
/// rank 0's, global_rows of another length than the rows, an index ≥ M or held twice ("global
/// row 5 is held by rank 0 (row 5) and by rank 1 (row 0)"), parameters of other shapes.
/// @throw graph_error "train_minibatches: the batch loss must be a single number" when loss_of
/// returns more than one element; graph_error from backward when no parameter feeds the loss;
/// what loss_of, update and after_epoch throw propagates.
std::vector<double> train_minibatches(const array& X, const array& y, const BatchLoss& loss_of,
                                      const std::vector<Var>& params,
                                      const std::function<void()>& update,
                                      const EpochOptions& options);

}  // namespace xgrad
