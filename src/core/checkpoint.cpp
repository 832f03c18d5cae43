// Gradient checkpointing: CheckpointNode keeps fn, its inputs and its output value; each pass that
// needs the interior rebuilds it (recording on) and walks the rebuilt nodes only.
#include "xgrad/core/checkpoint.hpp"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "check/anomaly.hpp"
#include "core/op.hpp"
#include "xgrad/ops.hpp"

namespace xgrad {

namespace {

using detail::Node;
using Fn = std::function<Var(const std::vector<Var>&)>;

/// @brief One run of fn with recording on: its output, the nodes it made that the output
/// depends on (the interior, creation order), and the nodes from outside fn that they read
/// (the boundary, in the order first met).
struct Rebuilt {
    Var output;
    std::vector<Node*> interior;
    std::vector<Node*> boundary;
    /// @brief How many references to each interior node come from the rebuilt graph (consumers,
    /// and `output` for the output node).
    std::unordered_map<const Node*, std::uint32_t> references;

    bool output_is_interior() const {
        return !interior.empty() && interior.back() == &output.node();
    }
};

/// @brief For BypassScope during the rebuilt graph's backward pass, as Tape::backward decides for
/// its graph: an interior node is observed when something outside the rebuilt graph holds it (fn
/// kept a handle); the boundary nodes always are (the checkpoint delivers their gradients).
bool observed_in_rebuilt(const void* context, const Node& node) {
    const auto& r = *static_cast<const Rebuilt*>(context);
    const auto found = r.references.find(&node);
    if (found == r.references.end()) return true;
    return node.weak_from_this().use_count() > static_cast<long>(found->second);
}

/// @brief Runs fn on `args` with recording on (even under no_grad) and collects what it made.
Rebuilt run_recorded(const Fn& fn, const std::vector<Var>& args) {
    auto run = [&fn, &args] {
        const enable_grad recording;
        Rebuilt r;
        // Every node made from here on has a larger sequence number: that tells fn's nodes from
        // the ones it reads from outside.
        const std::uint64_t first = constant(0.0).node().sequence();
        r.output = fn(args);
        if (!r.output.defined()) throw graph_error("checkpoint: fn returned an empty Var");
        std::unordered_set<const Node*> boundary_seen;
        auto meet = [&](Node* node) {
            if (node->sequence() > first) {
                return r.references[node]++ == 0;  // new interior node: walk its inputs
            }
            if (boundary_seen.insert(node).second) r.boundary.push_back(node);
            return false;
        };
        std::vector<Node*> stack;
        if (meet(&r.output.node())) stack.push_back(&r.output.node());
        while (!stack.empty()) {  // iterative: a long segment must not recurse
            Node* node = stack.back();
            stack.pop_back();
            r.interior.push_back(node);
            for (std::size_t i = 0; i < node->input_count(); ++i) {
                if (meet(&node->input(i))) stack.push_back(&node->input(i));
            }
        }
        std::sort(r.interior.begin(), r.interior.end(),
                  [](const Node* a, const Node* b) { return a->sequence() < b->sequence(); });
        return r;
    };
    return run();
}

/// @brief The output's value, moved out of the rebuilt graph when nothing else holds it.
array take_value(Rebuilt& r) {
    Node& out = r.output.node();
    out.value();
    if (r.output_is_interior() && r.output.node_ptr().use_count() == 1) {
        return std::move(out.mutable_value());
    }
    return out.value();
}

/// @brief The graph node of a checkpointed fn: inputs are the Vars fn reads from outside it
/// (those passed, then those captured), the value is fn's output; the interior is rebuilt by
/// each pass that needs it.
class CheckpointNode final : public Node {
  public:
    /// @brief `arg_slots[k]`: which input fn's k-th argument is.
    CheckpointNode(Fn fn, const std::vector<Node*>& inputs, std::vector<std::size_t> arg_slots,
                   bool requires_grad)
        : Node("checkpoint", requires_grad), fn_(std::move(fn)), arg_slots_(std::move(arg_slots)) {
        for (Node* input : inputs) add_input(input->shared_from_this());
    }

    // y = fn(inputs), recomputed (and the rebuilt graph dropped)
    void forward() override {
        Rebuilt r = rebuild(false);
        value_ = take_value(r);
    }

    // dL/dxᵢ: the rebuilt graph's own backward pass, seeded with this node's gradient; its rules
    // write into the inputs' gradient buffers through their GradSinks, as the plain graph's do.
    void backward() override {
        Rebuilt r = rebuild();
        if (!r.output.requires_grad()) return;
        const detail::BypassScope scope(&r, observed_in_rebuilt);
        detail::GradSink(r.output.node()).assign(grad());
        const bool check = is_anomaly_detection_enabled();
        for (auto it = r.interior.rbegin(); it != r.interior.rend(); ++it) {
            Node* node = *it;
            if (node->is_leaf() || !node->requires_grad() || node->grad_pending_zero()) continue;
            node->backward();
            if (check) detail::check_backward_anomaly(*node);
        }
    }

    // The same contributions as graph nodes: backward_as_graph through the rebuilt graph (which
    // the returned nodes keep), so that they can be differentiated again.
    GradVars backward_as_graph(const Var& g) override {
        Rebuilt r = rebuild();
        GradVars out(input_count());
        if (!r.output.requires_grad()) return out;
        std::unordered_map<const Node*, Var> grads;
        grads[&r.output.node()] = g;
        for (auto it = r.interior.rbegin(); it != r.interior.rend(); ++it) {
            Node* node = *it;
            if (node->is_leaf()) continue;
            const auto found = grads.find(node);
            if (found == grads.end()) continue;
            const GradVars contributions = node->backward_as_graph(found->second);
            for (std::size_t i = 0; i < contributions.size() && i < node->input_count(); ++i) {
                if (!contributions[i].defined()) continue;
                Var& slot = grads[&node->input(i)];
                slot = slot.defined() ? slot + contributions[i] : contributions[i];
            }
        }
        for (std::size_t i = 0; i < input_count(); ++i) {
            const auto found = grads.find(&input(i));
            if (found != grads.end() && input(i).requires_grad()) out[i] = found->second;
        }
        return out;
    }

    // dy = J·t: the inputs' tangents pushed through the rebuilt graph by each op's tangent rule
    array tangent(const Tangents& t) override {
        Rebuilt r = rebuild();
        std::unordered_map<const Node*, const array*> given;
        for (std::size_t i = 0; i < input_count(); ++i) {
            if (t[i] != nullptr) given[&input(i)] = t[i];
        }
        std::unordered_map<const Node*, array> made;
        auto tangent_of = [&](const Node* node) -> const array* {
            const auto g = given.find(node);
            if (g != given.end()) return g->second;
            const auto m = made.find(node);
            return m != made.end() ? &m->second : nullptr;
        };
        const bool check = is_anomaly_detection_enabled();
        Tangents in;
        for (Node* node : r.interior) {
            if (node->is_leaf()) continue;
            in.assign(node->input_count(), nullptr);
            bool any = false;
            for (std::size_t i = 0; i < node->input_count(); ++i) {
                in[i] = tangent_of(&node->input(i));
                any = any || in[i] != nullptr;
            }
            if (!any) continue;
            node->value();
            array dt = node->tangent(in);
            if (check) detail::check_tangent_anomaly(*node, dt);
            made.emplace(node, std::move(dt));
        }
        const array* result = tangent_of(&r.output.node());
        return result != nullptr ? *result : array(xt::zeros<double>(value_.shape()));
    }

  private:
    /// @brief fn run again on the inputs' current values, checked against the first run (and
    /// against the value of the last forward pass, unless this is a forward pass).
    Rebuilt rebuild(bool check_shape = true) {
        std::vector<Var> args;
        args.reserve(arg_slots_.size());
        for (std::size_t slot : arg_slots_) args.push_back(input_var(slot));
        Rebuilt r = run_recorded(fn_, args);
        args.clear();
        for (const Node* b : r.boundary) {
            bool known = false;
            for (std::size_t i = 0; i < input_count() && !known; ++i) known = &input(i) == b;
            if (!known) {
                throw graph_error("checkpoint: on recomputation fn read " + b->describe() +
                                  ", a Var from outside it that its first run did not read; fn "
                                  "must build the same graph every time it runs");
            }
        }
        if (!r.output_is_interior()) {
            throw graph_error(
                "checkpoint: on recomputation fn returned a Var it did not compute, unlike its "
                "first run; fn must build the same graph every time it runs");
        }
        if (check_shape && r.output.shape() != value_.shape()) {
            throw graph_error("checkpoint: on recomputation fn returned shape " +
                              format_shape(r.output.shape()) + ", its first run " +
                              format_shape(value_.shape()) +
                              "; fn must build the same graph every time it runs");
        }
        return r;
    }

    Fn fn_;
    std::vector<std::size_t> arg_slots_;
};

}  // namespace

Var checkpoint(const std::function<Var(const std::vector<Var>&)>& fn,
               const std::vector<Var>& inputs) {
    if (!fn) throw graph_error("checkpoint: fn is empty");
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) {
            throw graph_error("checkpoint: input " + std::to_string(i) + " is an empty Var");
        }
    }
    if (!is_grad_enabled()) {  // nothing is recorded: fn's result is already a constant
        Var out = fn(inputs);
        if (!out.defined()) throw graph_error("checkpoint: fn returned an empty Var");
        return out;
    }
    Rebuilt r = run_recorded(fn, inputs);
    if (!r.output_is_interior()) return r.output;  // fn handed back a Var from outside
    // The node's inputs: those passed (each node once), then the others fn read.
    std::vector<Node*> nodes;
    std::vector<std::size_t> arg_slots;
    auto slot_of = [&nodes](Node* node) {
        const auto it = std::find(nodes.begin(), nodes.end(), node);
        if (it != nodes.end()) return static_cast<std::size_t>(it - nodes.begin());
        nodes.push_back(node);
        return nodes.size() - 1;
    };
    for (const Var& v : inputs) arg_slots.push_back(slot_of(&v.node()));
    for (Node* b : r.boundary) slot_of(b);
    array value = take_value(r);
    if (nodes.empty()) return constant(std::move(value));  // depends on nothing outside fn
    bool requires_grad = false;
    for (const Node* n : nodes) requires_grad = requires_grad || n->requires_grad();
    r = Rebuilt{};  // the interior is dropped here
    auto node = std::make_shared<CheckpointNode>(fn, nodes, std::move(arg_slots), requires_grad);
    node->mutable_value() = std::move(value);
    node->record_forward();
    return Var(std::move(node));
}

}  // namespace xgrad
