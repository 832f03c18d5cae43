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
    EpochOptions(std::size_t epochs_ = 100, std::size_t batch_size_ = 0, std::uint64_t seed_ = 0,
                 std::function<bool(std::size_t, double)> after_epoch_ = {})
        : epochs(epochs_),
          batch_size(batch_size_),
          seed(seed_),
          after_epoch(std::move(after_epoch_)) {}

    std::size_t epochs;
    /// @brief Rows per step: 0 (or ≥ rows) is the full batch, 1 is stochastic.
    std::size_t batch_size;
    std::uint64_t seed;
    /// @brief Called after each epoch with its index (from 0) and mean loss; returning false
    /// stops training (early stopping). Empty: train all epochs.
    std::function<bool(std::size_t epoch, double loss)> after_epoch;
};

/// @brief The scalar loss of one batch, built from the batch's features and targets.
using BatchLoss = std::function<Var(const Var& features, const Var& targets)>;

/// @brief Mini-batch training on replayed graphs. The loss graph is built once per batch size
/// (full batches, and the shorter last one if any) from constant leaves; each step copies the
/// batch's rows into them, replays forward, zeroes the parameters' gradients, replays backward
/// and calls `update` (an optimizer step). Returns each epoch's mean loss (before the updates).
std::vector<double> train_minibatches(const array& X, const array& y, const BatchLoss& loss_of,
                                      const std::vector<Var>& params,
                                      const std::function<void()>& update,
                                      const EpochOptions& options);

}  // namespace xgrad
