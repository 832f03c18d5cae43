// Anomaly mode (xgrad::detect_anomaly): the checks that name the first op to make NaN or inf.
#pragma once

#include "core/node.hpp"

namespace xgrad::detail {

/// @brief In anomaly mode: throws anomaly_error if the node's value is not finite.
void check_forward_anomaly(Node& node);
/// @brief In anomaly mode: throws anomaly_error if a gradient the node has just pushed to its
/// inputs is not finite.
void check_backward_anomaly(Node& node);
/// @brief In anomaly mode: throws anomaly_error if the tangent a node's forward-mode rule has
/// just computed is not finite.
void check_tangent_anomaly(Node& node, const array& tangent);

}  // namespace xgrad::detail
