/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <cstddef>
#include <cstdint>

namespace xgrad::models {

/// @brief Gradient-descent settings shared by the linear models.
struct TrainOptions {
    double learning_rate = 0.1;
    std::size_t epochs = 100;
    /// @brief Rows per step: 0 (or ≥ rows) is batch gradient descent, 1 is stochastic.
    std::size_t batch_size = 0;
    /// @brief Seed of the per-epoch shuffle used by mini-batch and stochastic descent.
    std::uint64_t seed = 0;
};

}  // namespace xgrad::models
