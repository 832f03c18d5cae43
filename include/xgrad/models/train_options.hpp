// TrainOptions: the settings of a model's fit().
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::distributed {
class Communicator;
}  // namespace xgrad::distributed

namespace xgrad::models {

/// @brief What one epoch did, for progress reports.
struct EpochReport {
    std::size_t epoch;       ///< from 0
    std::size_t epochs;      ///< the budget
    double train_loss;       ///< mean training objective of the epoch (before its updates)
    double validation_loss;  ///< mean validation loss after the epoch; NaN without validation data
    double learning_rate;
};

/// @brief Training settings shared by the linear models.
struct TrainOptions {
    TrainOptions(double learning_rate_ = 0.1, std::size_t epochs_ = 100,
                 std::size_t batch_size_ = 0, std::uint64_t seed_ = 0)
        : learning_rate(learning_rate_), epochs(epochs_), batch_size(batch_size_), seed(seed_) {}

    double learning_rate = 0.1;
    std::size_t epochs = 100;
    /// @brief Rows per step: 0 (or ≥ rows) is batch gradient descent, 1 is stochastic.
    std::size_t batch_size = 0;
    /// @brief Seed of the per-epoch shuffle used by mini-batch and stochastic descent.
    std::uint64_t seed = 0;
    /// @brief sgd, momentum (0.9), nesterov (0.9), adagrad, rmsprop or adam, step by step; or
    /// lbfgs or newton on the full objective, `epochs` then being the iteration budget.
    std::string optimizer = "sgd";
    double l2 = 0.0;  ///< λ of the L2 term (λ/2m)·‖w‖² (the bias is not penalised)
    double l1 = 0.0;  ///< λ of the L1 term (λ/m)·‖w‖₁
    /// @brief Weight each class by m / (2·count), so that both count alike (binary labels).
    bool balanced_class_weights = false;
    /// @brief Rate per epoch; empty: learning_rate throughout.
    std::function<double(std::size_t epoch)> schedule;
    /// @brief Validation rows, for the validation loss and early stopping (default 0-d: none).
    array validation_X;
    array validation_y;
    /// @brief Stop after this many epochs without a better validation loss, and keep the best
    /// parameters; 0: never stop early.
    std::size_t patience = 0;
    /// @brief Called after every epoch (progress bars, logs).
    std::function<void(const EpochReport&)> on_epoch;
    /// @brief Data-parallel training (null, the default: this process alone). With a group,
    /// fit() is collective: each rank passes its own training rows X, y (at least one: "rank R
    /// has no training rows") and its own validation rows (any number, 0 included), and every
    /// rank minimises the objective of all ranks' rows with identical steps: the row count m of
    /// the penalties, balanced class weights and the class count are global, the validation
    /// loss is Σ over ranks of the local loss sums / the global validation rows (so early
    /// stopping and the best-parameter restore are the same everywhere), mini-batches are those
    /// of one process on all rows (train_minibatches with this communicator), and lbfgs/newton
    /// sum the ranks' shares of the objective (solvers::StopOptions::communicator). Histories,
    /// fit_summary() and the parameters end identical on every rank. Input errors found on one
    /// rank (a non-finite X, a bad label) are agreed: every rank throws
    /// distributed::distributed_error "rank R: <the single-process message>" (rows counted
    /// within rank R's X).
    distributed::Communicator* communicator = nullptr;
    /// @brief With a communicator and mini-batches: the global index of each of this rank's
    /// training rows (EpochOptions::global_rows; empty: contiguous blocks in rank order). Ignored
    /// without a communicator.
    std::vector<std::size_t> row_ids;
};

}  // namespace xgrad::models
