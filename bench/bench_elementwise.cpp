/***************************************************************************
 * xgrad benchmark: the general engine's elementwise ops (issue 15). A      *
 * chain of L = 4 of one op, each applied to the previous result, from a    *
 * parameter x of n elements; one step = forward, backward with a seed of   *
 * ones, zero the parameters' gradients. Ops: tanh, sigmoid, exp, log, and  *
 * mul_add (h = h·a + b, a and b parameters of n elements: one pair counts  *
 * as one op). Modes: "rebuilt" builds the chain afresh each step (define-  *
 * by-run, as a PyTorch user runs it; the graph's teardown is timed too),   *
 * "replayed" builds it once and replays it with a Tape. Each case sets     *
 * xgrad's thread count (set_blas_threads) to 1 or 2.                       *
 *                                                                          *
 * Counters: us_per_op (real time per step / L, µs), faults_per_step (minor *
 * page faults: first touches of fresh buffers), items (n·L per step),      *
 * bytes (the traffic the ops must move, bytes_per_op_per_element below);   *
 * at n = 1 048 576 also floor_us_per_op (those bytes at the STREAM triad's *
 * bandwidth, measured at start for each thread count) and x_floor          *
 * (us_per_op / floor_us_per_op).                                           *
 *                                                                          *
 * Usage: bench_elementwise [--smoke] [--jsonl] [--isolate] [--threads T]   *
 *                          [Google Benchmark flags]                        *
 *   --smoke (or XGRAD_BENCH_SMOKE=1): n ∈ {64, 4096} only, one short       *
 *       repetition each, no warm-up, a small triad: proves it runs.        *
 *   --jsonl: one JSON object per line on stdout (the schema of             *
 *       bench/peers/torch_elementwise.py), for bench/peers/                *
 *       elementwise_report.py; the console table otherwise.                *
 *   --isolate: each case in a child process forked before any case runs:  *
 *       in one process glibc's heap makes a case's time depend on the      *
 *       cases before it (see run_in_child). With it, --benchmark_out       *
 *       keeps only the last case.                                          *
 *   --threads T: only that thread count (repeatable; default 1 and 2).     *
 *   Defaults, which the flags override: --benchmark_min_warmup_time=0.15   *
 *   --benchmark_min_time=0.15 --benchmark_repetitions=3 (and, on the       *
 *   console, --benchmark_display_aggregates_only=true): the median of 3    *
 *   repetitions, each the mean of as many steps as fill 0.15 s (at         *
 *   n = 1 048 576 the steps' page faults come in a pattern some steps      *
 *   long: one step is not enough), after 0.15 s of warm-up (the heap takes *
 *   some steps to settle); all 80 cases take about 90 s.                   *
 ***************************************************************************/
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include <xgrad/xgrad.hpp>

#include "stream_triad.hpp"

namespace {

using xgrad::array;
using xgrad::Var;

constexpr int chain_length = 4;  // L
const std::vector<long> sizes = {64, 4096, 65536, 1048576};
const std::vector<long> smoke_sizes = {64, 4096};
constexpr long floor_size = 1048576;  // the size the bandwidth floor is stated at

enum class Op { tanh, sigmoid, exp, log, mul_add };
const char* op_name(Op op) {
    switch (op) {
        case Op::tanh:
            return "tanh";
        case Op::sigmoid:
            return "sigmoid";
        case Op::exp:
            return "exp";
        case Op::log:
            return "log";
        case Op::mul_add:
            return "mul_add";
    }
    return "";
}

/// @brief Bytes an op must move per element in one forward + backward pass, averaged over the
/// chain (doubles of 8 bytes; zero_grad is lazy and moves nothing).
///  - Unary y = f(x): forward reads x, writes y (2); backward reads g and y (exp, tanh, sigmoid)
///    or x (log), writes dx (3): 5 doubles.
///  - mul_add pair t = h·a, h' = t + b: forward: mul reads h, a, writes t (3), add reads t, b,
///    writes h' (3); backward: add reads g, writes dt and db (3), mul reads dt, a, h and writes
///    dh and da (5): 14 doubles. a and b take a contribution from every pair: the first
///    overwrites (zero_grad is lazy), the other L − 1 = 3 read the sum so far (+1 double each
///    for da and db), so a chain of 4 pairs moves 4·14 + 3·2 = 62 doubles per element, 15.5 per
///    pair.
double bytes_per_op_per_element(Op op) {
    if (op == Op::mul_add) {
        return 8.0 * (chain_length * 14.0 + (chain_length - 1) * 2.0) / chain_length;
    }
    return 8.0 * 5.0;
}

/// @brief The chain's inputs, seeded, in ranges that keep every value and gradient finite over
/// the four steps.
struct Inputs {
    Var x, a, b;  // a and b: mul_add only
    array seed;   // ones of shape (n)
};

array uniform(xgrad::Random& random, std::size_t n, double low, double high) {
    array values = array::from_shape({n});
    for (double& v : values) v = random.uniform(low, high);
    return values;
}

Inputs make_inputs(Op op, std::size_t n) {
    xgrad::Random random(15);
    Inputs in;
    switch (op) {
        case Op::tanh:
        case Op::sigmoid:
            in.x = xgrad::parameter(uniform(random, n, -3.0, 3.0));
            break;
        case Op::exp:  // exp⁴(x) ≤ e^e
            in.x = xgrad::parameter(uniform(random, n, -20.0, -10.0));
            break;
        case Op::log:  // log⁴(x) ≥ 0.03
            in.x = xgrad::parameter(uniform(random, n, 1e7, 1e8));
            break;
        case Op::mul_add:
            in.x = xgrad::parameter(uniform(random, n, -1.0, 1.0));
            in.a = xgrad::parameter(uniform(random, n, 0.5, 1.0));
            in.b = xgrad::parameter(uniform(random, n, -1.0, 1.0));
            break;
    }
    in.seed = xt::ones<double>({n});
    return in;
}

/// @brief The inputs of (op, n), kept from one call to the next: Google Benchmark calls a case's
/// function for its warm-up, its estimate of the iteration count and every repetition, and drawing
/// 3 × 1 048 576 random numbers each time would take longer than the timed steps themselves.
const Inputs& inputs_for(Op op, std::size_t n) {
    static Op cached_op = Op::tanh;
    static std::size_t cached_n = 0;
    static Inputs& cached = *new Inputs;  // never destroyed: no order to get wrong at exit
    if (cached_n != n || cached_op != op) {
        cached = Inputs{};  // free the previous case's arrays first
        cached = make_inputs(op, n);
        cached_op = op;
        cached_n = n;
    }
    return cached;
}

/// @brief The chain of L ops from x (define-by-run: new nodes on every call).
Var chain(Op op, const Inputs& in) {
    Var h = in.x;
    for (int l = 0; l < chain_length; ++l) {
        switch (op) {
            case Op::tanh:
                h = xgrad::tanh(h);
                break;
            case Op::sigmoid:
                h = xgrad::sigmoid(h);
                break;
            case Op::exp:
                h = xgrad::exp(h);
                break;
            case Op::log:
                h = xgrad::log(h);
                break;
            case Op::mul_add:
                h = h * in.a + in.b;
                break;
        }
    }
    return h;
}

void zero_grads(const Inputs& in) {
    in.x.zero_grad();
    if (in.a.defined()) {
        in.a.zero_grad();
        in.b.zero_grad();
    }
}

/// @brief STREAM triad bandwidth (GB/s) for each thread count, measured before the benchmarks.
std::map<int, double> triad_gb_per_s;

void run_chain(benchmark::State& state, Op op, bool replayed) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const int threads = static_cast<int>(state.range(1));
    xgrad::set_blas_threads(threads);
    const Inputs& in = inputs_for(op, n);
    rusage usage_before{};
    std::chrono::steady_clock::time_point start;
    auto start_clocks = [&] {  // right before the timed loop, as Google Benchmark's own clock
        getrusage(RUSAGE_SELF, &usage_before);
        start = std::chrono::steady_clock::now();
    };
    if (replayed) {
        xgrad::Tape tape(chain(op, in));
        start_clocks();
        for (auto _ : state) {
            tape.forward();
            tape.backward(in.seed);
            zero_grads(in);
        }
        benchmark::DoNotOptimize(tape.output().value().data());
    } else {
        start_clocks();
        for (auto _ : state) {
            const Var y = chain(op, in);
            y.backward(in.seed);
            benchmark::DoNotOptimize(in.x.grad().data());
            zero_grads(in);
        }  // each step's graph is torn down here, inside the timed loop
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rusage usage_after{};  // (the replayed tape's teardown comes after: not counted)
    getrusage(RUSAGE_SELF, &usage_after);
    const double bytes_per_op = bytes_per_op_per_element(op) * static_cast<double>(n);
    const auto steps = static_cast<std::int64_t>(state.iterations());
    state.SetItemsProcessed(steps * chain_length * static_cast<std::int64_t>(n));
    state.SetBytesProcessed(
        static_cast<std::int64_t>(static_cast<double>(steps) * chain_length * bytes_per_op));
    // Plain numbers (Google Benchmark's inverted rates would print µs with a unit "s"); the
    // loop's own clock agrees with the reported real time to the loop's overhead.
    const double us_per_op =
        seconds / static_cast<double>(std::max<std::int64_t>(steps, 1)) / chain_length * 1e6;
    state.counters["us_per_op"] = us_per_op;
    // Minor page faults per step: the first touches of fresh buffers (expensive on a VM).
    state.counters["faults_per_step"] =
        static_cast<double>(usage_after.ru_minflt - usage_before.ru_minflt) /
        static_cast<double>(std::max<std::int64_t>(steps, 1));
    const auto triad = triad_gb_per_s.find(threads);
    if (static_cast<long>(n) == floor_size && triad != triad_gb_per_s.end()) {
        const double floor_us = bytes_per_op / (triad->second * 1e9) * 1e6;
        state.counters["floor_us_per_op"] = floor_us;
        state.counters["x_floor"] = us_per_op / floor_us;
    }
}

/// @brief One JSON object per line for every case (its median over the repetitions when there
/// are several): the schema torch_elementwise.py prints too.
class JsonLinesReporter : public benchmark::BenchmarkReporter {
  public:
    bool ReportContext(const Context&) override { return true; }

    void ReportRuns(const std::vector<Run>& runs) override {
        for (const Run& run : runs) {
            if (run.error_occurred) {
                std::fprintf(stderr, "%s: %s\n", run.benchmark_name().c_str(),
                             run.error_message.c_str());
                continue;
            }
            if (run.run_type == Run::RT_Iteration) {
                iterations_ = static_cast<long long>(run.iterations);
                if (run.repetitions <= 1) print(run, iterations_);
            } else if (run.aggregate_name == "median") {
                print(run, iterations_);
            }
        }
    }

  private:
    // Steps per repetition, from the last repetition reported (Google Benchmark reports the
    // repetitions and then, in another call, the aggregates, whose count is the repetitions').
    long long iterations_ = 0;

    static double counter(const Run& run, const char* name) {
        // (the median row's counters are the medians of the repetitions' values)
        const auto found = run.counters.find(name);
        return found == run.counters.end() ? -1.0 : static_cast<double>(found->second);
    }

    // function_name is "<op>/<mode>", args "n:<n>/threads:<T>".
    static void print(const Run& run, long long iterations) {
        const std::string& name = run.run_name.function_name;
        const std::size_t slash = name.find('/');
        long n = 0;
        int threads = 0;
        if (std::sscanf(run.run_name.args.c_str(), "n:%ld/threads:%d", &n, &threads) != 2 ||
            slash == std::string::npos) {
            return;
        }
        // Real time per step, in the benchmarks' unit (µs): the median row holds the median.
        const double step_us = run.GetAdjustedRealTime();
        const double us_per_op = step_us / chain_length;
        std::printf(
            "{\"workload\": \"elementwise chain\", \"side\": \"xgrad\", \"op\": \"%s\", "
            "\"mode\": \"%s\", \"n\": %ld, \"threads\": %d, \"us_per_op\": %.4f, "
            "\"median_us\": %.4f, \"repeats\": %lld, \"iterations\": %lld",
            name.substr(0, slash).c_str(), name.substr(slash + 1).c_str(), n, threads, us_per_op,
            step_us, static_cast<long long>(run.repetitions), iterations);
        std::printf(", \"faults_per_step\": %.1f", counter(run, "faults_per_step"));
        const double floor_us = counter(run, "floor_us_per_op");
        if (floor_us > 0.0) {
            std::printf(", \"floor_us_per_op\": %.4f, \"x_floor\": %.4f", floor_us,
                        us_per_op / floor_us);
        }
        std::printf("}\n");
        std::fflush(stdout);
    }
};

/// @brief Runs the benchmarks the filter selects, through `reporter` (the console if null).
void run(benchmark::BenchmarkReporter* reporter) {
    if (reporter != nullptr) {
        benchmark::RunSpecifiedBenchmarks(reporter);
    } else {
        benchmark::RunSpecifiedBenchmarks();
    }
}

/// @brief Whether Google Benchmark's filter (an extended regular expression, "all" for all, a
/// leading '-' negating it) selects `name`.
bool selected(const std::string& filter, const std::string& name) {
    std::string spec = filter.empty() || filter == "all" ? "." : filter;
    const bool negated = spec[0] == '-';
    if (negated) spec.erase(0, 1);
    return std::regex_search(name, std::regex(spec, std::regex::extended)) != negated;
}

/// @brief Runs one case in a child process, from the heap the parent has before any case ran:
/// glibc's allocator adapts (its mmap threshold, its heap top) to the sizes freed before, so in
/// one process a rebuilt case's page faults per step, and at n = 1 048 576 its time, depend on
/// the cases run before it. False if the child failed.
bool run_in_child(const std::string& name, benchmark::BenchmarkReporter* reporter) {
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t child = fork();
    if (child < 0) {
        std::perror("bench_elementwise: fork");
        return false;
    }
    if (child == 0) {
        benchmark::SetBenchmarkFilter("^" + name + "/");
        run(reporter);
        std::fflush(stdout);
        std::fflush(stderr);
        std::_Exit(0);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        std::fprintf(stderr, "bench_elementwise: the child process running %s failed\n",
                     name.c_str());
        return false;
    }
    return true;
}

bool starts_with(const char* text, const char* prefix) {
    return std::strncmp(text, prefix, std::strlen(prefix)) == 0;
}

}  // namespace

int main(int argc, char** argv) {
    const char* smoke_env = std::getenv("XGRAD_BENCH_SMOKE");
    bool smoke =
        smoke_env != nullptr && std::strcmp(smoke_env, "") != 0 && std::strcmp(smoke_env, "0") != 0;
    bool jsonl = false, isolate = false;
    std::vector<int> thread_counts;
    // Our flags out, our defaults in front of the user's Google Benchmark flags (later flags win).
    std::vector<char*> args = {argv[0]};
    std::vector<std::string> defaults;
    std::vector<char*> user;
    bool user_min_time = false, user_repetitions = false, user_warmup = false;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--smoke") == 0) {
            smoke = true;
        } else if (std::strcmp(argv[i], "--jsonl") == 0) {
            jsonl = true;
        } else if (std::strcmp(argv[i], "--isolate") == 0) {
            isolate = true;
        } else if (std::strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            const int threads = std::atoi(argv[++i]);
            if (threads < 1) {
                std::fprintf(stderr, "--threads: '%s' is not a thread count >= 1\n", argv[i]);
                return 1;
            }
            thread_counts.push_back(threads);
        } else {
            user_min_time = user_min_time || starts_with(argv[i], "--benchmark_min_time=");
            user_warmup = user_warmup || starts_with(argv[i], "--benchmark_min_warmup_time");
            user_repetitions = user_repetitions || starts_with(argv[i], "--benchmark_repetitions");
            user.push_back(argv[i]);
        }
    }
    if (!user_min_time)
        defaults.push_back(smoke ? "--benchmark_min_time=0.001" : "--benchmark_min_time=0.15");
    if (!user_warmup && !smoke) defaults.push_back("--benchmark_min_warmup_time=0.15");
    if (!user_repetitions) {
        defaults.push_back(smoke ? "--benchmark_repetitions=1" : "--benchmark_repetitions=3");
    }
    // The console shows the aggregates; the JSON lines reporter sees every repetition (it prints
    // the median, with the repetitions' iteration count).
    if (!jsonl) defaults.push_back("--benchmark_display_aggregates_only=true");
    for (std::string& d : defaults) args.push_back(d.data());
    args.insert(args.end(), user.begin(), user.end());
    int count = static_cast<int>(args.size());
    args.push_back(nullptr);
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;

    // Threads outermost: every case at one thread, then every case at two.
    if (thread_counts.empty()) thread_counts = {1, 2};
    std::vector<std::string> cases;  // their names, as the filter sees them without "/real_time"
    for (const int threads : thread_counts) {
        for (const Op op : {Op::tanh, Op::sigmoid, Op::exp, Op::log, Op::mul_add}) {
            for (const bool replayed : {false, true}) {
                const std::string name =
                    std::string(op_name(op)) + (replayed ? "/replayed" : "/rebuilt");
                auto* b = benchmark::RegisterBenchmark(
                    name.c_str(),
                    [op, replayed](benchmark::State& state) { run_chain(state, op, replayed); });
                b->ArgNames({"n", "threads"})->Unit(benchmark::kMicrosecond)->UseRealTime();
                for (const long n : smoke ? smoke_sizes : sizes) {
                    b->Args({n, threads});
                    cases.push_back(name + "/n:" + std::to_string(n) +
                                    "/threads:" + std::to_string(threads));
                }
            }
        }
    }

    // The bandwidth floor: the triad at each thread count, before anything else runs.
    for (const int threads : thread_counts) {
        const double gb_per_s = smoke
                                    ? xgrad::bench::stream_triad_gb_per_s(threads, 2'000'000, 0.01)
                                    : xgrad::bench::stream_triad_gb_per_s(threads, 20'000'000, 1.0);
        triad_gb_per_s[threads] = gb_per_s;
        const std::string key = "stream_triad_gb_per_s_threads_" + std::to_string(threads);
        benchmark::AddCustomContext(key, std::to_string(gb_per_s));
        if (jsonl) {
            std::printf(
                "{\"workload\": \"stream triad\", \"side\": \"xgrad\", \"threads\": %d, "
                "\"gb_per_s\": %.3f, \"stores\": \"%s\", \"elements\": %d}\n",
                threads, gb_per_s, xgrad::bench::stream_triad_stores(),
                smoke ? 2'000'000 : 20'000'000);
        }
    }
    benchmark::AddCustomContext("stream_triad_stores", xgrad::bench::stream_triad_stores());
    if (jsonl) {
        for (const Op op : {Op::tanh, Op::sigmoid, Op::exp, Op::log, Op::mul_add}) {
            std::printf(
                "{\"workload\": \"bytes per op\", \"side\": \"xgrad\", \"op\": \"%s\", "
                "\"bytes_per_element\": %.2f}\n",
                op_name(op), bytes_per_op_per_element(op));
        }
        std::fflush(stdout);
    }
    JsonLinesReporter json_lines;
    benchmark::BenchmarkReporter* reporter = jsonl ? &json_lines : nullptr;
    int status = 0;
    if (isolate) {
        const std::string filter = benchmark::GetBenchmarkFilter();
        for (const std::string& name : cases) {
            if (!selected(filter, name + "/real_time")) continue;
            if (!run_in_child(name, reporter)) status = 1;
        }
    } else {
        run(reporter);
    }
    benchmark::Shutdown();
    return status;
}
