// Predictions of a network: class labels and probabilities.
#pragma once

#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

/// @brief The network's output for X, computed without recording a graph.
array predict_outputs(Module& net, const array& X);

/// @brief Class labels from the outputs: with one output column (or a vector), 1 where the logit
/// is positive (P ≥ 1/2) else 0; with K columns, the index of the largest.
array predict_labels(Module& net, const array& X);

}  // namespace xgrad::nn
