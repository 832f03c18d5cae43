// nn::Linear: y = x·W + b, with Glorot or He initialisation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

/// @brief How a layer's weights are drawn (biases start at zero). fan_in, fan_out = in, out.
enum class Init {
    xavier_uniform,  ///< U(−a, a), a = √(6 / (fan_in + fan_out)): Glorot, for tanh and sigmoid
    xavier_normal,   ///< N(0, 2 / (fan_in + fan_out))
    he_uniform,      ///< U(−a, a), a = √(6 / fan_in): He, for ReLU
    he_normal,       ///< N(0, 2 / fan_in)
};

/// @brief y = x·W + b with W of shape (in, out) and b of shape (out): a batch (rows, in) gives
/// (rows, out). (PyTorch stores W transposed, as (out, in).)
class Linear : public Module {
  public:
    Linear(std::size_t in, std::size_t out, std::uint64_t seed, Init init = Init::xavier_uniform);
    Var forward(const Var& x) override;
    std::vector<Var> parameters() const override { return {weight_, bias_}; }

    const Var& weight() const { return weight_; }
    const Var& bias() const { return bias_; }

  private:
    Var weight_;
    Var bias_;
};

}  // namespace xgrad::nn
