// BatchLoader: mini-batches of an in-memory data set, reshuffled every epoch from a seed.
#include "xgrad/data/loader.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <utility>

#include "xgrad/core/errors.hpp"
#include "xgrad/core/random.hpp"

namespace xgrad::data {
namespace {

/// @brief splitmix64's output function (Steele, Lea and Flood, 2014): a bijection of 64-bit
/// words that spreads nearby inputs apart.
std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

}  // namespace

BatchLoader::BatchLoader(array inputs, std::vector<std::size_t> labels, std::size_t batch_size,
                         bool shuffle, std::uint64_t seed, bool drop_last)
    : inputs_(std::move(inputs)),
      labels_(std::move(labels)),
      batch_size_(batch_size),
      shuffle_(shuffle),
      seed_(seed),
      drop_last_(drop_last) {
    if (inputs_.dimension() == 0) {
        throw shape_error(
            "BatchLoader: inputs of shape () have no sample axis (expected rank >= 1)");
    }
    const std::size_t n = inputs_.shape()[0];
    if (labels_.size() != n) {
        throw shape_error("BatchLoader: inputs of shape " + format_shape(inputs_.shape()) +
                          " hold " + std::to_string(n) + " samples but there are " +
                          std::to_string(labels_.size()) + " labels");
    }
    if (batch_size_ == 0) {
        throw std::invalid_argument("BatchLoader: batch_size must be at least 1, got 0");
    }
    for (std::size_t axis = 1; axis < inputs_.dimension(); ++axis) {
        sample_size_ *= inputs_.shape()[axis];
    }
    order_.resize(n);
    start_epoch(0);
}

std::size_t BatchLoader::batches() const {
    const std::size_t n = samples();
    // ceil(n / b) without n + b - 1, which wraps for b near SIZE_MAX
    return n / batch_size_ + (!drop_last_ && n % batch_size_ != 0 ? 1 : 0);
}

void BatchLoader::start_epoch(std::size_t epoch) {
    epoch_ = epoch;
    std::iota(order_.begin(), order_.end(), std::size_t{0});
    if (shuffle_) {
        Random random(splitmix64(splitmix64(seed_) + epoch));
        random.shuffle(order_);
    }
}

const Batch& BatchLoader::batch(std::size_t i) {
    if (i >= batches()) {
        throw std::out_of_range("BatchLoader::batch: batch " + std::to_string(i) +
                                " is out of range for the " + std::to_string(batches()) +
                                " batches of an epoch");
    }
    const std::size_t begin = i * batch_size_;
    const std::size_t b = std::min(batch_size_, samples() - begin);
    Batch& out = b == batch_size_ ? full_ : last_;
    shape_type shape = inputs_.shape();
    shape[0] = b;
    if (out.inputs.shape() != shape) out.inputs.resize(shape);
    out.labels.resize(b);
    out.indices.resize(b);
    const double* source = inputs_.data();
    double* target = out.inputs.data();
    for (std::size_t k = 0; k < b; ++k) {
        const std::size_t sample = order_[begin + k];
        out.indices[k] = sample;
        out.labels[k] = labels_[sample];
        if (sample_size_ > 0) {
            std::memcpy(target + k * sample_size_, source + sample * sample_size_,
                        sample_size_ * sizeof(double));
        }
    }
    return out;
}

}  // namespace xgrad::data
