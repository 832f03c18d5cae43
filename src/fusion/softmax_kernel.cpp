// The softmax-regression kernel (softmax_kernel.hpp): mean softmax cross-entropy of X·W + b and
// its gradients for W and b in one blocked pass over X. This file alone (with logistic_kernel.cpp
// and the packed gemm) is built for the host's instruction set.
#include "fusion/softmax_kernel.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#if XGRAD_USE_XSIMD
#include <xsimd/xsimd.hpp>
#endif

#include "backend/blas_calls.hpp"
#include "backend/worker_pool.hpp"
#if XGRAD_USE_XSIMD
#include "fusion/simd_blocks.hpp"
#endif

namespace xgrad::detail {

namespace {

constexpr std::size_t max_block_rows = 512;                      // rows per block at most
constexpr std::size_t l1_bytes = 32 * 1024;                      // a block of X stays in L1
constexpr std::size_t min_work_per_part = std::size_t{1} << 17;  // elements of X·W per thread

}  // namespace

/// @brief The operands of one forward pass, as raw pointers.
struct LinearSoftmaxKernel::Problem {
    const double* X;
    std::size_t m, n, classes;
    const double* weights_t;  // (K, n)
    const double* bias;       // (K,) or null
    const double* y;
    const double* class_weights;  // (K,) or null
    double scale;
};

namespace {

/// @brief Rows [first, last) of a block whose class-major logits z[k·stride + i] (bias not yet
/// added) are made: adds the bias, returns Σ cᵢ·(log Σₖ e^zᵢₖ − zᵢ,yᵢ) and leaves the residuals
/// (softmax − onehot)·scale·cᵢ in place of the logits. One row at a time (the scalar tail).
double rows_one_by_one(double* z, std::size_t stride, std::size_t first, std::size_t last,
                       const double* y, std::size_t classes, const double* bias,
                       const double* class_weights, double scale) {
    double total = 0.0;
    for (std::size_t i = first; i < last; ++i) {
        const auto label = static_cast<std::size_t>(y[i]);
        double top = -INFINITY;
        for (std::size_t k = 0; k < classes; ++k) {
            double& zk = z[k * stride + i];
            if (bias != nullptr) zk += bias[k];
            top = std::max(top, zk);
        }
        const double picked = z[label * stride + i];
        double sum = 0.0;
        for (std::size_t k = 0; k < classes; ++k) {
            double& zk = z[k * stride + i];
            zk = std::exp(zk - top);
            sum += zk;
        }
        const double c = class_weights != nullptr ? class_weights[label] : 1.0;
        total += c * (top + std::log(sum) - picked);
        const double factor = scale * c / sum;
        for (std::size_t k = 0; k < classes; ++k) z[k * stride + i] *= factor;
        z[label * stride + i] -= scale * c;
    }
    return total;
}

#if XGRAD_USE_XSIMD

using simd::batch;
using simd::lanes;

/// @brief rows_one_by_one for `lanes` rows at once from `first`: the row max, the exponentials
/// and the log across rows in batches.
batch rows_in_batch(double* z, std::size_t stride, std::size_t first, const double* y,
                    std::size_t classes, const double* bias, const double* class_weights,
                    double scale) {
    const batch labels = batch::load_unaligned(y + first);
    batch top(-INFINITY);
    for (std::size_t k = 0; k < classes; ++k) {
        double* zk = z + k * stride + first;
        batch v = batch::load_unaligned(zk);
        if (bias != nullptr) {
            v += batch(bias[k]);
            v.store_unaligned(zk);
        }
        top = xsimd::max(top, v);
    }
    batch sum(0.0);
    batch picked(0.0);
    batch c(1.0);
    for (std::size_t k = 0; k < classes; ++k) {
        double* zk = z + k * stride + first;
        const batch v = batch::load_unaligned(zk);
        const auto is_label = labels == batch(static_cast<double>(k));
        picked = xsimd::select(is_label, v, picked);
        if (class_weights != nullptr) c = xsimd::select(is_label, batch(class_weights[k]), c);
        const batch e = xsimd::exp(v - top);
        e.store_unaligned(zk);
        sum += e;
    }
    const batch factor = batch(scale) * c / sum;
    const batch at_label = batch(scale) * c;
    for (std::size_t k = 0; k < classes; ++k) {
        double* zk = z + k * stride + first;
        const auto is_label = labels == batch(static_cast<double>(k));
        (batch::load_unaligned(zk) * factor - xsimd::select(is_label, at_label, batch(0.0)))
            .store_unaligned(zk);
    }
    return c * (top + xsimd::log(sum) - picked);
}

#endif

}  // namespace

std::size_t LinearSoftmaxKernel::block_for(std::size_t n) {
#if XGRAD_USE_XSIMD
    if (n == 0) return max_block_rows;
    return std::clamp((l1_bytes / (8 * n)) / lanes * lanes, lanes, max_block_rows);
#else
    (void)n;
    (void)l1_bytes;
    return max_block_rows;
#endif
}

/// @brief Rows [first_row, first_row + row_count) in blocks read from memory once: the block's
/// logits (class-major), the losses and residuals, then Xᵀ·R and R's column sums.
void LinearSoftmaxKernel::one_pass(const Problem& p, std::size_t first_row, std::size_t row_count,
                                   Partial& out) {
    const std::size_t n = p.n;
    const std::size_t K = p.classes;
    const std::size_t stride = out.block.shape()[1];
    out.grad_wt.fill(0.0);
    out.grad_b.fill(0.0);
    out.total = 0.0;
    double* z = out.block.data();
    for (std::size_t done = 0; done < row_count; done += stride) {
        const std::size_t rows = std::min(stride, row_count - done);
        const double* X = p.X + (first_row + done) * n;
        const double* y = p.y + first_row + done;
        std::size_t i = 0;
#if XGRAD_USE_XSIMD
        for (std::size_t k = 0; k < K; ++k)
            simd::block_products(X, rows, n, p.weights_t + k * n, z + k * stride);
        batch losses(0.0);
        for (; i + lanes <= rows; i += lanes)
            losses += rows_in_batch(z, stride, i, y, K, p.bias, p.class_weights, p.scale);
        out.total += xsimd::hadd(losses);
#else
        blas::gemm(false, true, K, rows, n, 1.0, p.weights_t, n, X, n, 0.0, z, stride);
#endif
        out.total += rows_one_by_one(z, stride, i, rows, y, K, p.bias, p.class_weights, p.scale);
#if XGRAD_USE_XSIMD
        for (std::size_t k = 0; k < K; ++k)
            simd::block_transposed_product(X, rows, n, z + k * stride, out.grad_wt.data() + k * n);
#else
        blas::gemm(false, false, K, n, rows, 1.0, z, stride, X, n, 1.0, out.grad_wt.data(), n);
#endif
        for (std::size_t k = 0; k < K; ++k) {
            double total = 0.0;
            for (std::size_t r = 0; r < rows; ++r) total += z[k * stride + r];
            out.grad_b(k) += total;
        }
    }
}

double LinearSoftmaxKernel::forward(const array& X, const array& W, const array* bias,
                                    const array& y, const array* class_weights, double scale) {
    const std::size_t m = X.shape()[0];
    const std::size_t n = X.shape()[1];
    const std::size_t K = W.shape()[1];
    weights_t_.resize(shape_type{K, n});
    for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t k = 0; k < K; ++k) weights_t_(k, j) = W(j, k);
    }
    const Problem problem{X.data(),
                          m,
                          n,
                          K,
                          weights_t_.data(),
                          bias != nullptr ? bias->data() : nullptr,
                          y.data(),
                          class_weights != nullptr ? class_weights->data() : nullptr,
                          scale};
#if XGRAD_USE_XSIMD
    // Large problems split their rows between the cores the BLAS may use; each part sums into its
    // own Partial, added up in a fixed order.
    const std::size_t parts = parallel_parts(m * n * K, min_work_per_part);
#else
    (void)min_work_per_part;
    const std::size_t parts = 1;  // OpenBLAS threads the products itself
#endif
    if (partials_.size() < parts) partials_.resize(parts);
    for (std::size_t k = 0; k < parts; ++k) {  // sized here: the workers never allocate
        partials_[k].grad_wt.resize(shape_type{K, n});
        partials_[k].grad_b.resize(shape_type{K});
        partials_[k].block.resize(shape_type{K, block_for(n)});
    }
    struct Job {
        const Problem* problem;
        std::vector<Partial>* partials;
        std::size_t parts;
    } job{&problem, &partials_, parts};
    run_in_parallel(
        parts,
        [](void* context, std::size_t k) {
            const Job& j = *static_cast<const Job*>(context);
            const std::size_t rows = j.problem->m;
            const std::size_t first = rows * k / j.parts;
            one_pass(*j.problem, first, rows * (k + 1) / j.parts - first, (*j.partials)[k]);
        },
        &job);
    unit_grad_w_.resize(shape_type{n, K});
    unit_grad_b_ = xt::zeros<double>({K});
    array grad_wt = xt::zeros<double>({K, n});
    double total = 0.0;
    for (std::size_t part = 0; part < parts; ++part) {
        const Partial& p = partials_[part];
        for (std::size_t i = 0; i < K * n; ++i) grad_wt.data()[i] += p.grad_wt.data()[i];
        for (std::size_t k = 0; k < K; ++k) unit_grad_b_(k) += p.grad_b(k);
        total += p.total;
    }
    for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t k = 0; k < K; ++k) unit_grad_w_(j, k) = grad_wt(k, j);
    }
    return scale * total;
}

}  // namespace xgrad::detail
