// The packed matrix product: used for medium shapes in AVX-512 builds.
// xgrad's own matrix product for medium shapes on AVX-512 machines: the BLIS scheme (pack panels
// of A and B, multiply them in a tile of C held in registers). OpenBLAS does the rest.
#pragma once

#include <cstddef>

namespace xgrad::detail {

/// @brief c = alpha op(a) op(b) + beta c, row-major, op(a) m×k and op(b) k×n, when this build
/// has the packed kernel (XGRAD_NATIVE on an AVX-512 machine), it is switched on and the shape
/// gains from it; returns false without touching c otherwise. With beta = 0, c is not read.
bool packed_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                 double alpha, const double* a, std::size_t lda, const double* b, std::size_t ldb,
                 double beta, double* c, std::size_t ldc);

}  // namespace xgrad::detail
