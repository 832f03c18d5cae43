// nn::Conv2d, nn::MaxPool2d, nn::AvgPool2d: the image layers, on the ops of xgrad/ops/conv.hpp.
#pragma once

#include <cstddef>
#include <cstdint>

#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

/// @brief A 2-D convolution layer, as torch.nn.Conv2d (square kernel, zero padding): y =
/// conv2d(x, W, b, stride, padding) for x of shape (N, in_channels, H, W), giving (N,
/// out_channels, H_out, W_out) with H_out = ⌊(H + 2·padding − kernel)/stride⌋ + 1. Registers
/// "weight" (out_channels, in_channels, kernel, kernel), PyTorch's layout, and "bias"
/// (out_channels) if `bias`. Weights are drawn by `init` with the fans of a conv weight, fan_in =
/// in_channels·kernel², fan_out = out_channels·kernel² (nn::init); biases start at zero.
class Conv2d : public Module {
  public:
    /// @brief A layer of `out_channels` kernels of in_channels × kernel × kernel, seeded by `seed`.
    /// @throw std::invalid_argument for a channel count, kernel or stride of 0.
    Conv2d(std::size_t in_channels, std::size_t out_channels, std::size_t kernel,
           std::uint64_t seed, std::size_t stride = 1, std::size_t padding = 0,
           Init init = Init::he_uniform, bool bias = true);
    /// @brief conv2d(x, weight, bias, stride, padding): (N, in_channels, H, W) → (N,
    /// out_channels, H_out, W_out).
    /// @throw shape_error from conv2d (naming the shapes) for a batch that is not (N,
    /// in_channels, H, W) or smaller than the kernel.
    Var forward(const Var& x) override;

    /// @brief The kernels, (out_channels, in_channels, kernel, kernel).
    const Var& weight() const { return weight_; }
    /// @brief The bias, (out_channels), or an undefined Var for a layer made without one.
    const Var& bias() const { return bias_; }

  private:
    Var weight_;
    Var bias_;
    std::size_t stride_;
    std::size_t padding_;
};

/// @brief max_pool2d(x, kernel, stride) as a layer (torch.nn.MaxPool2d without padding); stride
/// 0 means stride = kernel. No parameters.
class MaxPool2d : public Module {
  public:
    /// @brief Max pooling over kernel × kernel windows, `stride` apart (0: kernel).
    /// @throw std::invalid_argument for kernel 0.
    explicit MaxPool2d(std::size_t kernel, std::size_t stride = 0);
    /// @brief max_pool2d(x, kernel, stride): (N, C, H, W) → (N, C, H_out, W_out).
    /// @throw shape_error from max_pool2d for an input other than (N, C, H, W) of H, W ≥ kernel.
    Var forward(const Var& x) override;

  private:
    std::size_t kernel_;
    std::size_t stride_;
};

/// @brief avg_pool2d(x, kernel, stride) as a layer (torch.nn.AvgPool2d without padding); stride
/// 0 means stride = kernel. No parameters.
class AvgPool2d : public Module {
  public:
    /// @brief Average pooling over kernel × kernel windows, `stride` apart (0: kernel).
    /// @throw std::invalid_argument for kernel 0.
    explicit AvgPool2d(std::size_t kernel, std::size_t stride = 0);
    /// @brief avg_pool2d(x, kernel, stride): (N, C, H, W) → (N, C, H_out, W_out).
    /// @throw shape_error from avg_pool2d for an input other than (N, C, H, W) of H, W ≥ kernel.
    Var forward(const Var& x) override;

  private:
    std::size_t kernel_;
    std::size_t stride_;
};

}  // namespace xgrad::nn
