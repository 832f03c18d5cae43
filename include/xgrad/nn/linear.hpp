// nn::Linear: y = x·W + b, with Glorot or He initialisation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xgrad/core/random.hpp"
#include "xgrad/nn/init.hpp"
#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

/// @brief How a layer's weights are drawn (biases start at zero). fan_in, fan_out = in, out;
/// the draws are those of nn::init (xgrad/nn/init.hpp) with Fans{in, out}.
enum class Init {
    xavier_uniform,  ///< U(−a, a), a = √(6 / (fan_in + fan_out)): Glorot, for tanh and sigmoid
    xavier_normal,   ///< N(0, 2 / (fan_in + fan_out))
    he_uniform,      ///< U(−a, a), a = √(6 / fan_in): He, for ReLU
    he_normal,       ///< N(0, 2 / fan_in)
};

/// @brief Weights of `shape` drawn as `init` says, with the fans given (nn::init's draws,
/// row-major from `random`): what Linear and Conv2d start from. Never throws for non-zero fans.
array draw_weights(Init init, const shape_type& shape, const init::Fans& fans, Random& random);

/// @brief y = x·W + b with W of shape (in, out) and b of shape (out): a batch (rows, in) gives
/// (rows, out). Registered as "weight" (in, out) and "bias" (out): PyTorch stores the weight
/// transposed, as (out, in), so a torch state_dict's weight must be transposed to load here.
class Linear : public Module {
  public:
    /// @brief A layer of `in` inputs and `out` outputs, the weight drawn by `init` from `seed`,
    /// the bias zero.
    /// @throw std::invalid_argument for in = 0 or out = 0.
    Linear(std::size_t in, std::size_t out, std::uint64_t seed, Init init = Init::xavier_uniform);
    /// @brief x·W + b for x of shape (rows, in).
    /// @throw shape_error "Linear: expects a batch of shape (rows, in), got ..." otherwise.
    Var forward(const Var& x) override;

    /// @brief W, shape (in, out): the transpose of torch.nn.Linear's weight.
    const Var& weight() const { return weight_; }
    /// @brief b, shape (out).
    const Var& bias() const { return bias_; }

  private:
    Var weight_;
    Var bias_;
};

}  // namespace xgrad::nn
