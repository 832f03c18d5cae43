// Every elementwise op's numbers: its forward and its local derivative side by side, written once
// over a math policy M, so that the same lines run on one double (M = ScalarMath,
// src/backend/math_scalar.hpp) and on a vector of doubles (M = SimdMath<arch>,
// src/backend/math_simd.hpp, built for AVX2 and for AVX-512). The kernels of
// src/backend/elementwise_loops.hpp apply them; src/ops/elementwise.cpp holds the nodes and the
// derivatives' graph forms (for second order), which must state the same formulas.
//
// This header includes nothing but <cmath>: it is compiled under several instruction sets, and
// only templates over M may live here (see src/backend/elementwise_avx2.cpp).
//
// Negation is M::neg, never unary minus: xsimd 8 negates AVX-512 batches as 0 − x, which gives
// +0 for +0 (and keeps a NaN's sign); M::neg flips the sign bit, as −x on a double does.
//
// A rule's grad(g, x, y, p) is dL/dx given the output gradient g, the input x, the output y and
// the op's parameters p. The loops apply strong zeros around it: where g = 0 the contribution is
// exactly 0 whatever grad() would give (0·∞ = 0; see derivative::times in elementwise.cpp).
#pragma once

#include <cmath>

namespace xgrad::detail::rules_math {

/// @brief The constants of a parameterised op (pow's exponent, leaky_relu's slope, elu's α,
/// clip's bounds); unused fields are 0.
struct Params {
    double a = 0.0;
    double b = 0.0;
};

// ---- unary ---------------------------------------------------------------------------------

// y = −x; dy/dx = −1
template <class M>
struct Neg {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::neg(x); }
    static T grad(T g, T, T, const Params&) { return M::neg(g); }
};

// y = x²; dy/dx = 2x
template <class M>
struct Square {
    using T = typename M::T;
    static T forward(T x, const Params&) { return x * x; }
    static T grad(T g, T x, T, const Params&) { return 2.0 * g * x; }
};

// y = x^p (p = Params::a); dy/dx = p·x^(p−1), exactly 0 for p = 0 (x⁰ is the constant 1; the
// formula would give 0·∞ at x = 0)
template <class M>
struct Power {
    using T = typename M::T;
    static T forward(T x, const Params& p) { return M::pow(x, M::splat(p.a)); }
    static T grad(T g, T x, T, const Params& p) {
        if (p.a == 0.0) return M::splat(0.0);
        return g * p.a * M::pow(x, M::splat(p.a - 1.0));
    }
};

// y = eˣ; dy/dx = eˣ = y
template <class M>
struct Exp {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::exp(x); }
    static T grad(T g, T, T y, const Params&) { return g * y; }
};

// y = ln x; dy/dx = 1/x
template <class M>
struct Log {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::log(x); }
    static T grad(T g, T x, T, const Params&) { return g / x; }
};

// y = tanh x; dy/dx = 1 − tanh² x = 1 − y²
template <class M>
struct Tanh {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::tanh(x); }
    static T grad(T g, T, T y, const Params&) { return g * (1.0 - y * y); }
};

// y = σ(x) = 1/(1 + e⁻ˣ), through e^−|x| (never overflows); dσ/dx = σ(1 − σ) = y(1 − y)
template <class M>
struct Sigmoid {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::sigmoid(x); }
    static T grad(T g, T, T y, const Params&) { return g * y * (1.0 - y); }
};

// y = max(x, 0) (NaN stays NaN); dy/dx = 1 where x > 0, else 0
template <class M>
struct Relu {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::select(x < 0.0, M::splat(0.0), x); }
    static T grad(T g, T x, T, const Params&) { return M::select(x > 0.0, g, M::splat(0.0)); }
};

// y = |x|; dy/dx = sign(x), 0 at 0 (the subgradient the optimisers expect)
template <class M>
struct Abs {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::abs(x); }
    static T grad(T g, T x, T, const Params&) { return g * M::sign(x); }
};

// y = x where x > 0, else s·x (s = Params::a); dy/dx = 1 where x > 0, else s
template <class M>
struct LeakyRelu {
    using T = typename M::T;
    static T forward(T x, const Params& p) { return M::select(x > 0.0, x, p.a * x); }
    static T grad(T g, T x, T, const Params& p) { return M::select(x > 0.0, g, p.a * g); }
};

// y = log(1 + eˣ) = max(x, 0) + log1p(e^−|x|) (never overflows); dy/dx = σ(x) = 1 − e^−y,
// as −expm1(−y) to keep small values exact
template <class M>
struct Softplus {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::softplus(x); }
    static T grad(T g, T, T y, const Params&) { return g * M::neg(M::expm1(M::neg(y))); }
};

// y = log σ(x) = −softplus(−x); dy/dx = 1 − σ(x) = 1 − eʸ, as −expm1(y)
template <class M>
struct LogSigmoid {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::neg(M::softplus(M::neg(x))); }
    static T grad(T g, T, T y, const Params&) { return g * M::neg(M::expm1(y)); }
};

// y = sin x; dy/dx = cos x
template <class M>
struct Sin {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::sin(x); }
    static T grad(T g, T x, T, const Params&) { return g * M::cos(x); }
};

// y = cos x; dy/dx = −sin x
template <class M>
struct Cos {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::cos(x); }
    static T grad(T g, T x, T, const Params&) { return M::neg(g) * M::sin(x); }
};

// y = tan x; dy/dx = 1 + tan² x = 1 + y²
template <class M>
struct Tan {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::tan(x); }
    static T grad(T g, T, T y, const Params&) { return g * (1.0 + y * y); }
};

// y = √x (NaN below 0); dy/dx = 1/(2√x) = 1/(2y): +inf at 0, as PyTorch
template <class M>
struct Sqrt {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::sqrt(x); }
    static T grad(T g, T, T y, const Params&) { return g / (2.0 * y); }
};

// y = log(1 + x); dy/dx = 1/(1 + x)
template <class M>
struct Log1p {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::log1p(x); }
    static T grad(T g, T x, T, const Params&) { return g / (1.0 + x); }
};

// y = eˣ − 1; dy/dx = eˣ = y + 1
template <class M>
struct Expm1 {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::expm1(x); }
    static T grad(T g, T, T y, const Params&) { return g * (y + 1.0); }
};

// y = erf x; dy/dx = 2/√π · e^(−x²)
template <class M>
struct Erf {
    using T = typename M::T;
    static T forward(T x, const Params&) { return M::erf(x); }
    static T grad(T g, T x, T, const Params&) { return g * (M_2_SQRTPI * M::exp(M::neg(x) * x)); }
};

// y = x·σ(x); dy/dx = σ(x)(1 + x(1 − σ(x)))
template <class M>
struct Silu {
    using T = typename M::T;
    static T forward(T x, const Params&) { return x * M::sigmoid(x); }
    static T grad(T g, T x, T, const Params&) {
        const T s = M::sigmoid(x);
        return g * (s * (1.0 + x * (1.0 - s)));
    }
};

// y = x·Φ(x), Φ(x) = ½ erfc(−x/√2) the standard normal's CDF; dy/dx = Φ(x) + x·φ(x), φ its
// density (at ±1000 φ underflows to 0 and x·φ is 0, not 0·∞)
template <class M>
struct Gelu {
    using T = typename M::T;
    static T forward(T x, const Params&) { return x * 0.5 * M::erfc(M::neg(x) * M_SQRT1_2); }
    static T grad(T g, T x, T, const Params&) {
        const T cdf = 0.5 * M::erfc(M::neg(x) * M_SQRT1_2);
        const T density = M::exp(-0.5 * x * x) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
        return g * (cdf + x * density);
    }
};

// y = x where x > 0, else α(eˣ − 1) (α = Params::a); dy/dx = 1 where x > 0, else αeˣ = y + α
template <class M>
struct Elu {
    using T = typename M::T;
    static T forward(T x, const Params& p) { return M::select(x > 0.0, x, p.a * M::expm1(x)); }
    static T grad(T g, T x, T y, const Params& p) { return M::select(x > 0.0, g, g * (y + p.a)); }
};

// y = x clipped to [lo, hi] (Params::a, ::b; NaN stays NaN); dy/dx = 1 on [lo, hi], bounds
// included (as PyTorch's clamp), else 0
template <class M>
struct Clip {
    using T = typename M::T;
    static T forward(T x, const Params& p) {
        return M::select(x < p.a, M::splat(p.a), M::select(x > p.b, M::splat(p.b), x));
    }
    static T grad(T g, T x, T, const Params& p) {
        return M::select((x >= p.a) & (x <= p.b), g, M::splat(0.0));
    }
};

// ---- binary: grad_a and grad_b are dL/da and dL/db ------------------------------------------

// y = a + b; ∂y/∂a = ∂y/∂b = 1
template <class M>
struct Add {
    using T = typename M::T;
    static T forward(T a, T b) { return a + b; }
    static T grad_a(T g, T, T, T) { return g; }
    static T grad_b(T g, T, T, T) { return g; }
};

// y = a − b; ∂y/∂a = 1, ∂y/∂b = −1
template <class M>
struct Sub {
    using T = typename M::T;
    static T forward(T a, T b) { return a - b; }
    static T grad_a(T g, T, T, T) { return g; }
    static T grad_b(T g, T, T, T) { return M::neg(g); }
};

// y = ab; ∂y/∂a = b, ∂y/∂b = a (strong: a 0 gradient stays 0 against an infinite factor)
template <class M>
struct Mul {
    using T = typename M::T;
    static T forward(T a, T b) { return a * b; }
    static T grad_a(T g, T, T b, T) { return M::times(g, b); }
    static T grad_b(T g, T a, T, T) { return M::times(g, a); }
};

// y = a/b; ∂y/∂a = 1/b, ∂y/∂b = −a/b² = −y/b (no b² to overflow for tiny b); strong
template <class M>
struct Div {
    using T = typename M::T;
    static T forward(T a, T b) { return a / b; }
    static T grad_a(T g, T, T b, T) { return M::divide(g, b); }
    static T grad_b(T g, T, T b, T y) { return M::neg(M::times(g, y / b)); }
};

// y = aᵇ; ∂y/∂a = b·aᵇ⁻¹, exactly 0 where b = 0 (a⁰ is the constant 1); ∂y/∂b = y·log a,
// exactly 0 where a = 0 and b ≥ 0 (y = 0 there and log 0 = −inf). Both NaN for a < 0 with a
// non-integer b, where aᵇ itself is NaN.
template <class M>
struct Pow {
    using T = typename M::T;
    static T forward(T a, T b) { return M::pow(a, b); }
    static T grad_a(T g, T a, T b, T) {
        return M::times(g, M::select(b == 0.0, M::splat(0.0), b * M::pow(a, b - 1.0)));
    }
    static T grad_b(T g, T a, T b, T y) {
        return M::times(g, M::select((a == 0.0) & (b >= 0.0), M::splat(0.0), y * M::log(a)));
    }
};

/// a·b, but exactly 0 where a = 0 whatever b is: the product the graph form of every rule
/// multiplies its incoming gradient by (derivative::times). ∂/∂a = b (strong in g), ∂/∂b = a,
/// exactly 0 where a = 0.
template <class M>
struct StrongMul {
    using T = typename M::T;
    static T forward(T a, T b) { return M::times(a, b); }
    static T grad_a(T g, T, T b, T) { return M::times(g, b); }
    static T grad_b(T g, T a, T, T) { return M::times(a, g); }
};

// y = max(a, b) (IsMax) or min(a, b), NaN if either is NaN (as numpy and PyTorch). a's share of
// g: g where a is chosen, g/2 at a tie (split evenly, as PyTorch), else 0. A NaN operand is
// chosen and takes the gradient (as in max(x)): g, or g/2 if both are NaN; a gets 0 against a NaN
// b.
template <class M, bool IsMax>
struct Extreme {
    using T = typename M::T;
    static T forward(T a, T b) {
        const auto b_wins = IsMax ? b > a : b < a;
        return M::select(M::isnan(a) | M::isnan(b), a + b, M::select(b_wins, b, a));
    }
    static T share(T g, T a, T b) {
        const auto a_wins = IsMax ? a > b : a < b;
        const T zero = M::splat(0.0);
        const T ordered = M::select(a_wins, g, M::select(a == b, 0.5 * g, zero));
        const T a_nan = M::select(M::isnan(b), 0.5 * g, g);
        return M::select(M::isnan(a), a_nan, M::select(M::isnan(b), zero, ordered));
    }
    static T grad_a(T g, T a, T b, T) { return share(g, a, b); }
    static T grad_b(T g, T a, T b, T) { return share(g, b, a); }
};
template <class M>
using Maximum = Extreme<M, true>;
template <class M>
using Minimum = Extreme<M, false>;

}  // namespace xgrad::detail::rules_math
