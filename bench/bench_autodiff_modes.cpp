/***************************************************************************
 * xgrad benchmark: Hessian-vector products by reverse-over-reverse and by  *
 * forward-over-reverse (hessian_vector_product's two hvp_modes), and full  *
 * Jacobians by reverse and by forward mode, on graphs of three kinds:      *
 * elementwise math over n inputs, logistic regression, and a small MLP.    *
 *                                                                          *
 *   build/bench/bench_autodiff_modes --benchmark_repetitions=5             *
 *                                    --benchmark_report_aggregates_only    *
 ***************************************************************************/
#include <cmath>
#include <vector>

#include <benchmark/benchmark.h>

#include <xgrad/core/random.hpp>
#include <xgrad/xgrad.hpp>

namespace {

using xgrad::array;
using xgrad::Var;

array normal(xgrad::Random& random, const xgrad::shape_type& shape, double scale = 1.0) {
    array values = array::from_shape(shape);
    for (double& v : values) v = scale * random.normal();
    return values;
}

/// @brief A loss and its parameters, with one direction v per parameter.
struct Problem {
    std::vector<Var> params;
    Var loss;
    std::vector<array> v;
};

/// @brief Σ sin(xᵢ)·xᵢ² + (Σ x)²: elementwise, n = range(0) inputs.
Problem elementwise(std::size_t n) {
    xgrad::Random random(3);
    Problem p;
    p.params = {xgrad::parameter(normal(random, {n}))};
    const Var& x = p.params[0];
    p.loss = xgrad::sum(xgrad::sin(x) * xgrad::square(x)) + xgrad::square(xgrad::sum(x));
    p.v = {normal(random, {n})};
    return p;
}

/// @brief Mean BCE with logits of a linear model on m × n Gaussian data.
Problem logistic(std::size_t m, std::size_t n) {
    xgrad::Random random(5);
    Problem p;
    const Var X = xgrad::constant(normal(random, {m, n}));
    array labels = array::from_shape({m});
    for (double& y : labels) y = random.uniform() < 0.5 ? 0.0 : 1.0;
    p.params = {xgrad::parameter(normal(random, {n}, 0.1)), xgrad::parameter(0.0)};
    p.loss = xgrad::bce_with_logits(xgrad::matmul(X, p.params[0]) + p.params[1],
                                    xgrad::constant(labels));
    p.v = {normal(random, {n}), array(1.0)};
    return p;
}

/// @brief Cross-entropy of a tanh MLP in → hidden → classes on a batch.
Problem mlp(std::size_t batch, std::size_t in, std::size_t hidden, std::size_t classes) {
    xgrad::Random random(7);
    Problem p;
    const Var X = xgrad::constant(normal(random, {batch, in}));
    array labels = array::from_shape({batch});
    for (std::size_t i = 0; i < batch; ++i) labels(i) = static_cast<double>(i % classes);
    p.params = {xgrad::parameter(normal(random, {in, hidden}, 0.3)),
                xgrad::parameter(normal(random, {hidden}, 0.1)),
                xgrad::parameter(normal(random, {hidden, classes}, 0.3)),
                xgrad::parameter(normal(random, {classes}, 0.1))};
    const Var h = xgrad::tanh(xgrad::matmul(X, p.params[0]) + p.params[1]);
    p.loss =
        xgrad::cross_entropy(xgrad::matmul(h, p.params[2]) + p.params[3], xgrad::constant(labels));
    for (const Var& w : p.params) p.v.push_back(normal(random, w.shape()));
    return p;
}

void run_hvp(benchmark::State& state, const Problem& p, xgrad::hvp_mode mode) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(xgrad::hessian_vector_product(p.loss, p.params, p.v, mode));
    }
}

void hvp_elementwise(benchmark::State& state) {
    run_hvp(state, elementwise(static_cast<std::size_t>(state.range(0))),
            static_cast<xgrad::hvp_mode>(state.range(1)));
}
void hvp_logistic(benchmark::State& state) {
    run_hvp(state, logistic(static_cast<std::size_t>(state.range(0)), 20),
            static_cast<xgrad::hvp_mode>(state.range(1)));
}
void hvp_mlp(benchmark::State& state) {
    run_hvp(state, mlp(static_cast<std::size_t>(state.range(0)), 64, 128, 10),
            static_cast<xgrad::hvp_mode>(state.range(1)));
}

/// @brief The full Jacobian of tanh(A x) (m × n), range(2) = 0 reverse, 1 forward.
void jacobian_tanh(benchmark::State& state) {
    const auto m = static_cast<std::size_t>(state.range(0));
    const auto n = static_cast<std::size_t>(state.range(1));
    xgrad::Random random(11);
    const Var x = xgrad::parameter(normal(random, {n}));
    const Var y = xgrad::tanh(xgrad::matmul(xgrad::constant(normal(random, {m, n}, 0.1)), x));
    for (auto _ : state) {
        benchmark::DoNotOptimize(state.range(2) == 0 ? xgrad::jacobian(y, x)
                                                     : xgrad::jacobian_forward(y, x));
    }
}

}  // namespace

// range(1): 0 reverse-over-reverse, 1 forward-over-reverse
BENCHMARK(hvp_elementwise)
    ->ArgNames({"n", "mode"})
    ->ArgsProduct({{1000, 100000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(hvp_logistic)
    ->ArgNames({"m", "mode"})
    ->ArgsProduct({{1000, 100000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(hvp_mlp)
    ->ArgNames({"batch", "mode"})
    ->ArgsProduct({{64, 512}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(jacobian_tanh)
    ->ArgNames({"m", "n", "forward"})
    ->ArgsProduct({{1, 1000}, {1, 1000}, {0, 1}})
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
