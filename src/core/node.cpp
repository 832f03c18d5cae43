// Node: creation order, lazy values, gradient buffers, versions, teardown without recursion.
#include "core/node.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <mutex>
#include <vector>

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
    if (inputs_.empty()) return;
    std::vector<std::shared_ptr<Node>> pending = std::move(inputs_);
    while (!pending.empty()) {
        std::shared_ptr<Node> node = std::move(pending.back());
        pending.pop_back();
        if (node.use_count() == 1) {  // we hold the last reference: adopt its inputs
            for (std::shared_ptr<Node>& input : node->inputs_) {
                if (input) pending.push_back(std::move(input));
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
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        input_versions_[i] = inputs_[i]->version();
        if (inputs_[i]->is_leaf()) h = hash_shape(h, inputs_[i]->stored_value().shape());
    }
    leaf_shapes_hash_ = h;
}

void Node::check_inputs_unchanged(const char* who) const {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        const Node& in = *inputs_[i];
        if (in.version() != input_versions_[i]) {
            throw graph_error(
                std::string(who) + ": input " + std::to_string(i) + " of " + describe() + ", " +
                in.describe() +
                (in.is_leaf() ? ", was given a new value (mutable_value())"
                              : ", was recomputed (a replay of part of the graph)") +
                " after " + describe() +
                " used it, so the derivatives would mix two points; run the graph forward again "
                "(rebuild it, or Tape::forward()) before differentiating");
        }
        if (in.is_leaf()) h = hash_shape(h, in.stored_value().shape());
    }
    if (h != leaf_shapes_hash_) {
        std::string shapes;
        for (std::size_t i = 0; i < inputs_.size(); ++i) {
            shapes += (i ? ", " : "") + inputs_[i]->describe() + " " +
                      format_shape(inputs_[i]->stored_value().shape());
        }
        throw graph_error(std::string(who) + ": a leaf input of " + describe() +
                          " changed shape after it was used (inputs now: " + shapes +
                          "); a reference from mutable_value() was written after the graph was "
                          "built: run the graph forward again before differentiating");
    }
}

Node::GradVars Node::backward_as_graph(const Var&) {
    throw graph_error(std::string("'") + op_name_ + "' has no second-order rule");
}

array Node::tangent(const Tangents&) {
    throw graph_error(std::string("'") + op_name_ +
                      "' has no tangent rule: forward mode (jvp, jacobian_forward) cannot pass "
                      "through it; use reverse mode (jacobian)");
}

std::string Node::describe() const {
    std::string text = std::string("'") + op_name_ + "'";
    if (!label.empty()) text += " (label '" + label + "')";
    return text;
}

void Node::add_input(std::shared_ptr<Node> input) {
    if (!input) {  // an empty Var: refused here, for every op, before a pass could read it
        throw graph_error(std::string("'") + op_name_ + "': input " +
                          std::to_string(inputs_.size()) +
                          " is an empty Var (default-constructed)");
    }
    inputs_.push_back(std::move(input));
    input_versions_.push_back(0);
}

}  // namespace xgrad::detail
