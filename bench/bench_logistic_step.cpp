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

void set_threads_from_env() {
    const char* env = std::getenv("XGRAD_BENCH_THREADS");
    xgrad::set_blas_threads(env != nullptr ? std::atoi(env) : 1);
}

/// @brief Times `Step` built from the problem (and the loss, for graph steps) at (m, n) = range.
template <class Step, class... LossBuilder>
void run(benchmark::State& state, LossBuilder... loss) {
    set_threads_from_env();
    const auto m = static_cast<std::size_t>(state.range(0));
    const auto n = static_cast<std::size_t>(state.range(1));
    const xgrad::bench::LogisticProblem data = xgrad::bench::make_logistic_problem(m, n);
    Step step(data, loss...);
    for (auto _ : state) benchmark::DoNotOptimize(step());
    state.counters["blas_threads"] = xgrad::blas_threads();
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 *
                            static_cast<int64_t>(m * n * sizeof(double)));
}

/// @brief The graph z = Xw + b, loss = bce_with_logits(z, y), replayed every step (fused by the
/// tape into one pass over X).
void graph_step(benchmark::State& state) {
    run<xgrad::bench::GraphStep>(state, xgrad::bench::LossBuilder(xgrad::bench::separate_ops_loss));
}

/// @brief The same graph with the logits held by the caller, so the tape does not fuse it.
void held_logits_graph_step(benchmark::State& state) {
    run<xgrad::bench::GraphStep>(state, xgrad::bench::LossBuilder(xgrad::bench::held_logits_loss));
}

/// @brief The same with the fused op: one pass over X.
void fused_graph_step(benchmark::State& state) {
    run<xgrad::bench::GraphStep>(state, xgrad::bench::LossBuilder(xgrad::bench::fused_loss));
}

/// @brief The same step by hand: gemv, one pass for loss and residual, gemv, update.
void analytic_step(benchmark::State& state) {
    run<xgrad::bench::HandWrittenStep>(state);
}

void sizes(benchmark::internal::Benchmark* b) {
    b->Args({64, 10})->Args({10000, 100})->Args({1000000, 20})->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(graph_step)->Apply(sizes);
BENCHMARK(held_logits_graph_step)->Apply(sizes);
BENCHMARK(fused_graph_step)->Apply(sizes);
BENCHMARK(analytic_step)->Apply(sizes);
BENCHMARK_MAIN();
