// ScalarMath: the math policy of src/ops/elementwise_rules.hpp for one double at a time (the C
// library's functions). The reference the vector policies are tested against, and the kernels
// used where no vector instruction set was built.
#pragma once

#include <algorithm>
#include <cmath>

namespace xgrad::detail {

/// @brief The rules' math on doubles: T = double, masks are bool.
struct ScalarMath {
    using T = double;
    static constexpr std::size_t width = 1;

    static T load(const double* p) { return *p; }
    static void store(double* p, T v) { *p = v; }
    static void store_stream(double* p, T v) { *p = v; }
    static void stream_fence() {}
    static T splat(double v) { return v; }
    static T select(bool condition, T a, T b) { return condition ? a : b; }
    static bool isnan(T x) { return std::isnan(x); }
    static bool any(bool b) { return b; }
    /// @brief g·d, exactly 0 where g = 0 (strong zeros), and g/d likewise.
    static T times(T g, T d) { return g == 0.0 ? 0.0 : g * d; }
    static T divide(T g, T d) { return g == 0.0 ? 0.0 : g / d; }

    static T neg(T x) { return -x; }
    static T abs(T x) { return std::abs(x); }
    static T sign(T x) { return static_cast<double>((x > 0.0) - (x < 0.0)); }
    static T sqrt(T x) { return std::sqrt(x); }
    static T exp(T x) { return std::exp(x); }
    static T expm1(T x) { return std::expm1(x); }
    static T log(T x) { return std::log(x); }
    static T log1p(T x) { return std::log1p(x); }
    static T tanh(T x) { return std::tanh(x); }
    static T sin(T x) { return std::sin(x); }
    static T cos(T x) { return std::cos(x); }
    static T tan(T x) { return std::tan(x); }
    static T erf(T x) { return std::erf(x); }
    static T erfc(T x) { return std::erfc(x); }
    static T pow(T x, T p) { return std::pow(x, p); }
    /// @brief 1/(1 + e⁻ˣ) through e^−|x|, which never overflows.
    static T sigmoid(T x) {
        const double e = std::exp(-std::abs(x));
        return x >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    }
    /// @brief log(1 + eˣ) = max(x, 0) + log1p(e^−|x|), which never overflows.
    static T softplus(T x) { return std::max(x, 0.0) + std::log1p(std::exp(-std::abs(x))); }
};

}  // namespace xgrad::detail
