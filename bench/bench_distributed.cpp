/***************************************************************************
 * xgrad benchmark: data-parallel training over MPI (issue 17), run under   *
 * mpirun by scripts/bench-distributed.sh. Three parts, each on as many     *
 * ranks as mpirun starts:                                                  *
 *  --allreduce  all-reduce cost against message size (8 B, then 16 B ..    *
 *               64 MiB in powers of 4): MpiCommunicator::allreduce_sum     *
 *               (xgrad's ring; below 4 KiB a gather summed in rank order)  *
 *               and MPI_Allreduce(MPI_SUM) in place, for comparison. Each  *
 *               repetition is a barrier, then `iters` calls back to back;  *
 *               its time per call is the slowest rank's; the median of    *
 *               the repetitions is reported.                               *
 *  --logistic   logistic regression, full batch, at (rows, 20): each rank  *
 *               generates its shard (shard_rows) of one global data set    *
 *               (rows drawn in seeded blocks of 1024, so the data does not *
 *               depend on the rank count). A step is the replayed graph    *
 *               (xgrad::Tape of linear_bce_with_logits(X, w, b, y, sum) /  *
 *               rows: forward, zero_grad, backward), GradientReducer::     *
 *               reduce(sum) of the 21 gradient numbers, and optim::SGD.    *
 *  --mlp        the Fashion-MNIST MLP (nn::MLP 784-256-128-10, ReLU),      *
 *               softmax cross entropy, a GLOBAL batch (default 128) split  *
 *               over the ranks as DDP does (rank r takes its shard_rows of *
 *               every shuffled batch: loss = Σ its rows' CE / batch),      *
 *               GradientReducer::reduce(sum) of ≈ 235 k numbers, Adam.     *
 *               The step copies the rank's rows into the input leaf and    *
 *               replays one Tape. Data: /usr/share/datasets/fashion-mnist  *
 *               when installed, else data/fashion-mnist-sample.            *
 * Each step is timed on every rank (steady_clock): the step, and inside it *
 * reduce(). Reported: rank 0's median step, its median reduce(), the       *
 * reduce share (Σ reduce / Σ step, and median reduce / median step), the   *
 * slowest rank's median step, and the global loss of the first, the third *
 * (after two updates) and the last step; the first two are equal for any  *
 * rank count up to rounding (the same data, batches and start). Step       *
 * counts are agreed by all ranks from 3 warm-up steps (about --seconds of  *
 * timed steps per case).                                                   *
 * Threads: --threads T sets OpenBLAS's and xgrad's own thread count        *
 * (xgrad::set_blas_threads; default 1: one core per rank).                 *
 *                                                                          *
 * Prints one JSON object per line, on rank 0 only:                         *
 *   {"section": "setup", "ranks", "hosts", "threads", "cpu", "avx512f",    *
 *    "mpi"}                                                                *
 *   {"section": "allreduce", "ranks", "impl": "xgrad ring"|"MPI_Allreduce",*
 *    "bytes", "median_us", "min_us", "iters", "reps"}                      *
 *   {"section": "logistic"|"mlp", "ranks", "threads", "rows"|"batch",      *
 *    "rows_per_rank"|"batch_per_rank", "features"|"parameters",            *
 *    "message_bytes", "steps", "step_median_us", "reduce_median_us",       *
 *    "reduce_share", "reduce_share_of_medians",                            *
 *    "slowest_rank_step_median_us", "loss_first", "loss_third",            *
 *    "loss_last" (and for mlp "data", "full_data", "train_images")}        *
 * bench/peers/distributed_model.py makes the tables and the projection.    *
 *                                                                          *
 * Usage: mpirun -np N bench_distributed [--allreduce] [--logistic] [--mlp] *
 *          [--smoke] [--threads T] [--rows M[,M...]] [--features N]        *
 *          [--batch B[,B...]] [--seconds S] [--max-bytes BYTES]            *
 *          [--data DIR]                                                    *
 *   no part named: all three. Defaults: rows 2000000, 20 features, batch   *
 *   128, 2 s of timed steps per case, messages up to 64 MiB. --smoke: tiny *
 *   sizes (20 000 rows, messages up to 64 KiB, a few steps; < 10 s).       *
 ***************************************************************************/
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fashion_data.hpp"
#include "xgrad/backend/blas.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/core/tape.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/distributed.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/ops/losses.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"

namespace {

using xgrad::array;
using xgrad::Var;
namespace dist = xgrad::distributed;
using steady = std::chrono::steady_clock;

/// @brief The command line.
struct Options {
    bool allreduce = false;
    bool logistic = false;
    bool mlp = false;
    bool smoke = false;
    int threads = 1;
    std::vector<std::size_t> rows;  ///< logistic regression: global rows, one case each
    std::size_t features = 20;
    std::vector<std::size_t> batches{128};          ///< MLP: global batch sizes, one case each
    double seconds = 2.0;                           ///< timed steps per case, about
    std::size_t max_bytes = std::size_t{64} << 20;  ///< the largest all-reduce message
    std::string data_dir;                           ///< empty: full data set if installed
};

/// @brief Seconds from `t0` to `t1`.
double seconds_between(steady::time_point t0, steady::time_point t1) {
    return std::chrono::duration<double>(t1 - t0).count();
}

/// @brief The median of `values` (the upper one of an even count); 0 for none.
double median(std::vector<double> values) {
    if (values.empty()) return 0.0;
    std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
    return values[values.size() / 2];
}

/// @brief The largest `value` over the ranks of `comm` (collective).
double max_over_ranks(MPI_Comm comm, double value) {
    double result = value;
    MPI_Allreduce(&value, &result, 1, MPI_DOUBLE, MPI_MAX, comm);
    return result;
}

/// @brief How many timed repetitions fit in `budget` seconds when one takes `each` seconds on
/// the slowest rank (collective, so every rank runs the same count), clamped to [lo, hi].
std::size_t agreed_count(MPI_Comm comm, double each, double budget, std::size_t lo,
                         std::size_t hi) {
    const double slowest = max_over_ranks(comm, each);
    const double fit = slowest > 0.0 ? budget / slowest : static_cast<double>(hi);
    return std::clamp(static_cast<std::size_t>(fit), lo, hi);
}

/// @brief JSON string escaping (quotes, backslashes; control bytes dropped).
std::string json_text(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (static_cast<unsigned char>(c) < 0x20) continue;
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

/// @brief The "model name" of /proc/cpuinfo and whether its flags hold avx512f.
std::pair<std::string, bool> cpu_model() {
    std::ifstream info("/proc/cpuinfo");
    std::string line, model = "unknown";
    bool avx512 = false;
    while (std::getline(info, line)) {
        if (model == "unknown" && line.rfind("model name", 0) == 0) {
            const std::size_t colon = line.find(':');
            if (colon != std::string::npos) model = line.substr(colon + 2);
        }
        if (line.rfind("flags", 0) == 0 && line.find(" avx512f") != std::string::npos) {
            avx512 = true;
        }
    }
    return {model, avx512};
}

/// @brief Prints the setup line: ranks, distinct hosts, threads, CPU, MPI library (collective).
void print_setup(dist::MpiCommunicator& comm, const Options& options) {
    char name[MPI_MAX_PROCESSOR_NAME] = {};
    int length = 0;
    MPI_Get_processor_name(name, &length);
    const std::vector<std::string> hosts = comm.allgather(std::string(name, length));
    if (comm.rank() != 0) return;
    char version[MPI_MAX_LIBRARY_VERSION_STRING] = {};
    int version_length = 0;
    MPI_Get_library_version(version, &version_length);
    std::string mpi(version, version_length);
    mpi = mpi.substr(0, mpi.find(','));
    const auto [model, avx512] = cpu_model();
    std::printf(
        "{\"section\": \"setup\", \"ranks\": %d, \"hosts\": %zu, \"threads\": %d, \"cpu\": "
        "\"%s\", \"avx512f\": %s, \"mpi\": \"%s\"}\n",
        comm.size(), std::set<std::string>(hosts.begin(), hosts.end()).size(), options.threads,
        json_text(model).c_str(), avx512 ? "true" : "false", json_text(mpi).c_str());
    std::fflush(stdout);
}

/// @brief Checks both all-reduces on `count` elements (rank r holds r + 1 + i mod 7, the sum is
/// N(N + 1)/2 + N (i mod 7)); throws std::runtime_error naming the implementation if wrong.
void check_allreduce(dist::MpiCommunicator& comm, std::vector<double>& data) {
    const auto ranks = static_cast<double>(comm.size());
    for (int impl = 0; impl < 2; ++impl) {
        for (std::size_t i = 0; i < data.size(); ++i) {
            data[i] = comm.rank() + 1.0 + static_cast<double>(i % 7);
        }
        if (impl == 0) {
            comm.allreduce_sum(data.data(), data.size());
        } else {
            MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(data.size()), MPI_DOUBLE,
                          MPI_SUM, comm.handle());
        }
        for (std::size_t i = 0; i < data.size(); ++i) {
            const double expected =
                ranks * (ranks + 1.0) / 2.0 + ranks * static_cast<double>(i % 7);
            if (data[i] != expected) {
                throw std::runtime_error(
                    std::string(impl == 0 ? "allreduce_sum" : "MPI_Allreduce") + " gave " +
                    std::to_string(data[i]) + " at element " + std::to_string(i) + " of " +
                    std::to_string(data.size()) + ", expected " + std::to_string(expected));
            }
        }
    }
}

/// @brief Part (a): the median time of one all-reduce of each message size, both
/// implementations, after checking their sums.
void run_allreduce(dist::MpiCommunicator& comm, const Options& options) {
    std::vector<std::size_t> sizes{8};
    for (std::size_t bytes = 16; bytes <= options.max_bytes; bytes *= 4) sizes.push_back(bytes);
    const double budget = options.smoke ? 0.005 : 0.25;  // seconds per (size, implementation)
    const MPI_Comm handle = comm.handle();
    for (const std::size_t bytes : sizes) {
        const std::size_t count = bytes / sizeof(double);
        std::vector<double> data(count);
        check_allreduce(comm, data);
        const std::size_t iters = std::clamp<std::size_t>((std::size_t{256} << 10) / bytes, 1, 256);
        for (int impl = 0; impl < 2; ++impl) {
            std::fill(data.begin(), data.end(), 0.0);  // sums of zeros stay zero: no overflow
            auto call = [&]() {
                if (impl == 0) {
                    comm.allreduce_sum(data.data(), count);
                } else {
                    MPI_Allreduce(MPI_IN_PLACE, data.data(), static_cast<int>(count), MPI_DOUBLE,
                                  MPI_SUM, handle);
                }
            };
            // One repetition: iters calls after a barrier; the slowest rank's time per call.
            auto repetition = [&]() {
                MPI_Barrier(handle);
                const auto t0 = steady::now();
                for (std::size_t k = 0; k < iters; ++k) call();
                const double each = seconds_between(t0, steady::now()) / static_cast<double>(iters);
                return max_over_ranks(handle, each);
            };
            repetition();  // first touch of the buffers
            const double pilot = repetition();
            const std::size_t reps = agreed_count(handle, pilot * static_cast<double>(iters),
                                                  budget, options.smoke ? 3 : 7, 400);
            std::vector<double> times;
            for (std::size_t r = 0; r < reps; ++r) times.push_back(repetition() * 1e6);
            if (comm.rank() == 0) {
                std::printf(
                    "{\"section\": \"allreduce\", \"ranks\": %d, \"impl\": \"%s\", \"bytes\": %zu, "
                    "\"median_us\": %.3f, \"min_us\": %.3f, \"iters\": %zu, \"reps\": %zu}\n",
                    comm.size(), impl == 0 ? "xgrad ring" : "MPI_Allreduce", bytes, median(times),
                    *std::min_element(times.begin(), times.end()), iters, reps);
                std::fflush(stdout);
            }
        }
    }
}

/// @brief What a training case measured on this rank.
struct StepTimes {
    std::vector<double> step_us;    ///< each timed step
    std::vector<double> reduce_us;  ///< reduce() inside it
    double loss_first = 0.0;        ///< this rank's share of the first step's loss
    double loss_third = 0.0;        ///< ... of the third's (after two updates, any rank count)
    double loss_last = 0.0;         ///< ... of the last step's
};

/// @brief Runs `step` (which returns this rank's loss share and adds reduce()'s seconds to its
/// argument): 3 warm-up steps, then a step count all ranks agree on from them (about `seconds`
/// of steps, at least 10, 3 with --smoke).
StepTimes time_steps(MPI_Comm comm, const std::function<double(double&)>& step, double seconds,
                     bool smoke) {
    StepTimes out;
    std::vector<double> warm;
    for (int k = 0; k < 3; ++k) {
        double reduce_s = 0.0;
        const auto t0 = steady::now();
        const double loss = step(reduce_s);
        warm.push_back(seconds_between(t0, steady::now()));
        if (k == 0) out.loss_first = loss;
        if (k == 2) out.loss_third = loss;
    }
    const std::size_t steps = agreed_count(comm, median(warm), seconds, smoke ? 3 : 10, 5000);
    for (std::size_t k = 0; k < steps; ++k) {
        double reduce_s = 0.0;
        const auto t0 = steady::now();
        out.loss_last = step(reduce_s);
        out.step_us.push_back(seconds_between(t0, steady::now()) * 1e6);
        out.reduce_us.push_back(reduce_s * 1e6);
    }
    return out;
}

/// @brief The summary fields shared by the logistic and MLP lines (collective: the slowest
/// rank's median and the global losses).
std::string step_fields(dist::MpiCommunicator& comm, const StepTimes& t) {
    const double step_median = median(t.step_us);
    double step_total = 0.0, reduce_total = 0.0;
    for (const double v : t.step_us) step_total += v;
    for (const double v : t.reduce_us) reduce_total += v;
    const double slowest = max_over_ranks(comm.handle(), step_median);
    const double loss_first = dist::allreduce_sum(comm, t.loss_first);
    const double loss_third = dist::allreduce_sum(comm, t.loss_third);
    const double loss_last = dist::allreduce_sum(comm, t.loss_last);
    const double reduce_median = median(t.reduce_us);
    char text[640];
    std::snprintf(text, sizeof text,
                  "\"steps\": %zu, \"step_median_us\": %.1f, \"reduce_median_us\": %.1f, "
                  "\"reduce_share\": %.4f, \"reduce_share_of_medians\": %.4f, "
                  "\"slowest_rank_step_median_us\": %.1f, \"loss_first\": %.12f, "
                  "\"loss_third\": %.12f, \"loss_last\": %.12f",
                  t.step_us.size(), step_median, reduce_median,
                  step_total > 0.0 ? reduce_total / step_total : 0.0,
                  step_median > 0.0 ? reduce_median / step_median : 0.0, slowest, loss_first,
                  loss_third, loss_last);
    return text;
}

/// @brief Rows [shard.begin, shard.end) of the global logistic data set of `features` columns:
/// rows drawn in blocks of 1024, block k from Random(1000 + k), so any rank count sees the same
/// rows. Labels y ~ Bernoulli(σ(x·w* + 0.25)), w* drawn from Random(7) scaled by 2/√n.
std::pair<array, array> logistic_shard(const dist::Shard& shard, std::size_t features) {
    constexpr std::size_t block_rows = 1024;
    xgrad::Random truth(7);
    std::vector<double> w_true(features);
    const double scale = 2.0 / std::sqrt(static_cast<double>(features));
    for (double& v : w_true) v = truth.normal() * scale;
    array X = array::from_shape({shard.size(), features});
    array y = array::from_shape({shard.size()});
    std::vector<double> row(features);
    for (std::size_t block = shard.begin / block_rows; block * block_rows < shard.end; ++block) {
        xgrad::Random random(1000 + block);
        const std::size_t first = block * block_rows;
        for (std::size_t i = first; i < first + block_rows && i < shard.end; ++i) {
            double z = 0.25;
            for (std::size_t j = 0; j < features; ++j) {
                row[j] = random.normal();
                z += row[j] * w_true[j];
            }
            const bool positive = random.uniform() < 1.0 / (1.0 + std::exp(-z));
            if (i < shard.begin) continue;
            std::copy(row.begin(), row.end(), X.data() + (i - shard.begin) * features);
            y(i - shard.begin) = positive ? 1.0 : 0.0;
        }
    }
    return {std::move(X), std::move(y)};
}

/// @brief Part (b): full-batch logistic-regression steps over the rank's shard, for each row
/// count of the options.
void run_logistic(dist::MpiCommunicator& comm, const Options& options) {
    for (const std::size_t rows : options.rows) {
        const dist::Shard shard = dist::shard_rows(rows, comm.rank(), comm.size());
        auto [X_value, y_value] = logistic_shard(shard, options.features);
        const Var X = xgrad::constant(std::move(X_value));
        const Var y = xgrad::constant(std::move(y_value));
        const Var w = xgrad::parameter(xt::zeros<double>({options.features}));
        const Var b = xgrad::parameter(0.0);
        // Σ over this rank's rows / all rows: the ranks' gradients sum to the global mean's.
        const Var loss = xgrad::linear_bce_with_logits(X, w, b, y, xgrad::reduction::sum) *
                         (1.0 / static_cast<double>(rows));
        xgrad::Tape tape(loss);
        dist::GradientReducer reducer(comm, {w, b});
        xgrad::optim::SGD sgd({w, b}, 0.5);
        auto step = [&](double& reduce_s) {
            tape.forward();
            sgd.zero_grad();
            tape.backward();
            const auto t0 = steady::now();
            reducer.reduce(dist::Reduction::sum);
            reduce_s += seconds_between(t0, steady::now());
            sgd.step();
            return tape.output().item();
        };
        const StepTimes t = time_steps(comm.handle(), step, options.seconds, options.smoke);
        const std::string fields = step_fields(comm, t);
        if (comm.rank() == 0) {
            std::printf(
                "{\"section\": \"logistic\", \"ranks\": %d, \"threads\": %d, \"rows\": %zu, "
                "\"rows_per_rank\": %zu, \"features\": %zu, \"message_bytes\": %zu, %s}\n",
                comm.size(), xgrad::blas_threads(), rows, shard.size(), options.features,
                reducer.elements() * sizeof(double), fields.c_str());
            std::fflush(stdout);
        }
    }
}

/// @brief The Fashion-MNIST folder (bench/fashion_data.hpp): `given`, Debian's set, the sample.
std::string data_folder(const std::string& given) {
    return xgrad::bench::fashion_data_folder(given,
                                             std::string(XGRAD_DATA_DIR) + "/fashion-mnist-sample");
}

/// @brief Part (c): DDP training steps of the MLP for each global batch size of the options.
void run_mlp(dist::MpiCommunicator& comm, const Options& options) {
    const std::string dir = data_folder(options.data_dir);
    xgrad::data::ImageDataset train;
    dist::agree(comm, [&]() { train = xgrad::data::load_fashion_mnist(dir, true); });
    const std::size_t images = train.labels.size();
    constexpr std::size_t pixels = 28 * 28;
    const std::uint64_t seed = 1;
    for (const std::size_t batch : options.batches) {
        if (batch > images || batch < static_cast<std::size_t>(comm.size())) {
            throw std::invalid_argument("--batch " + std::to_string(batch) + " needs between " +
                                        std::to_string(comm.size()) + " and " +
                                        std::to_string(images) + " images");
        }
        const dist::Shard shard = dist::shard_rows(batch, comm.rank(), comm.size());
        auto model = std::make_shared<xgrad::nn::MLP>(
            std::vector<std::size_t>{pixels, 256, 128, 10}, xgrad::nn::Activation::relu, seed);
        const std::vector<Var> params = model->parameters();
        dist::broadcast_parameters(comm, params);
        std::size_t parameters = 0;
        for (const Var& p : params) parameters += p.size();
        const Var input = xgrad::constant(xt::zeros<double>({shard.size(), pixels}));
        const Var labels = xgrad::constant(xt::zeros<double>({shard.size()}));
        const Var loss = xgrad::cross_entropy((*model)(input), labels, xgrad::reduction::sum) *
                         (1.0 / static_cast<double>(batch));
        xgrad::Tape tape(loss);
        dist::GradientReducer reducer(comm, params);
        xgrad::optim::Adam adam(params, 1e-3);
        const std::size_t per_epoch = images / batch;  // full batches only
        std::size_t epoch = 0, in_epoch = 0;
        std::vector<std::size_t> order = xgrad::Random(seed + epoch).permutation(images);
        auto step = [&](double& reduce_s) {
            if (in_epoch == per_epoch) {
                order = xgrad::Random(seed + ++epoch).permutation(images);
                in_epoch = 0;
            }
            // This rank's rows of the global batch, into the input leaf.
            array& x = input.mutable_value();
            array& t = labels.mutable_value();
            for (std::size_t i = 0; i < shard.size(); ++i) {
                const std::size_t image = order[in_epoch * batch + shard.begin + i];
                std::copy(train.images.data() + image * pixels,
                          train.images.data() + (image + 1) * pixels, x.data() + i * pixels);
                t(i) = static_cast<double>(train.labels[image]);
            }
            ++in_epoch;
            tape.forward();
            adam.zero_grad();
            tape.backward();
            const auto t0 = steady::now();
            reducer.reduce(dist::Reduction::sum);
            reduce_s += seconds_between(t0, steady::now());
            adam.step();
            return tape.output().item();
        };
        const StepTimes t = time_steps(comm.handle(), step, options.seconds, options.smoke);
        const std::string fields = step_fields(comm, t);
        if (comm.rank() == 0) {
            std::printf(
                "{\"section\": \"mlp\", \"ranks\": %d, \"threads\": %d, \"batch\": %zu, "
                "\"batch_per_rank\": %zu, \"parameters\": %zu, \"message_bytes\": %zu, "
                "\"data\": \"%s\", \"full_data\": %s, \"train_images\": %zu, %s}\n",
                comm.size(), xgrad::blas_threads(), batch, shard.size(), parameters,
                reducer.elements() * sizeof(double), json_text(dir).c_str(),
                dir == xgrad::data::fashion_mnist_dir ? "true" : "false", images, fields.c_str());
            std::fflush(stdout);
        }
    }
}

/// @brief A whole number ≥ 1 from `text`, or 0.
std::size_t whole(const std::string& text) {
    char* end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    if (end == text.c_str() || *end != '\0' || !(value >= 1.0) || value > 1e15 ||
        value != std::floor(value)) {
        return 0;
    }
    return static_cast<std::size_t>(value);
}

/// @brief "a,b,c" as whole numbers ≥ 1; empty if any is not.
std::vector<std::size_t> whole_list(const std::string& text) {
    std::vector<std::size_t> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        const std::size_t comma = std::min(text.find(',', start), text.size());
        const std::size_t value = whole(text.substr(start, comma - start));
        if (value == 0) return {};
        out.push_back(value);
        start = comma + 1;
    }
    return out;
}

/// @brief Parses argv into `options`; false on a bad option.
bool parse(int argc, char** argv, Options& options) {
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--allreduce") {
            options.allreduce = true;
        } else if (arg == "--logistic") {
            options.logistic = true;
        } else if (arg == "--mlp") {
            options.mlp = true;
        } else if (arg == "--smoke") {
            options.smoke = true;
        } else if (arg == "--threads" && has_value) {
            const std::size_t t = whole(argv[++i]);
            if (t == 0 || t > 256) return false;
            options.threads = static_cast<int>(t);
        } else if (arg == "--rows" && has_value) {
            options.rows = whole_list(argv[++i]);
            if (options.rows.empty()) return false;
        } else if (arg == "--features" && has_value) {
            options.features = whole(argv[++i]);
            if (options.features == 0) return false;
        } else if (arg == "--batch" && has_value) {
            options.batches = whole_list(argv[++i]);
            if (options.batches.empty()) return false;
        } else if (arg == "--seconds" && has_value) {
            char* end = nullptr;
            options.seconds = std::strtod(argv[++i], &end);
            if (*end != '\0' || !(options.seconds > 0.0 && options.seconds < 1e6)) return false;
        } else if (arg == "--max-bytes" && has_value) {
            options.max_bytes = whole(argv[++i]);
            if (options.max_bytes < 8) return false;
        } else if (arg == "--data" && has_value) {
            options.data_dir = argv[++i];
        } else {
            return false;
        }
    }
    if (!options.allreduce && !options.logistic && !options.mlp) {
        options.allreduce = options.logistic = options.mlp = true;
    }
    if (options.rows.empty()) options.rows = {options.smoke ? std::size_t{20000} : 2000000};
    if (options.smoke) {
        options.max_bytes = std::min<std::size_t>(options.max_bytes, std::size_t{64} << 10);
        options.seconds = std::min(options.seconds, 0.05);
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    dist::MpiSession session(argc, argv);
    dist::MpiCommunicator& comm = session.world();
    Options options;
    if (!parse(argc, argv, options)) {  // every rank parses the same arguments
        if (comm.rank() == 0) {
            std::fprintf(
                stderr,
                "usage: mpirun -np N bench_distributed [--allreduce] [--logistic] [--mlp] "
                "[--smoke] [--threads T] [--rows M[,M...]] [--features N] [--batch B[,B...]] "
                "[--seconds S] [--max-bytes BYTES] [--data DIR]\n");
        }
        return 2;
    }
    try {
        if (!xgrad::set_blas_threads(options.threads)) {
            throw std::runtime_error("cannot set the thread count (the BLAS is not OpenBLAS)");
        }
        print_setup(comm, options);
        if (options.allreduce) run_allreduce(comm, options);
        if (options.logistic) run_logistic(comm, options);
        if (options.mlp) run_mlp(comm, options);
    } catch (const std::exception& e) {
        // The other ranks may wait in a collective: end the job rather than leave them there.
        std::fprintf(stderr, "bench_distributed: rank %d: %s\n", comm.rank(), e.what());
        std::fflush(stderr);
        comm.abort(1);
    }
    return 0;
}
