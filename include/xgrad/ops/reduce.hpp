// Reductions: sum, mean, max, min, argmax, argmin, logsumexp, variance, stddev and norm, over
// everything or along one axis. Source: src/ops/reduce.cpp.
//
// Along an axis: a negative axis counts from the end, and the axis is resolved again on every
// forward pass (a Tape replay may change the rank); an axis out of range throws shape_error
// ("max: axis 3 is out of range for shape (2,3)"). The reduced axis is removed, or kept with
// length 1 where the op takes `keepdims`.
#pragma once

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief Sum of all elements: shape (). 0 for an empty array. Derivative 1 for every element.
Var sum(const Var& x);
/// @brief Sum along one axis: that axis is removed, or kept with length 1 if `keepdims`. Throws
/// shape_error for an axis out of range. Derivative 1, spread back.
Var sum(const Var& x, int axis, bool keepdims = false);
/// @brief Mean of all elements: shape (). Throws shape_error for an empty array (numpy would
/// return NaN with a warning). Derivative 1/count for every element.
Var mean(const Var& x);
/// @brief Mean along one axis: removed, or kept with length 1 if `keepdims`. An empty result is
/// returned empty (numpy); a mean over an axis of length 0 with a non-empty result throws
/// shape_error (numpy: NaN). Derivative 1/length, spread back.
Var mean(const Var& x, int axis, bool keepdims = false);

/// @brief Largest element: shape (). NaN if x holds a NaN (as numpy and torch). Throws
/// shape_error for an empty array ("max: cannot reduce the empty shape (0,)"; numpy raises too).
/// Derivative (as torch.amax): g split evenly among the elements equal to the maximum (each of
/// k tied maxima gets g/k), 0 elsewhere; if the maximum is NaN, split evenly among the NaN
/// elements. Second derivative 0.
Var max(const Var& x);
/// @brief Largest element along one axis: removed, or kept with length 1 if `keepdims`. Throws
/// shape_error for an axis out of range, and for an axis of length 0 ("max: cannot reduce axis
/// 1 of length 0 (shape (2,0))"). Derivative as the whole-array max, per slice along the axis.
Var max(const Var& x, int axis, bool keepdims = false);
/// @brief Smallest element: shape (); as max(x) with the order reversed (NaN wins too).
Var min(const Var& x);
/// @brief Smallest element along one axis; as max(x, axis, keepdims) with the order reversed.
Var min(const Var& x, int axis, bool keepdims = false);

/// @brief The index of the largest element along `axis` (negative counts from the end), as
/// doubles: x's shape with that axis removed. The first occurrence wins a tie, and the first NaN
/// counts as the largest (as numpy). A plain array: indices have no gradient. Throws
/// shape_error for an axis out of range or of length 0, as max.
array argmax(const Var& x, int axis);
/// @brief The index of the smallest element along `axis`; as argmax with the order reversed.
array argmin(const Var& x, int axis);

/// @brief log Σ eˣ of all elements: shape (). Computed as m + log Σ e^(x − m) with m the
/// maximum, so logsumexp([1000, 1000]) = 1000 + log 2; when m is ±inf the shift is 0 (as torch),
/// so a slice of only −inf gives −inf and one holding +inf gives +inf. An empty array gives −inf
/// (the log of an empty sum, as torch). Derivative s = softmax(x) = e^(x − y), computed as
/// e^(x − m)/Σe^(x − m) so that it is exact at ±1000; taken as 0 where y = −inf (torch: NaN),
/// NaN at the +inf elements of a slice holding +inf (as torch); second derivative diag(s) − s sᵀ
/// per slice.
Var logsumexp(const Var& x);
/// @brief log Σ eˣ along one axis: removed, or kept with length 1 if `keepdims`. Shifted and
/// with the derivative (softmax along the axis) as the whole-array logsumexp(x). Throws
/// shape_error for an axis out of range.
Var logsumexp(const Var& x, int axis, bool keepdims = false);

/// @brief Variance along one axis (removed), numpy's var: Σ(x − mean)² / (n − ddof) with n the
/// axis length (ddof may be negative, as numpy). Throws shape_error if n − ddof ≤ 0
/// ("variance: needs n > ddof, got n = 1 and ddof = 1 (axis 0 of shape (1,3))"; numpy returns
/// inf or NaN with a warning), also for n = 0, or for an axis out of range. The mean is taken as
/// x₀ + Σ(x − x₀)/n, exact for a constant slice, whose variance is then exactly 0.
/// Derivative 2(x − mean)/(n − ddof); second derivative 2(I − 1/n)/(n − ddof).
Var variance(const Var& x, int axis, int ddof = 0);
/// @brief Variance of all elements (ddof 0): shape (). For another ddof over everything,
/// reshape x to one axis first. Throws shape_error for an empty array.
Var variance(const Var& x);
/// @brief Standard deviation along one axis: √variance(x, axis, ddof), with its errors.
/// Derivative (x − mean)/((n − ddof)·std); where std = 0 (a constant slice) that is 0/0 and is
/// taken as 0 (a subgradient, as norm at 0), and the second derivative there as 0 too, so
/// neither order gives NaN.
Var stddev(const Var& x, int axis, int ddof = 0);
/// @brief Standard deviation of all elements (ddof 0): shape (); as stddev(x, axis).
Var stddev(const Var& x);

/// @brief The p-norm of all elements, (Σ|x|^p)^(1/p): shape (). p ≥ 1, or p = +inf for
/// max |x|; any other p (below 1, NaN) throws std::invalid_argument ("norm: p = 0.5 is below
/// 1"). Computed scaled by max |x|, so it neither overflows nor underflows early. 0 for an
/// empty array. Derivative sign(x)·(|x|/y)^(p−1): x/y for p = 2, sign(x) for p = 1, and for
/// p = inf sign(x) split evenly among the elements whose |x| is the maximum. At x = 0 (y = 0)
/// the derivative is the subgradient 0 (not NaN), and the second derivative there is taken as
/// 0 too (the true one is unbounded: near 0 it grows as 1/y). For 1 < p < 2 the second
/// derivative along an element equal to 0 is +inf; it is taken as 0 there too (never NaN).
Var norm(const Var& x, double p = 2.0);

}  // namespace xgrad
