// Forward mode for the library's own use: tangents pushed through recorded graphs.
#pragma once

#include <vector>

#include "core/node.hpp"

namespace xgrad::detail {

/// @brief The graph several outputs depend on, in creation order, ready to push tangents
/// through it with each op's tangent rule (Node::tangent) as many times as asked.
class ForwardPass {
  public:
    /// @brief Collects the nodes (an iterative walk: any depth) and checks that no input changed
    /// since the values were computed (graph_error otherwise).
    ForwardPass(const std::vector<Var>& outputs, const std::vector<Var>& inputs);
    /// @brief The outputs' tangents J·t for the inputs' tangents (shapes checked by the caller).
    std::vector<array> run(const std::vector<const array*>& tangents) const;

  private:
    std::vector<Var> outputs_;
    std::vector<Var> inputs_;
    std::vector<Node*> order_;  // creation order
};

}  // namespace xgrad::detail
