/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include "node.hpp"
#include "xgrad/tape.hpp"

namespace xgrad::detail {

/// @brief The library's own view of a tape's node lists.
struct TapeAccess {
    /// @brief Every node, in creation order.
    static const std::vector<Node*>& order(const Tape& tape) { return tape.order_; }
    /// @brief The nodes that need a gradient, in creation order.
    static const std::vector<Node*>& grad_order(const Tape& tape) { return tape.grad_order_; }
};

}  // namespace xgrad::detail
