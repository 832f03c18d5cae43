/***************************************************************************
 * xgrad benchmark: matmul's forward product, through xgrad's packed gemm   *
 * and through OpenBLAS (set_packed_gemm(false)), at the MLP's shapes and   *
 * around the size where the packed product starts to pay.                 *
 *                                                                          *
 *   build/bench/bench_matmul --benchmark_repetitions=5                     *
 *                            --benchmark_report_aggregates_only            *
 * fma_peak: the core's FMA throughput, the ceiling of any product.         *
 ***************************************************************************/
#include <immintrin.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

#include <benchmark/benchmark.h>

#include <xgrad/core/random.hpp>
#include <xgrad/xgrad.hpp>

namespace {

/// @brief Times matmul(op(A), op(B)) for op(A) m×k and op(B) k×n, replayed by a tape; range(3)
/// holds the transposes (bit 0: A, bit 1: B), range(4) whether the packed product is on.
void product(benchmark::State& state) {
    const char* env = std::getenv("XGRAD_BENCH_THREADS");
    xgrad::set_blas_threads(env != nullptr ? std::atoi(env) : 1);
    const auto m = static_cast<std::size_t>(state.range(0));
    const auto n = static_cast<std::size_t>(state.range(1));
    const auto k = static_cast<std::size_t>(state.range(2));
    const bool trans_a = (state.range(3) & 1) != 0, trans_b = (state.range(3) & 2) != 0;
    const bool packed = state.range(4) != 0;
    if (!xgrad::set_packed_gemm(packed) && packed) {
        state.SkipWithError("this build has no packed gemm (XGRAD_NATIVE=OFF)");
        return;
    }
    xgrad::Random random(1);
    auto filled = [&](std::size_t rows, std::size_t cols) {
        xgrad::array values = xgrad::array::from_shape({rows, cols});
        for (double& v : values) v = random.normal();
        return xgrad::constant(values);
    };
    xgrad::Var a = trans_a ? xgrad::transpose(filled(k, m)) : filled(m, k);
    xgrad::Var b = trans_b ? xgrad::transpose(filled(n, k)) : filled(k, n);
    xgrad::Tape tape(xgrad::matmul(a, b));
    for (auto _ : state) tape.forward();
    state.counters["GFLOP/s"] = benchmark::Counter(
        2.0 * static_cast<double>(m * n * k) * static_cast<double>(state.iterations()),
        benchmark::Counter::kIsRate, benchmark::Counter::kIs1000);
    xgrad::set_packed_gemm(true);
}

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"m", "n", "k", "trans", "packed"})->Unit(benchmark::kMicrosecond);
    for (const int packed : {0, 1}) {
        b->Args({256, 256, 784, 0, packed});  // the MLP's first layer, forward
        b->Args({784, 256, 256, 1, packed});  // its weight gradient, Xᵀ·dZ
        b->Args({256, 256, 784, 2, packed});  // the same product with weights stored (out, in)
        b->Args({1024, 1024, 1024, 0, packed});
        for (const int size : {32, 64, 96, 128, 192, 384, 512})
            b->Args({size, size, size, 0, packed});
        b->Args({256, 64, 256, 0, packed});
        b->Args({64, 256, 256, 0, packed});
        b->Args({256, 256, 64, 0, packed});
        b->Args({256, 256, 10, 2, packed});
        b->Args({10, 256, 256, 1, packed});
        b->Args({256, 10, 256, 0, packed});  // below the packed product's threshold: the BLAS
    }
}

}  // namespace

// The core's double-precision FMA peak: twelve independent chains of FMAs (more than the FMA
// latency times the issue width), so that only the FMA units' throughput limits them; 2 flops
// per lane per FMA. The ceiling no matrix product can pass on this core. (One function per
// instruction set: an intrinsic cannot be inlined into code built for a smaller set.)
#define XGRAD_FMA_CHAINS(V, set1, fmadd, steps)                             \
    V one = set1(1.0), a[12];                                               \
    for (V & v : a) v = set1(1e-300);                                       \
    for (std::int64_t i = 0; i < (steps); ++i) {                            \
        a[0] = fmadd(a[0], one, a[0]), a[1] = fmadd(a[1], one, a[1]);       \
        a[2] = fmadd(a[2], one, a[2]), a[3] = fmadd(a[3], one, a[3]);       \
        a[4] = fmadd(a[4], one, a[4]), a[5] = fmadd(a[5], one, a[5]);       \
        a[6] = fmadd(a[6], one, a[6]), a[7] = fmadd(a[7], one, a[7]);       \
        a[8] = fmadd(a[8], one, a[8]), a[9] = fmadd(a[9], one, a[9]);       \
        a[10] = fmadd(a[10], one, a[10]), a[11] = fmadd(a[11], one, a[11]); \
    }                                                                       \
    double total = 0.0;                                                     \
    for (const V& v : a) {                                                  \
        double lanes[sizeof(V) / sizeof(double)];                           \
        std::memcpy(lanes, &v, sizeof lanes);                               \
        total += lanes[0];                                                  \
    }                                                                       \
    return total

/// @brief Twelve chains of `steps` 512-bit FMAs each; returns a lane of their sum.
__attribute__((target("avx512f"))) double fma_peak_avx512(std::int64_t steps) {
    XGRAD_FMA_CHAINS(__m512d, _mm512_set1_pd, _mm512_fmadd_pd, steps);
}

/// @brief Twelve chains of `steps` 256-bit FMAs each; returns a lane of their sum.
__attribute__((target("avx2,fma"))) double fma_peak_avx2(std::int64_t steps) {
    XGRAD_FMA_CHAINS(__m256d, _mm256_set1_pd, _mm256_fmadd_pd, steps);
}

void fma_peak(benchmark::State& state) {
    const bool wide = state.range(0) == 512;
    if (wide ? !__builtin_cpu_supports("avx512f") : !__builtin_cpu_supports("avx2")) {
        state.SkipWithError("this CPU lacks the instruction set");
        return;
    }
    constexpr std::int64_t steps = 1 << 20;
    for (auto _ : state) {
        benchmark::DoNotOptimize(wide ? fma_peak_avx512(steps) : fma_peak_avx2(steps));
    }
    const double flops = 12.0 * steps * (wide ? 8 : 4) * 2.0;
    state.counters["GFLOP/s"] = benchmark::Counter(flops * static_cast<double>(state.iterations()),
                                                   benchmark::Counter::kIsRate);
}

BENCHMARK(product)->Apply(shapes);
BENCHMARK(fma_peak)->ArgName("bits")->Arg(256)->Arg(512);
BENCHMARK_MAIN();
