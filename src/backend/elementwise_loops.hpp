// The loops of the elementwise kernels, over a math policy M (ScalarMath or SimdMath<arch>):
// make_kernel_table<M>() builds one instruction set's KernelTable. Included only by the files
// that build a table (elementwise_scalar.cpp, elementwise_avx2.cpp, elementwise_avx512.cpp), each
// compiled for its instruction set: everything here is a template over M, so that the
// instantiations of different sets never share a symbol.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "backend/elementwise_kernels.hpp"
#include "ops/elementwise_rules.hpp"

namespace xgrad::detail::kernel_loops {

using namespace rules_math;

/// @brief f(rule) for the rule of `op`, instantiated with policy M.
template <class M, class F>
void visit_unary(UnaryOp op, F&& f) {
    switch (op) {
        case UnaryOp::neg:
            return f(Neg<M>{});
        case UnaryOp::square:
            return f(Square<M>{});
        case UnaryOp::power:
            return f(Power<M>{});
        case UnaryOp::exp:
            return f(Exp<M>{});
        case UnaryOp::log:
            return f(Log<M>{});
        case UnaryOp::tanh:
            return f(Tanh<M>{});
        case UnaryOp::sigmoid:
            return f(Sigmoid<M>{});
        case UnaryOp::relu:
            return f(Relu<M>{});
        case UnaryOp::abs:
            return f(Abs<M>{});
        case UnaryOp::leaky_relu:
            return f(LeakyRelu<M>{});
        case UnaryOp::softplus:
            return f(Softplus<M>{});
        case UnaryOp::log_sigmoid:
            return f(LogSigmoid<M>{});
        case UnaryOp::sin:
            return f(Sin<M>{});
        case UnaryOp::cos:
            return f(Cos<M>{});
        case UnaryOp::tan:
            return f(Tan<M>{});
        case UnaryOp::sqrt:
            return f(Sqrt<M>{});
        case UnaryOp::log1p:
            return f(Log1p<M>{});
        case UnaryOp::expm1:
            return f(Expm1<M>{});
        case UnaryOp::erf:
            return f(Erf<M>{});
        case UnaryOp::silu:
            return f(Silu<M>{});
        case UnaryOp::gelu:
            return f(Gelu<M>{});
        case UnaryOp::elu:
            return f(Elu<M>{});
        case UnaryOp::clip:
            return f(Clip<M>{});
        case UnaryOp::count:
            break;
    }
}

/// @brief f(rule) for the rule of `op`, instantiated with policy M.
template <class M, class F>
void visit_binary(BinaryOp op, F&& f) {
    switch (op) {
        case BinaryOp::add:
            return f(Add<M>{});
        case BinaryOp::sub:
            return f(Sub<M>{});
        case BinaryOp::mul:
            return f(Mul<M>{});
        case BinaryOp::div:
            return f(Div<M>{});
        case BinaryOp::pow:
            return f(Pow<M>{});
        case BinaryOp::strong_mul:
            return f(StrongMul<M>{});
        case BinaryOp::maximum:
            return f(Maximum<M>{});
        case BinaryOp::minimum:
            return f(Minimum<M>{});
        case BinaryOp::count:
            break;
    }
}

/// @brief out[i..i+w) = body(inputs, old) over [0, n) in vectors of M::width: input k is read
/// from in[k] + i (or, with step 0, is in[k][0] splatted); `old` is out's vector when
/// ReadsOut (accumulating), else a dummy (out is then never read). The last, partial vector runs
/// on copies padded with 1.0 (a value every rule takes), so that each element is computed by the
/// same instructions wherever it sits.
template <class M, bool ReadsOut, bool Stream, std::size_t... Steps, class Body>
void for_each_vector_as(const double* const (&in)[sizeof...(Steps)], double* out, std::size_t n,
                        Body body) {
    using T = typename M::T;
    constexpr std::size_t w = M::width;
    constexpr std::size_t inputs = sizeof...(Steps);
    constexpr std::size_t steps[inputs] = {Steps...};
    T splat[inputs];
    for (std::size_t k = 0; k < inputs; ++k) {
        if (steps[k] == 0) splat[k] = M::splat(in[k][0]);
    }
    std::size_t i = 0;
    for (; i + w <= n; i += w) {
        T v[inputs];
        for (std::size_t k = 0; k < inputs; ++k) v[k] = steps[k] ? M::load(in[k] + i) : splat[k];
        const T result = body(v, ReadsOut ? M::load(out + i) : M::splat(0.0));
        if constexpr (Stream) {
            M::store_stream(out + i, result);
        } else {
            M::store(out + i, result);
        }
    }
    if constexpr (Stream) M::stream_fence();
    if (i == n) return;
    const std::size_t rest = n - i;
    double pad[inputs][w];
    double result[w];
    T v[inputs];
    for (std::size_t k = 0; k < inputs; ++k) {
        if (!steps[k]) {
            v[k] = splat[k];
            continue;
        }
        for (std::size_t j = 0; j < w; ++j) pad[k][j] = j < rest ? in[k][i + j] : 1.0;
        v[k] = M::load(pad[k]);
    }
    for (std::size_t j = 0; j < w; ++j) result[j] = ReadsOut && j < rest ? out[i + j] : 0.0;
    M::store(result, body(v, M::load(result)));
    for (std::size_t j = 0; j < rest; ++j) out[i + j] = result[j];
}

/// @brief for_each_vector_as, with stores that bypass the caches when `stream` is asked for (a
/// large output), the output is not read, and it is aligned to the vector.
template <class M, bool ReadsOut, std::size_t... Steps, class Body>
void for_each_vector(bool stream, const double* const (&in)[sizeof...(Steps)], double* out,
                     std::size_t n, Body body) {
    constexpr std::size_t bytes = M::width * sizeof(double);
    if (!ReadsOut && M::width > 1 && stream && reinterpret_cast<std::uintptr_t>(out) % bytes == 0) {
        for_each_vector_as<M, ReadsOut, true, Steps...>(in, out, n, body);
    } else {
        for_each_vector_as<M, ReadsOut, false, Steps...>(in, out, n, body);
    }
}

/// @brief f(integral_constant a_step, integral_constant b_step): the steps as constants, so
/// that each pattern gets its own loop.
template <class F>
void with_steps(std::size_t a_step, std::size_t b_step, F&& f) {
    using zero = std::integral_constant<std::size_t, 0>;
    using one = std::integral_constant<std::size_t, 1>;
    if (a_step && b_step) return f(one{}, one{});
    if (a_step) return f(one{}, zero{});
    if (b_step) return f(zero{}, one{});
    f(zero{}, zero{});
}

template <class M>
void unary_forward(UnaryOp op, const Params& p, const double* x, double* y, std::size_t n,
                   bool stream) {
    using T = typename M::T;
    visit_unary<M>(op, [&](auto rule) {
        using Rule = decltype(rule);
        for_each_vector<M, false, 1>(stream, {x}, y, n,
                                     [&](const T(&v)[1], T) { return Rule::forward(v[0], p); });
    });
}

template <class M>
void unary_backward(UnaryOp op, const Params& p, const double* g, const double* x, const double* y,
                    double* out, std::size_t n, bool accumulate, bool stream) {
    using T = typename M::T;
    visit_unary<M>(op, [&](auto rule) {
        using Rule = decltype(rule);
        if (accumulate) {
            for_each_vector<M, true, 1, 1, 1>(
                stream, {g, x, y}, out, n, [&](const T(&v)[3], T old) {
                    return M::select(v[0] == 0.0, old, old + Rule::grad(v[0], v[1], v[2], p));
                });
        } else {
            for_each_vector<M, false, 1, 1, 1>(stream, {g, x, y}, out, n, [&](const T(&v)[3], T) {
                return M::select(v[0] == 0.0, M::splat(0.0), Rule::grad(v[0], v[1], v[2], p));
            });
        }
    });
}

template <class M>
void binary_forward(BinaryOp op, const double* a, std::size_t a_step, const double* b,
                    std::size_t b_step, double* y, std::size_t n, bool stream) {
    using T = typename M::T;
    visit_binary<M>(op, [&](auto rule) {
        using Rule = decltype(rule);
        with_steps(a_step, b_step, [&](auto sa, auto sb) {
            for_each_vector<M, false, sa(), sb()>(
                stream, {a, b}, y, n, [&](const T(&v)[2], T) { return Rule::forward(v[0], v[1]); });
        });
    });
}

template <class M>
void binary_backward(BinaryOp op, int side, const double* g, const double* a, std::size_t a_step,
                     const double* b, std::size_t b_step, const double* y, double* out,
                     std::size_t n, bool accumulate, bool stream) {
    using T = typename M::T;
    visit_binary<M>(op, [&](auto rule) {
        using Rule = decltype(rule);
        auto run = [&](auto grad) {
            with_steps(a_step, b_step, [&](auto sa, auto sb) {
                if (accumulate) {
                    for_each_vector<M, true, 1, sa(), sb(), 1>(
                        stream, {g, a, b, y}, out, n,
                        [&](const T(&v)[4], T old) { return old + grad(v); });
                } else {
                    for_each_vector<M, false, 1, sa(), sb(), 1>(
                        stream, {g, a, b, y}, out, n, [&](const T(&v)[4], T) { return grad(v); });
                }
            });
        };
        if (side == 0) {
            run([](const T(&v)[4]) { return Rule::grad_a(v[0], v[1], v[2], v[3]); });
        } else {
            run([](const T(&v)[4]) { return Rule::grad_b(v[0], v[1], v[2], v[3]); });
        }
    });
}

/// @brief Σ x[i] with four vector accumulators (independent chains of additions instead of
/// one), combined pairwise, then their lanes in order, then the tail in order.
template <class M>
double sum(const double* x, std::size_t n) {
    using T = typename M::T;
    constexpr std::size_t w = M::width;
    T acc[4] = {M::splat(0.0), M::splat(0.0), M::splat(0.0), M::splat(0.0)};
    std::size_t i = 0;
    for (; i + 4 * w <= n; i += 4 * w) {
        for (std::size_t k = 0; k < 4; ++k) acc[k] = acc[k] + M::load(x + i + k * w);
    }
    for (; i + w <= n; i += w) acc[0] = acc[0] + M::load(x + i);
    double lanes[w];
    M::store(lanes, (acc[0] + acc[1]) + (acc[2] + acc[3]));
    double total = 0.0;
    for (std::size_t k = 0; k < w; ++k) total += lanes[k];
    for (; i < n; ++i) total += x[i];
    return total;
}

/// @brief Σ f(x[i] − c) with four vector accumulators combined as sum() does; the last partial
/// vector is padded with `neutral`, for which f(neutral − c) adds exactly 0.
template <class M, class F>
double sum_of(const double* x, std::size_t n, double c, double neutral, F f) {
    using T = typename M::T;
    constexpr std::size_t w = M::width;
    const T centre = M::splat(c);
    T acc[4] = {M::splat(0.0), M::splat(0.0), M::splat(0.0), M::splat(0.0)};
    std::size_t i = 0;
    for (; i + 4 * w <= n; i += 4 * w) {
        for (std::size_t k = 0; k < 4; ++k) acc[k] = acc[k] + f(M::load(x + i + k * w) - centre);
    }
    for (; i + w <= n; i += w) acc[0] = acc[0] + f(M::load(x + i) - centre);
    if (i < n) {
        double pad[w];
        for (std::size_t j = 0; j < w; ++j) pad[j] = i + j < n ? x[i + j] : neutral;
        acc[1] = acc[1] + f(M::load(pad) - centre);
    }
    double lanes[w];
    M::store(lanes, (acc[0] + acc[1]) + (acc[2] + acc[3]));
    double total = 0.0;
    for (std::size_t k = 0; k < w; ++k) total += lanes[k];
    return total;
}

/// @brief The largest (smallest) of x[0..n), n ≥ 1; the first NaN if there is one.
template <class M>
double extremum(const double* x, std::size_t n, bool is_max) {
    using T = typename M::T;
    constexpr std::size_t w = M::width;
    T top = M::splat(x[0]);
    auto nan = M::isnan(top);
    std::size_t i = 0;
    for (; i + w <= n; i += w) {
        const T v = M::load(x + i);
        nan = nan | M::isnan(v);
        top = M::select(is_max ? v > top : v < top, v, top);
    }
    double lanes[w];
    M::store(lanes, top);
    double result = lanes[0];
    for (std::size_t k = 1; k < w; ++k) {
        if (is_max ? lanes[k] > result : lanes[k] < result) result = lanes[k];
    }
    bool tail_nan = false;
    for (; i < n; ++i) {
        tail_nan = tail_nan || x[i] != x[i];
        if (is_max ? x[i] > result : x[i] < result) result = x[i];
    }
    if (M::any(nan) || tail_nan) {
        for (std::size_t k = 0; k < n; ++k) {
            if (x[k] != x[k]) return x[k];
        }
    }
    return result;
}

template <class M>
double reduce(ReduceOp op, const double* x, std::size_t n, double c) {
    using T = typename M::T;
    switch (op) {
        case ReduceOp::max:
        case ReduceOp::min:
            return extremum<M>(x, n, op == ReduceOp::max);
        case ReduceOp::sum_shifted:
            return sum_of<M>(x, n, c, c, [](T d) { return d; });
        case ReduceOp::sum_squares:
            return sum_of<M>(x, n, c, c, [](T d) { return d * d; });
        case ReduceOp::sum_exp:
            return sum_of<M>(x, n, c, -HUGE_VAL, [](T d) { return M::exp(d); });
        case ReduceOp::sum_abs:
            return sum_of<M>(x, n, 0.0, 0.0, [](T d) { return M::abs(d); });
    }
    return 0.0;
}

template <class M>
void copy(const double* x, double* y, std::size_t n, bool stream) {
    using T = typename M::T;
    for_each_vector<M, false, 1>(stream, {x}, y, n, [](const T(&v)[1], T) { return v[0]; });
}

/// @brief The table of policy M's kernels.
template <class M>
KernelTable make_kernel_table(const char* name) {
    return KernelTable{
        name,    &unary_forward<M>, &unary_backward<M>, &binary_forward<M>, &binary_backward<M>,
        &sum<M>, &copy<M>,          &reduce<M>};
}

}  // namespace xgrad::detail::kernel_loops
