/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

namespace xgrad {

/// @brief Threads the BLAS uses for matmul; 0 if the BLAS does not say (not OpenBLAS).
int blas_threads();
/// @brief Sets the BLAS thread count (OpenBLAS only; returns false elsewhere). For tall-skinny
/// products one thread is often faster than two.
bool set_blas_threads(int threads);

}  // namespace xgrad
