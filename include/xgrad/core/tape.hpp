// Tape: the nodes an output depends on, in creation order; replays forward and backward.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad {

namespace detail {
struct TapeAccess;
}

/// @brief The nodes an output depends on, in the order they were created (a topological order).
/// A tape replays its graph: forward() recomputes every op from the leaves' current values,
/// backward() propagates gradients, both into buffers reused from the previous run.
///
/// On its first forward() a tape fuses what it can: `bce_with_logits(matmul(X, w) + b, y)` runs
/// as one pass over X when no one holds a handle to the sum or the product, whose values are then
/// made only if something reads them (their gradients are never made: keep a Var to
/// `matmul(X, w) + b` to see its gradient, and the tape will not fuse).
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
    /// @brief Collects the graph `output` depends on (an iterative walk: any depth).
    explicit Tape(Var output);
    ~Tape();
    Tape(Tape&&) noexcept;
    Tape& operator=(Tape&&) noexcept;
    Tape(const Tape&) = delete;
    Tape& operator=(const Tape&) = delete;

    /// @brief Recomputes every op node, in creation order, from the current leaf values.
    /// Throws shape_error (naming the op and the shapes) if they no longer fit.
    void forward();
    /// @brief Groups of ops the replays run as one fused pass (known after the first forward()).
    std::size_t fused() const;
    /// @brief Backpropagates from the (scalar) output: interior gradients are overwritten,
    /// parameter gradients accumulate until zero_grad(). Throws graph_error if the output is not
    /// one number or depends on no parameter, or if a leaf changed since the last forward pass.
    void backward() const;
    /// @brief Backpropagates with an explicit seed gradient of the output's shape (shape_error
    /// if it has another).
    void backward(const array& seed) const;

    const Var& output() const;
    /// @brief Number of nodes on the tape, leaves included.
    std::size_t size() const;
    /// @brief The leaves whose gradient is tracked, in creation order.
    std::vector<Var> parameters() const;

  private:
    friend struct detail::TapeAccess;
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace xgrad
