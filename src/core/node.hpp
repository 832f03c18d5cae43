// Node: one vertex of the graph (value, gradient, inputs, version), and OpKind, its tag.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <xtensor/xnoalias.hpp>

#include "xgrad/core/var.hpp"

namespace xgrad::detail {

/// @brief What a node computes, for the graph rewrites (src/fusion), which match patterns of
/// ops by these tags alone. Ops no rewrite looks for are `other`.
enum class OpKind : std::uint8_t {
    other,
    leaf,
    add,                   // a + b, two node operands
    sub_from_scalar,       // c − x for a constant c (Node::scalar())
    sigmoid,               // σ(x)
    transpose,             // xᵀ (lazy)
    matmul,                // (m,k)(k,n), (m,k)(k,), ...; transposed operands add inputs
    matmul_stack,          // stacks of matrices
    bce_with_logits_mean,  // bce_with_logits(z, y), reduction::mean
    bce_with_logits_sum,   // ... reduction::sum
};

/// @brief One vertex of the graph: a value, its gradient, its inputs and the op's rule.
/// Subclasses (one per primitive) recompute the value in forward() and push the gradient to the
/// inputs in backward().
///
/// Each node has a version: a leaf's goes up whenever its value is handed out for writing
/// (Var::mutable_value), an op's whenever it is recomputed (record_forward). An op remembers the
/// versions of its inputs, and the shapes of its leaf inputs, from its last forward pass;
/// check_inputs_unchanged() refuses a backward pass that would mix values from two points.
class Node : public std::enable_shared_from_this<Node> {
  public:
    Node(const char* op_name, bool requires_grad, OpKind kind = OpKind::other);
    virtual ~Node();
    Node(const Node&) = delete;
    Node& operator=(const Node&) = delete;

    /// @brief Recomputes value() from the inputs' current values (nothing for leaves).
    virtual void forward() {}
    /// @brief Adds this node's gradient, times the local derivative, into each input that needs
    /// one.
    virtual void backward() {}
    /// @brief The same contributions as backward(), built as graph nodes from the output
    /// gradient g, so that they can be differentiated again: one Var per input, undefined (or
    /// missing at the end) for inputs that need no gradient. The default throws graph_error
    /// ("'op' has no second-order rule").
    using GradVars = std::vector<Var>;
    virtual GradVars backward_as_graph(const Var& g);
    /// @brief Forward mode: the output's tangent J·t from the inputs' tangents (the
    /// Jacobian-vector product of this op), at the current values. `tangents[i]` has input i's
    /// shape, or is null where input i has no tangent (zero). At least one is non-null. The
    /// default throws graph_error ("'op' has no tangent rule").
    using Tangents = std::vector<const array*>;
    virtual array tangent(const Tangents& tangents);

    /// @brief A handle to this node, and to its i-th input.
    Var self() { return Var(shared_from_this()); }
    Var input_var(std::size_t i) const { return Var(inputs_[i]); }

    /// @brief The value, computed first if the node is lazy (transpose) or stale (skipped by a
    /// fused replay). Safe to call from several threads at once.
    const array& value() {
        if (!value_ready_.load(std::memory_order_acquire)) materialize_once();
        return value_;
    }
    /// @brief The value as it is, without computing a lazy one (empty while not computed).
    const array& stored_value() const { return value_; }
    /// @brief The gradient, with a pending zero applied.
    const array& grad();
    /// @brief The gradient, with a pending zero applied, writable in place.
    array& mutable_grad() {
        grad();
        return grad_;
    }
    /// @brief The gradient buffer to add a contribution into, sized like the value. `overwrite`
    /// tells the caller this is the first contribution: assign instead of add (no zero pass).
    array& grad_for_accumulate(bool& overwrite);
    /// @brief Makes the gradient read as zero, without touching memory until it is next used.
    void schedule_zero_grad() { grad_pending_zero_ = true; }
    /// @brief Exchanges the gradient buffer and its pending-zero flag with the caller's (the
    /// Jacobian borrows parameters' buffers and gives them back).
    void swap_grad(array& buffer, bool& pending_zero) {
        std::swap(grad_, buffer);
        std::swap(grad_pending_zero_, pending_zero);
    }
    bool grad_pending_zero() const { return grad_pending_zero_; }

    const char* op_name() const { return op_name_; }
    OpKind kind() const { return kind_; }
    /// @brief The constant operand of an op with one (kind sub_from_scalar), else 0.
    virtual double scalar() const { return 0.0; }
    bool requires_grad() const { return requires_grad_; }
    bool is_leaf() const { return inputs_.empty(); }
    std::size_t input_count() const { return inputs_.size(); }
    Node& input(std::size_t i) const { return *inputs_[i]; }
    const std::shared_ptr<Node>& input_ptr(std::size_t i) const { return inputs_[i]; }
    std::uint64_t sequence() const { return sequence_; }

    /// @brief Direct access for leaves and op implementations (does not change the version).
    array& mutable_value() { return value_; }
    /// @brief Drops the value of a node a fused pass skipped; value() recomputes it on demand.
    void mark_stale() {
        value_ready_.store(false, std::memory_order_release);
        if (value_.size() != 0) value_.resize(shape_type{0});
    }

    /// @brief This node's version (see the class comment).
    std::uint32_t version() const { return version_.load(std::memory_order_relaxed); }
    /// @brief A leaf's value is about to be written from outside: its users' records go stale.
    void bump_version() { version_.fetch_add(1, std::memory_order_relaxed); }
    /// @brief After forward(): a new version of this node, and the inputs' versions and leaf
    /// shapes it was computed from.
    void record_forward();
    /// @brief Throws graph_error naming the input if an input changed since record_forward().
    /// `who` names the pass in the message ("backward()", "grad()", "jvp").
    virtual void check_inputs_unchanged(const char* who = "backward()") const;

    std::string label;

    /// @brief "'op'" or "'op' (label 'name')", for messages.
    std::string describe() const;

  protected:
    /// @brief Appends an input; throws graph_error naming the op and the position if it is null
    /// (an empty Var), so that no op can be built on one, under no_grad or not.
    void add_input(std::shared_ptr<Node> input);
    /// @brief Lazy and stale nodes compute their value here on first read (value_ready_ is set
    /// by the caller).
    virtual void materialize() { forward(); }

    array value_;
    std::atomic<bool> value_ready_{true};

  private:
    void materialize_once();

    const char* op_name_;
    OpKind kind_;
    bool requires_grad_;
    bool grad_pending_zero_ = true;
    std::uint64_t sequence_;
    std::atomic<std::uint32_t> version_{0};
    std::vector<std::uint32_t> input_versions_;
    std::uint64_t leaf_shapes_hash_ = 0;  // of the leaf inputs' shapes at record_forward()
    array grad_;
    std::vector<std::shared_ptr<Node>> inputs_;
};

}  // namespace xgrad::detail
