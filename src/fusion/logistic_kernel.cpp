// The logistic-regression kernels (logistic_kernel.hpp): bce_with_logits(matmul(X, w) + b, y) in
// one blocked pass over X, which a tape's replay fusion runs, and the vectorised loops of
// bce_with_logits. This file alone is built for the host's instruction set.
#include <algorithm>
#include <array>
#include <cmath>

#if XGRAD_USE_XSIMD
#include <xsimd/xsimd.hpp>
#endif

#include "backend/blas_calls.hpp"
#include "backend/worker_pool.hpp"
#include "fusion/logistic_kernel.hpp"
#if XGRAD_USE_XSIMD
#include "fusion/simd_blocks.hpp"
#endif
#include "xgrad/ops.hpp"
#include "xgrad/ops/losses.hpp"

namespace xgrad::detail {

bool LinearBceKernel::fits(const array& X, const array& w, const array& b, const array& y) {
    return X.dimension() == 2 && w.dimension() == 1 && w.shape()[0] == X.shape()[1] &&
           b.size() == 1 && b.dimension() <= 1 && y.dimension() == 1 &&
           y.shape()[0] == X.shape()[0] && X.shape()[0] > 0;
}

double LinearBceKernel::forward(const array& X, const array& w, double b, const array& y,
                                double scale) {
    const std::size_t n = X.shape()[1];
    scale_ = scale;
    unit_grad_w_.resize(shape_type{n});
#if XGRAD_USE_XSIMD
    const std::size_t m = X.shape()[0];
    // Large problems split their rows between the cores the BLAS may use; each part sums into
    // its own Partial, added up in a fixed order (the same threads give the same bits).
    const std::size_t parts = parallel_parts(m * n, min_work_per_part);
    if (partials_.size() < parts) partials_.resize(parts);
    for (std::size_t k = 0; k < parts; ++k) {  // sized here: the workers never allocate
        partials_[k].grad_w.resize(shape_type{n});
        partials_[k].residual.resize(shape_type{block_for(n)});
    }
    struct Job {
        LinearBceKernel* kernel;
        const array *X, *w, *y;
        double b;
        std::size_t parts;
    } job{this, &X, &w, &y, b, parts};
    run_in_parallel(
        parts,
        [](void* context, std::size_t k) {
            const Job& j = *static_cast<const Job*>(context);
            const std::size_t m = j.X->shape()[0];
            const std::size_t first = m * k / j.parts;
            j.kernel->one_pass(*j.X, *j.w, j.b, *j.y, first, m * (k + 1) / j.parts - first,
                               j.kernel->partials_[k]);
        },
        &job);
    const std::size_t used = parts;
#else
    if (partials_.empty()) partials_.resize(1);
    blocked(X, w, b, y, partials_[0]);  // one part: OpenBLAS threads the products itself
    const std::size_t used = 1;
#endif
    unit_grad_w_.fill(0.0);
    unit_grad_b_ = 0.0;
    double total = 0.0;
    for (std::size_t k = 0; k < used; ++k) {
        xt::noalias(unit_grad_w_) += partials_[k].grad_w;  // noalias: no temporary
        unit_grad_b_ += partials_[k].grad_b;
        total += partials_[k].total;
    }
    return scale_ * total;
}

// dL/dw = g·Xᵀr, dL/db = g·Σr (made in forward); dL/dX = g·r wᵀ, dL/dy = −g·scale·z.
void LinearBceKernel::backward(double g, Node& X, Node& w, Node& b, Node& y) {
    if (w.requires_grad()) accumulate_grad(w, g * unit_grad_w_);
    if (b.requires_grad()) {  // b holds one number, of shape () or (1,)
        GradSink(b).put(0, g * unit_grad_b_);
    }
    if (X.requires_grad() || y.requires_grad()) backward_to_data(g, X, w, b, y);
}

#if XGRAD_USE_XSIMD

namespace {

using simd::batch;
using simd::block_products;
using simd::block_transposed_product;
using simd::lanes;

/// @brief The loss terms max(z,0) − z·y + log(1 + e^−|z|) of a batch of logits, added to
/// `losses`, and their residuals σ(z) − y; one exponential serves both.
[[gnu::always_inline]] inline batch loss_and_residual(const batch& z, const batch& y,
                                                      batch& losses) {
    const batch zero(0.0);
    const batch one(1.0);
    const batch e = xsimd::exp(-xsimd::abs(z));
    losses += xsimd::max(z, zero) - z * y + xsimd::log1p(e);
    return xsimd::select(z >= zero, one, e) / (one + e) - y;
}

}  // namespace

/// @brief Rows per block: about 32 KB of X, a whole number of batches, at most block_rows.
std::size_t LinearBceKernel::block_for(std::size_t n) {
    if (n == 0) return block_rows;  // no features: z = b on every row
    return std::clamp((l1_bytes / (8 * n)) / lanes * lanes, lanes, block_rows);
}

/// @brief Rows in blocks of about 32 KB, each read from memory once and then kept in L1: the
/// block's products with w, the losses and residuals of the whole block in batches (independent
/// exponentials overlap), then Xᵀr for the block.
void LinearBceKernel::one_pass(const array& X_array, const array& w_array, double b,
                               const array& y_array, std::size_t first_row, std::size_t row_count,
                               Partial& out) const {
    const std::size_t n = X_array.shape()[1];
    const std::size_t block = out.residual.size();
    out.grad_w.fill(0.0);
    out.grad_b = 0.0;
    out.total = 0.0;
    double* r = out.residual.data();
    batch losses(0.0);
    batch residuals(0.0);
    for (std::size_t done = 0; done < row_count; done += block) {
        const std::size_t rows = std::min(block, row_count - done);
        const double* X = X_array.data() + (first_row + done) * n;
        const double* y = y_array.data() + first_row + done;
        block_products(X, rows, n, w_array.data(), r);
        std::size_t i = 0;  // r = (σ(r + b) − y)·scale, and the losses
        for (; i + lanes <= rows; i += lanes) {
            const batch z = batch::load_unaligned(r + i) + batch(b);
            const batch ri =
                loss_and_residual(z, batch::load_unaligned(y + i), losses) * batch(scale_);
            residuals += ri;
            ri.store_unaligned(r + i);
        }
        for (; i < rows; ++i) {
            out.total += scalar_loss_and_residual(r[i] + b, y[i], r[i]);
            r[i] *= scale_;
            out.grad_b += r[i];
        }
        block_transposed_product(X, rows, n, r, out.grad_w.data());
    }
    out.total += xsimd::hadd(losses);
    out.grad_b += xsimd::hadd(residuals);
}

#else

/// @brief Rows in blocks that fit in L2: z = X_blk·w (BLAS), the losses and residuals, then
/// X_blkᵀ·r (BLAS) while the block is still in cache, so X comes from memory once.
void LinearBceKernel::blocked(const array& X_array, const array& w_array, double b,
                              const array& y_array, Partial& out) const {
    const std::size_t m = X_array.shape()[0];
    const std::size_t n = X_array.shape()[1];
    out.grad_w.resize(shape_type{n});
    out.grad_w.fill(0.0);
    out.grad_b = 0.0;
    out.total = 0.0;
    out.residual.resize(shape_type{block_rows});
    double* r = out.residual.data();
    for (std::size_t first = 0; first < m; first += block_rows) {
        const std::size_t rows = std::min(block_rows, m - first);
        const double* X_block = X_array.data() + first * n;
        blas::gemv(false, rows, n, 1.0, X_block, n, w_array.data(), 0.0, r);
        for (std::size_t i = 0; i < rows; ++i) {
            out.total += scalar_loss_and_residual(r[i] + b, y_array.data()[first + i], r[i]);
            r[i] *= scale_;
            out.grad_b += r[i];
        }
        blas::gemv(true, rows, n, 1.0, X_block, n, r, 1.0, out.grad_w.data());
    }
}

#endif

double LinearBceKernel::scalar_loss_and_residual(double z, double y, double& residual) {
    const double e = std::exp(-std::abs(z));  // one exponential for loss and σ
    residual = (z >= 0.0 ? 1.0 : e) / (1.0 + e) - y;
    return std::max(z, 0.0) - z * y + std::log1p(e);
}

/// @brief The rare gradients for X or y: recompute z and r, row by row.
void LinearBceKernel::backward_to_data(double g, Node& X_node, Node& w_node, Node& b_node,
                                       Node& y_node) {
    const array& X = X_node.value();
    const array& w = w_node.value();
    const double b = b_node.value().data()[0];
    const array& y = y_node.value();
    const std::size_t m = X.shape()[0];
    const std::size_t n = X.shape()[1];
    array z = array::from_shape({m});
    blas::gemv(false, m, n, 1.0, X.data(), n, w.data(), 0.0, z.data());
    z += b;
    if (X_node.requires_grad()) {
        array r = array::from_shape({m});
        for (std::size_t i = 0; i < m; ++i) {
            scalar_loss_and_residual(z(i), y(i), r(i));
            r(i) *= g * scale_;
        }
        GradSink gX(X_node);
        gX.zero_if_first();  // ger only adds
        blas::ger(m, n, 1.0, r.data(), w.data(), gX.data(), n);
    }
    if (y_node.requires_grad()) accumulate_grad(y_node, -(g * scale_) * z);
}

double bce_with_logits_terms(const double* z, const double* y, std::size_t n, double* terms) {
    double total = 0.0;
    std::size_t i = 0;
#if XGRAD_USE_XSIMD
    batch sum(0.0);
    for (; i + lanes <= n; i += lanes) {
        batch losses(0.0);
        loss_and_residual(batch::load_unaligned(z + i), batch::load_unaligned(y + i), losses);
        if (terms != nullptr) losses.store_unaligned(terms + i);
        sum += losses;
    }
    total = xsimd::hadd(sum);
#endif
    for (; i < n; ++i) {
        double unused = 0.0;
        const double loss = LinearBceKernel::scalar_loss_and_residual(z[i], y[i], unused);
        if (terms != nullptr) terms[i] = loss;
        total += loss;
    }
    return total;
}

void bce_with_logits_residual(const double* z, const double* y, std::size_t n, const double* g,
                              double g_all, double* out, bool overwrite) {
    std::size_t i = 0;
#if XGRAD_USE_XSIMD
    for (; i + lanes <= n; i += lanes) {
        batch unused(0.0);
        const batch gi = g != nullptr ? batch::load_unaligned(g + i) : batch(g_all);
        const batch r = gi * loss_and_residual(batch::load_unaligned(z + i),
                                               batch::load_unaligned(y + i), unused);
        (overwrite ? r : r + batch::load_unaligned(out + i)).store_unaligned(out + i);
    }
#endif
    for (; i < n; ++i) {
        double r = 0.0;
        LinearBceKernel::scalar_loss_and_residual(z[i], y[i], r);
        r *= g != nullptr ? g[i] : g_all;
        out[i] = overwrite ? r : out[i] + r;
    }
}

}  // namespace xgrad::detail
