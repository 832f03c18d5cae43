// Elementwise ops: arithmetic with numpy broadcasting, and unary math. Each entry states the
// shapes, what is thrown, and the derivative backward() multiplies by (g is the output's
// gradient, y the output). Source: src/ops/elementwise.cpp, one rule per op, forward and
// derivative side by side.
#pragma once

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief a + b, a − b, a · b, a / b elementwise. Shapes: numpy broadcasting (shape_error
/// "add: cannot broadcast (4,3) with (2,)" if they do not fit); the result has the broadcast
/// shape, and a broadcast operand's gradient is summed back to its own shape.
/// Derivatives: ∂(a+b) = (1, 1); ∂(a−b) = (1, −1); ∂(ab) = (b, a); ∂(a/b) = (1/b, −y/b).
Var operator+(const Var& a, const Var& b);
Var operator-(const Var& a, const Var& b);
Var operator*(const Var& a, const Var& b);
Var operator/(const Var& a, const Var& b);
/// @brief The same with a constant double on either side (no node, no gradient for it).
Var operator+(const Var& a, double b);
Var operator-(const Var& a, double b);
Var operator*(const Var& a, double b);
Var operator/(const Var& a, double b);
Var operator+(double a, const Var& b);
Var operator-(double a, const Var& b);
Var operator*(double a, const Var& b);
Var operator/(double a, const Var& b);
/// @brief −x. Derivative −1.
Var operator-(const Var& x);

/// @brief xᵖ elementwise, same shape. Derivative p·xᵖ⁻¹, and exactly 0 for p = 0 (x⁰ is the
/// constant 1, as PyTorch; the formula would give 0·∞ = NaN at x = 0). p = 2 runs as x·x.
Var pow(const Var& x, double exponent);
/// @brief eˣ, same shape. Derivative y.
Var exp(const Var& x);
/// @brief Natural logarithm, same shape (−inf at 0, NaN below). Derivative 1/x.
/// log(sigmoid(z)) and log(1 - sigmoid(z)) are valued as log_sigmoid(z) and −softplus(z), finite
/// for every z; their gradient goes straight to z unless the sigmoid (or 1 − sigmoid) is held by
/// the caller, whose gradient is then delivered as written (src/fusion/rewrites.cpp).
Var log(const Var& x);
/// @brief tanh x, same shape. Derivative 1 − y².
Var tanh(const Var& x);
/// @brief σ(x) = 1 / (1 + e⁻ˣ), same shape, computed without overflow for any x.
/// Derivative y(1 − y).
Var sigmoid(const Var& x);
/// @brief max(x, 0), same shape. Derivative 1 where x > 0, else 0 (0 at the kink, as PyTorch).
Var relu(const Var& x);
/// @brief |x|, same shape. Derivative sign(x), taken as 0 at 0.
Var abs(const Var& x);
/// @brief x where x > 0, else slope·x; same shape. Derivative 1 where x > 0, else the slope.
Var leaky_relu(const Var& x, double slope = 0.01);
/// @brief log(1 + eˣ), same shape, without overflow for any x. Derivative σ(x).
Var softplus(const Var& x);
/// @brief log σ(x) = −softplus(−x), same shape, without overflow for any x.
/// Derivative 1 − σ(x).
Var log_sigmoid(const Var& x);
/// @brief sin x, same shape (x in radians). Derivative cos x.
Var sin(const Var& x);
/// @brief cos x, same shape (x in radians). Derivative −sin x.
Var cos(const Var& x);
/// @brief tan x, same shape (x in radians). Derivative 1 + y².
Var tan(const Var& x);
/// @brief √x, same shape (NaN below 0). Derivative 1/(2y): +inf at 0, as PyTorch (a 0 output
/// gradient there contributes exactly 0: see where()).
Var sqrt(const Var& x);
/// @brief x², same shape. Derivative 2x.
Var square(const Var& x);
/// @brief log(1 + x), same shape, accurate for small x. Derivative 1/(1 + x).
Var log1p(const Var& x);
/// @brief eˣ − 1, same shape, accurate for small x. Derivative eˣ = y + 1.
Var expm1(const Var& x);
/// @brief The error function, same shape. Derivative 2/√π · e^(−x²).
Var erf(const Var& x);
/// @brief x·σ(x) (SiLU, "swish"), same shape, finite for any x. Derivative σ(x)(1 + x(1 − σ(x))).
Var silu(const Var& x);
/// @brief x·Φ(x) with Φ the standard normal CDF (the exact erf form, PyTorch's default), same
/// shape, finite for any x. Derivative Φ(x) + x·φ(x).
Var gelu(const Var& x);
/// @brief x where x > 0, else α(eˣ − 1); same shape. Derivative 1 where x > 0, else y + α.
Var elu(const Var& x, double alpha = 1.0);
/// @brief max(a, b) and min(a, b) elementwise, with numpy broadcasting (shape_error if the shapes
/// do not fit; a broadcast operand's gradient is summed back). Derivative 1 for the operand that
/// is chosen, 0 for the other, and ½ each at a tie (as PyTorch). A NaN operand is chosen, in
/// either position (NaN out, as numpy and PyTorch), and takes the gradient as a NaN does in
/// max(x): all of it, or ½ each if both are NaN.
Var maximum(const Var& a, const Var& b);
Var minimum(const Var& a, const Var& b);
/// @brief baseᵉˣᵖᵒⁿᵉⁿᵗ elementwise with numpy broadcasting (shape_error if the shapes do not
/// fit; a broadcast operand's gradient is summed back). Derivatives (as PyTorch):
/// ∂/∂base = exponent·base^(exponent−1), exactly 0 where exponent = 0;
/// ∂/∂exponent = y·log(base), exactly 0 where base = 0 and exponent ≥ 0 (y = 0 there).
/// A negative base with a non-integer exponent gives NaN (value and derivatives), as numpy.
Var pow(const Var& base, const Var& exponent);

/// @brief a where the condition is 1, b where it is 0, elementwise with numpy broadcasting over
/// all three (shape_error if they do not fit). The condition is a 0/1 array (std::invalid_argument
/// naming the element otherwise), usually made by a comparison below; it gets no gradient.
/// Derivative: the gradient is selected, 1 to a where the condition holds and 0 elsewhere, and
/// the other way round for b (summed back to a broadcast operand's shape).
///
/// The branch not taken never puts NaN into a gradient: `where(x > 0.0, sqrt(x), 0.0)` at
/// x = −1 or 0 gives the gradient 0 there, where sqrt's slope is NaN or +inf. That holds because
/// xgrad multiplies every incoming gradient into a local slope as a *strong zero*: an exact 0
/// gradient contributes exactly 0 (not 0·∞ = NaN), in backward(), grad(), hessian() and forward
/// mode alike. PyTorch and JAX give NaN there and need the "double where"
/// `where(x > 0, sqrt(where(x > 0, x, 1)), 0)`, which works in xgrad too. Matrix products and
/// losses do not have strong zeros (BLAS follows IEEE: 0·∞ = NaN).
Var where(const Var& condition, const Var& a, const Var& b);
Var where(const Var& condition, const Var& a, double b);
Var where(const Var& condition, double a, const Var& b);

/// @brief 1 where a > b (≥, <, ≤, =, ≠), else 0: a constant 0/1 array of the broadcast shape
/// (shape_error if the shapes do not fit), recomputed when a Tape replays the graph. No
/// gradient (piecewise constant): for where() and masks. NaN compares false (not_equal: true).
Var greater(const Var& a, const Var& b);
Var greater_equal(const Var& a, const Var& b);
Var less(const Var& a, const Var& b);
Var less_equal(const Var& a, const Var& b);
Var equal(const Var& a, const Var& b);
Var not_equal(const Var& a, const Var& b);
Var greater(const Var& a, double b);
Var greater_equal(const Var& a, double b);
Var less(const Var& a, double b);
Var less_equal(const Var& a, double b);
Var equal(const Var& a, double b);
Var not_equal(const Var& a, double b);
/// @brief Operator spellings of greater/less(_equal) against a double: `where(x > 0.0, ...)`.
inline Var operator>(const Var& a, double b) {
    return greater(a, b);
}
inline Var operator>=(const Var& a, double b) {
    return greater_equal(a, b);
}
inline Var operator<(const Var& a, double b) {
    return less(a, b);
}
inline Var operator<=(const Var& a, double b) {
    return less_equal(a, b);
}

/// @brief x limited to [lo, hi], same shape; a NaN stays NaN (as numpy and PyTorch's clamp).
/// Derivative 1 on [lo, hi] (bounds included, as PyTorch's clamp), else 0 (also at NaN). Throws
/// std::invalid_argument if lo > hi (or either is NaN).
Var clip(const Var& x, double lo, double hi);

}  // namespace xgrad
