// What an op implementation includes: Node, GradSink, finish_op, numpy shape rules, and the
// small graph helpers derivative rules are built from. See docs/adding-an-op.md.
#pragma once

#include <initializer_list>
#include <memory>

#include "core/gradient.hpp"
#include "core/node.hpp"

namespace xgrad::detail {

/// @brief Whether any of the inputs needs a gradient (and recording is on).
bool any_requires_grad(std::initializer_list<const Var*> inputs);

/// @brief Runs a freshly made op node's forward pass, records its inputs' versions and hands it
/// out as a Var; inside no_grad the value is detached into a constant so that no graph is kept.
/// In anomaly mode a non-finite value throws anomaly_error.
Var finish_op(std::shared_ptr<Node> node);

/// @brief The numpy broadcast of two shapes; throws shape_error naming `op` if they do not fit.
shape_type broadcast_shapes(const char* op, const shape_type& a, const shape_type& b);

/// @brief c summed back to `shape` if c was broadcast beyond it (graph form of sum_to_shape);
/// c itself when it has that shape.
Var reduce_to_shape(const Var& c, const shape_type& shape);

/// @brief 1 where x > 0, else 0; a constant-derivative mask with no gradient of its own.
Var positive_mask(const Var& x);
/// @brief 1 where lo ≤ x ≤ hi (bounds included), else 0; no gradient of its own.
Var interval_mask(const Var& x, double lo, double hi);

namespace derivative {
/// @brief g·d as a graph node (strong_mul, src/ops/elementwise.cpp) with numpy broadcasting,
/// exactly 0 where g = 0 whatever d is (0·∞ = 0, a *strong zero*), and its own derivatives strong
/// too. Every graph-form rule multiplies its incoming gradient g into a slope d that depends on
/// the inputs through this, so that the branch where() does not take stays exactly 0 at every
/// order (hessian, both Hessian-vector product modes), not only at the first.
Var times(const Var& g, const Var& d);
}  // namespace derivative

/// @brief A node of one input (shape ops, reductions, unary math). backward() and
/// backward_as_graph() do nothing for an input that needs no gradient; otherwise they ask the
/// op for its one contribution.
class SingleInputNode : public Node {
  public:
    SingleInputNode(const char* op_name, const Var& x, OpKind kind = OpKind::other);
    void backward() final {
        if (input(0).requires_grad()) backward_into(input(0));
    }
    GradVars backward_as_graph(const Var& g) final {
        if (!input(0).requires_grad()) return {};
        return {gradient_as_graph(g)};
    }
    array tangent(const Tangents& tangents) final { return tangent_of(*tangents[0]); }

  protected:
    /// @brief Adds dL/dx (from this node's grad()) into x, through a GradSink.
    virtual void backward_into(Node& x) = 0;
    /// @brief dL/dx as graph nodes built from the output gradient g (for second derivatives).
    virtual Var gradient_as_graph(const Var& g) = 0;
    /// @brief Forward mode: the output's tangent J·t for the input's tangent t (x's shape), at
    /// the current values.
    virtual array tangent_of(const array& t) = 0;
};

/// @brief y = x's elements, in order, in another shape of the same size (reshape, squeeze,
/// unsqueeze, flatten): a subclass says which shape (worked out from x's on every pass, so a
/// replay with another shape recomputes it or throws). The derivative is the identity read in
/// x's shape; the tangent is t in the value's shape.
class SameElementsNode : public SingleInputNode {
  public:
    using SingleInputNode::SingleInputNode;
    void forward() final;

  protected:
    /// @brief The output's shape for an input of shape `in`; throws shape_error naming the op.
    virtual shape_type shape_for(const shape_type& in) const = 0;

  private:
    void backward_into(Node& x) final;
    Var gradient_as_graph(const Var& g) final;
    array tangent_of(const array& t) final;
};

}  // namespace xgrad::detail
