// grad() as graph nodes (backward_as_graph in reverse tape order), hessian, HVP.
// Gradients as graph nodes: the tape walked backwards with each op's backward_as_graph, which
// applies the same derivative rules as backward() to Vars instead of arrays.
#include "xgrad/core/autograd.hpp"

#include <algorithm>
#include <unordered_map>

#include "core/op.hpp"
#include "core/tape_impl.hpp"
#include "xgrad/core/tape.hpp"
#include "xgrad/ops.hpp"

namespace xgrad {

namespace {

std::vector<Var> grad_graph(const Var& output, const std::vector<Var>& inputs, const Var& seed) {
    std::vector<Var> results;
    if (!output.requires_grad()) {  // nothing flows back: every gradient is zero
        for (const Var& input : inputs)
            results.push_back(constant(xt::zeros<double>(input.shape())));
        return results;
    }
    // Reads the graph only (the gradients live in `grads`), so threads may share one graph.
    Tape tape(output);
    std::unordered_map<detail::Node*, Var> grads;
    grads[&output.node()] = seed;
    const auto& order = detail::TapeAccess::grad_order(tape);
    for (detail::Node* node : order) {
        if (!node->is_leaf()) node->check_inputs_unchanged("grad()");
    }
    // Only the gradients asked for are observed: no .grad() is written.
    std::vector<const detail::Node*> asked;
    for (const Var& input : inputs) asked.push_back(&input.node());
    std::sort(asked.begin(), asked.end());
    const detail::BypassScope scope(&asked, [](const void* list, const detail::Node& node) {
        const auto& nodes = *static_cast<const std::vector<const detail::Node*>*>(list);
        return std::binary_search(nodes.begin(), nodes.end(), &node);
    });
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        detail::Node* node = *it;
        if (node->is_leaf()) continue;
        const auto found = grads.find(node);
        if (found == grads.end()) continue;
        const detail::Node::GradVars contributions = node->backward_as_graph(found->second);
        for (std::size_t i = 0; i < contributions.size() && i < node->input_count(); ++i) {
            if (!contributions[i].defined()) continue;
            Var& slot = grads[&node->input(i)];
            slot = slot.defined() ? slot + contributions[i] : contributions[i];  // used twice: add
        }
    }
    for (const Var& input : inputs) {
        const auto found = grads.find(&input.node());
        results.push_back(found != grads.end() ? found->second
                                               : constant(xt::zeros<double>(input.shape())));
    }
    return results;
}

}  // namespace

std::vector<Var> grad(const Var& output, const std::vector<Var>& inputs, bool create_graph) {
    if (output.size() != 1) {
        throw graph_error("grad(): the output has shape " + format_shape(output.shape()) +
                          ", not a single number; pass a seed of that shape");
    }
    return grad(output, inputs, constant(xt::ones<double>(output.shape())), create_graph);
}

std::vector<Var> grad(const Var& output, const std::vector<Var>& inputs, const Var& seed,
                      bool create_graph) {
    if (seed.shape() != output.shape()) {
        throw shape_error("grad(): seed of shape " + format_shape(seed.shape()) +
                          " does not match the output's shape " + format_shape(output.shape()));
    }
    if (create_graph) return grad_graph(output, inputs, seed);
    no_grad scope;  // the same walk, keeping only values
    return grad_graph(output, inputs, seed);
}

array hessian(const Var& output, const std::vector<Var>& params) {
    const std::vector<Var> gradient = grad(output, params, true);
    std::size_t total = 0;
    for (const Var& p : params) total += p.size();
    array H = xt::zeros<double>({total, total});
    std::size_t row = 0;
    for (const Var& g : gradient) {
        for (std::size_t e = 0; e < g.size(); ++e, ++row) {
            // Row `row` is the gradient of one gradient element: seed it with a one-hot.
            array one_hot = xt::zeros<double>(g.shape());
            one_hot.data()[e] = 1.0;
            const std::vector<Var> second = grad(g, params, constant(std::move(one_hot)));
            std::size_t column = 0;
            for (const Var& block : second) {
                std::copy(block.value().begin(), block.value().end(), &H(row, column));
                column += block.size();
            }
        }
    }
    return H;
}

std::vector<array> hessian_vector_product(const Var& output, const std::vector<Var>& params,
                                          const std::vector<array>& v) {
    if (v.size() != params.size()) {
        throw shape_error("hessian_vector_product: " + std::to_string(v.size()) + " vectors for " +
                          std::to_string(params.size()) + " parameters");
    }
    const std::vector<Var> gradient = grad(output, params, true);
    Var directional;  // ∇f · v, whose gradient is H v
    for (std::size_t p = 0; p < params.size(); ++p) {
        if (v[p].shape() != params[p].shape()) {
            throw shape_error("hessian_vector_product: vector " + std::to_string(p) +
                              " has shape " + format_shape(v[p].shape()) + ", its parameter " +
                              format_shape(params[p].shape()));
        }
        Var term = sum(gradient[p] * constant(v[p]));
        directional = directional.defined() ? directional + term : term;
    }
    std::vector<array> result;
    for (const Var& g : grad(directional, params)) result.push_back(g.value());
    return result;
}

}  // namespace xgrad
