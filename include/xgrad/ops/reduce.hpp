// Reductions: sum and mean, over everything or along one axis. Source: src/ops/reduce.cpp.
#pragma once

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief Sum of all elements: shape (). 0 for an empty array. Derivative 1 for every element.
Var sum(const Var& x);
/// @brief Sum along one axis (negative counts from the end, resolved again on every replay): that
/// axis is removed. Throws shape_error for an axis out of range. Derivative 1, spread back.
Var sum(const Var& x, int axis);
/// @brief Mean of all elements: shape (). Throws shape_error for an empty array (numpy would
/// return NaN with a warning). Derivative 1/count for every element.
Var mean(const Var& x);
/// @brief Mean along one axis, removed. An empty result is returned empty (numpy); a mean over an
/// axis of length 0 with a non-empty result throws shape_error (numpy: NaN). Derivative
/// 1/length, spread back.
Var mean(const Var& x, int axis);

}  // namespace xgrad
