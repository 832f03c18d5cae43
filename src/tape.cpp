/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/tape.hpp"

#include <algorithm>
#include <unordered_map>

#include "node.hpp"

namespace xgrad {

Tape::Tape(Var output) : output_(std::move(output)) {
    // Iterative depth-first walk: deep graphs must not recurse. The visited set and the
    // reference counts live here, not in the nodes, so that several threads may walk one
    // graph at once.
    std::unordered_map<const detail::Node*, std::uint32_t> references;
    std::vector<detail::Node*> stack{&output_.node()};
    references[&output_.node()] = 1;  // output_ holds it
    while (!stack.empty()) {
        detail::Node* node = stack.back();
        stack.pop_back();
        order_.push_back(node);
        for (std::size_t i = 0; i < node->input_count(); ++i) {
            detail::Node& input = node->input(i);
            if (references[&input]++ == 0) stack.push_back(&input);
        }
    }
    std::sort(order_.begin(), order_.end(), [](const detail::Node* a, const detail::Node* b) {
        return a->sequence() < b->sequence();
    });
    graph_references_.reserve(order_.size());
    for (detail::Node* node : order_) {
        graph_references_.push_back(references[node]);
        if (node->requires_grad()) grad_order_.push_back(node);
    }
}

std::uint32_t Tape::graph_references(const detail::Node& node) const {
    const auto it = std::lower_bound(
        order_.begin(), order_.end(), node.sequence(),
        [](const detail::Node* a, std::uint64_t sequence) { return a->sequence() < sequence; });
    if (it == order_.end() || *it != &node) return 0;
    return graph_references_[static_cast<std::size_t>(it - order_.begin())];
}

detail::BypassScope Tape::bypass_scope() const {
    return detail::BypassScope(this, [](const void* tape, const detail::Node& node) {
        // weak_from_this counts the holders without adding one.
        const long holders = node.weak_from_this().use_count();
        return holders > static_cast<long>(static_cast<const Tape*>(tape)->graph_references(node));
    });
}

// Planned at the first replay, not at construction: by then the temporaries of the expression
// that built the graph are gone, so a node's use count says who else holds it.
void Tape::plan_replay() {
    skipped_.assign(order_.size(), 0);
    for (detail::Node* node : order_) {
        const std::vector<detail::Node*> taken = node->fuse_for_replay();
        if (!taken.empty()) ++fused_;
        for (detail::Node* t : taken) {
            const auto it = std::find(order_.begin(), order_.end(), t);
            if (it != order_.end()) skipped_[static_cast<std::size_t>(it - order_.begin())] = 1;
        }
    }
    planned_ = true;
}

void Tape::forward() {
    if (!planned_) plan_replay();
    const bool check = is_anomaly_detection_enabled();
    for (std::size_t i = 0; i < order_.size(); ++i) {
        detail::Node* node = order_[i];
        if (node->is_leaf()) continue;
        if (!skipped_[i]) {
            node->forward();
            if (check) detail::check_forward_anomaly(*node);
        }
        node->record_forward();  // skipped nodes too: they stand for this pass's values
    }
}

void Tape::backward() {
    run_backward(nullptr);
}

void Tape::backward(const array& seed) {
    run_backward(&seed);
}

void Tape::run_backward(const array* seed) {
    detail::Node& out = output_.node();
    if (!out.requires_grad()) {
        throw graph_error(std::string("backward(): the output ('") + out.op_name() +
                          "') depends on no parameter, so it has no gradient to propagate");
    }
    const shape_type& shape = out.value().shape();
    if (seed == nullptr && out.value().size() != 1) {
        throw graph_error("backward(): the output has shape " + format_shape(shape) +
                          ", not a single number; pass a seed gradient of that shape");
    }
    if (seed != nullptr && seed->shape() != shape) {
        throw shape_error("backward(): seed of shape " + format_shape(seed->shape()) +
                          " does not match the output's shape " + format_shape(shape));
    }
    // Interior gradients hold one pass each; parameters accumulate until zero_grad().
    for (detail::Node* node : grad_order_) {
        if (!node->is_leaf()) node->schedule_zero_grad();
    }
    const detail::GradSink sink(out);
    if (seed == nullptr) {
        sink.put(0, 1.0);
    } else {
        sink.assign(*seed);
    }
    // Nothing is differentiated at a point other than the one the values were computed at.
    for (detail::Node* node : grad_order_) {
        if (!node->is_leaf()) node->check_inputs_unchanged();
    }
    // Reverse creation order: every consumer has pushed its share before a node pushes its own.
    const bool check = is_anomaly_detection_enabled();
    const detail::BypassScope scope = bypass_scope();
    for (auto it = grad_order_.rbegin(); it != grad_order_.rend(); ++it) {
        detail::Node* node = *it;
        if (node->is_leaf() || node->grad_pending_zero()) continue;
        node->backward();
        if (check) detail::check_backward_anomaly(*node);
    }
}

std::vector<Var> Tape::parameters() const {
    std::vector<Var> params;
    for (detail::Node* node : grad_order_) {
        if (node->is_leaf()) params.emplace_back(Var(node->shared_from_this()));
    }
    return params;
}

}  // namespace xgrad
