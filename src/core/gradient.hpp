// How a backward pass writes gradients: GradSink (the first contribution overwrites), and which
// intermediates a rewrite may bypass (BypassScope).
#pragma once

#include <type_traits>

#include <xtensor/xnoalias.hpp>

#include "core/node.hpp"

namespace xgrad::detail {

/// @brief Where one backward contribution to an input's gradient goes. The first contribution
/// of a pass overwrites whatever the buffer held (old gradients, NaN, uninitialised memory);
/// later ones add. Every backward writes through this, so the rule lives here alone:
/// - put(i, v) for element loops;
/// - beta() for BLAS calls, whose beta = 0 never reads the output;
/// - zero_if_first() before a routine that can only add (ger, scatter sums).
class GradSink {
  public:
    explicit GradSink(Node& target) : buffer_(&target.grad_for_accumulate(overwrite_)) {}

    double* data() const { return buffer_->data(); }
    array& buffer() const { return *buffer_; }
    std::size_t size() const { return buffer_->size(); }
    bool first() const { return overwrite_; }
    void put(std::size_t i, double v) const {
        double& out = buffer_->data()[i];
        out = overwrite_ ? v : out + v;
    }
    double beta() const { return overwrite_ ? 0.0 : 1.0; }
    /// @brief Fills the buffer with zeros if this is the first contribution, so that an
    /// add-only routine may follow; afterwards the sink adds.
    void zero_if_first() {
        if (overwrite_) buffer_->fill(0.0);
        overwrite_ = false;
    }
    /// @brief buffer (=, or +=) an xtensor expression of the buffer's shape.
    template <class E>
    void assign(const E& e) const {
        if (overwrite_) {
            xt::noalias(*buffer_) = e;
        } else {
            xt::noalias(*buffer_) += e;
        }
    }

  private:
    bool overwrite_ = false;
    array* buffer_;
};

/// @brief Which intermediate results a backward pass running on this thread may bypass: a
/// build-time rewrite (log(sigmoid(z)) computed as log_sigmoid(z), matmul reading through a
/// transpose, ...) takes its shortcut only for intermediates whose gradient no one can read,
/// so that a gradient a user can see is never skipped. Set for the pass's duration:
/// - by Tape::backward(), which writes .grad(): a node is observed when something outside the
///   graph (a user's Var, another graph) holds it;
/// - by grad(), which writes no .grad(): a node is observed when its gradient was asked for.
///   That answer depends on nothing another thread does, so grad() on a shared graph gives
///   every thread the same numbers.
class BypassScope {
  public:
    /// @brief `observed(context, node)`: whether the pass must deliver node's own gradient.
    using ObservedFn = bool (*)(const void* context, const Node& node);
    BypassScope(const void* context, ObservedFn observed);
    ~BypassScope();
    BypassScope(const BypassScope&) = delete;
    BypassScope& operator=(const BypassScope&) = delete;

  private:
    const void* previous_context_;
    ObservedFn previous_fn_;
};

/// @brief Whether a rewrite may skip `node` in the current backward pass: true only inside a
/// BypassScope that does not observe the node.
bool may_bypass(const Node& node);
/// @brief may_bypass for a node given by pointer (e.g. input_ptr(i)).
inline bool may_bypass(const std::shared_ptr<Node>& node) {
    return may_bypass(*node);
}

/// @brief dst (+)= src summed over the axes along which dst was broadcast to src's shape.
void sum_to_shape(const double* src, const shape_type& src_shape, GradSink& dst);
/// @brief dst = src summed over the axes along which dst was broadcast to src's shape.
void sum_to_shape(const double* src, const shape_type& src_shape, array& dst);

/// @brief Adds `contribution` (an xtensor expression of target's own shape) into target's gradient.
template <class E>
void accumulate_grad(Node& target, const E& contribution) {
    GradSink(target).assign(contribution);
}

/// @brief Adds `contribution` (an xtensor expression of the consumer's output shape) into
/// target's gradient, summed back to target's shape where target was broadcast. `scratch` is
/// the consumer's reusable buffer for evaluating a lazy contribution before the sum.
template <class E>
void accumulate_broadcast_grad(Node& target, const E& contribution, array& scratch) {
    if (target.value().shape() == contribution.shape()) {
        accumulate_grad(target, contribution);
        return;
    }
    GradSink sink(target);
    if constexpr (std::is_same_v<std::decay_t<E>, array>) {
        sum_to_shape(contribution.data(), contribution.shape(), sink);
    } else {
        xt::noalias(scratch) = contribution;
        sum_to_shape(scratch.data(), scratch.shape(), sink);
    }
}

}  // namespace xgrad::detail
