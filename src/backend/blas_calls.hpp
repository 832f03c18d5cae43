// The BLAS calls the ops make, on row-major doubles; gemm may go to the packed product.
#pragma once

#include <cstddef>

// Row-major BLAS kernels used by matmul. They live in their own translation unit: <cblas.h>
// clashes with the declarations xtensor-blas makes.
namespace xgrad::detail::blas {

/// @brief c = alpha op(a) op(b) + beta c, with op(a) m×k, op(b) k×n, all row-major.
void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha,
          const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta,
          double* c, std::size_t ldc);
/// @brief y = alpha op(a) x + beta y, with a rows×cols row-major.
void gemv(bool trans, std::size_t rows, std::size_t cols, double alpha, const double* a,
          std::size_t lda, const double* x, double beta, double* y);
/// @brief a += alpha x yᵀ, with a rows×cols row-major.
void ger(std::size_t rows, std::size_t cols, double alpha, const double* x, const double* y,
         double* a, std::size_t lda);
/// @brief xᵀ y.
double dot(std::size_t n, const double* x, const double* y);

}  // namespace xgrad::detail::blas
