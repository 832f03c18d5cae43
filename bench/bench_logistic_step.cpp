/***************************************************************************
 * xgrad benchmark: one logistic-regression training step (forward, loss,   *
 * backward, SGD update) by the replayed graph against a hand-written       *
 * analytic step that makes the same BLAS calls.                            *
 *                                                                          *
 *   build/bench/bench_logistic_step --benchmark_repetitions=5              *
 *                                   --benchmark_report_aggregates_only     *
 ***************************************************************************/
#include <benchmark/benchmark.h>

#include "logistic_step.hpp"

namespace {

using xgrad::Var;

void set_threads_from_env() {
    const char* env = std::getenv("XGRAD_BENCH_THREADS");
    xgrad::set_blas_threads(env != nullptr ? std::atoi(env) : 1);
}

template <class Step>
void run(benchmark::State& state, Step& step, std::size_t m, std::size_t n) {
    for (auto _ : state) benchmark::DoNotOptimize(step());
    state.counters["blas_threads"] = xgrad::blas_threads();
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 *
                            static_cast<int64_t>(m * n * sizeof(double)));
}

/// @brief The graph z = Xw + b, loss = bce_with_logits(z, y), replayed every step.
void graph_step(benchmark::State& state) {
    set_threads_from_env();
    const auto m = static_cast<std::size_t>(state.range(0));
    const auto n = static_cast<std::size_t>(state.range(1));
    const xgrad::bench::LogisticProblem data = xgrad::bench::make_logistic_problem(m, n);
    xgrad::bench::GraphStep step(data, [](const Var& X, const Var& w, const Var& b, const Var& y) {
        return xgrad::bce_with_logits(xgrad::matmul(X, w) + b, y);
    });
    run(state, step, m, n);
}

/// @brief The same with the fused op: one pass over X.
void fused_graph_step(benchmark::State& state) {
    set_threads_from_env();
    const auto m = static_cast<std::size_t>(state.range(0));
    const auto n = static_cast<std::size_t>(state.range(1));
    const xgrad::bench::LogisticProblem data = xgrad::bench::make_logistic_problem(m, n);
    xgrad::bench::GraphStep step(data, [](const Var& X, const Var& w, const Var& b, const Var& y) {
        return xgrad::linear_bce_with_logits(X, w, b, y);
    });
    run(state, step, m, n);
}

/// @brief The same step by hand: gemv, one pass for loss and residual, gemv, update.
void analytic_step(benchmark::State& state) {
    set_threads_from_env();
    const auto m = static_cast<std::size_t>(state.range(0));
    const auto n = static_cast<std::size_t>(state.range(1));
    const xgrad::bench::LogisticProblem data = xgrad::bench::make_logistic_problem(m, n);
    xgrad::bench::HandWrittenStep step(data);
    run(state, step, m, n);
}

void sizes(benchmark::internal::Benchmark* b) {
    b->Args({64, 10})->Args({10000, 100})->Args({1000000, 20})->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(graph_step)->Apply(sizes);
BENCHMARK(fused_graph_step)->Apply(sizes);
BENCHMARK(analytic_step)->Apply(sizes);
BENCHMARK_MAIN();
