// Tape::Impl: the tape's node lists and replay plan, for the library's own use.
#pragma once

#include <memory>
#include <vector>

#include "core/op.hpp"
#include "fusion/replay.hpp"
#include "xgrad/core/tape.hpp"

namespace xgrad {

struct Tape::Impl {
    explicit Impl(Var out);

    /// @brief How many references to `node` come from this graph (consumers on the tape, and
    /// `output` for the output node); 0 for a node not on the tape.
    std::uint32_t graph_references(const detail::Node& node) const;
    /// @brief Position of `node` in `order`, or order.size().
    std::size_t index_of(const detail::Node& node) const;
    void plan_replay();
    /// @brief For BypassScope: whether a backward pass must deliver `node`'s own gradient, i.e.
    /// something outside the graph (a user's Var, another graph) holds it.
    static bool observed_outside(const void* impl, const detail::Node& node);
    void run_backward(const array* seed) const;

    /// @brief What forward() does for one node of `order`.
    struct Step {
        bool skipped = false;  // a member of a fused group
        int group = -1;        // the group it is the root of
    };

    Var output;
    std::vector<detail::Node*> order;       // every node, creation order
    std::vector<detail::Node*> grad_order;  // the nodes that need a gradient, creation order
    bool planned = false;
    std::vector<std::unique_ptr<detail::fusion::ReplayGroup>> groups;
    std::vector<Step> step;       // per node of order, once planned
    std::vector<int> grad_group;  // per node of grad_order: the group it is the root of, or -1

  private:
    std::vector<std::uint32_t> references_;  // per node of order
};

namespace detail {

/// @brief The library's own view of a tape's node lists.
struct TapeAccess {
    /// @brief Every node, in creation order.
    static const std::vector<Node*>& order(const Tape& tape) { return tape.impl_->order; }
    /// @brief The nodes that need a gradient, in creation order.
    static const std::vector<Node*>& grad_order(const Tape& tape) { return tape.impl_->grad_order; }
};

}  // namespace detail
}  // namespace xgrad
