/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "core/node.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <mutex>
#include <vector>

#include "core/leaf.hpp"

namespace xgrad::detail {

namespace {
// Creation order is a topological order: a node's inputs always exist before it.
std::atomic<std::uint64_t> next_sequence{1};
}  // namespace

Node::Node(const char* op_name, bool requires_grad, OpKind kind)
    : op_name_(op_name), kind_(kind), requires_grad_(requires_grad), sequence_(next_sequence++) {}

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
        if (!overwrite) {
            // Only a leaf keeps a gradient across passes: adding one of another shape to it
            // has no meaning.
            throw graph_error(std::string("backward(): the accumulated gradient of this '") +
                              op_name_ + "'" + (label.empty() ? "" : " (label '" + label + "')") +
                              " has shape " + format_shape(grad_.shape()) +
                              ", but its value now has shape " + format_shape(shape) +
                              "; call zero_grad() after changing a parameter's shape");
        }
        grad_.resize(shape);
    }
    grad_pending_zero_ = false;
    return grad_;
}

namespace {
// Lazy values of shared nodes are computed under one lock: concurrent readers of a built graph
// (grad() on several threads) must not compute one value twice at once. Recursive: a stale
// value may read another stale value.
std::recursive_mutex materialize_mutex;

std::uint64_t hash_shape(std::uint64_t h, const shape_type& shape) {
    auto mix = [&h](std::uint64_t v) { h = (h ^ v) * 0x100000001b3ULL; };
    mix(shape.size());
    for (std::size_t e : shape) mix(e);
    return h;
}

std::string describe(const Node& node);
}  // namespace

void Node::materialize_once() {
    std::lock_guard<std::recursive_mutex> lock(materialize_mutex);
    if (value_ready_.load(std::memory_order_relaxed)) return;
    materialize();
    value_ready_.store(true, std::memory_order_release);
}

void Node::record_forward() {
    version_.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < input_count_; ++i) {
        input_versions_[i] = inputs_[i]->version();
        if (inputs_[i]->is_leaf()) h = hash_shape(h, inputs_[i]->stored_value().shape());
    }
    leaf_shapes_hash_ = h;
}

void Node::check_inputs_unchanged() const {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < input_count_; ++i) {
        const Node& in = *inputs_[i];
        if (in.version() != input_versions_[i]) {
            throw graph_error(
                "backward(): input " + std::to_string(i) + " of " + describe(*this) + ", " +
                describe(in) +
                (in.is_leaf() ? ", was given a new value (mutable_value())"
                              : ", was recomputed (a replay of part of the graph)") +
                " after " + describe(*this) +
                " used it, so the gradient would mix two points; run the graph forward again "
                "(rebuild it, or Tape::forward()) before backward()");
        }
        if (in.is_leaf()) h = hash_shape(h, in.stored_value().shape());
    }
    if (h != leaf_shapes_hash_) {
        std::string shapes;
        for (std::size_t i = 0; i < input_count_; ++i) {
            shapes += (i ? ", " : "") + describe(*inputs_[i]) + " " +
                      format_shape(inputs_[i]->stored_value().shape());
        }
        throw graph_error("backward(): a leaf input of " + describe(*this) +
                          " changed shape after it was used (inputs now: " + shapes +
                          "); a reference from mutable_value() was written after the graph was "
                          "built: run the graph forward again before backward()");
    }
}

namespace {
thread_local const void* bypass_context = nullptr;
thread_local BypassScope::ObservedFn bypass_observed = nullptr;
}  // namespace

BypassScope::BypassScope(const void* context, ObservedFn observed)
    : previous_context_(bypass_context), previous_fn_(bypass_observed) {
    bypass_context = context;
    bypass_observed = observed;
}

BypassScope::~BypassScope() {
    bypass_context = previous_context_;
    bypass_observed = previous_fn_;
}

bool may_bypass(const Node& node) {
    return bypass_observed != nullptr && !bypass_observed(bypass_context, node);
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
    node->record_forward();
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

namespace {

/// @brief dst += src summed over the axes along which dst was broadcast to src's shape.
void add_summed_to_shape(const double* src, const shape_type& src_shape, array& dst) {
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

}  // namespace

void sum_to_shape(const double* src, const shape_type& src_shape, array& dst) {
    dst.fill(0.0);
    add_summed_to_shape(src, src_shape, dst);
}

void sum_to_shape(const double* src, const shape_type& src_shape, GradSink& dst) {
    dst.zero_if_first();  // the sum only adds
    add_summed_to_shape(src, src_shape, dst.buffer());
}

}  // namespace xgrad::detail
