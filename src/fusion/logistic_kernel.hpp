// The logistic-regression kernels: one blocked pass over X, and bce_with_logits's loops.
// The one fused kernel and the graph shapes a tape replays through it: bce_with_logits(matmul(X,
// w) + b, y) as a single blocked pass over X (see linear_bce_with_logits and Tape::forward).
#pragma once

#include <vector>

#include "core/op.hpp"

namespace xgrad::detail {

/// @brief Σᵢ max(zᵢ,0) − zᵢyᵢ + log(1 + e^−|zᵢ|), the terms of bce_with_logits; each term is also
/// stored in `terms` unless it is null. Vectorised like the fused kernel.
double bce_with_logits_terms(const double* z, const double* y, std::size_t n, double* terms);
/// @brief out[i] = (or +=, unless `overwrite`) gᵢ·(σ(zᵢ) − yᵢ), with gᵢ = g[i], or `g_all` for
/// every i when g is null.
void bce_with_logits_residual(const double* z, const double* y, std::size_t n, const double* g,
                              double g_all, double* out, bool overwrite);

/// @brief Mean or summed bce_with_logits(X·w + b, y) with X read from memory once: for a group
/// of rows, z = X_grp·w + b, the losses and the residuals r = (σ(z) − y)·scale, then X_grpᵀ·r
/// while the group is still in cache. The gradients for w and b are made during forward, per
/// unit of the output's gradient, and scaled in backward. Built with xsimd for the host (the
/// default), groups are a few rows in registers and L1; without, 512-row blocks through BLAS.
class LinearBceKernel {
  public:
    /// @brief Whether the operands have the shapes the kernel takes: X (m, n) with m > 0, w (n,),
    /// b one number of shape () or (1,), y (m,).
    static bool fits(const array& X, const array& w, const array& b, const array& y);

    /// @brief scale · Σ losses; keeps Xᵀr and Σr for backward.
    double forward(const array& X, const array& w, double b, const array& y, double scale);

    /// @brief Adds g times dL/dX, dL/dw, dL/db, dL/dy into whichever of the nodes need one.
    void backward(double g, Node& X, Node& w, Node& b, Node& y);

    /// @brief The loss term of logit z for target y; sets residual = σ(z) − y.
    static double scalar_loss_and_residual(double z, double y, double& residual);

  private:
    /// @brief What one part of the rows adds up: Xᵀr, Σr and Σ losses, and its block of r.
    struct Partial {
        array grad_w;
        double grad_b = 0.0;
        double total = 0.0;
        array residual;
    };
    void one_pass(const array& X, const array& w, double b, const array& y, std::size_t first_row,
                  std::size_t row_count, Partial& out) const;
    void blocked(const array& X, const array& w, double b, const array& y, Partial& out) const;
    static std::size_t block_for(std::size_t n);
    void backward_to_data(double g, Node& X, Node& w, Node& b, Node& y);

    static constexpr std::size_t block_rows = 512;      // at most; blocked(): 512 × 100 = 400 KB
    static constexpr std::size_t l1_bytes = 32 * 1024;  // one_pass(): a block stays in L1
    // Waking a worker costs some microseconds: a part gets at least this many elements of X.
    static constexpr std::size_t min_work_per_part = std::size_t{1} << 17;

    double scale_ = 1.0;
    array unit_grad_w_;  // Xᵀr for an output gradient of 1
    double unit_grad_b_ = 0.0;
    std::vector<Partial> partials_;  // one per part of the rows
};

}  // namespace xgrad::detail
