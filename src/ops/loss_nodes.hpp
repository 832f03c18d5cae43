// The loss nodes other parts of the library build directly (the rewrites of src/fusion).
#pragma once

#include "core/op.hpp"
#include "xgrad/ops/losses.hpp"

namespace xgrad::detail {

/// @brief bce_with_logits(z, y); with `written_probabilities` (σ(z) as the user wrote it) kept
/// as a third input that receives its gradient whenever someone observes it.
Var make_bce_with_logits(const Var& z, const Var& y, reduction how,
                         const Var* written_probabilities = nullptr);

}  // namespace xgrad::detail
