// train_minibatches: epochs of seeded mini-batches on replayed loss graphs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "xgrad/core/var.hpp"

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
/// @throw graph_error "train_minibatches: the batch loss must be a single number" when loss_of
/// returns more than one element; graph_error from backward when no parameter feeds the loss;
/// what loss_of, update and after_epoch throw propagates.
std::vector<double> train_minibatches(const array& X, const array& y, const BatchLoss& loss_of,
                                      const std::vector<Var>& params,
                                      const std::function<void()>& update,
                                      const EpochOptions& options);

}  // namespace xgrad
