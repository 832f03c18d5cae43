// Shape ops: reshape, broadcast_to and its inverse sum_to. Source: src/ops/shape.cpp.
#pragma once

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief The same elements in a new shape of the same size (row-major order). Throws
/// shape_error if the sizes differ. Always a node of its own (so its gradient is its own).
/// Derivative: the identity, read in x's shape.
Var reshape(const Var& x, const shape_type& shape);
/// @brief x repeated along new or one-long axes to `shape`, by numpy's rules (shape_error if it
/// cannot be). Derivative: g summed over the repeated axes.
Var broadcast_to(const Var& x, const shape_type& shape);
/// @brief The inverse of broadcast_to: x summed over the axes along which `shape` was broadcast
/// (shape_error if `shape` does not broadcast to x's shape). Derivative: g broadcast back.
Var sum_to(const Var& x, const shape_type& shape);

}  // namespace xgrad
