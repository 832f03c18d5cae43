/***************************************************************************
 * xgrad benchmark: Fashion-MNIST training throughput (issue 16), the C++   *
 * side of scripts/bench-fashion.sh (bench/peers/torch_fashion.py is the    *
 * PyTorch side). For each model of examples/fashion_mnist.hpp (mlp, cnn)   *
 * and each thread count (xgrad::set_blas_threads: OpenBLAS and xgrad's     *
 * worker pool), training steps exactly as the example runs them: the       *
 * batch from data::BatchLoader, cross_entropy(model(constant(inputs)),     *
 * constant(labels)), adam.zero_grad(), backward(), the one-cycle rate of   *
 * the step, adam.step(), loss.item(); in training mode (dropout, batch     *
 * statistics). Full batches only (drop_last), reshuffled every epoch.      *
 *                                                                          *
 * Timing: warm-up steps for --warmup seconds (at least 3), then whole      *
 * steps, each timed, for --seconds seconds (at least 5 steps); the median  *
 * step gives images/s = batch / median.                                    *
 * Memory: each (model, threads) case runs in a fresh process (this program *
 * exec'd with --case): after the data set is loaded the process resets its *
 * peak RSS (/proc/self/clear_refs), so VmHWM at the end is the training's  *
 * peak with the data set resident; the RSS before the model is built is    *
 * reported too (libraries + data set + loader).                            *
 * Data: the full training set (60 000 images) from /usr/share/datasets/    *
 * fashion-mnist when installed (Debian's dataset-fashion-mnist), else the  *
 * repository's 2 000-image sample; the output says which.                  *
 *                                                                          *
 * Prints one JSON object per line (the schema of torch_fashion.py):        *
 *   {"workload": "fashion training", "side": "xgrad", "model", "threads",  *
 *    "batch", "data", "full_data", "train_images", "parameters",           *
 *    "median_us", "mean_us", "steps", "images_per_s", "peak_rss_mib",      *
 *    "rss_before_model_mib", "loading_peak_rss_mib" (the peak while the    *
 *    data set was read), "faults_per_step", "loss_first", "loss_last"}     *
 * bench/peers/fashion_report.py makes the tables.                          *
 *                                                                          *
 * Usage: bench_fashion [--smoke] [--model mlp|cnn]... [--threads T]...     *
 *                      [--batch N] [--seconds S] [--warmup S] [--data DIR] *
 *   default: both models, threads 1 and 2, batch 128, 6 s timed after      *
 *   1.5 s of warm-up per case; --smoke: 0.3 s after 0.1 s (proves it       *
 *   runs). --data DIR: a folder with the four IDX files (default above).   *
 *        bench_fashion --case MODEL THREADS [options]: one case in this    *
 *   process (what the parent runs in each child).                          *
 ***************************************************************************/
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../examples/fashion_mnist.hpp"
#include "fashion_data.hpp"
#include "xgrad/backend/blas.hpp"

namespace {

using xgrad::array;
using xgrad::Var;

/// @brief What every case is run with.
struct Settings {
    std::size_t batch = 128;
    double seconds = 6.0;  ///< timed steps per case
    double warmup = 1.5;   ///< warm-up per case
    std::string data_dir;  ///< empty: the default (full data set if installed, else the sample)
};

/// @brief The Fashion-MNIST folder (bench/fashion_data.hpp): `given`, Debian's set, the sample.
std::string data_folder(const std::string& given) {
    return xgrad::bench::fashion_data_folder(given,
                                             std::string(XGRAD_DATA_DIR) + "/fashion-mnist-sample");
}

/// @brief A field of /proc/self/status in MiB ("VmHWM", "VmRSS"), -1 if it cannot be read.
double status_mib(const char* field) {
    std::ifstream status("/proc/self/status");
    std::string line;
    const std::string key = std::string(field) + ":";
    while (std::getline(status, line)) {
        if (line.compare(0, key.size(), key) == 0) {
            return std::strtod(line.c_str() + key.size(), nullptr) / 1024.0;  // kB
        }
    }
    return -1.0;
}

/// @brief Resets the process's peak RSS (VmHWM) to its current RSS; false if the kernel refused.
bool reset_peak_rss() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    return static_cast<bool>(clear);
}

/// @brief JSON string escaping for a path (quotes and backslashes; paths hold no control bytes).
std::string json_text(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

/// @brief One case, in this process: prints its JSON line. Returns the exit status.
int run_case(const std::string& model_kind, int threads, const Settings& settings) {
    namespace fashion = xgrad::examples::fashion;
    if (!xgrad::set_blas_threads(threads)) {
        std::fprintf(stderr, "bench_fashion: cannot set the BLAS thread count (not OpenBLAS)\n");
        return 1;
    }
    const std::string dir = data_folder(settings.data_dir);
    const bool full_data = dir == xgrad::data::fashion_mnist_dir;
    xgrad::data::ImageDataset train = xgrad::data::load_fashion_mnist(dir, true);
    const std::size_t train_images = train.labels.size();
    if (train_images < settings.batch) {
        std::fprintf(stderr, "bench_fashion: %zu training images, fewer than a batch of %zu\n",
                     train_images, settings.batch);
        return 1;
    }
    const std::uint64_t seed = 1;
    xgrad::data::BatchLoader loader(std::move(train.images), std::move(train.labels),
                                    settings.batch, true, seed, true);
    const double loading_peak = status_mib("VmHWM");
    const bool peak_reset = reset_peak_rss();
    const double rss_before_model = status_mib("VmRSS");

    // As examples/fashion_mnist.hpp's run(): the model, Adam with a one-cycle rate per step.
    const std::shared_ptr<xgrad::nn::Sequential> model = fashion::make_model(model_kind, seed);
    const double max_rate = model_kind == "cnn" ? 0.01 : 0.003;
    std::size_t parameters = 0;
    for (const Var& p : model->parameters()) parameters += p.value().size();
    xgrad::optim::Adam adam(model->parameters(), max_rate);
    const std::size_t total_steps = 100000;  // more than any case runs: the rate keeps moving
    const xgrad::optim::Schedule rate = xgrad::optim::one_cycle(max_rate, total_steps);
    model->train();

    std::size_t step = 0, epoch = 0, in_epoch = 0;
    loader.start_epoch(0);
    auto train_step = [&]() {
        if (in_epoch == loader.batches()) {
            loader.start_epoch(++epoch);
            in_epoch = 0;
        }
        const xgrad::data::Batch& batch = loader.batch(in_epoch++);
        array labels = array::from_shape({batch.size()});
        for (std::size_t k = 0; k < batch.size(); ++k) {
            labels(k) = static_cast<double>(batch.labels[k]);
        }
        const Var loss = xgrad::cross_entropy((*model)(xgrad::constant(batch.inputs)),
                                              xgrad::constant(std::move(labels)));
        adam.zero_grad();
        loss.backward();
        adam.set_learning_rate(rate(step++));
        adam.step();
        return loss.item();
    };

    using clock = std::chrono::steady_clock;
    auto seconds_since = [](clock::time_point t) {
        return std::chrono::duration<double>(clock::now() - t).count();
    };
    const auto warm_start = clock::now();
    double loss_first = 0.0;
    for (int k = 0; k < 3 || seconds_since(warm_start) < settings.warmup; ++k) {
        const double loss = train_step();
        if (k == 0) loss_first = loss;
    }
    std::vector<double> times;
    double loss_last = 0.0;
    rusage before{};
    getrusage(RUSAGE_SELF, &before);
    const auto start = clock::now();
    while (times.size() < 5 || seconds_since(start) < settings.seconds) {
        const auto t0 = clock::now();
        loss_last = train_step();
        times.push_back(std::chrono::duration<double, std::micro>(clock::now() - t0).count());
    }
    const double total_us = seconds_since(start) * 1e6;
    rusage after{};
    getrusage(RUSAGE_SELF, &after);
    const double peak = peak_reset ? status_mib("VmHWM") : -1.0;

    std::vector<double> sorted = times;
    std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
    const double median_us = sorted[sorted.size() / 2];
    const auto steps = static_cast<double>(times.size());
    std::printf(
        "{\"workload\": \"fashion training\", \"side\": \"xgrad\", \"model\": \"%s\", "
        "\"threads\": %d, \"batch\": %zu, \"data\": \"%s\", \"full_data\": %s, "
        "\"train_images\": %zu, \"parameters\": %zu, \"median_us\": %.1f, \"mean_us\": %.1f, "
        "\"steps\": %zu, \"images_per_s\": %.1f, \"peak_rss_mib\": %.1f, "
        "\"rss_before_model_mib\": %.1f, \"loading_peak_rss_mib\": %.1f, \"faults_per_step\": "
        "%.1f, \"loss_first\": %.4f, "
        "\"loss_last\": %.4f}\n",
        model_kind.c_str(), xgrad::blas_threads(), settings.batch, json_text(dir).c_str(),
        full_data ? "true" : "false", train_images, parameters, median_us, total_us / steps,
        times.size(), static_cast<double>(settings.batch) / (median_us * 1e-6), peak,
        rss_before_model, loading_peak,
        static_cast<double>(after.ru_minflt - before.ru_minflt) / steps, loss_first, loss_last);
    std::fflush(stdout);
    return 0;
}

/// @brief Runs `args` (this program with --case ...) in a fresh process; false if it failed.
bool run_child(const std::vector<std::string>& args) {
    std::vector<char*> argv;
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t child = fork();
    if (child < 0) {
        std::perror("bench_fashion: fork");
        return false;
    }
    if (child == 0) {
        execv("/proc/self/exe", argv.data());
        std::perror("bench_fashion: exec");
        std::_Exit(127);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench_fashion: the child process running");
        for (std::size_t i = 1; i < args.size(); ++i) std::fprintf(stderr, " %s", args[i].c_str());
        std::fprintf(stderr, " failed\n");
        return false;
    }
    return true;
}

int usage() {
    std::fprintf(stderr,
                 "usage: bench_fashion [--smoke] [--model mlp|cnn]... [--threads T]... [--batch N] "
                 "[--seconds S] [--warmup S] [--data DIR]\n"
                 "       bench_fashion --case MODEL THREADS [--batch N] [--seconds S] [--warmup S] "
                 "[--data DIR]\n");
    return 2;
}

/// @brief A number > 0 from `text`, or -1.
double positive(const char* text) {
    char* end = nullptr;
    const double value = std::strtod(text, &end);
    return end != text && *end == '\0' && value > 0.0 ? value : -1.0;
}

}  // namespace

int main(int argc, char** argv) {
    Settings settings;
    bool smoke = false, seconds_given = false, warmup_given = false;
    std::vector<std::string> models;
    std::vector<int> thread_counts;
    std::string case_model;
    int case_threads = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--smoke") {
            smoke = true;
        } else if (arg == "--case" && i + 2 < argc) {
            case_model = argv[++i];
            case_threads = static_cast<int>(positive(argv[++i]));
            if (case_threads < 1) return usage();
        } else if (arg == "--model" && has_value) {
            models.emplace_back(argv[++i]);
            if (models.back() != "mlp" && models.back() != "cnn") return usage();
        } else if (arg == "--threads" && has_value) {
            const double t = positive(argv[++i]);
            if (t < 1.0 || t != static_cast<int>(t)) return usage();
            thread_counts.push_back(static_cast<int>(t));
        } else if (arg == "--batch" && has_value) {
            const double b = positive(argv[++i]);
            if (b < 1.0 || b != static_cast<std::size_t>(b)) return usage();
            settings.batch = static_cast<std::size_t>(b);
        } else if (arg == "--seconds" && has_value) {
            settings.seconds = positive(argv[++i]);
            seconds_given = true;
            if (settings.seconds <= 0.0) return usage();
        } else if (arg == "--warmup" && has_value) {
            settings.warmup = positive(argv[++i]);
            warmup_given = true;
            if (settings.warmup <= 0.0) return usage();
        } else if (arg == "--data" && has_value) {
            settings.data_dir = argv[++i];
        } else {
            return usage();
        }
    }
    if (smoke) {
        if (!seconds_given) settings.seconds = 0.3;
        if (!warmup_given) settings.warmup = 0.1;
    }
    if (!case_model.empty()) {
        try {
            return run_case(case_model, case_threads, settings);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "bench_fashion: %s\n", e.what());
            return 1;
        }
    }

    if (models.empty()) models = {"mlp", "cnn"};
    if (thread_counts.empty()) thread_counts = {1, 2};
    char number[64];
    int status = 0;
    for (const int threads : thread_counts) {
        for (const std::string& model : models) {
            std::vector<std::string> args = {argv[0],   "--case",
                                             model,     std::to_string(threads),
                                             "--batch", std::to_string(settings.batch)};
            std::snprintf(number, sizeof number, "%.17g", settings.seconds);
            args.insert(args.end(), {"--seconds", number});
            std::snprintf(number, sizeof number, "%.17g", settings.warmup);
            args.insert(args.end(), {"--warmup", number});
            args.insert(args.end(), {"--data", data_folder(settings.data_dir)});
            if (!run_child(args)) status = 1;
        }
    }
    return status;
}
