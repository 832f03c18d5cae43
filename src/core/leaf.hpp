// LeafNode: a parameter or a constant.
#pragma once

#include "core/node.hpp"

namespace xgrad::detail {

/// @brief A parameter (gradient tracked) or a constant (data): a value and nothing to compute.
class LeafNode final : public Node {
  public:
    LeafNode(array value, bool is_parameter)
        : Node(is_parameter ? "parameter" : "constant", is_parameter, OpKind::leaf) {
        value_ = std::move(value);
    }
};

}  // namespace xgrad::detail
