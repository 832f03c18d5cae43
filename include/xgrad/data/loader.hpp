/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
// BatchLoader: mini-batches of an in-memory data set, reshuffled every epoch from a seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "xgrad/core/types.hpp"

namespace xgrad::data {

/// @brief One mini-batch: b samples of the data set, in the order the epoch visits them.
struct Batch {
    array inputs;  ///< (b, d1, ..., dk): the samples' rows, for inputs (n, d1, ..., dk)
    std::vector<std::size_t> labels;   ///< the b samples' labels
    std::vector<std::size_t> indices;  ///< the b samples' positions in the data set
    /// @brief b, the number of samples in the batch.
    std::size_t size() const { return indices.size(); }
};

/// @brief Mini-batches over an in-memory data set: inputs of any rank ≥ 1 whose first axis is
/// the sample axis, and one label per sample.
///
/// Usage: `start_epoch(e)` fixes the order of epoch e; then `batch(i)` for i in [0, batches())
/// gives the i-th batch of that order (random access; any order of calls).
///
///     data::BatchLoader loader(std::move(d.images), std::move(d.labels), 64, true, seed);
///     for (std::size_t e = 0; e < epochs; ++e) {
///         loader.start_epoch(e);
///         for (std::size_t i = 0; i < loader.batches(); ++i) {
///             const data::Batch& b = loader.batch(i);  // b.inputs (64, 1, 28, 28), b.labels
///         }
///     }
///
/// With `shuffle`, epoch e's order is a permutation drawn by xgrad::Random (Fisher-Yates) seeded
/// with splitmix64(splitmix64(seed) + e), so a run is the same on every platform and every epoch
/// has its own order; without, the order is 0, 1, ..., n-1 every epoch. Each sample appears
/// exactly once per epoch: the batches are consecutive slices of the order, all of batch_size
/// samples except the last, which holds the n mod batch_size left over, or is dropped with
/// `drop_last` (then those samples are skipped that epoch).
///
/// Batches are copied into two buffers the loader owns (one for full batches, one for a short
/// last batch), so after the first epoch no batch allocates. The loader keeps its own copy of
/// the inputs and labels (move them in to avoid copying).
class BatchLoader {
  public:
    /// @brief A loader over `inputs` (n, d1, ..., dk) and `labels` (n of them); starts at epoch 0.
    /// @throws shape_error when inputs is rank 0 or labels.size() differs from n (the message
    /// names both counts), std::invalid_argument when batch_size is 0.
    BatchLoader(array inputs, std::vector<std::size_t> labels, std::size_t batch_size,
                bool shuffle = true, std::uint64_t seed = 0, bool drop_last = false);

    /// @brief n, the number of samples.
    std::size_t samples() const { return labels_.size(); }
    /// @brief The batch size b given to the constructor (≥ 1): every batch but a short last one
    /// holds b samples.
    std::size_t batch_size() const { return batch_size_; }
    /// @brief Batches per epoch: ceil(n / batch_size), or floor(n / batch_size) with drop_last.
    std::size_t batches() const;
    /// @brief The current epoch (the last start_epoch's argument, 0 at first).
    std::size_t epoch() const { return epoch_; }

    /// @brief Fixes the order of epoch `epoch` (any epoch, in any order: the order depends only
    /// on the seed and the epoch). Allocates nothing.
    void start_epoch(std::size_t epoch);
    /// @brief The current epoch's order: a permutation of 0, ..., n-1.
    const std::vector<std::size_t>& order() const { return order_; }

    /// @brief The i-th batch of the current epoch: the samples order()[i·batch_size, ...], their
    /// inputs (b, d1, ..., dk), labels and indices. The reference stays valid until the next
    /// call of batch() (whose buffer it may share).
    /// @throws std::out_of_range when i >= batches(), naming i and batches().
    const Batch& batch(std::size_t i);

    /// @brief The whole data set, as given.
    const array& inputs() const { return inputs_; }
    /// @brief The whole data set's labels, as given: n of them, sample k's at k.
    const std::vector<std::size_t>& labels() const { return labels_; }

  private:
    array inputs_;
    std::vector<std::size_t> labels_;
    std::size_t batch_size_;
    bool shuffle_;
    std::uint64_t seed_;
    bool drop_last_;
    std::size_t sample_size_ = 1;  ///< d1·...·dk: doubles per sample
    std::size_t epoch_ = 0;
    std::vector<std::size_t> order_;
    Batch full_;  ///< the buffer of batches of batch_size samples
    Batch last_;  ///< the buffer of a shorter last batch
};

}  // namespace xgrad::data
