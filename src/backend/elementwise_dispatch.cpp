// Which instruction set's elementwise kernels run, and the split of large calls between the
// worker pool's threads.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "backend/elementwise_kernels.hpp"
#include "backend/worker_pool.hpp"
#include "xgrad/backend/simd.hpp"

namespace xgrad::detail {

#ifndef XGRAD_HAVE_AVX2_KERNELS
const KernelTable* avx2_kernel_table() {
    return nullptr;
}
#endif
#ifndef XGRAD_HAVE_AVX512_KERNELS
const KernelTable* avx512_kernel_table() {
    return nullptr;
}
#endif

namespace {

/// @brief Whether this CPU (and its OS) runs the set: GCC's and clang's CPU checks look at
/// XCR0 too, so an OS that does not save AVX-512 state reads as no AVX-512.
bool cpu_runs(const char* name) {
#if defined(__x86_64__) || defined(__i386__)
    if (std::strcmp(name, "avx512") == 0) {  // the Skylake-X set (F, CD, DQ, BW, VL) and FMA
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma");
    }
    if (std::strcmp(name, "avx2") == 0) {
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
#endif
    return std::strcmp(name, "scalar") == 0;
}

const KernelTable* widest() {
    for (const char* name : {"avx512", "avx2"}) {
        if (const KernelTable* table = kernels_for(name)) return table;
    }
    return &scalar_kernel_table();
}

const KernelTable* initial() {
    const char* requested = std::getenv("XGRAD_SIMD");
    if (requested != nullptr && *requested != '\0' && std::strcmp(requested, "native") != 0) {
        if (const KernelTable* table = kernels_for(requested)) return table;
    }
    return widest();
}

std::atomic<const KernelTable*>& current() {
    static std::atomic<const KernelTable*> table{initial()};
    return table;
}

/// @brief Runs body(first, count) over items [0, n), split between threads when the items
/// hold parallel_elements elements or more (`item_elements` each), at multiples of `grain` items.
template <class Body>
void split(std::size_t n, Body body, std::size_t item_elements = 1, std::size_t grain = 8) {
    const std::size_t work = n * item_elements;
    const std::size_t parts =
        work < parallel_elements ? 1 : std::min(n, parallel_parts(work, parallel_elements / 2));
    if (parts <= 1) {
        body(std::size_t{0}, n);
        return;
    }
    struct Context {
        Body* body;
        std::size_t n, parts, grain;
    } context{&body, n, parts, grain};
    run_in_parallel(
        parts,
        [](void* raw, std::size_t part) {
            const Context& c = *static_cast<const Context*>(raw);
            const std::size_t chunk = (c.n / c.parts + c.grain - 1) / c.grain * c.grain;
            const std::size_t first = std::min(c.n, part * chunk);
            const std::size_t last = part + 1 == c.parts ? c.n : std::min(c.n, first + chunk);
            if (first < last) (*c.body)(first, last - first);
        },
        &context);
}

}  // namespace

const KernelTable* kernels_for(const char* name) {
    if (!cpu_runs(name)) return nullptr;
    if (std::strcmp(name, "avx512") == 0) return avx512_kernel_table();
    if (std::strcmp(name, "avx2") == 0) return avx2_kernel_table();
    return &scalar_kernel_table();
}

const KernelTable& kernels() {
    return *current().load(std::memory_order_acquire);
}

void unary_forward(UnaryOp op, const Params& p, const double* x, double* y, std::size_t n) {
    const KernelTable& k = kernels();
    const bool stream = n * sizeof(double) >= streaming_bytes;
    split(n, [&](std::size_t i, std::size_t count) {
        k.unary_forward(op, p, x + i, y + i, count, stream);
    });
}

void unary_backward(UnaryOp op, const Params& p, const double* g, const double* x, const double* y,
                    double* out, std::size_t n, bool accumulate) {
    const KernelTable& k = kernels();
    const bool stream = n * sizeof(double) >= streaming_bytes;
    split(n, [&](std::size_t i, std::size_t count) {
        k.unary_backward(op, p, g + i, x + i, y + i, out + i, count, accumulate, stream);
    });
}

void binary_forward(BinaryOp op, const double* a, std::size_t a_step, const double* b,
                    std::size_t b_step, double* y, std::size_t n) {
    const KernelTable& k = kernels();
    const bool stream = n * sizeof(double) >= streaming_bytes;
    split(n, [&](std::size_t i, std::size_t count) {
        k.binary_forward(op, a + i * a_step, a_step, b + i * b_step, b_step, y + i, count, stream);
    });
}

void binary_backward(BinaryOp op, int side, const double* g, const double* a, std::size_t a_step,
                     const double* b, std::size_t b_step, const double* y, double* out,
                     std::size_t n, bool accumulate) {
    const KernelTable& k = kernels();
    const bool stream = n * sizeof(double) >= streaming_bytes;
    split(n, [&](std::size_t i, std::size_t count) {
        k.binary_backward(op, side, g + i, a + i * a_step, a_step, b + i * b_step, b_step, y + i,
                          out + i, count, accumulate, stream);
    });
}

/// @brief block(start, count) over blocks of sum_block elements of [0, n), split between threads
/// when large (whole blocks to each thread: a block's result is the same whichever thread makes
/// it); the blocks' results in order.
template <class Block>
std::vector<double> for_each_block(std::size_t n, Block block) {
    const std::size_t blocks = (n + sum_block - 1) / sum_block;
    std::vector<double> partial(blocks);
    split(
        blocks,
        [&](std::size_t first, std::size_t count) {
            for (std::size_t b = first; b < first + count; ++b) {
                const std::size_t start = b * sum_block;
                partial[b] = block(start, std::min(sum_block, n - start));
            }
        },
        sum_block, 1);
    return partial;
}

double sum(const double* x, std::size_t n) {
    const KernelTable& k = kernels();
    if (n <= sum_block) return k.sum(x, n);
    double total = 0.0;
    for (double p : for_each_block(
             n, [&](std::size_t start, std::size_t count) { return k.sum(x + start, count); })) {
        total += p;
    }
    return total;
}

double reduce(ReduceOp op, const double* x, std::size_t n, double c) {
    const KernelTable& k = kernels();
    if (n <= sum_block) return k.reduce(op, x, n, c);
    const std::vector<double> partial = for_each_block(
        n, [&](std::size_t start, std::size_t count) { return k.reduce(op, x + start, count, c); });
    if (op == ReduceOp::max || op == ReduceOp::min) {
        return k.reduce(op, partial.data(), partial.size(), 0.0);
    }
    double total = 0.0;
    for (double p : partial) total += p;
    return total;
}

void copy(const double* src, double* dst, std::size_t n) {
    if (n == 0) return;
    const KernelTable& k = kernels();
    const bool stream = n * sizeof(double) >= streaming_bytes;
    split(n, [&](std::size_t i, std::size_t count) { k.copy(src + i, dst + i, count, stream); });
}

}  // namespace xgrad::detail

namespace xgrad {

std::string simd_instruction_set() {
    return detail::kernels().name;
}

bool set_simd_instruction_set(const std::string& name) {
    const detail::KernelTable* table =
        name == "native" ? detail::widest() : detail::kernels_for(name.c_str());
    if (table == nullptr) return false;
    detail::current().store(table, std::memory_order_release);
    return true;
}

}  // namespace xgrad
