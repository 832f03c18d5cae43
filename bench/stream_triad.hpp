// STREAM's triad a = b + s·c: this machine's memory bandwidth, the floor the benchmarks'
// memory-bound workloads are measured against (bench_peers, bench_elementwise).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define XGRAD_BENCH_TRIAD_X86 1
#endif

namespace xgrad::bench {

namespace triad_detail {

#ifdef XGRAD_BENCH_TRIAD_X86
/// @brief a[i] = b[i] + s·c[i] over [first, last) (a multiple of 4 long, 32-byte aligned), with
/// AVX non-temporal stores. Built for AVX whatever the translation unit's flags; called only if
/// the CPU has AVX.
__attribute__((target("avx"))) inline void triad_avx(double* a, const double* b, const double* c,
                                                     std::size_t first, std::size_t last) {
    const __m256d s = _mm256_set1_pd(3.0);
    for (std::size_t i = first; i < last; i += 4) {
        _mm256_stream_pd(
            a + i, _mm256_add_pd(_mm256_load_pd(b + i), _mm256_mul_pd(s, _mm256_load_pd(c + i))));
    }
    _mm_sfence();
}
#endif

inline bool has_avx() {
#ifdef XGRAD_BENCH_TRIAD_X86
    return __builtin_cpu_supports("avx");
#else
    return false;
#endif
}

}  // namespace triad_detail

/// @brief How the triad stores its results on this CPU: "non-temporal stores" (AVX streaming
/// stores, as STREAM's best runs) or "ordinary stores".
inline const char* stream_triad_stores() {
    return triad_detail::has_avx() ? "non-temporal stores" : "ordinary stores";
}

/// @brief STREAM's triad a = b + s·c over three arrays of n doubles (n a multiple of 4;
/// 20 000 000 = 3 × 160 MB is larger than any cache here), split into `threads` contiguous slices
/// run on their own threads. Returns the bandwidth in GB/s, counting 24 bytes per element as
/// STREAM does, from the median of repeated runs: after two warm-up runs, at least five and as
/// many as `min_seconds` allows. With AVX the stores bypass the cache (non-temporal), so the
/// write-allocate reads do not eat into the measured bandwidth.
inline double stream_triad_gb_per_s(int threads, std::size_t n = 20'000'000,
                                    double min_seconds = 2.0) {
    auto allocate = [n](double value) {
        auto* p = static_cast<double*>(std::aligned_alloc(64, n * sizeof(double)));
        if (p == nullptr) throw std::bad_alloc();
        std::fill(p, p + n, value);  // first touch outside the timed runs
        return std::unique_ptr<double, decltype(&std::free)>(p, &std::free);
    };
    auto a = allocate(0.0);
    auto b = allocate(1.0);
    auto c = allocate(2.0);
    const bool avx = triad_detail::has_avx();
    auto triad = [&](std::size_t first, std::size_t last) {
#ifdef XGRAD_BENCH_TRIAD_X86
        if (avx) {
            triad_detail::triad_avx(a.get(), b.get(), c.get(), first, last);
            return;
        }
#endif
        for (std::size_t i = first; i < last; ++i) a.get()[i] = b.get()[i] + 3.0 * c.get()[i];
    };
    const std::size_t parts = static_cast<std::size_t>(std::max(threads, 1));
    const std::size_t slice = n / parts / 4 * 4;  // whole AVX vectors per slice
    auto run = [&] {
        std::vector<std::thread> helpers;
        for (std::size_t t = 1; t < parts; ++t) {
            helpers.emplace_back(triad, t * slice, t + 1 == parts ? n : (t + 1) * slice);
        }
        triad(0, parts == 1 ? n : slice);
        for (std::thread& h : helpers) h.join();
    };
    run();
    run();
    std::vector<double> seconds;
    const auto start = std::chrono::steady_clock::now();
    while (seconds.size() < 5 ||
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() <
               min_seconds) {
        const auto t0 = std::chrono::steady_clock::now();
        run();
        seconds.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::nth_element(seconds.begin(), seconds.begin() + seconds.size() / 2, seconds.end());
    // Read a result, so that no run can be optimised away.
    volatile double keep = a.get()[n / 2];
    (void)keep;
    return 3.0 * 8.0 * static_cast<double>(n) / seconds[seconds.size() / 2] / 1e9;
}

}  // namespace xgrad::bench
