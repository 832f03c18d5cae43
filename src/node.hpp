/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xnoalias.hpp>

#include "xgrad/var.hpp"

namespace xgrad::detail {

/// @brief One vertex of the graph: a value, its gradient, up to two inputs and the op's rule.
/// Subclasses (one per primitive) recompute the value in forward() and push the gradient to the
/// inputs in backward().
class Node : public std::enable_shared_from_this<Node> {
  public:
    static constexpr std::size_t max_inputs = 4;

    Node(const char* op_name, bool requires_grad);
    virtual ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    /// @brief Recomputes value() from the inputs' current values (nothing for leaves).
    virtual void forward() {}
    /// @brief Adds this node's gradient, times the local derivative, into each input that needs
    /// one.
    virtual void backward() {}
    /// @brief The same contributions as backward(), built as graph nodes from the output
    /// gradient g, so that they can be differentiated again. Undefined Vars for inputs that
    /// need no gradient.
    using GradVars = std::array<Var, max_inputs>;
    virtual GradVars backward_as_graph(const Var& g);
    /// @brief Asked once by a tape before its first replay: a node that can compute itself and
    /// some of its inputs in one fused pass switches to doing so and returns those inputs, which
    /// the tape then skips. Only inputs no one else holds may be taken. Most nodes take none.
    virtual std::vector<Node*> fuse_for_replay() { return {}; }

    /// @brief A handle to this node, and to its i-th input.
    Var self() { return Var(shared_from_this()); }
    Var input_var(std::size_t i) const { return Var(inputs_[i]); }

    /// @brief The value, computed first if the node is lazy (transpose).
    const array& value() {
        if (!value_ready_) materialize();
        return value_;
    }
    /// @brief The gradient, with a pending zero applied.
    const array& grad();
    /// @brief The gradient buffer to add a contribution into, sized like the value. `overwrite`
    /// tells the caller this is the first contribution: assign instead of add (no zero pass).
    array& grad_for_accumulate(bool& overwrite);
    /// @brief Makes the gradient read as zero, without touching memory until it is next used.
    void schedule_zero_grad() { grad_pending_zero_ = true; }
    bool grad_pending_zero() const { return grad_pending_zero_; }

    const char* op_name() const { return op_name_; }
    bool requires_grad() const { return requires_grad_; }
    bool is_leaf() const { return input_count_ == 0; }
    std::size_t input_count() const { return input_count_; }
    Node& input(std::size_t i) const { return *inputs_[i]; }
    const std::shared_ptr<Node>& input_ptr(std::size_t i) const { return inputs_[i]; }
    std::uint64_t sequence() const { return sequence_; }

    /// @brief Direct access for leaves and op implementations.
    array& mutable_value() { return value_; }
    /// @brief Drops the value of a node a fused pass skipped; value() recomputes it on demand.
    void mark_stale() {
        value_ready_ = false;
        if (value_.size() != 0) value_.resize(shape_type{0});
    }

    // Graph traversal marks (see Tape): a node is visited when its mark equals the walk's.
    std::uint64_t visit_mark = 0;
    std::string label;

  protected:
    void add_input(std::shared_ptr<Node> input);
    /// @brief Lazy and stale nodes compute their value here on first read.
    virtual void materialize() {
        forward();
        value_ready_ = true;
    }

    array value_;
    bool value_ready_ = true;

  private:
    const char* op_name_;
    bool requires_grad_;
    bool grad_pending_zero_ = true;
    std::uint8_t input_count_ = 0;
    std::uint64_t sequence_;
    array grad_;
    std::array<std::shared_ptr<Node>, max_inputs> inputs_;
};

/// @brief c summed back to `shape` if c was broadcast beyond it (graph form of sum_to_shape).
Var reduce_to_shape(const Var& c, const shape_type& shape);

/// @brief 1 where x > 0, else 0; a constant-derivative mask with no gradient of its own.
Var positive_mask(const Var& x);

/// @brief In anomaly mode: throws anomaly_error if the node's value is not finite.
void check_forward_anomaly(Node& node);
/// @brief In anomaly mode: throws anomaly_error if a gradient the node has just pushed to its
/// inputs is not finite.
void check_backward_anomaly(Node& node);

/// @brief Whether any of the inputs needs a gradient (and recording is on).
bool any_requires_grad(std::initializer_list<const Var*> inputs);

/// @brief Runs a freshly made op node's forward pass and hands it out as a Var; inside no_grad
/// the value is detached into a constant so that no graph is kept.
Var finish_op(std::shared_ptr<Node> node);

/// @brief The numpy broadcast of two shapes; throws shape_error naming `op` if they do not fit.
shape_type broadcast_shapes(const char* op, const shape_type& a, const shape_type& b);

/// @brief dst (+)= src summed over the axes along which dst was broadcast to src's shape.
void sum_to_shape(const double* src, const shape_type& src_shape, array& dst, bool overwrite);

/// @brief Adds `contribution` (an xtensor expression of target's own shape) into target's gradient.
template <class E>
void accumulate_grad(Node& target, const E& contribution) {
    bool overwrite = false;
    array& grad = target.grad_for_accumulate(overwrite);
    if (overwrite) {
        xt::noalias(grad) = contribution;
    } else {
        xt::noalias(grad) += contribution;
    }
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
    bool overwrite = false;
    array& grad = target.grad_for_accumulate(overwrite);
    if constexpr (std::is_same_v<std::decay_t<E>, array>) {
        sum_to_shape(contribution.data(), contribution.shape(), grad, overwrite);
    } else {
        xt::noalias(scratch) = contribution;
        sum_to_shape(scratch.data(), scratch.shape(), grad, overwrite);
    }
}

}  // namespace xgrad::detail
