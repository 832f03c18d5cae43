/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
// The one fused kernel and the graph shapes a tape replays through it: bce_with_logits(matmul(X,
// w) + b, y) as a single blocked pass over X (see linear_bce_with_logits and Tape::forward).
#pragma once

#include "node.hpp"

namespace xgrad::detail {

/// @brief Whether `node` is matmul(X, w) for a matrix X and a vector w, neither transposed.
bool is_matrix_vector_product(const Node& node);
/// @brief Whether `node` is a + b with two node operands.
bool is_sum_of_two_nodes(const Node& node);

/// @brief Mean or summed bce_with_logits(X·w + b, y) in one pass over X: rows in cache-sized
/// blocks, z = X_blk·w + b, the loss and the residual r = (σ(z) − y)·scale, then X_blkᵀ·r while
/// the block is still in cache. The gradients for w and b are made during forward, per unit of
/// the output's gradient, and scaled in backward.
class LinearBceKernel {
  public:
    /// @brief Whether the operands have the shapes the kernel takes: X (m, n) with m > 0, w (n,),
    /// b one number of shape () or (1,), y (m,).
    static bool fits(const array& X, const array& w, const array& b, const array& y);

    /// @brief scale · Σ losses; keeps Xᵀr and Σr for backward.
    double forward(const array& X, const array& w, double b, const array& y, double scale);

    /// @brief Adds g times dL/dX, dL/dw, dL/db, dL/dy into whichever of the nodes need one.
    void backward(double g, Node& X, Node& w, Node& b, Node& y);

  private:
    void loss_and_residual(double* r, const double* y, std::size_t rows, double b, double& total);
    void backward_to_data(double g, Node& X, Node& w, Node& b, Node& y);

    static constexpr std::size_t block_rows = 512;  // 512 rows × 100 features = 400 KB: in L2

    double scale_ = 1.0;
    array unit_grad_w_;  // Xᵀr for an output gradient of 1
    double unit_grad_b_ = 0.0;
    array residual_;  // one block of r
};

}  // namespace xgrad::detail
