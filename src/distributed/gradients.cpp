// Shards, the parameter broadcast and the bucketed gradient all-reduce.
#include "xgrad/distributed/gradients.hpp"

#include <algorithm>

#include "xgrad/core/errors.hpp"

namespace xgrad::distributed {

namespace {

/// @brief "(3,) (1,)": the shapes of params, for the cross-rank check and its message.
std::string shapes_of(const std::vector<Var>& params) {
    std::string text;
    for (const Var& p : params) text += (text.empty() ? "" : " ") + format_shape(p.shape());
    return text.empty() ? "none" : text;
}

/// @brief Throws distributed_error on every rank unless every rank has the same shapes.
void require_same_shapes(Communicator& comm, const std::vector<Var>& params, const char* who) {
    const std::vector<std::string> all = comm.allgather(shapes_of(params));
    for (std::size_t r = 1; r < all.size(); ++r) {
        if (all[r] != all[0]) {
            throw distributed_error(std::string(who) + ": rank " + std::to_string(r) +
                                        " has parameters " + all[r] + "; rank 0 has " + all[0],
                                    static_cast<int>(r));
        }
    }
}

}  // namespace

Shard shard_rows(std::size_t rows, int rank, int size) {
    if (size < 1 || rank < 0 || rank >= size) {
        throw std::invalid_argument("shard: rank " + std::to_string(rank) +
                                    " is not in a group of " + std::to_string(size));
    }
    const auto n = static_cast<std::size_t>(size);
    const auto r = static_cast<std::size_t>(rank);
    if (rows < n) {
        throw std::invalid_argument("shard: " + std::to_string(rows) +
                                    " rows cannot be shared by " + std::to_string(size) +
                                    " ranks (each needs at least one row)");
    }
    const std::size_t q = rows / n;
    const std::size_t extra = rows % n;
    const std::size_t begin = r * q + std::min(r, extra);
    return {begin, begin + q + (r < extra ? 1 : 0)};
}

void broadcast_parameters(Communicator& comm, const std::vector<Var>& params, int root) {
    if (root < 0 || root >= comm.size()) {
        throw std::invalid_argument("broadcast_parameters: root " + std::to_string(root) +
                                    " is not in a group of " + std::to_string(comm.size()));
    }
    require_same_shapes(comm, params, "broadcast_parameters");
    std::size_t total = 0;
    for (const Var& p : params) total += p.size();
    std::vector<double> buffer(total);
    std::size_t offset = 0;
    for (const Var& p : params) {
        std::copy(p.value().begin(), p.value().end(), buffer.begin() + offset);
        offset += p.size();
    }
    comm.broadcast(buffer.data(), total, root);
    if (comm.rank() == root) return;
    offset = 0;
    for (const Var& p : params) {
        array& value = p.mutable_value();
        std::copy(buffer.begin() + offset, buffer.begin() + offset + value.size(), value.begin());
        offset += value.size();
    }
}

GradientReducer::GradientReducer(Communicator& comm, std::vector<Var> params,
                                 std::size_t bucket_bytes)
    : comm_(comm), params_(std::move(params)), bucket_elements_(bucket_bytes / sizeof(double)) {
    if (bucket_elements_ == 0) {
        throw std::invalid_argument("GradientReducer: a bucket of " + std::to_string(bucket_bytes) +
                                    " bytes holds no gradient (at least 8)");
    }
    require_same_shapes(comm_, params_, "allreduce_gradients");
    for (const Var& p : params_) {
        shapes_.push_back(p.shape());
        elements_ += p.size();
    }
}

std::size_t GradientReducer::buckets() const {
    return std::max<std::size_t>(1, (elements_ + bucket_elements_ - 1) / bucket_elements_);
}

void GradientReducer::reduce(Reduction op, double* extras, std::size_t extra_count) {
    // A parameter (or gradient) whose shape changed since the constructor would move every
    // gradient after it and overrun the buffer: this rank then sends zeros and a flag (the last
    // element, after the extras) instead, so that every rank learns of it from this one message.
    std::string changed;
    for (std::size_t i = 0; i < params_.size() && changed.empty(); ++i) {
        const Var& p = params_[i];
        const array& g = p.grad();
        if (p.shape() != shapes_[i] || g.shape() != shapes_[i]) {
            changed = "allreduce_gradients: parameter " + std::to_string(i) + " now has shape " +
                      format_shape(p.shape()) + " and a gradient of shape " +
                      format_shape(g.shape()) + "; the reducer was made for " +
                      format_shape(shapes_[i]);
        }
    }
    buffer_.resize(elements_ + extra_count + 1);
    if (changed.empty()) {
        std::size_t offset = 0;
        for (const Var& p : params_) {
            const array& g = p.grad();
            std::copy(g.begin(), g.end(), buffer_.begin() + offset);
            offset += g.size();
        }
        std::copy(extras, extras + extra_count, buffer_.begin() + elements_);
        buffer_.back() = 0.0;
    } else {
        std::fill(buffer_.begin(), buffer_.end() - 1, 0.0);
        buffer_.back() = 1.0;
    }
    // Buckets of bucket_elements_; the last one also carries the extras and the flag.
    const std::size_t total = buffer_.size();
    std::size_t first = 0;
    do {
        std::size_t end = std::min(first + bucket_elements_, elements_);
        if (end >= elements_) end = total;
        comm_.allreduce_sum(buffer_.data() + first, end - first);
        first = end;
    } while (first < total);
    if (buffer_.back() != 0.0) {  // some rank's parameters changed: agree on whose and how
        agree(comm_, [&] {
            if (!changed.empty()) throw shape_error(changed);
        });
    }
    buffer_.pop_back();
    if (op == Reduction::mean && comm_.size() > 1) {
        const auto ranks = static_cast<double>(comm_.size());
        for (double& v : buffer_) v /= ranks;
    }
    std::size_t offset = 0;
    for (const Var& p : params_) {
        array& g = p.mutable_grad();
        std::copy(buffer_.begin() + offset, buffer_.begin() + offset + g.size(), g.begin());
        offset += g.size();
    }
    std::copy(buffer_.begin() + elements_, buffer_.end(), extras);
}

void allreduce_gradients(Communicator& comm, const std::vector<Var>& params, Reduction op) {
    GradientReducer(comm, params).reduce(op);
}

}  // namespace xgrad::distributed
