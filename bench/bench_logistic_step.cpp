/***************************************************************************
 * xgrad benchmark: one logistic-regression training step (forward, loss,   *
 * backward, SGD update) by the replayed graph against a hand-written       *
 * analytic step that makes the same BLAS calls.                            *
 *                                                                          *
 *   build/bench/bench_logistic_step --benchmark_repetitions=5              *
 *                                   --benchmark_report_aggregates_only     *
 ***************************************************************************/
#include <cmath>
#include <cstdlib>
#include <random>

#include <benchmark/benchmark.h>
#include <cblas.h>

#include "xgrad/xgrad.hpp"

namespace {

using xgrad::array;
using xgrad::Var;

constexpr double learning_rate = 0.1;

struct Problem {
    array X;
    array y;
};

Problem make_problem(std::size_t m, std::size_t n) {
    std::mt19937_64 rng(1);
    std::normal_distribution<double> normal;
    Problem p{array::from_shape({m, n}), array::from_shape({m})};
    for (auto& v : p.X) v = normal(rng);
    for (std::size_t i = 0; i < m; ++i) p.y(i) = normal(rng) > 0.0 ? 1.0 : 0.0;
    return p;
}

void set_threads_from_env() {
    const char* env = std::getenv("XGRAD_BENCH_THREADS");
    xgrad::set_blas_threads(env != nullptr ? std::atoi(env) : 1);
}

/// @brief The graph z = Xw + b, loss = bce_with_logits(z, y), replayed every step.
void graph_step(benchmark::State& state) {
    set_threads_from_env();
    const auto m = static_cast<std::size_t>(state.range(0));
    const auto n = static_cast<std::size_t>(state.range(1));
    Problem data = make_problem(m, n);
    Var X = xgrad::constant(std::move(data.X));
    Var y = xgrad::constant(std::move(data.y));
    Var w = xgrad::parameter(xt::zeros<double>({n}));
    Var b = xgrad::parameter(0.0);
    xgrad::Tape tape(xgrad::bce_with_logits(xgrad::matmul(X, w) + b, y));
    for (auto _ : state) {
        tape.forward();
        w.zero_grad();
        b.zero_grad();
        tape.backward();
        xt::noalias(w.mutable_value()) -= learning_rate * w.grad();
        b.mutable_value()() -= learning_rate * b.grad()();
        benchmark::DoNotOptimize(tape.output().item());
    }
    state.counters["blas_threads"] = xgrad::blas_threads();
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 *
                            static_cast<int64_t>(m * n * sizeof(double)));
}

/// @brief The same step by hand: gemv, one fused pass for loss and residual, gemv, update.
void analytic_step(benchmark::State& state) {
    set_threads_from_env();
    const auto m = static_cast<std::size_t>(state.range(0));
    const auto n = static_cast<std::size_t>(state.range(1));
    const Problem data = make_problem(m, n);
    std::vector<double> w(n, 0.0), grad_w(n), z(m), residual(m);
    double b = 0.0;
    const auto mi = static_cast<int>(m);
    const auto ni = static_cast<int>(n);
    const double inv_m = 1.0 / static_cast<double>(m);
    for (auto _ : state) {
        cblas_dgemv(CblasRowMajor, CblasNoTrans, mi, ni, 1.0, data.X.data(), ni, w.data(), 1, 0.0,
                    z.data(), 1);
        double loss = 0.0;
        double grad_b = 0.0;
        for (std::size_t i = 0; i < m; ++i) {
            const double zi = z[i] + b;
            const double e = std::exp(-std::abs(zi));
            loss += std::max(zi, 0.0) - zi * data.y(i) + std::log1p(e);
            const double p = zi >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            residual[i] = (p - data.y(i)) * inv_m;
            grad_b += residual[i];
        }
        cblas_dgemv(CblasRowMajor, CblasTrans, mi, ni, 1.0, data.X.data(), ni, residual.data(), 1,
                    0.0, grad_w.data(), 1);
        for (std::size_t j = 0; j < n; ++j) w[j] -= learning_rate * grad_w[j];
        b -= learning_rate * grad_b;
        benchmark::DoNotOptimize(loss * inv_m);
    }
    state.counters["blas_threads"] = xgrad::blas_threads();
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * 2 *
                            static_cast<int64_t>(m * n * sizeof(double)));
}

void sizes(benchmark::internal::Benchmark* b) {
    b->Args({64, 10})->Args({10000, 100})->Args({1000000, 20})->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(graph_step)->Apply(sizes);
BENCHMARK(analytic_step)->Apply(sizes);
BENCHMARK_MAIN();
