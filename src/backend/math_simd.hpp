// SimdMath<Arch>: the math policy of src/ops/elementwise_rules.hpp for a vector of doubles
// (xsimd 8 batches of an instruction set: AVX2 or AVX-512). Included only by the kernel files
// built for that instruction set (src/backend/elementwise_avx2.cpp, elementwise_avx512.cpp).
//
// Accuracy (tests/backend/test_elementwise_kernels.cpp checks it against ScalarMath, the C
// library, on a sweep with ±0, subnormals, ±1000, ±inf and NaN): within 2 ulp for every function
// here. exp is our own (Cody–Waite reduction and a degree-11 polynomial: xsimd 8's converts
// through scalar int64 on AVX2 and flushes subnormal results); erf, erfc and pow are the C
// library's, lane by lane (xsimd's are not accurate enough); the others are xsimd's. Where a
// vector formula leaves its accurate range (exp's subnormal and overflow ends, expm1's
// overflow end, log of subnormals), the lanes concerned, and only they, take the C library's value:
// so an element's result never depends on its neighbours or its position in the array.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include <immintrin.h>
#include <xsimd/xsimd.hpp>

namespace xgrad::detail {

/// @brief The rules' math on xsimd batches of doubles for instruction set Arch.
template <class Arch>
struct SimdMath {
    using T = xsimd::batch<double, Arch>;
    using Mask = xsimd::batch_bool<double, Arch>;
    static constexpr std::size_t width = T::size;

    static T load(const double* p) { return T::load_unaligned(p); }
    static void store(double* p, T v) { v.store_unaligned(p); }
    /// @brief A store that bypasses the caches (p aligned to the vector): for outputs too large to
    /// stay in them, it saves reading each line in before writing it. stream_fence() after.
    static void store_stream(double* p, T v) {
        if constexpr (width == 8) {
            _mm512_stream_pd(p, v);
        } else {
            _mm256_stream_pd(p, v);
        }
    }
    static void stream_fence() { _mm_sfence(); }
    static T splat(double v) { return T(v); }
    static T select(const Mask& condition, T a, T b) { return xsimd::select(condition, a, b); }
    static Mask isnan(T x) { return xsimd::isnan(x); }
    static T times(T g, T d) { return xsimd::select(g == 0.0, T(0.0), g * d); }
    static T divide(T g, T d) { return xsimd::select(g == 0.0, T(0.0), g / d); }

    /// @brief −x with its sign bit flipped (−(+0) = −0), as on a double: xsimd 8's AVX-512
    /// negation computes 0 − x, which gives +0 for +0.
    static T neg(T x) { return x ^ T(-0.0); }
    static T abs(T x) { return xsimd::abs(x); }
    static T sign(T x) {
        return xsimd::select(x > 0.0, T(1.0), T(0.0)) - xsimd::select(x < 0.0, T(1.0), T(0.0));
    }
    static T sqrt(T x) { return xsimd::sqrt(x); }

    /// @brief eˣ: x = k·ln 2 + r with |r| ≤ ln 2/2 (k rounded by the 1.5·2⁵² shift, ln 2 in two
    /// parts so that k·ln2_hi is exact), e^r by a polynomial of degree 11, times 2ᵏ made in the
    /// exponent bits. Outside [−708, 708] (subnormal results, overflow, inf, NaN) the lanes take
    /// std::exp.
    static T exp(T x) {
        const T shift(0x1.8p52);
        const T k_shifted = xsimd::fma(x, T(1.4426950408889634), shift);  // log2(e)
        const T k = k_shifted - shift;
        T r = xsimd::fnma(k, T(0x1.62e42fefa3800p-1), x);  // ln 2, high part
        r = xsimd::fnma(k, T(0x1.ef35793c76730p-45), r);   // ln 2, low part
        // e^r on |r| ≤ ln 2/2: degree 11, Chebyshev-fitted (mpmath.chebyfit, 40 digits; error
        // 3.2e−18, below a fortieth of an ulp), Horner with FMA
        T p(2.5110095611886237e-08);
        p = xsimd::fma(p, r, T(2.7632715071632255e-07));
        p = xsimd::fma(p, r, T(2.7557240761739257e-06));
        p = xsimd::fma(p, r, T(2.4801485278370062e-05));
        p = xsimd::fma(p, r, T(1.9841269890193705e-04));
        p = xsimd::fma(p, r, T(1.3888888952505406e-03));
        p = xsimd::fma(p, r, T(8.3333333333195456e-03));
        p = xsimd::fma(p, r, T(4.1666666666487380e-02));
        p = xsimd::fma(p, r, T(1.6666666666666680e-01));
        p = xsimd::fma(p, r, T(5.0000000000000185e-01));
        p = xsimd::fma(p, r, T(1.0));
        p = xsimd::fma(p, r, T(1.0));
        using Int = xsimd::batch<std::int64_t, Arch>;
        // k's bits sit in the low mantissa of k_shifted, offset by those of the shift itself
        const Int k_int = xsimd::bitwise_cast<Int>(k_shifted) - xsimd::bitwise_cast<Int>(shift);
        const T scale = xsimd::bitwise_cast<T>((k_int + Int(1023)) << 52);
        return patch(!(xsimd::abs(x) <= 708.0), p * scale, x, [](double v) { return std::exp(v); });
    }
    /// @brief eˣ − 1; above 709 (where xsimd's overflows early), inf and NaN, std::expm1; ±0
    /// itself (xsimd's gives +0 for −0).
    static T expm1(T x) {
        const T r =
            patch(!(x <= 709.0), xsimd::expm1(x), x, [](double v) { return std::expm1(v); });
        return xsimd::select(x == 0.0, x, r);
    }
    /// @brief ln x; subnormal x (which xsimd mistakes) take std::log.
    static T log(T x) {
        return patch((x < DBL_MIN) & (x > 0.0), xsimd::log(x), x,
                     [](double v) { return std::log(v); });
    }
    /// @brief log(1 + x); ±0 itself (xsimd's gives +0 for −0).
    static T log1p(T x) { return xsimd::select(x == 0.0, x, xsimd::log1p(x)); }
    static T tanh(T x) { return xsimd::tanh(x); }
    static T sin(T x) { return xsimd::sin(x); }
    static T cos(T x) { return xsimd::cos(x); }
    static T tan(T x) { return xsimd::tan(x); }
    /// @brief erf x and erfc x lane by lane with the C library's: xsimd 8's are off by up to
    /// ~20 ulp on [−3, 3].
    static T erf(T x) {
        return per_lane(x, [](double v) { return std::erf(v); });
    }
    static T erfc(T x) {
        return per_lane(x, [](double v) { return std::erfc(v); });
    }
    /// @brief xᵖ lane by lane with std::pow (no vector pow is as accurate over its whole range).
    static T pow(T x, T p) {
        alignas(64) double xs[width];
        alignas(64) double ps[width];
        x.store_aligned(xs);
        p.store_aligned(ps);
        for (std::size_t k = 0; k < width; ++k) xs[k] = std::pow(xs[k], ps[k]);
        return T::load_aligned(xs);
    }
    /// @brief 1/(1 + e^−|x|) from 0 up, e^−|x|/(1 + e^−|x|) below: the scalar form's numbers,
    /// with one division (the slowest vector instruction here) instead of both candidates'.
    static T sigmoid(T x) {
        const T e = exp(-xsimd::abs(x));
        return xsimd::select(x >= 0.0, T(1.0), e) / (1.0 + e);
    }
    static T softplus(T x) {
        const T positive_part = xsimd::select(x < 0.0, T(0.0), x);  // NaN stays NaN
        return positive_part + xsimd::log1p(exp(-xsimd::abs(x)));   // of (0, 1]: never −0
    }

  private:
    /// @brief f applied to each lane.
    template <class F>
    static T per_lane(T x, F f) {
        alignas(64) double xs[width];
        x.store_aligned(xs);
        for (std::size_t k = 0; k < width; ++k) xs[k] = f(xs[k]);
        return T::load_aligned(xs);
    }
    /// @brief r, with the lanes where `bad` holds replaced by f(x) of that lane.
    template <class F>
    static T patch(const Mask& bad, T r, T x, F f) {
        if (!xsimd::any(bad)) return r;
        alignas(64) double xs[width];
        alignas(64) double rs[width];
        alignas(64) double flags[width];
        x.store_aligned(xs);
        r.store_aligned(rs);
        xsimd::select(bad, T(1.0), T(0.0)).store_aligned(flags);
        for (std::size_t k = 0; k < width; ++k) {
            if (flags[k] != 0.0) rs[k] = f(xs[k]);
        }
        return T::load_aligned(rs);
    }
};

}  // namespace xgrad::detail
