// Op support: finish_op, any_requires_grad, numpy broadcasting of shapes, SingleInputNode.
#include "core/op.hpp"

#include <algorithm>

#include "check/anomaly.hpp"
#include "core/leaf.hpp"

namespace xgrad::detail {

bool any_requires_grad(std::initializer_list<const Var*> inputs) {
    if (!is_grad_enabled()) return false;
    return std::any_of(inputs.begin(), inputs.end(),
                       [](const Var* v) { return v->node().requires_grad(); });
}

Var finish_op(std::shared_ptr<Node> node) {
    node->forward();
    node->record_forward();
    if (is_anomaly_detection_enabled()) check_forward_anomaly(*node);
    // Under no_grad the value is detached into a constant, so that no graph is kept; a lazy
    // transpose stays as it is (it needs no gradient either), so that a product reading through
    // it never copies its input.
    if (!is_grad_enabled() && node->kind() != OpKind::transpose) {
        node->value();  // a stale node computes its value now, before it is moved out
        return Var(std::make_shared<LeafNode>(std::move(node->mutable_value()), false));
    }
    return Var(std::move(node));
}

shape_type broadcast_shapes(const char* op, const shape_type& a, const shape_type& b) {
    const std::size_t rank = std::max(a.size(), b.size());
    shape_type out(rank);
    for (std::size_t k = 0; k < rank; ++k) {
        // Align from the right, as numpy does.
        const std::size_t ea = k + a.size() >= rank ? a[k + a.size() - rank] : 1;
        const std::size_t eb = k + b.size() >= rank ? b[k + b.size() - rank] : 1;
        if (ea != eb && ea != 1 && eb != 1) {
            throw shape_error(std::string(op) + ": cannot broadcast " + format_shape(a) + " with " +
                              format_shape(b));
        }
        out[k] = ea == 1 ? eb : ea;
    }
    return out;
}

SingleInputNode::SingleInputNode(const char* op_name, const Var& x, OpKind kind)
    : Node(op_name, any_requires_grad({&x}), kind) {
    add_input(x.node_ptr());
}

}  // namespace xgrad::detail
