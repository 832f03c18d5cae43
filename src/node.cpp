/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "node.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <vector>

#include "leaf.hpp"

namespace xgrad::detail {

namespace {
// Creation order is a topological order: a node's inputs always exist before it.
std::atomic<std::uint64_t> next_sequence{1};
}  // namespace

Node::Node(const char* op_name, bool requires_grad)
    : op_name_(op_name), requires_grad_(requires_grad), sequence_(next_sequence++) {}

Node::~Node() {
    // Tear a long chain down with a loop: letting each shared_ptr destroy its inputs in turn
    // would recurse once per node and overflow the stack on deep graphs.
    if (input_count_ == 0) return;
    std::vector<std::shared_ptr<Node>> pending;
    for (std::size_t i = 0; i < input_count_; ++i) pending.push_back(std::move(inputs_[i]));
    while (!pending.empty()) {
        std::shared_ptr<Node> node = std::move(pending.back());
        pending.pop_back();
        if (node.use_count() == 1) {  // we hold the last reference: adopt its inputs
            for (std::size_t i = 0; i < node->input_count_; ++i) {
                if (node->inputs_[i]) pending.push_back(std::move(node->inputs_[i]));
            }
        }
    }
}

const array& Node::grad() {
    if (grad_pending_zero_) {
        grad_.resize(value().shape());
        grad_.fill(0.0);
        grad_pending_zero_ = false;
    }
    return grad_;
}

array& Node::grad_for_accumulate(bool& overwrite) {
    const shape_type& shape = value().shape();
    overwrite = grad_pending_zero_;
    if (grad_.shape() != shape) {
        grad_.resize(shape);
        overwrite = true;  // a resized buffer holds nothing worth adding to
    }
    grad_pending_zero_ = false;
    return grad_;
}

Node::GradVars Node::backward_as_graph(const Var&) {
    throw graph_error(std::string("'") + op_name_ + "' has no second-order rule");
}

void Node::add_input(std::shared_ptr<Node> input) {
    inputs_[input_count_++] = std::move(input);
}

bool any_requires_grad(std::initializer_list<const Var*> inputs) {
    if (!is_grad_enabled()) return false;
    return std::any_of(inputs.begin(), inputs.end(),
                       [](const Var* v) { return v->node().requires_grad(); });
}

namespace {

/// @brief "'op'" or "'op' (label 'name')".
std::string describe(const Node& node) {
    std::string text = std::string("'") + node.op_name() + "'";
    if (!node.label.empty()) text += " (label '" + node.label + "')";
    return text;
}

/// @brief The first element that is NaN or infinite, or values.size().
std::size_t first_non_finite(const array& values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!std::isfinite(values.data()[i])) return i;
    }
    return values.size();
}

}  // namespace

void check_forward_anomaly(Node& node) {
    const array& v = node.value();
    const std::size_t bad = first_non_finite(v);
    if (bad == v.size()) return;
    std::string inputs;
    for (std::size_t i = 0; i < node.input_count(); ++i) {
        inputs += (i ? ", " : "") + describe(node.input(i)) + " " +
                  format_shape(node.input(i).value().shape());
    }
    throw anomaly_error("anomaly: forward of " + describe(node) + " produced " +
                        std::to_string(v.data()[bad]) + " at element " + std::to_string(bad) +
                        " of shape " + format_shape(v.shape()) +
                        (inputs.empty() ? "" : "; its inputs: " + inputs));
}

void check_backward_anomaly(Node& node) {
    for (std::size_t i = 0; i < node.input_count(); ++i) {
        Node& input = node.input(i);
        if (!input.requires_grad()) continue;
        const array& g = input.grad();
        const std::size_t bad = first_non_finite(g);
        if (bad == g.size()) continue;
        throw anomaly_error("anomaly: backward of " + describe(node) + " produced " +
                            std::to_string(g.data()[bad]) + " in the gradient of its input " +
                            std::to_string(i) + " " + describe(input) + " at element " +
                            std::to_string(bad) + " of shape " + format_shape(g.shape()));
    }
}

Var finish_op(std::shared_ptr<Node> node) {
    node->forward();
    if (is_anomaly_detection_enabled()) check_forward_anomaly(*node);
    if (!is_grad_enabled()) {
        node->value();  // a lazy node computes its value now, before it is moved out
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

void sum_to_shape(const double* src, const shape_type& src_shape, array& dst, bool overwrite) {
    if (overwrite) dst.fill(0.0);
    double* out = dst.data();
    const std::size_t rank = src_shape.size();
    if (dst.size() == 1) {  // the common bias case: everything folds into one number
        std::size_t n = 1;
        for (std::size_t e : src_shape) n *= e;
        double total = 0.0;
        for (std::size_t i = 0; i < n; ++i) total += src[i];
        out[0] += total;
        return;
    }
    // Strides of dst seen through src's axes: 0 where dst was broadcast along that axis.
    shape_type dst_strides(rank, 0);
    const shape_type& dshape = dst.shape();
    const std::size_t pad = rank - dshape.size();  // dst's missing leading axes count as 1
    std::size_t stride = 1;
    for (std::size_t k = rank; k-- > 0;) {
        const std::size_t extent = k < pad ? 1 : dshape[k - pad];
        dst_strides[k] = extent == 1 ? 0 : stride;
        stride *= extent;
    }
    const std::size_t inner = rank == 0 ? 1 : src_shape[rank - 1];
    const std::size_t inner_stride = rank == 0 ? 0 : dst_strides[rank - 1];
    std::size_t outer = 1;
    for (std::size_t k = 0; k + 1 < rank; ++k) outer *= src_shape[k];
    shape_type index(rank, 0);
    std::size_t offset = 0;
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t j = 0; j < inner; ++j) out[offset + j * inner_stride] += src[j];
        src += inner;
        // Advance the odometer over the outer axes.
        for (std::size_t k = rank - 1; k-- > 0;) {
            offset += dst_strides[k];
            if (++index[k] < src_shape[k]) break;
            offset -= dst_strides[k] * index[k];
            index[k] = 0;
        }
    }
}

}  // namespace xgrad::detail
