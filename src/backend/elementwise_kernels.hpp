// The elementwise kernels: every op of src/ops/elementwise_rules.hpp as a loop over contiguous
// doubles, built for each instruction set (scalar, AVX2, AVX-512) and chosen at run time, and
// split between the worker pool's threads when large.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ops/elementwise_rules.hpp"

namespace xgrad::detail {

using rules_math::Params;

/// @brief The one-input ops the kernels know (one per rule of elementwise_rules.hpp).
enum class UnaryOp : std::uint8_t {
    neg,
    square,
    power,
    exp,
    log,
    tanh,
    sigmoid,
    relu,
    abs,
    leaky_relu,
    softplus,
    log_sigmoid,
    sin,
    cos,
    tan,
    sqrt,
    log1p,
    expm1,
    erf,
    silu,
    gelu,
    elu,
    clip,
    count  // not an op: the number of them
};
/// @brief The two-input ops the kernels know.
enum class BinaryOp : std::uint8_t {
    add,
    sub,
    mul,
    div,
    pow,
    strong_mul,
    maximum,
    minimum,
    count  // not an op
};

/// @brief The reductions of a contiguous lane the kernels know; c is a shift or centre.
enum class ReduceOp : std::uint8_t {
    max,          ///< the largest element; NaN if the lane holds one
    min,          ///< the smallest element; NaN if the lane holds one
    sum_shifted,  ///< Σ (x − c)
    sum_squares,  ///< Σ (x − c)²
    sum_exp,      ///< Σ e^(x − c) (c finite)
    sum_abs,      ///< Σ |x|
};

/// @brief One instruction set's kernels. Every loop runs over n elements; a binary operand with
/// step 1 is an array of n, with step 0 one number repeated. Where `accumulate` is false the
/// output is overwritten (never read: old NaN cannot leak in), else added to. Backward loops
/// apply strong zeros: where g = 0 the contribution is exactly 0. `stream` asks for stores that
/// bypass the caches (an output too large to stay in them; used where it is aligned and not read).
struct KernelTable {
    const char* name;  // "scalar", "avx2", "avx512"
    /// @brief y[i] = f(x[i]).
    void (*unary_forward)(UnaryOp op, const Params& p, const double* x, double* y, std::size_t n,
                          bool stream);
    /// @brief out[i] (=, +=) g[i]·f′(x[i]) (the rule's grad, given y = f(x)).
    void (*unary_backward)(UnaryOp op, const Params& p, const double* g, const double* x,
                           const double* y, double* out, std::size_t n, bool accumulate,
                           bool stream);
    /// @brief y[i] = f(a[i·a_step], b[i·b_step]).
    void (*binary_forward)(BinaryOp op, const double* a, std::size_t a_step, const double* b,
                           std::size_t b_step, double* y, std::size_t n, bool stream);
    /// @brief out[i] (=, +=) ∂L/∂a (side 0) or ∂L/∂b (side 1) at element i.
    void (*binary_backward)(BinaryOp op, int side, const double* g, const double* a,
                            std::size_t a_step, const double* b, std::size_t b_step,
                            const double* y, double* out, std::size_t n, bool accumulate,
                            bool stream);
    /// @brief x[0] + … + x[n−1], in a fixed order for each instruction set (four vector
    /// accumulators, then their lanes, then the tail).
    double (*sum)(const double* x, std::size_t n);
    /// @brief y[i] = x[i] (a backward seed; with stream, stores that bypass the caches).
    void (*copy)(const double* x, double* y, std::size_t n, bool stream);
    /// @brief The reduction `op` of x[0..n), n ≥ 1, in a fixed order for each instruction set
    /// (four vector accumulators, then their lanes; the last partial vector padded with a value
    /// that adds nothing).
    double (*reduce)(ReduceOp op, const double* x, std::size_t n, double c);
};

/// @brief The kernels in use: those named by set_simd_instruction_set() or the XGRAD_SIMD
/// environment variable ("avx512", "avx2", "scalar"), else the widest this CPU runs.
const KernelTable& kernels();
/// @brief The kernels of one instruction set, or null if they were not built or this CPU cannot
/// run them (for the tests, which compare every set against "scalar").
const KernelTable* kernels_for(const char* name);

/// The kernels in use, with calls of at least `parallel_elements` elements split between the
/// worker pool's threads (at multiples of 8 elements; every element is computed by the same
/// instructions wherever a split falls, so results are bit for bit those of one thread).
void unary_forward(UnaryOp op, const Params& p, const double* x, double* y, std::size_t n);
void unary_backward(UnaryOp op, const Params& p, const double* g, const double* x, const double* y,
                    double* out, std::size_t n, bool accumulate);
void binary_forward(BinaryOp op, const double* a, std::size_t a_step, const double* b,
                    std::size_t b_step, double* y, std::size_t n);
void binary_backward(BinaryOp op, int side, const double* g, const double* a, std::size_t a_step,
                     const double* b, std::size_t b_step, const double* y, double* out,
                     std::size_t n, bool accumulate);

/// @brief Σ x[i]: blocks of sum_block elements each summed by the kernel, then the blocks' sums
/// added in order; blocks split between threads for large n, with the same result.
double sum(const double* x, std::size_t n);
constexpr std::size_t sum_block = std::size_t{1} << 13;

/// @brief The reduction `op` of x[0..n), n ≥ 1 (see ReduceOp): blocks of sum_block elements
/// each reduced by the kernel, then the blocks' results combined in order; blocks split between
/// threads for large n, with the same result on any thread count.
double reduce(ReduceOp op, const double* x, std::size_t n, double c = 0.0);

/// @brief dst[i] = src[i], split between threads like the kernels (a backward seed).
void copy(const double* src, double* dst, std::size_t n);

/// @brief Outputs of at least this many bytes are written with stores that bypass the caches.
/// Measured on four chained tanh of 2²⁰ elements (AVX-512): backward 5.0 → 3.6 ms on one thread;
/// forward, compute-bound there, the same (5.0 ms), and on two threads 2.3–2.6 ms streamed
/// against 2.4–4.1 ms cached.
constexpr std::size_t streaming_bytes = std::size_t{1} << 22;

/// @brief Calls of at least this many elements are split between threads.
constexpr std::size_t parallel_elements = std::size_t{1} << 16;

/// The tables built into this library (elementwise_scalar.cpp, elementwise_avx2.cpp, ...).
const KernelTable& scalar_kernel_table();
const KernelTable* avx2_kernel_table();    // null if not built
const KernelTable* avx512_kernel_table();  // null if not built

}  // namespace xgrad::detail
