/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "xgrad/var.hpp"

namespace xgrad {

namespace detail {
struct TapeAccess;
class Node;
class BypassScope;
}  // namespace detail

/// @brief The nodes an output depends on, in the order they were created (a topological order).
/// A tape replays its graph: forward() recomputes every op from the leaves' current values,
/// backward() propagates gradients, both into buffers reused from the previous run.
///
/// On its first forward() a tape fuses what it can: `bce_with_logits(matmul(X, w) + b, y)` runs
/// as `linear_bce_with_logits` (one pass over X) when no one holds a handle to the sum or the
/// product, whose values are then made only if something reads them (their gradients are never
/// made: keep a Var to `matmul(X, w) + b` to see its gradient, and the tape will not fuse).
///
/// Threads: building a Tape only reads the graph, so several threads may build tapes of one
/// graph, and call grad(), hessian() or hessian_vector_product() on it, at once. forward() and
/// backward() write values and gradients into the graph's nodes: run them on one thread at a
/// time per graph (and not while another thread reads those nodes).
///
/// Misuse is refused: backward() after a leaf was given a new value (Var::mutable_value) or a new
/// shape since the graph last ran forward throws graph_error naming the op and the leaf; forward()
/// re-checks every op's shapes, so a replay with other shapes or ranks recomputes or throws
/// shape_error.
class Tape {
  public:
    explicit Tape(Var output);

    /// @brief Recomputes every op node, in creation order, from the current leaf values.
    void forward();
    /// @brief Groups of ops the replays run as one fused pass (known after the first forward()).
    std::size_t fused() const { return fused_; }
    /// @brief Backpropagates from the (scalar) output: interior gradients are overwritten,
    /// parameter gradients accumulate until zero_grad().
    void backward();
    /// @brief Backpropagates with an explicit seed gradient of the output's shape.
    void backward(const array& seed);

    const Var& output() const { return output_; }
    /// @brief Number of nodes on the tape, leaves included.
    std::size_t size() const { return order_.size(); }
    /// @brief The leaves whose gradient is tracked, in creation order.
    std::vector<Var> parameters() const;

  private:
    friend struct detail::TapeAccess;
    void run_backward(const array* seed);
    void plan_replay();
    /// @brief How many references to `node` come from this graph (consumers on the tape, and
    /// the tape itself for the output).
    std::uint32_t graph_references(const detail::Node& node) const;
    /// @brief Lets rewrites bypass intermediates no one outside this graph holds.
    detail::BypassScope bypass_scope() const;

    Var output_;
    std::vector<detail::Node*> order_;             // every node, creation order
    std::vector<std::uint32_t> graph_references_;  // per node of order_
    std::vector<detail::Node*> grad_order_;        // the nodes that need a gradient, creation order
    std::vector<char> skipped_;  // per node of order_: fused away, forward() does not run it
    bool planned_ = false;
    std::size_t fused_ = 0;
};

}  // namespace xgrad
