/***************************************************************************
 * xgrad peer benchmark, C++ side: the replayed graph, the hand-written     *
 * step with the same BLAS calls, a STREAM triad (this machine's bandwidth),*
 * an MLP training step, L-BFGS training on breast cancer, and peak memory. *
 * Prints one JSON object per line; bench/peers/report.py makes the table.  *
 *                                                                          *
 * Usage: bench_peers [--quick] [--data DIR]  |  bench_peers --rss M N      *
 ***************************************************************************/
#include <sys/resource.h>

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../logistic_step.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/random.hpp"
#include "xgrad/solvers/solvers.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xgrad::array;
using xgrad::Var;

bool quick = false;
volatile double sink = 0.0;  // results land here, so that no step's work is optimised away

/// @brief Median wall time of `step` in microseconds (after two warm-up calls), and the count.
std::pair<double, std::size_t> median_time(const std::function<void()>& step, double min_seconds) {
    step();
    step();
    std::vector<double> times;
    const auto start = std::chrono::steady_clock::now();
    while (times.size() < 5 ||
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
               min_seconds) {
        const auto t0 = std::chrono::steady_clock::now();
        step();
        times.push_back(
            std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
    return {times[times.size() / 2], times.size()};
}

void emit(const std::string& workload, const std::string& variant, double median_us,
          std::size_t repeats, const std::string& extra = "") {
    std::printf(
        "{\"workload\": \"%s\", \"variant\": \"%s\", \"median_us\": %.3f, \"repeats\": %zu, "
        "\"threads\": %d%s}\n",
        workload.c_str(), variant.c_str(), median_us, repeats, xgrad::blas_threads(),
        extra.c_str());
    std::fflush(stdout);
}

/// @brief STREAM's triad a = b + s·c over arrays larger than any cache, in bytes moved per second
/// (24 per element, as STREAM counts). With AVX the stores bypass the cache, as STREAM's best
/// runs do, so that the write-allocate reads do not eat into the measured bandwidth.
double stream_triad_gb_per_s() {
    const std::size_t n = 20'000'000;  // 3 × 160 MB
    auto allocate = [n](double value) {
        auto* p = static_cast<double*>(std::aligned_alloc(64, n * sizeof(double)));
        std::fill(p, p + n, value);
        return std::unique_ptr<double, decltype(&std::free)>(p, &std::free);
    };
    auto a = allocate(0.0);
    auto b = allocate(1.0);
    auto c = allocate(2.0);
    const auto [us, repeats] = median_time(
        [&] {
#ifdef __AVX__
            const __m256d s = _mm256_set1_pd(3.0);
            for (std::size_t i = 0; i < n; i += 4) {
                _mm256_stream_pd(a.get() + i,
                                 _mm256_add_pd(_mm256_load_pd(b.get() + i),
                                               _mm256_mul_pd(s, _mm256_load_pd(c.get() + i))));
            }
            _mm_sfence();
#else
            for (std::size_t i = 0; i < n; ++i) a.get()[i] = b.get()[i] + 3.0 * c.get()[i];
#endif
        },
        quick ? 0.5 : 2.0);
    (void)repeats;
    sink = a.get()[n / 2];
    return 3.0 * 8.0 * static_cast<double>(n) / (us * 1e-6) / 1e9;
}

void logistic_steps(double bandwidth) {
    for (auto [m, n] : {std::pair<std::size_t, std::size_t>{64, 10}, {10000, 100}, {1000000, 20}}) {
        const std::string workload = "logistic " + std::to_string(m) + "x" + std::to_string(n);
        const xgrad::bench::LogisticProblem data = xgrad::bench::make_logistic_problem(m, n);
        const std::pair<const char*, xgrad::bench::LossBuilder> losses[] = {
            {"xgrad graph bce_with_logits", xgrad::bench::separate_ops_loss},
            {"xgrad graph linear_bce_with_logits (fused)", xgrad::bench::fused_loss},
            {"xgrad graph bce_on_sigmoid", xgrad::bench::sigmoid_bce_loss},
        };
        for (const auto& [name, loss] : losses) {
            xgrad::bench::GraphStep step(data, loss);
            const auto [us, repeats] = median_time([&] { sink = step(); }, quick ? 0.5 : 2.0);
            emit(workload, name, us, repeats);
        }
        xgrad::bench::HandWrittenStep by_hand(data);
        const auto [us, repeats] = median_time([&] { sink = by_hand(); }, quick ? 0.5 : 2.0);
        emit(workload, "hand-written step", us, repeats);
        // One step reads X twice; the floor is that traffic at the triad's bandwidth.
        const double floor_us = 2.0 * 8.0 * static_cast<double>(m * n) / (bandwidth * 1e9) * 1e6;
        emit(workload, "bandwidth floor (X read twice)", floor_us, 0);
    }
}

void mlp_step() {
    xgrad::Random random(2);
    array X = array::from_shape({256, 784});
    for (double& v : X) v = random.normal();
    array labels = array::from_shape({256});
    for (double& v : labels) v = static_cast<double>(random.index(10));
    xgrad::nn::MLP net({784, 256, 10}, xgrad::nn::Activation::relu, 3);
    xgrad::optim::SGD sgd(net.parameters(), 0.01);
    xgrad::Tape tape(xgrad::cross_entropy(net(xgrad::constant(X)), xgrad::constant(labels)));
    const auto [us, repeats] = median_time(
        [&] {
            tape.forward();
            sgd.zero_grad();
            tape.backward();
            sgd.step();
        },
        quick ? 0.5 : 2.0);
    emit("mlp 784-256-10 batch 256", "xgrad graph", us, repeats);
}

void breast_cancer_training(const std::string& data_dir) {
    const xgrad::data::Dataset d = xgrad::data::read_csv(data_dir + "/breast_cancer.csv", "benign");
    const array X = xgrad::data::Standardizer().fit_transform(d.features);
    std::size_t iterations = 0;
    const auto [us, repeats] = median_time(
        [&] {
            Var w = xgrad::parameter(xt::zeros<double>({X.shape()[1]}));
            Var b = xgrad::parameter(0.0);
            const double m = static_cast<double>(X.shape()[0]);
            Var objective = xgrad::bce_with_logits(xgrad::matmul(xgrad::constant(X), w) + b,
                                                   xgrad::constant(d.labels)) +
                            (1.0 / (2.0 * m)) * xgrad::sum(w * w);
            xgrad::solvers::LbfgsOptions options;
            options.stop = {1000, 1e-6};
            iterations = xgrad::solvers::lbfgs(objective, {w, b}, options).iterations;
        },
        quick ? 0.5 : 2.0);
    emit("breast cancer, L2 logistic, L-BFGS to grad < 1e-6", "xgrad", us, repeats,
         ", \"iterations\": " + std::to_string(iterations));
}

/// @brief Peak resident memory of training on (m, n) against the bytes of X and y.
void peak_memory(std::size_t m, std::size_t n) {
    xgrad::bench::LogisticProblem data = xgrad::bench::make_logistic_problem(m, n);
    Var X = xgrad::constant(std::move(data.X));
    Var y = xgrad::constant(std::move(data.y));
    Var w = xgrad::parameter(xt::zeros<double>({n}));
    Var b = xgrad::parameter(0.0);
    xgrad::Tape tape(xgrad::linear_bce_with_logits(X, w, b, y));
    for (int step = 0; step < 5; ++step) {
        tape.forward();
        w.zero_grad();
        b.zero_grad();
        tape.backward();
        xt::noalias(w.mutable_value()) -= 0.1 * w.grad();
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const double peak = static_cast<double>(usage.ru_maxrss) * 1024.0;
    const double data_bytes = 8.0 * static_cast<double>(m * n + m);
    std::printf(
        "{\"workload\": \"peak memory, training on %zux%zu\", \"variant\": \"xgrad graph\", "
        "\"peak_bytes\": %.0f, \"data_bytes\": %.0f, \"ratio\": %.3f}\n",
        m, n, peak, data_bytes, peak / data_bytes);
}

}  // namespace

int main(int argc, char** argv) {
    std::string data_dir = XGRAD_DATA_DIR;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) quick = true;
        if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) data_dir = argv[++i];
        if (std::strcmp(argv[i], "--rss") == 0 && i + 2 < argc) {
            peak_memory(std::stoul(argv[i + 1]), std::stoul(argv[i + 2]));
            return 0;
        }
        if (std::strcmp(argv[i], "--mlp") == 0) {  // the MLP step alone, for profiling
            mlp_step();
            return 0;
        }
    }
    const double bandwidth = stream_triad_gb_per_s();
#ifdef __AVX__
    const char* stores = "non-temporal stores";
#else
    const char* stores = "ordinary stores";
#endif
    std::printf("{\"workload\": \"stream triad\", \"variant\": \"%s\", \"gb_per_s\": %.2f}\n",
                stores, bandwidth);
    logistic_steps(bandwidth);
    mlp_step();
    breast_cancer_training(data_dir);
    return 0;
}
