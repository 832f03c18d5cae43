/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/tape.hpp"

#include <algorithm>
#include <atomic>

#include "node.hpp"

namespace xgrad {

namespace {
std::atomic<std::uint64_t> next_visit_mark{1};
}  // namespace

Tape::Tape(Var output) : output_(std::move(output)) {
    // Iterative depth-first walk: deep graphs must not recurse.
    const std::uint64_t mark = next_visit_mark++;
    std::vector<detail::Node*> stack{&output_.node()};
    output_.node().visit_mark = mark;
    while (!stack.empty()) {
        detail::Node* node = stack.back();
        stack.pop_back();
        order_.push_back(node);
        for (std::size_t i = 0; i < node->input_count(); ++i) {
            detail::Node& input = node->input(i);
            if (input.visit_mark != mark) {
                input.visit_mark = mark;
                stack.push_back(&input);
            }
        }
    }
    std::sort(order_.begin(), order_.end(), [](const detail::Node* a, const detail::Node* b) {
        return a->sequence() < b->sequence();
    });
    for (detail::Node* node : order_) {
        if (node->requires_grad()) grad_order_.push_back(node);
    }
}

// Planned at the first replay, not at construction: by then the temporaries of the expression
// that built the graph are gone, so a node's use count says who else holds it.
void Tape::plan_replay() {
    std::vector<detail::Node*> skipped;
    for (detail::Node* node : order_) {
        const std::vector<detail::Node*> taken = node->fuse_for_replay();
        if (!taken.empty()) ++fused_;
        skipped.insert(skipped.end(), taken.begin(), taken.end());
    }
    for (detail::Node* node : order_) {
        if (std::find(skipped.begin(), skipped.end(), node) == skipped.end()) {
            replay_.push_back(node);
        }
    }
    planned_ = true;
}

void Tape::forward() {
    if (!planned_) plan_replay();
    if (is_anomaly_detection_enabled()) {
        for (detail::Node* node : replay_) {
            node->forward();
            detail::check_forward_anomaly(*node);
        }
        return;
    }
    for (detail::Node* node : replay_) node->forward();
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
    bool overwrite = false;
    array& grad = out.grad_for_accumulate(overwrite);
    if (seed == nullptr) {
        if (overwrite) grad.fill(0.0);
        grad += 1.0;
    } else if (overwrite) {
        xt::noalias(grad) = *seed;
    } else {
        xt::noalias(grad) += *seed;
    }
    // Reverse creation order: every consumer has pushed its share before a node pushes its own.
    const bool check = is_anomaly_detection_enabled();
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
