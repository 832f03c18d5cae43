/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

namespace xgrad {

/// @brief Threads the BLAS uses for matmul, and the fused logistic kernel for large problems; 0
/// if the BLAS does not say (not OpenBLAS).
int blas_threads();
/// @brief Sets the BLAS thread count (OpenBLAS only; returns false elsewhere), which the fused
/// logistic kernel follows too.
bool set_blas_threads(int threads);

}  // namespace xgrad
