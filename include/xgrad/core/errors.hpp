// The exceptions xgrad throws (shape_error, graph_error, anomaly_error) and format_shape.
#pragma once

#include <stdexcept>
#include <string>

#include "xgrad/core/types.hpp"

namespace xgrad {

/// @brief Thrown when an op's inputs have shapes it cannot combine; names the op and the shapes.
class shape_error : public std::invalid_argument {
  public:
    using std::invalid_argument::invalid_argument;
};

/// @brief Thrown when the graph is used in a way that has no meaning (e.g. the gradient of a
/// constant, backward on a non-scalar without a seed).
class graph_error : public std::logic_error {
  public:
    using std::logic_error::logic_error;
};

/// @brief Thrown in anomaly-detection mode when an op produces NaN or infinity.
class anomaly_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// @brief Formats a shape the way numpy prints it: `()`, `(3,)`, `(4,3)`.
std::string format_shape(const shape_type& shape);

}  // namespace xgrad
