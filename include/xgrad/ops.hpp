/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include "xgrad/var.hpp"

namespace xgrad {

// Elementwise arithmetic, with numpy broadcasting between node operands.
Var operator+(const Var& a, const Var& b);
Var operator-(const Var& a, const Var& b);
Var operator*(const Var& a, const Var& b);
Var operator/(const Var& a, const Var& b);
Var operator+(const Var& a, double b);
Var operator-(const Var& a, double b);
Var operator*(const Var& a, double b);
Var operator/(const Var& a, double b);
Var operator+(double a, const Var& b);
Var operator-(double a, const Var& b);
Var operator*(double a, const Var& b);
Var operator/(double a, const Var& b);
Var operator-(const Var& x);

/// @brief x raised to a constant power, elementwise.
Var pow(const Var& x, double exponent);
Var exp(const Var& x);
/// @brief Natural logarithm. log(sigmoid(z)) and log(1 - sigmoid(z)) are recognised and
/// computed as log_sigmoid(z) and log_sigmoid(-z), which stay finite for any z.
Var log(const Var& x);
Var tanh(const Var& x);
/// @brief 1 / (1 + e^-x), computed without overflow for any x.
Var sigmoid(const Var& x);
/// @brief max(x, 0); its derivative at 0 is taken as 0.
Var relu(const Var& x);
/// @brief |x|; its derivative at 0 is taken as 0.
Var abs(const Var& x);
/// @brief x where x > 0, else slope·x.
Var leaky_relu(const Var& x, double slope = 0.01);
/// @brief log(1 + e^x), computed without overflow for any x.
Var softplus(const Var& x);
/// @brief log(sigmoid(x)) = -softplus(-x), computed without overflow for any x.
Var log_sigmoid(const Var& x);

/// @brief Matrix product with numpy's rules: (m,k)(k,n), (m,k)(k,), (k,)(k,n), (k,)(k,), and for
/// ranks ≥ 3 stacks of matrices in the last two axes, the leading axes broadcast against each
/// other (e.g. (b,m,k)(k,n) → (b,m,n)). Runs on BLAS (gemm, gemv, dot; one gemm per matrix of a
/// stack); a transposed operand is passed as a flag, never copied.
Var matmul(const Var& a, const Var& b);
/// @brief Swaps the axes of a matrix, or the last two axes of a stack of matrices (1-D and 0-D
/// values are returned unchanged). The copy is made only if something other than matmul reads it.
Var transpose(const Var& x);

/// @brief Sum of all elements (a scalar).
Var sum(const Var& x);
/// @brief Sum along one axis (negative counts from the end); the axis is removed.
Var sum(const Var& x, int axis);
/// @brief Mean of all elements (a scalar).
Var mean(const Var& x);
/// @brief Mean along one axis (negative counts from the end); the axis is removed.
Var mean(const Var& x, int axis);

/// @brief log of the softmax along the last axis (each row of a matrix, or a whole vector):
/// x − max − log Σ e^(x − max), finite for any finite x.
Var log_softmax(const Var& x);
/// @brief e^x / Σ e^x along the last axis, as exp(log_softmax(x)).
Var softmax(const Var& x);
/// @brief Rows of zeros with a 1 at each class index: (m,) indices → (m, classes). Indices must
/// be whole numbers in [0, classes). A constant: it carries no gradient.
Var one_hot(const Var& class_indices, std::size_t classes);

/// @brief The same elements in a new shape of the same size (row-major order).
Var reshape(const Var& x, const shape_type& shape);
/// @brief x repeated along new or one-long axes to `shape`, by numpy's rules.
Var broadcast_to(const Var& x, const shape_type& shape);
/// @brief The inverse of broadcast_to: x summed over the axes along which `shape` was broadcast.
Var sum_to(const Var& x, const shape_type& shape);

}  // namespace xgrad
