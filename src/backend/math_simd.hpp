// SimdMath<Arch>: the math policy of src/ops/elementwise_rules.hpp for a vector of doubles
// (xsimd 8 batches of an instruction set: AVX2 or AVX-512). Included only by the kernel files
// built for that instruction set (src/backend/elementwise_avx2.cpp, elementwise_avx512.cpp).
//
// Accuracy (tests/backend/test_elementwise_kernels.cpp): against ScalarMath, the C library, on a
// sweep with ±0, subnormals, ±1000, ±inf and NaN, within 2 ulp for every function here but tanh
// (3); against the exact value (long double), exp 0.97, expm1 1.87, log 0.77, tanh 2.15 ulp
// (glibc's tanh: 2.15; 12 million points). exp, expm1, tanh and log are our own (a Cody–Waite
// reduction and a polynomial fitted for e^r − 1; fdlibm's reduction for log), with real FMAs (xsimd
// 8's AVX-512 fma is a·b + c) and no call to the C library in the loop (a call made the compiler
// keep every constant in memory, and those loads set the loop's speed): their ends (overflow,
// subnormal results, inf, NaN, ±0) are handled by vector instructions, so an element's result never
// depends on its neighbours or its position in the array. log1p, sin, cos and tan are xsimd's;
// erf, erfc and pow the C library's, lane by lane (xsimd's are not accurate enough).
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
    using Int = xsimd::batch<std::int64_t, Arch>;
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
    static bool any(const Mask& m) { return xsimd::any(m); }
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
    /// @brief a·b + c rounded once (the FMA instruction: xsimd 8 writes its AVX-512 fma as
    /// a * b + c, two roundings and two instructions in a file built without contraction).
    static T fma(T a, T b, T c) {
        if constexpr (width == 8) {
            return _mm512_fmadd_pd(a, b, c);
        } else {
            return _mm256_fmadd_pd(a, b, c);
        }
    }
    /// @brief c − a·b rounded once.
    static T fnma(T a, T b, T c) {
        if constexpr (width == 8) {
            return _mm512_fnmadd_pd(a, b, c);
        } else {
            return _mm256_fnmadd_pd(a, b, c);
        }
    }

    /// @brief eˣ = 2ᵏ·(1 + (e^r − 1)) from exp_reduced(), x clamped to [−746, 710] (beyond, the
    /// result is 0 or inf anyway; NaN passes), 2ᵏ applied by times_pow2 (overflow gives inf). A
    /// vector with a subnormal result (k < −1020) takes a second, exact path: 2ᵏ + 2ᵏ·(e^r − 1)
    /// rounded once by an FMA, as the C library's (1 + (e^r − 1) rounded first, then to the
    /// subnormal's precision, rounded twice: 1 subnormal ulp off, which x·σ(x) at x < −708 made
    /// 357 ulp). No call to the C library: a call in the loop made the compiler keep every
    /// constant in memory (all vector registers are caller-saved), and those loads, not the
    /// arithmetic, set the loop's speed.
    static T exp(T x) {
        T k;
        const T em1 = exp_reduced(clamp(x, -746.0, 710.0), k);
        const T normal = times_pow2(1.0 + em1, k);
        if (!xsimd::any(k < -1020.0)) return normal;
        const T two_k = times_pow2(T(1.0), xsimd::select(k < -1074.0, T(-1074.0), k));  // exact
        // below 2⁻¹⁰⁷⁴ (k ≤ −1075) the result is 0 or 2⁻¹⁰⁷⁴: e^x rounds up above 2⁻¹⁰⁷⁵
        const T tiny = xsimd::select(x > -745.13321910194111, T(0x1p-1074), T(0.0));
        return xsimd::select(k < -1020.0, xsimd::select(k < -1074.0, tiny, fma(em1, two_k, two_k)),
                             normal);
    }
    /// @brief eˣ − 1 = 2ᵏ·(e^r − 1) + (2ᵏ − 1) in one rounding (2ᵏ − 1 is exact for k ≤ 53),
    /// from exp_reduced(): no cancellation near 0, where k = 0 and the result is e^r − 1 itself.
    /// For k > 53 the − 1 is below half an ulp: exp's value. x clamped to [−45, 710] (expm1(−45)
    /// rounds to −1); ±0 itself; NaN passes.
    static T expm1(T x) {
        T k;
        const T em1 = exp_reduced(clamp(x, -45.0, 710.0), k);
        const T scale = pow2(xsimd::select(k > 53.0, T(53.0), k));
        const T small = fma(scale, em1, scale - 1.0);
        return xsimd::select(x == 0.0, x, xsimd::select(k > 53.0, times_pow2(1.0 + em1, k), small));
    }
    /// @brief tanh |x| = (1 − e^(−2|x|))/(1 + e^(−2|x|)) with e^(−2|x|) = 2ᵏ·(1 + (e^r − 1))
    /// from exp_reduced(): numerator (1 − 2ᵏ) − 2ᵏ·(e^r − 1) and denominator (1 + 2ᵏ) +
    /// 2ᵏ·(e^r − 1) each in one FMA (1 ∓ 2ᵏ is exact), so that nothing cancels near 0 (k = 0:
    /// the numerator is −(e^r − 1) itself), then one division; |x| clamped to 20 (tanh 20 rounds
    /// to 1). Every lane by the same instructions, where xsimd 8's tanh computes a rational
    /// function and an exponential (two divisions) for a vector with small and large lanes. NaN
    /// passes; ±0 and the sign as the C library.
    static T tanh(T x) {
        // −2|x| = k·ln 2 + r in one step: the error of ln 2 as a double, |k|·2.3e−17 for
        // |k| ≤ 58, moves tanh by under 0.2 ulp (e^(−2|x|) shrinks faster than k grows)
        const T y = -2.0 * min_keeping_nan(T(20.0), xsimd::abs(x));
        const T shift(0x1.8p52);
        const T k = fma(y, T(1.4426950408889634), shift) - shift;  // in [−58, 0]
        const T em1 = em1_polynomial(fnma(k, T(0.69314718055994531), y));
        const T scale = pow2(k);
        const T numerator = fnma(scale, em1, 1.0 - scale);
        const T denominator = fma(scale, em1, 1.0 + scale);
        return copy_sign(numerator / denominator, x);  // x = ±0: numerator +0 or −0
    }
    /// @brief ln x = k·ln 2 + ln m, x = 2ᵏ·m with m in [√2/2, √2): ln m = f − f²/2 + s·(f²/2 +
    /// R(s²)), f = m − 1, s = f/(2 + f), R of degree 7 in s² (fdlibm's e_log.c reduction and
    /// coefficients; within 0.77 ulp of the exact value here). m and k by AVX-512's getmant and
    /// getexp (subnormals, 0, inf and negatives handled by the instructions), on AVX2 from the
    /// bits (a subnormal x scaled by 2⁵² first). 0 → −inf, x < 0 → NaN, inf → inf, NaN passes.
    /// All lanes by the same instructions, no call (see exp()).
    static T log(T x) {
        const T inf(HUGE_VAL);
        if constexpr (width == 8) {
            T m = _mm512_getmant_pd(x, _MM_MANT_NORM_1_2, _MM_MANT_SIGN_nan);  // NaN below 0
            T k = _mm512_getexp_pd(x);                                         // −inf at ±0
            const __mmask8 above = _mm512_cmp_pd_mask(m, T(M_SQRT2), _CMP_GT_OQ);
            m = _mm512_mask_mul_pd(m, above, m, T(0.5));
            k = _mm512_mask_add_pd(k, above, k, T(1.0));
            return xsimd::select(x == 0.0, -inf, log_reduced(m, k));
        } else {
            const Mask subnormal = x < DBL_MIN;
            const T normal = xsimd::select(subnormal, x * 0x1p52, x);
            const Int ix =
                xsimd::bitwise_cast<Int>(normal) + Int(0x3ff0000000000000 - 0x3fe6a09e667f3bcd);
            const T m =
                xsimd::bitwise_cast<T>((ix & Int(0x000fffffffffffff)) + Int(0x3fe6a09e667f3bcd));
            // k as a double: its bits added to those of 1.5·2⁵², which is then subtracted (a
            // logical shift: AVX2 has no 64-bit arithmetic one, and ix > 0 here)
            const T k = xsimd::bitwise_cast<T>((Int(_mm256_srli_epi64(ix, 52)) - Int(1023)) +
                                               Int(0x4338000000000000)) -
                        0x1.8p52 - xsimd::select(subnormal, T(52.0), T(0.0));
            return xsimd::select(
                (x > 0.0) & (x < inf), log_reduced(m, k),
                xsimd::select(x == 0.0, -inf, xsimd::select(x == inf, x, x + T(NAN))));
        }
    }
    /// @brief log(1 + x); ±0 itself (xsimd's gives +0 for −0).
    static T log1p(T x) { return xsimd::select(x == 0.0, x, xsimd::log1p(x)); }
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
        const T e = exp(x | T(-0.0));  // −|x| in one instruction
        return xsimd::select(x >= 0.0, T(1.0), e) / (1.0 + e);
    }
    static T softplus(T x) {
        const T positive_part = xsimd::select(x < 0.0, T(0.0), x);  // NaN stays NaN
        return positive_part + xsimd::log1p(exp(-xsimd::abs(x)));   // of (0, 1]: never −0
    }

  private:
    /// @brief e^r − 1 for x = k·ln 2 + r, |r| ≤ ln 2/2, and k (integer-valued). k is rounded by
    /// the 1.5·2⁵² shift; ln 2 in two parts so that k·ln2_hi is exact. e^r − 1 = r + r²·Q(r), Q of
    /// degree 10 fitted to (e^r − 1 − r)/r² itself (mpmath.chebyfit, 50 digits: error 1.4e−18, so
    /// r + r²·Q is within 0.008 ulp of e^r − 1 before rounding, near 0 too; a fit of e^r had an
    /// absolute error that was 0.5 ulp of e^r − 1 at r ≈ 0.06 and 1.2 ulp in expm1 and tanh),
    /// evaluated by Estrin's scheme with FMA (18 cycles of latency instead of Horner's 44).
    static T exp_reduced(T x, T& k) {
        const T shift(0x1.8p52);
        k = fma(x, T(1.4426950408889634), shift) - shift;  // round(x·log2(e))
        T r = fnma(k, T(0x1.62e42fefa3800p-1), x);         // ln 2, high part
        r = fnma(k, T(0x1.ef35793c76730p-45), r);          // ln 2, low part
        return em1_polynomial(r);
    }
    /// @brief e^r − 1 for |r| ≤ ln 2/2 (see exp_reduced()).
    static T em1_polynomial(T r) {
        const T r2 = r * r;
        const T r4 = r2 * r2;
        const T c01 = fma(T(0.16666666666666671), r, T(0.5));
        const T c23 = fma(T(0.0083333333333261358), r, T(0.041666666666666671));
        const T c45 = fma(T(0.00019841269874820627), r, T(0.0013888888888883748));
        const T c67 = fma(T(2.7557255400206422e-06), r, T(2.4801587325547743e-05));
        const T c89 = fma(T(2.5105217004720745e-08), r, T(2.7557273643110297e-07));
        const T c8to10 = fma(T(2.0914686968086876e-09), r2, c89);
        const T q = fma(c8to10, r4 * r4, fma(fma(c67, r2, c45), r4, fma(c23, r2, c01)));
        return fma(q, r2, r);
    }
    /// @brief k·ln 2 + ln m for m in [√2/2, √2] (fdlibm's e_log.c; see log()), the last
    /// addition k·ln2_hi + … in one FMA.
    static T log_reduced(T m, T k) {
        const T f = m - 1.0;
        const T s = f / (2.0 + f);
        const T z = s * s;
        const T w = z * z;
        const T t1 = w * fma(w, fma(w, T(1.531383769920937332e-01), T(2.222219843214978396e-01)),
                             T(3.999999999940941908e-01));
        const T t2 =
            z * fma(w,
                    fma(w, fma(w, T(1.479819860511658591e-01), T(1.818357216161805012e-01)),
                        T(2.857142874366239149e-01)),
                    T(6.666666666666735130e-01));
        const T hfsq = 0.5 * f * f;
        const T low = fma(k, T(1.90821492927058770002e-10), s * (hfsq + (t2 + t1)));  // ln2_lo
        return fma(k, T(6.93147180369123816490e-01), (low - hfsq) + f);               // ln2_hi
    }
    /// @brief The bits of integer-valued k (|k| < 2⁵¹) as an int64: k + 1.5·2⁵² holds k in its
    /// low mantissa.
    static Int to_int(T k) {
        const T shift(0x1.8p52);
        return xsimd::bitwise_cast<Int>(k + shift) - xsimd::bitwise_cast<Int>(shift);
    }
    /// @brief 2ᵏ for integer-valued k in [−1022, 1023].
    static T pow2(T k) {
        if constexpr (width == 8) {
            return _mm512_scalef_pd(T(1.0), k);
        } else {
            return pow2_bits(to_int(k));
        }
    }
    /// @brief 2ᵏ for k in [−1022, 1023], made in the exponent bits.
    static T pow2_bits(const Int& k) { return xsimd::bitwise_cast<T>((k + Int(1023)) << 52); }
    /// @brief v·2ᵏ rounded once, for integer-valued k in [−1100, 1100]: AVX-512's scalef; on
    /// AVX2 v·2ᵏ made in the exponent bits while |k| ≤ 1000 in every lane (v is near 1), else
    /// 2^⌊k/2⌋·2^(k−⌊k/2⌋) (both factors normal: overflow gives inf, a subnormal result is rounded
    /// by the second product only).
    static T times_pow2(T v, T k) {
        if constexpr (width == 8) {
            return _mm512_scalef_pd(v, k);
        } else {
            const Int k_int = to_int(k);
            if (!xsimd::any(xsimd::abs(k) > 1000.0)) return v * pow2_bits(k_int);
            // ⌊k/2⌋ by a logical shift of k + 2048 ≥ 0 (AVX2 has no 64-bit arithmetic shift)
            const Int half = Int(_mm256_srli_epi64(__m256i(k_int + Int(2048)), 1)) - Int(1024);
            return (v * pow2_bits(half)) * pow2_bits(k_int - half);
        }
    }
    /// @brief min(bound, x); NaN passes (min returns its second operand when either is NaN).
    static T min_keeping_nan(T bound, T x) {
        if constexpr (width == 8) {
            return _mm512_min_pd(bound, x);
        } else {
            return _mm256_min_pd(bound, x);
        }
    }
    /// @brief x limited to [lo, hi]; NaN passes (max and min return their second operand when
    /// either is NaN).
    static T clamp(T x, double lo, double hi) {
        if constexpr (width == 8) {
            return _mm512_min_pd(T(hi), _mm512_max_pd(T(lo), x));
        } else {
            return _mm256_min_pd(T(hi), _mm256_max_pd(T(lo), x));
        }
    }
    /// @brief |m| with the sign bit of s.
    static T copy_sign(T m, T s) {
        const T sign_bit(-0.0);
        if constexpr (width == 8) {  // one vpternlogq: (m & ~sign) | (s & sign)
            return T(_mm512_castsi512_pd(_mm512_ternarylogic_epi64(_mm512_castpd_si512(sign_bit),
                                                                   _mm512_castpd_si512(m),
                                                                   _mm512_castpd_si512(s), 0xac)));
        } else {
            return _mm256_or_pd(_mm256_andnot_pd(sign_bit, m), _mm256_and_pd(s, sign_bit));
        }
    }
    /// @brief f applied to each lane.
    template <class F>
    static T per_lane(T x, F f) {
        alignas(64) double xs[width];
        x.store_aligned(xs);
        for (std::size_t k = 0; k < width; ++k) xs[k] = f(xs[k]);
        return T::load_aligned(xs);
    }
};

}  // namespace xgrad::detail
