// The softmax-regression kernel: mean softmax cross-entropy of X·W + b and its gradients for W
// and b in one blocked pass over X (used by linear_softmax_cross_entropy, which
// SoftmaxRegression trains on).
#pragma once

#include <cstddef>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::detail {

/// @brief L = scale · Σᵢ cᵢ · (log Σₖ e^zᵢₖ − zᵢ,yᵢ) with z = X·W + b, for X (m, n), W (n, K),
/// b (K,) or none, class indices y (m,) and per-class weights (cᵢ = weight of class yᵢ; none: 1).
/// For a group of rows that stays in cache it makes the logits, the log-sum-exp (shifted by the
/// row's max), the residuals R = (softmax(z) − onehot(y))·scale·c and then Xᵀ·R and R's column
/// sums, so that X is read from memory once per step. The gradients are kept per unit of the
/// output's gradient:
///   dL/dW = Xᵀ R,  dL/db = Σᵢ Rᵢ.
/// Built with xsimd for the host (the default), a group's logits and Xᵀ·R are made in registers
/// and the softmax vectorised across rows, and large problems split their rows between the BLAS
/// threads (a fixed order of partial sums: the same threads give the same bits); without, blocks
/// of 512 rows go through BLAS gemm.
class LinearSoftmaxKernel {
  public:
    /// @brief The loss (see the class); the labels must already be checked (whole numbers in
    /// [0, K)): here they only index. `bias` and `class_weights` (K,) may be null.
    double forward(const array& X, const array& W, const array* bias, const array& y,
                   const array* class_weights, double scale);

    /// @brief dL/dW (n, K) and dL/db (K,) of the last forward, for an output gradient of 1.
    const array& unit_grad_weights() const { return unit_grad_w_; }
    const array& unit_grad_bias() const { return unit_grad_b_; }

  private:
    /// @brief What one part of the rows adds up; its class-major block buffer of logits, then
    /// residuals.
    struct Partial {
        array grad_wt;  // (K, n): (Xᵀ R)ᵀ
        array grad_b;   // (K,)
        double total = 0.0;
        array block;  // (K, block rows)
    };
    struct Problem;
    static void one_pass(const Problem& p, std::size_t first_row, std::size_t row_count,
                         Partial& out);
    static std::size_t block_for(std::size_t n);

    array weights_t_;  // (K, n): Wᵀ, so that each class's column is contiguous
    array unit_grad_w_;
    array unit_grad_b_;
    std::vector<Partial> partials_;
};

}  // namespace xgrad::detail
