// Build-time rewrites: the op patterns that are built as another, stabler or cheaper, node.
// Ops call these and know nothing of each other; every pattern is matched here, by OpKind.
#pragma once

#include "core/op.hpp"
#include "xgrad/ops/losses.hpp"

namespace xgrad::detail::fusion {

/// @brief log(x) for x = σ(z) or x = 1 − σ(z): a node valued log_sigmoid(z) or −softplus(z),
/// finite for every z, which keeps x as its input so that a held x still gets its gradient
/// (see BypassScope). An undefined Var when x is neither.
Var rewrite_log(const Var& x);

/// @brief binary_cross_entropy(p, y) for p = σ(z): bce_with_logits(z, y), which keeps p as its
/// input for the same reason. An undefined Var for any other p.
Var rewrite_binary_cross_entropy(const Var& p, const Var& y, reduction how);

/// @brief A matmul operand: a transpose node is read through (its input, with the transpose
/// flag, never copied), and kept as `written` so that its gradient can be delivered if it is
/// held.
struct MatmulOperand {
    Var stored;       // what the product reads
    bool transposed;  // read as storedᵀ
    Var written;      // the transpose node the user wrote, if it was one (read through)
};
MatmulOperand matmul_operand(const Var& v);

}  // namespace xgrad::detail::fusion
