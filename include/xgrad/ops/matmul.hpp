// Matrix products on BLAS, and transpose. Source: src/ops/matmul.cpp.
#pragma once

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief Matrix product with numpy's rules: (m,k)(k,n) → (m,n), (m,k)(k,) → (m,),
/// (k,)(k,n) → (n,), (k,)(k,) → (); for ranks ≥ 3 stacks of matrices in the last two axes, the
/// leading axes broadcast against each other ((b,m,k)(k,n) → (b,m,n)). Runs on BLAS (gemm, gemv,
/// dot; one gemm per matrix of a stack); a transpose() operand is passed as a flag, never copied.
/// Throws shape_error ("matmul: cannot multiply (4,3) by (2,)") if the inner extents differ or an
/// operand is a scalar. Derivatives for Y = A·B: dA = G·Bᵀ, dB = Aᵀ·G (summed over the matrices
/// a broadcast operand fed).
Var matmul(const Var& a, const Var& b);
/// @brief Swaps the axes of a matrix, or the last two axes of each matrix of a stack ((…,m,n) →
/// (…,n,m)); a value of rank 0 or 1 is returned as a node of its own with the same values (as
/// numpy). The copy is made only if something other than matmul reads it. Derivative: Gᵀ.
Var transpose(const Var& x);

}  // namespace xgrad
