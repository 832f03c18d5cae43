// Tape: the iterative walk that collects a graph, replays in creation order, and backward.
#include "xgrad/core/tape.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "backend/elementwise_kernels.hpp"
#include "check/anomaly.hpp"
#include "core/tape_impl.hpp"
#include "fusion/replay.hpp"

namespace xgrad {

namespace {

/// @brief Node → count, open addressing keyed by the node's address: the walk's visited set and
/// reference counts in one flat table, so that a walk allocates once per doubling, not per node.
class NodeCounts {
  public:
    NodeCounts() : slots_(64) {}
    /// @brief The count of `key`, inserted as 0 if absent.
    std::uint32_t& operator[](const detail::Node* key) {
        if ((used_ + 1) * 2 > slots_.size()) grow();
        Slot& slot = find(slots_, key);
        if (slot.first == nullptr) {
            slot.first = key;
            ++used_;
        }
        return slot.second;
    }

  private:
    using Slot = std::pair<const detail::Node*, std::uint32_t>;
    static Slot& find(std::vector<Slot>& slots, const detail::Node* key) {
        auto h = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(key));
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 33;
        const std::size_t mask = slots.size() - 1;
        std::size_t i = static_cast<std::size_t>(h) & mask;
        while (slots[i].first != nullptr && slots[i].first != key) i = (i + 1) & mask;
        return slots[i];
    }
    void grow() {
        std::vector<Slot> bigger(slots_.size() * 2);
        for (const Slot& s : slots_) {
            if (s.first != nullptr) find(bigger, s.first) = s;
        }
        slots_.swap(bigger);
    }

    std::vector<Slot> slots_;  // a power of two, at most half full
    std::size_t used_ = 0;
};

}  // namespace

bool Tape::Impl::observed_outside(const void* impl, const detail::Node& node) {
    const auto& tape = *static_cast<const Tape::Impl*>(impl);
    // weak_from_this counts the holders without adding one.
    return node.weak_from_this().use_count() > static_cast<long>(tape.graph_references(node));
}

Tape::Impl::Impl(Var out) : output(std::move(out)) {
    // Iterative depth-first walk: deep graphs must not recurse. The visited set and the
    // reference counts live here, not in the nodes, so that several threads may walk one
    // graph at once.
    NodeCounts references;
    std::vector<detail::Node*> stack{&output.node()};
    references[&output.node()] = 1;  // `output` holds it
    while (!stack.empty()) {
        detail::Node* node = stack.back();
        stack.pop_back();
        order.push_back(node);
        for (std::size_t i = 0; i < node->input_count(); ++i) {
            detail::Node& input = node->input(i);
            if (references[&input]++ == 0) stack.push_back(&input);
        }
    }
    std::sort(order.begin(), order.end(), [](const detail::Node* a, const detail::Node* b) {
        return a->sequence() < b->sequence();
    });
    references_.reserve(order.size());
    for (detail::Node* node : order) {
        references_.push_back(references[node]);
        if (node->requires_grad()) grad_order.push_back(node);
    }
}

std::uint32_t Tape::Impl::graph_references(const detail::Node& node) const {
    const std::size_t i = index_of(node);
    return i < order.size() ? references_[i] : 0;
}

std::size_t Tape::Impl::index_of(const detail::Node& node) const {
    const auto it = std::lower_bound(
        order.begin(), order.end(), node.sequence(),
        [](const detail::Node* a, std::uint64_t sequence) { return a->sequence() < sequence; });
    if (it == order.end() || *it != &node) return order.size();
    return static_cast<std::size_t>(it - order.begin());
}

// Planned at the first replay, not at construction: by then the temporaries of the expression
// that built the graph are gone, so a node's use count says who else holds it.
void Tape::Impl::plan_replay() {
    groups = detail::fusion::find_replay_groups(order);
    step.assign(order.size(), Step{});
    for (std::size_t g = 0; g < groups.size(); ++g) {
        for (detail::Node* member : groups[g]->members()) step[index_of(*member)].skipped = true;
        step[index_of(groups[g]->root())].group = static_cast<int>(g);
    }
    grad_group.assign(grad_order.size(), -1);
    for (std::size_t i = 0; i < grad_order.size(); ++i)
        grad_group[i] = step[index_of(*grad_order[i])].group;
    planned = true;
}

Tape::Tape(Var output) : impl_(std::make_unique<Impl>(std::move(output))) {}
Tape::~Tape() = default;
Tape::Tape(Tape&&) noexcept = default;
Tape& Tape::operator=(Tape&&) noexcept = default;

void Tape::forward() {
    Impl& t = *impl_;
    if (!t.planned) t.plan_replay();
    const bool check = is_anomaly_detection_enabled();
    for (std::size_t i = 0; i < t.order.size(); ++i) {
        detail::Node* node = t.order[i];
        if (node->is_leaf()) continue;
        const Impl::Step& s = t.step[i];
        if (s.group >= 0) {
            t.groups[static_cast<std::size_t>(s.group)]->forward();
        } else if (!s.skipped) {
            node->forward();
        }
        if (check && !s.skipped) detail::check_forward_anomaly(*node);
        node->record_forward();  // skipped nodes too: they stand for this pass's values
    }
}

std::size_t Tape::fused() const {
    return impl_->groups.size();
}

void Tape::backward() const {
    impl_->run_backward(nullptr);
}

void Tape::backward(const array& seed) const {
    impl_->run_backward(&seed);
}

void Tape::Impl::run_backward(const array* seed) const {
    detail::Node& out = output.node();
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
    // Nothing is differentiated at a point other than the one the values were computed at (all
    // checked before any gradient is touched). Interior gradients hold one pass; parameters
    // accumulate until zero_grad().
    for (detail::Node* node : grad_order) {
        if (!node->is_leaf()) node->check_inputs_unchanged();
    }
    for (detail::Node* node : grad_order) {
        if (!node->is_leaf()) node->schedule_zero_grad();
    }
    const detail::GradSink sink(out);
    if (seed == nullptr) {
        sink.put(0, 1.0);
    } else if (sink.first()) {
        detail::copy(seed->data(), sink.data(), seed->size());  // split between threads if large
    } else {
        sink.assign(*seed);
    }
    // Reverse creation order: every consumer has pushed its share before a node pushes its own.
    const bool check = is_anomaly_detection_enabled();
    const detail::BypassScope scope(this, observed_outside);
    for (std::size_t k = grad_order.size(); k-- > 0;) {
        detail::Node* node = grad_order[k];
        if (node->is_leaf() || node->grad_pending_zero()) continue;
        const int group = planned ? grad_group[k] : -1;
        if (group >= 0) {
            groups[static_cast<std::size_t>(group)]->backward();
        } else {
            node->backward();
        }
        if (check) detail::check_backward_anomaly(*node);
    }
}

const Var& Tape::output() const {
    return impl_->output;
}

std::size_t Tape::size() const {
    return impl_->order.size();
}

std::vector<Var> Tape::parameters() const {
    std::vector<Var> params;
    for (detail::Node* node : impl_->grad_order) {
        if (node->is_leaf()) params.emplace_back(Var(node->shared_from_this()));
    }
    return params;
}

}  // namespace xgrad
