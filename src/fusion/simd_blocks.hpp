// Vectorised building blocks of the fused kernels (logistic_kernel.cpp, softmax_kernel.cpp): the
// batch type and the two products over a block of rows of X. Included only by files built for
// the host's instruction set with XGRAD_USE_XSIMD.
#pragma once

#include <array>
#include <cstddef>

#include <xsimd/xsimd.hpp>

namespace xgrad::detail::simd {

// 256-bit batches even where AVX-512 exists: four lanes divide the usual feature counts, so the
// column loops below rarely leave a scalar tail (measured: 8 lanes were slower at n = 20, 100).
#if XSIMD_WITH_FMA3_AVX2
using batch = xsimd::batch<double, xsimd::fma3<xsimd::avx2>>;
#elif XSIMD_WITH_AVX2
using batch = xsimd::batch<double, xsimd::avx2>;
#else
using batch = xsimd::batch<double>;
#endif
constexpr std::size_t lanes = batch::size;

/// @brief r[i] = X[i]·w for the rows of a block, `2·lanes` rows at a time: as many independent
/// multiply-add chains as it takes to keep both FMA ports busy, reduced together by haddp.
inline void block_products(const double* X, std::size_t rows, std::size_t n, const double* w,
                           double* r) {
    constexpr std::size_t group = 2 * lanes;
    const std::size_t vector_columns = n - n % lanes;
    std::size_t i = 0;
    for (; i + group <= rows; i += group) {
        const double* g = X + i * n;
        std::array<batch, group> dots;
        dots.fill(batch(0.0));
        for (std::size_t j = 0; j < vector_columns; j += lanes) {
            const batch wj = batch::load_unaligned(w + j);
            for (std::size_t k = 0; k < group; ++k) {
                dots[k] = xsimd::fma(batch::load_unaligned(g + k * n + j), wj, dots[k]);
            }
        }
        xsimd::haddp(dots.data()).store_unaligned(r + i);
        xsimd::haddp(dots.data() + lanes).store_unaligned(r + i + lanes);
        for (std::size_t k = 0; k < group; ++k) {
            for (std::size_t j = vector_columns; j < n; ++j) r[i + k] += g[k * n + j] * w[j];
        }
    }
    for (; i < rows; ++i) {
        r[i] = 0.0;
        for (std::size_t j = 0; j < n; ++j) r[i] += X[i * n + j] * w[j];
    }
}

/// @brief grad += X_blkᵀ·r, `chains` column batches at a time so that the sums over the rows
/// run as independent chains.
inline void block_transposed_product(const double* X, std::size_t rows, std::size_t n,
                                     const double* r, double* grad) {
    constexpr std::size_t chains = 8;
    const std::size_t vector_columns = n - n % lanes;
    std::size_t j = 0;
    for (; j + chains * lanes <= vector_columns; j += chains * lanes) {
        std::array<batch, chains> g;
        for (std::size_t c = 0; c < chains; ++c) g[c] = batch::load_unaligned(grad + j + c * lanes);
        for (std::size_t k = 0; k < rows; ++k) {
            const batch rk(r[k]);
            const double* x = X + k * n + j;
            for (std::size_t c = 0; c < chains; ++c) {
                g[c] = xsimd::fma(rk, batch::load_unaligned(x + c * lanes), g[c]);
            }
        }
        for (std::size_t c = 0; c < chains; ++c) g[c].store_unaligned(grad + j + c * lanes);
    }
    for (; j < vector_columns; j += lanes) {  // few columns: the chains split the rows instead
        std::array<batch, 4> g{batch(0.0), batch(0.0), batch(0.0), batch(0.0)};
        std::size_t k = 0;
        for (; k + 4 <= rows; k += 4) {
            for (std::size_t c = 0; c < 4; ++c) {
                g[c] =
                    xsimd::fma(batch(r[k + c]), batch::load_unaligned(X + (k + c) * n + j), g[c]);
            }
        }
        for (; k < rows; ++k)
            g[0] = xsimd::fma(batch(r[k]), batch::load_unaligned(X + k * n + j), g[0]);
        ((g[0] + g[1]) + (g[2] + g[3]) + batch::load_unaligned(grad + j)).store_unaligned(grad + j);
    }
    for (; j < n; ++j) {
        for (std::size_t k = 0; k < rows; ++k) grad[j] += r[k] * X[k * n + j];
    }
}

}  // namespace xgrad::detail::simd
