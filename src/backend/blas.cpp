// The BLAS calls the ops make (gemm, gemv, ger, dot) and OpenBLAS's thread count.
#include "backend/blas_calls.hpp"
#include "backend/gemm.hpp"

#include <dlfcn.h>

#include <algorithm>

#include <cblas.h>

#include "xgrad/backend/blas.hpp"

namespace xgrad {

namespace {
// OpenBLAS's thread controls are looked up at run time, so that another BLAS still links.
using get_threads_fn = int (*)();
using set_threads_fn = void (*)(int);

get_threads_fn openblas_get() {
    return reinterpret_cast<get_threads_fn>(dlsym(RTLD_DEFAULT, "openblas_get_num_threads"));
}
set_threads_fn openblas_set() {
    return reinterpret_cast<set_threads_fn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
}
}  // namespace

int blas_threads() {
    const get_threads_fn get = openblas_get();
    return get != nullptr ? get() : 0;
}

bool set_blas_threads(int threads) {
    const set_threads_fn set = openblas_set();
    if (set == nullptr || threads < 1) return false;
    set(threads);
    return true;
}

}  // namespace xgrad

namespace xgrad::detail::blas {

namespace {
CBLAS_TRANSPOSE flag(bool trans) {
    return trans ? CblasTrans : CblasNoTrans;
}
int as_int(std::size_t n) {
    return static_cast<int>(std::max<std::size_t>(n, 1));
}
}  // namespace

void gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k, double alpha,
          const double* a, std::size_t lda, const double* b, std::size_t ldb, double beta,
          double* c, std::size_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {  // an empty sum: BLAS would only scale c
        for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t j = 0; j < n; ++j)
                c[i * ldc + j] = beta == 0.0 ? 0.0 : beta * c[i * ldc + j];
        }
        return;
    }
    if (packed_gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) return;
    cblas_dgemm(CblasRowMajor, flag(trans_a), flag(trans_b), static_cast<int>(m),
                static_cast<int>(n), static_cast<int>(k), alpha, a, as_int(lda), b, as_int(ldb),
                beta, c, as_int(ldc));
}

void gemv(bool trans, std::size_t rows, std::size_t cols, double alpha, const double* a,
          std::size_t lda, const double* x, double beta, double* y) {
    const std::size_t out = trans ? cols : rows;
    if (out == 0) return;
    if (rows == 0 || cols == 0) {
        for (std::size_t i = 0; i < out; ++i) y[i] = beta == 0.0 ? 0.0 : beta * y[i];
        return;
    }
    cblas_dgemv(CblasRowMajor, flag(trans), static_cast<int>(rows), static_cast<int>(cols), alpha,
                a, as_int(lda), x, 1, beta, y, 1);
}

void ger(std::size_t rows, std::size_t cols, double alpha, const double* x, const double* y,
         double* a, std::size_t lda) {
    if (rows == 0 || cols == 0) return;
    cblas_dger(CblasRowMajor, static_cast<int>(rows), static_cast<int>(cols), alpha, x, 1, y, 1, a,
               as_int(lda));
}

double dot(std::size_t n, const double* x, const double* y) {
    if (n == 0) return 0.0;
    return cblas_ddot(static_cast<int>(n), x, 1, y, 1);
}

}  // namespace xgrad::detail::blas
