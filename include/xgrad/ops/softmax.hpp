// Softmax along the last axis, and one_hot. Source: src/ops/softmax.cpp.
#pragma once

#include <cstddef>

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief log of the softmax along the last axis (each row of a matrix, or a whole vector), same
/// shape: x − max − log Σ e^(x − max), finite for any finite x. Throws shape_error for a scalar or
/// an empty last axis. Derivative: dx = g − softmax · Σₖ gₖ per row.
Var log_softmax(const Var& x);
/// @brief e^x / Σ e^x along the last axis, as exp(log_softmax(x)); same shape.
Var softmax(const Var& x);
/// @brief Rows of zeros with a 1 at each class index: (m,) indices → (m, classes). Indices must
/// be whole numbers in [0, classes) (std::invalid_argument naming the position otherwise). A
/// constant: it carries no gradient.
Var one_hot(const Var& class_indices, std::size_t classes);

}  // namespace xgrad
