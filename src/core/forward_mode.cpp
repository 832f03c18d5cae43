// Forward mode: tangents pushed through the recorded graph in creation order, each op applying
// its own tangent rule (Node::tangent), and the Jacobians built from it and from reverse mode.
#include "core/forward_mode.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "check/anomaly.hpp"
#include "core/tape_impl.hpp"
#include "xgrad/core/autograd.hpp"
#include "xgrad/core/tape.hpp"

namespace xgrad::detail {

ForwardPass::ForwardPass(const std::vector<Var>& outputs, const std::vector<Var>& inputs)
    : outputs_(outputs), inputs_(inputs) {
    std::unordered_set<Node*> seen;
    std::vector<Node*> pending;
    for (const Var& out : outputs_) pending.push_back(&out.node());
    while (!pending.empty()) {
        Node* node = pending.back();
        pending.pop_back();
        if (!seen.insert(node).second) continue;
        order_.push_back(node);
        for (std::size_t i = 0; i < node->input_count(); ++i) pending.push_back(&node->input(i));
    }
    std::sort(order_.begin(), order_.end(),
              [](const Node* a, const Node* b) { return a->sequence() < b->sequence(); });
    for (Node* node : order_) {
        if (!node->is_leaf()) node->check_inputs_unchanged("forward mode (jvp)");
    }
}

std::vector<array> ForwardPass::run(const std::vector<const array*>& tangents) const {
    // Each node's tangent, kept only while a later node may read it (a simple map: the pass is
    // one walk). A seeded node keeps its seed: the inputs are where the directions are given.
    std::unordered_map<const Node*, array> tangent;
    for (std::size_t i = 0; i < inputs_.size(); ++i) {
        const Node* node = &inputs_[i].node();
        auto found = tangent.find(node);
        if (found == tangent.end()) {
            tangent.emplace(node, *tangents[i]);
        } else {
            found->second += *tangents[i];  // the same input listed twice: directions add
        }
    }
    const bool check = is_anomaly_detection_enabled();
    Node::Tangents in;
    for (Node* node : order_) {
        if (node->is_leaf() || tangent.count(node) != 0) continue;
        in.assign(node->input_count(), nullptr);
        bool any = false;
        for (std::size_t i = 0; i < node->input_count(); ++i) {
            const auto found = tangent.find(&node->input(i));
            if (found != tangent.end()) {
                in[i] = &found->second;
                any = true;
            }
        }
        if (!any) continue;  // no direction reaches it: its tangent is zero
        node->value();       // a lazy or stale value is computed before its rule reads it
        array t = node->tangent(in);
        if (check) check_tangent_anomaly(*node, t);
        tangent.emplace(node, std::move(t));
    }
    std::vector<array> result;
    for (const Var& out : outputs_) {
        const auto found = tangent.find(&out.node());
        result.push_back(found != tangent.end() ? found->second
                                                : array(xt::zeros<double>(out.shape())));
    }
    return result;
}

namespace {

/// @brief Throws shape_error unless there is one tangent per input, of its shape.
void require_tangents_fit(const char* op, const std::vector<Var>& inputs,
                          const std::vector<array>& tangents) {
    if (tangents.size() != inputs.size()) {
        throw shape_error(std::string(op) + ": " + std::to_string(tangents.size()) +
                          " tangents for " + std::to_string(inputs.size()) + " inputs");
    }
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) {
            throw graph_error(std::string(op) + ": input " + std::to_string(i) + " is empty");
        }
        if (tangents[i].shape() != inputs[i].shape()) {
            throw shape_error(std::string(op) + ": tangent " + std::to_string(i) + " has shape " +
                              format_shape(tangents[i].shape()) + ", its input " +
                              format_shape(inputs[i].shape()));
        }
    }
}

void require_defined(const char* op, const Var& output, const Var& input) {
    if (!output.defined() || !input.defined()) {
        throw graph_error(std::string(op) + ": the " + (output.defined() ? "input" : "output") +
                          " is an empty Var");
    }
}

/// @brief output.shape ++ input.shape.
shape_type jacobian_shape(const Var& output, const Var& input) {
    shape_type shape = output.shape();
    shape.insert(shape.end(), input.shape().begin(), input.shape().end());
    return shape;
}

}  // namespace

}  // namespace xgrad::detail

namespace xgrad {

using detail::ForwardPass;

array jvp(const Var& output, const std::vector<Var>& inputs, const std::vector<array>& tangents) {
    if (!output.defined()) throw graph_error("jvp: the output is an empty Var");
    detail::require_tangents_fit("jvp", inputs, tangents);
    const ForwardPass pass({output}, inputs);
    std::vector<const array*> t;
    for (const array& a : tangents) t.push_back(&a);
    return std::move(pass.run(t)[0]);
}

array jacobian_forward(const Var& output, const Var& input) {
    detail::require_defined("jacobian_forward", output, input);
    const ForwardPass pass({output}, {input});
    array J = xt::zeros<double>(detail::jacobian_shape(output, input));
    const std::size_t n = input.size();
    const std::size_t m = output.size();
    array direction = xt::zeros<double>(input.shape());
    for (std::size_t j = 0; j < n; ++j) {  // column j: the tangent along input element j
        direction.data()[j] = 1.0;
        const array column = std::move(pass.run({&direction})[0]);
        direction.data()[j] = 0.0;
        for (std::size_t i = 0; i < m; ++i) J.data()[i * n + j] = column.data()[i];
    }
    return J;
}

array jacobian(const Var& output, const Var& input) {
    detail::require_defined("jacobian", output, input);
    array J = xt::zeros<double>(detail::jacobian_shape(output, input));
    if (!output.requires_grad() || !input.requires_grad()) return J;
    const Tape tape(output);
    // An input the output does not depend on is not on the tape: its .grad() (what the user
    // accumulated, or nothing) is no row of this Jacobian, which is zero.
    const auto& on_tape = detail::TapeAccess::grad_order(tape);
    if (std::find(on_tape.begin(), on_tape.end(), &input.node()) == on_tape.end()) return J;
    // The passes borrow the parameters' gradient buffers: what the user accumulated is put back.
    std::vector<detail::Node*> leaves;
    for (detail::Node* node : detail::TapeAccess::grad_order(tape)) {
        if (node->is_leaf()) leaves.push_back(node);
    }
    std::vector<array> saved(leaves.size());
    std::vector<char> saved_pending(leaves.size(), 1);
    for (std::size_t k = 0; k < leaves.size(); ++k) {
        bool pending = true;
        leaves[k]->swap_grad(saved[k], pending);
        saved_pending[k] = pending;
    }
    struct Restore {
        std::vector<detail::Node*>& leaves;
        std::vector<array>& saved;
        std::vector<char>& pending;
        ~Restore() {
            for (std::size_t k = 0; k < leaves.size(); ++k) {
                bool p = pending[k] != 0;
                leaves[k]->swap_grad(saved[k], p);
            }
        }
    } restore{leaves, saved, saved_pending};
    const std::size_t n = input.size();
    const std::size_t m = output.size();
    array seed = xt::zeros<double>(output.shape());
    for (std::size_t i = 0; i < m; ++i) {  // row i: the gradient of output element i
        for (detail::Node* leaf : leaves) leaf->schedule_zero_grad();
        seed.data()[i] = 1.0;
        tape.backward(seed);
        seed.data()[i] = 0.0;
        const array& row = input.grad();
        std::copy(row.begin(), row.end(), J.data() + i * n);
    }
    return J;
}

std::vector<array> hessian_vector_product(const Var& output, const std::vector<Var>& params,
                                          const std::vector<array>& v, hvp_mode mode) {
    if (mode == hvp_mode::reverse_over_reverse) return hessian_vector_product(output, params, v);
    detail::require_tangents_fit("hessian_vector_product", params, v);
    // H·v is the directional derivative of the gradient along v: one forward pass through the
    // gradient's graph.
    const std::vector<Var> gradient = grad(output, params, true);
    const ForwardPass pass(gradient, params);
    std::vector<const array*> t;
    for (const array& a : v) t.push_back(&a);
    return pass.run(t);
}

}  // namespace xgrad
