// Thread counts of the numeric back end (OpenBLAS, the fused kernel, the packed gemm).
#pragma once

namespace xgrad {

/// @brief Threads the BLAS uses for matmul, and the fused logistic kernel for large problems; 0
/// if the BLAS does not say (not OpenBLAS).
int blas_threads();
/// @brief Sets the BLAS thread count (OpenBLAS only; returns false elsewhere), which the fused
/// logistic kernel and the packed matrix product follow too.
bool set_blas_threads(int threads);
/// @brief Switches xgrad's own packed matrix product for medium-sized matmuls (on by default in
/// builds with XGRAD_NATIVE for an AVX-512 machine, where it beats OpenBLAS's dgemm); off, every
/// product goes to the BLAS. Returns whether this build has the packed product.
bool set_packed_gemm(bool enabled);

}  // namespace xgrad
