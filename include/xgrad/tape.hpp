/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <cstddef>
#include <vector>

#include "xgrad/var.hpp"

namespace xgrad {

namespace detail {
struct TapeAccess;
}

/// @brief The nodes an output depends on, in the order they were created (a topological order).
/// A tape replays its graph: forward() recomputes every op from the leaves' current values,
/// backward() propagates gradients, both into buffers reused from the previous run.
///
/// On its first forward() a tape fuses what it can: `bce_with_logits(matmul(X, w) + b, y)` runs
/// as `linear_bce_with_logits` (one pass over X) when no one holds a handle to the sum or the
/// product, whose values are then made only if something reads them (their gradients are never
/// made: keep a Var to `matmul(X, w) + b` to see its gradient, and the tape will not fuse).
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

    Var output_;
    std::vector<detail::Node*> order_;       // every node, creation order
    std::vector<detail::Node*> grad_order_;  // the nodes that need a gradient, creation order
    std::vector<detail::Node*> replay_;      // what forward() runs: order_ less fused-away nodes
    bool planned_ = false;
    std::size_t fused_ = 0;
};

}  // namespace xgrad
