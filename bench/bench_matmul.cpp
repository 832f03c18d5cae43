/***************************************************************************
 * xgrad benchmark: matmul's forward product, through xgrad's packed gemm   *
 * and through OpenBLAS (set_packed_gemm(false)), at the MLP's shapes and   *
 * around the size where the packed product starts to pay.                 *
 *                                                                          *
 *   build/bench/bench_matmul --benchmark_repetitions=5                     *
 *                            --benchmark_report_aggregates_only            *
 ***************************************************************************/
#include <cstdlib>

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

BENCHMARK(product)->Apply(shapes);
BENCHMARK_MAIN();
