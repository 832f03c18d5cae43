/***************************************************************************
 * xgrad peer benchmark, C++ side: the replayed graph, the hand-written     *
 * step with the same BLAS calls, a STREAM triad (this machine's bandwidth),*
 * MLP training steps (ReLU, tanh), L-BFGS training on breast cancer, and  *
 * peak memory.                                                             *
 * Prints one JSON object per line; bench/peers/report.py makes the table.  *
 *                                                                          *
 * Usage: bench_peers [--quick] [--data DIR] | bench_peers --mlp            *
 *        bench_peers --rss M N [--fused-op]                                *
 *        --blas-gemm: every matmul through OpenBLAS (set_packed_gemm off)  *
 ***************************************************************************/
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../logistic_step.hpp"
#include "../stream_triad.hpp"
#include "backend/blas_calls.hpp"  // the library's internal product routine, for the hand-written MLP step
#include "xgrad/core/random.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/optim/solvers.hpp"
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

void logistic_steps(double bandwidth) {
    for (auto [m, n] : {std::pair<std::size_t, std::size_t>{64, 10}, {10000, 100}, {1000000, 20}}) {
        const std::string workload = "logistic " + std::to_string(m) + "x" + std::to_string(n);
        const xgrad::bench::LogisticProblem data = xgrad::bench::make_logistic_problem(m, n);
        const std::pair<const char*, xgrad::bench::LossBuilder> losses[] = {
            {"xgrad graph bce_with_logits", xgrad::bench::separate_ops_loss},
            {"xgrad graph bce_with_logits, logits held (not fused)",
             xgrad::bench::held_logits_loss},
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

/// @brief The MLP step written out by hand with the product calls the graph makes (two large and
/// three small, through the same routine: xgrad's packed product where it pays, else OpenBLAS
/// dgemm) and plain loops for everything else: the zero-overhead reference. The hidden activation
/// is ReLU, or tanh with `tanh` set.
class HandWrittenMlpStep {
  public:
    HandWrittenMlpStep(const array& X, const array& labels, const std::vector<Var>& params,
                       bool tanh)
        : X_(X), labels_(labels), tanh_(tanh) {
        for (std::size_t k = 0; k < 4; ++k) {  // start from the graph's weights and biases
            const array& p = params[k].value();
            params_[k].assign(p.begin(), p.end());
            grads_[k].resize(p.size());
        }
        z1_.resize(batch * hidden);
        dz1_.resize(batch * hidden);
        z2_.resize(batch * classes);
    }

    double operator()() {
        const double* X = X_.data();
        double *W1 = params_[0].data(), *b1 = params_[1].data();
        double *W2 = params_[2].data(), *b2 = params_[3].data();
        // forward: z1 = X W1 + b1, a1 = relu(z1) or tanh(z1) (in place), z2 = a1 W2 + b2
        gemm(false, false, batch, hidden, inputs, 1.0, X, inputs, W1, hidden, 0.0, z1_.data(),
             hidden);
        for (int i = 0; i < batch; ++i) {
            double* row = &z1_[i * hidden];
            if (tanh_) {
                for (int j = 0; j < hidden; ++j) row[j] = std::tanh(row[j] + b1[j]);
            } else {
                for (int j = 0; j < hidden; ++j) row[j] = std::max(row[j] + b1[j], 0.0);
            }
        }
        gemm(false, false, batch, classes, hidden, 1.0, z1_.data(), hidden, W2, classes, 0.0,
             z2_.data(), classes);
        // loss: mean softmax cross-entropy; dz2 = (softmax − one-hot) / batch, in place
        double loss = 0.0;
        for (int i = 0; i < batch; ++i) {
            double* row = &z2_[i * classes];
            double top = -INFINITY;
            for (int j = 0; j < classes; ++j) top = std::max(top, row[j] += b2[j]);
            double total = 0.0;
            for (int j = 0; j < classes; ++j) total += std::exp(row[j] - top);
            const auto label = static_cast<int>(labels_(i));
            loss += top + std::log(total) - row[label];
            for (int j = 0; j < classes; ++j) row[j] = std::exp(row[j] - top) / total / batch;
            row[label] -= 1.0 / batch;
        }
        // backward: dW2 = a1ᵀ dz2, db2 = Σ dz2, da1 = dz2 W2ᵀ, dz1 = da1 where a1 > 0 (relu)
        // or da1·(1 − a1²) (tanh), dW1 = Xᵀ dz1, db1 = Σ dz1
        gemm(true, false, hidden, classes, batch, 1.0, z1_.data(), hidden, z2_.data(), classes, 0.0,
             grads_[2].data(), classes);
        column_sums(z2_.data(), classes, grads_[3].data());
        gemm(false, true, batch, hidden, classes, 1.0, z2_.data(), classes, W2, classes, 0.0,
             dz1_.data(), hidden);
        if (tanh_) {
            for (int k = 0; k < batch * hidden; ++k) dz1_[k] *= 1.0 - z1_[k] * z1_[k];
        } else {
            for (int k = 0; k < batch * hidden; ++k) dz1_[k] = z1_[k] > 0.0 ? dz1_[k] : 0.0;
        }
        gemm(true, false, inputs, hidden, batch, 1.0, X, inputs, dz1_.data(), hidden, 0.0,
             grads_[0].data(), hidden);
        column_sums(dz1_.data(), hidden, grads_[1].data());
        for (std::size_t k = 0; k < 4; ++k) {
            double* p = params_[k].data();
            const double* g = grads_[k].data();
            for (std::size_t i = 0; i < params_[k].size(); ++i) p[i] -= mlp_learning_rate * g[i];
        }
        return loss / batch;
    }

    static constexpr int batch = 256, inputs = 784, hidden = 256, classes = 10;
    static constexpr double mlp_learning_rate = 0.01;

  private:
    static constexpr auto gemm = xgrad::detail::blas::gemm;

    static void column_sums(const double* rows, int width, double* out) {
        std::fill(out, out + width, 0.0);
        for (int i = 0; i < batch; ++i) {
            for (int j = 0; j < width; ++j) out[j] += rows[i * width + j];
        }
    }

    const array& X_;
    const array& labels_;
    bool tanh_;
    std::vector<double> params_[4], grads_[4];
    std::vector<double> z1_, dz1_, z2_;
};

/// @brief One SGD step of the MLP 784-256-10 on a batch of 256, by the replayed graph and by
/// hand; the hidden activation is ReLU (workload "mlp 784-256-10 batch 256") or tanh (the same
/// workload name with ", tanh").
void mlp_step(bool tanh) {
    using Step = HandWrittenMlpStep;
    xgrad::Random random(2);
    array X = array::from_shape({Step::batch, Step::inputs});
    for (double& v : X) v = random.normal();
    array labels = array::from_shape({Step::batch});
    for (double& v : labels) v = static_cast<double>(random.index(Step::classes));
    xgrad::nn::MLP net({Step::inputs, Step::hidden, Step::classes},
                       tanh ? xgrad::nn::Activation::tanh : xgrad::nn::Activation::relu, 3);
    Step by_hand(X, labels, net.parameters(), tanh);
    const std::string workload = std::string("mlp 784-256-10 batch 256") + (tanh ? ", tanh" : "");
    xgrad::optim::SGD sgd(net.parameters(), Step::mlp_learning_rate);
    Var loss = xgrad::cross_entropy(net(xgrad::constant(X)), xgrad::constant(labels));
    xgrad::Tape tape(loss);
    // Both start from the same weights: their first losses must agree, or the timing is moot.
    const double graph_loss = loss.value()();
    const double by_hand_loss = by_hand();
    if (std::abs(graph_loss - by_hand_loss) > 1e-12 * std::abs(graph_loss)) {
        std::fprintf(stderr, "%s: hand-written loss %.17g differs from the graph's %.17g\n",
                     workload.c_str(), by_hand_loss, graph_loss);
        std::exit(1);
    }
    const auto [us, repeats] = median_time(
        [&] {
            tape.forward();
            sgd.zero_grad();
            tape.backward();
            sgd.step();
        },
        quick ? 0.5 : 2.0);
    emit(workload, "xgrad graph", us, repeats);
    const auto [hand_us, hand_repeats] = median_time([&] { sink = by_hand(); }, quick ? 0.5 : 2.0);
    emit(workload, "hand-written step", hand_us, hand_repeats);
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
void peak_memory(std::size_t m, std::size_t n, bool separate_ops) {
    xgrad::bench::LogisticProblem data = xgrad::bench::make_logistic_problem(m, n);
    Var X = xgrad::constant(std::move(data.X));
    Var y = xgrad::constant(std::move(data.y));
    Var w = xgrad::parameter(xt::zeros<double>({n}));
    Var b = xgrad::parameter(0.0);
    // The graph as most people write it, or the fused op spelled out: the tape fuses the first.
    xgrad::Tape tape(separate_ops ? xgrad::bce_with_logits(xgrad::matmul(X, w) + b, y)
                                  : xgrad::linear_bce_with_logits(X, w, b, y));
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
        "{\"workload\": \"peak memory, training on %zux%zu\", \"variant\": \"%s\", "
        "\"peak_bytes\": %.0f, \"data_bytes\": %.0f, \"ratio\": %.3f}\n",
        m, n, separate_ops ? "xgrad graph bce_with_logits" : "xgrad graph linear_bce_with_logits",
        peak, data_bytes, peak / data_bytes);
}

}  // namespace

int main(int argc, char** argv) {
    std::string data_dir = XGRAD_DATA_DIR;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) quick = true;
        if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) data_dir = argv[++i];
        if (std::strcmp(argv[i], "--blas-gemm") == 0) xgrad::set_packed_gemm(false);
        if (std::strcmp(argv[i], "--rss") == 0 && i + 2 < argc) {
            const bool fused_op = i + 3 < argc && std::strcmp(argv[i + 3], "--fused-op") == 0;
            peak_memory(std::stoul(argv[i + 1]), std::stoul(argv[i + 2]), !fused_op);
            return 0;
        }
        if (std::strcmp(argv[i], "--mlp") == 0) {  // the MLP steps alone, for profiling
            mlp_step(false);
            mlp_step(true);
            return 0;
        }
    }
    // As many threads as the benchmarks get (the BLAS thread count), each on its own slice.
    const int threads = std::max(xgrad::blas_threads(), 1);
    const double bandwidth =
        xgrad::bench::stream_triad_gb_per_s(threads, 20'000'000, quick ? 0.5 : 2.0);
    sink = bandwidth;
    std::printf(
        "{\"workload\": \"stream triad\", \"variant\": \"%s, %d thread(s)\", \"gb_per_s\": "
        "%.2f}\n",
        xgrad::bench::stream_triad_stores(), threads, bandwidth);
    logistic_steps(bandwidth);
    mlp_step(false);
    mlp_step(true);
    breast_cancer_training(data_dir);
    return 0;
}
