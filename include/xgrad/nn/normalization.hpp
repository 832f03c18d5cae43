// nn::BatchNorm1d, nn::BatchNorm2d (batch statistics in training, running statistics in eval)
// and nn::LayerNorm, each one graph node with exact first and second derivatives.
#pragma once

#include <cstddef>
#include <string>

#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

/// @brief The batch norms, torch.nn.BatchNorm1d/2d with track_running_stats = True. For x of
/// shape (N, C, ...) and each channel c, over the M = N·Π(...) elements of that channel:
///
///   training: μ = Σx/M, σ² = Σ(x − μ)²/M (biased), x̂ = (x − μ)/√(σ² + ε), y = γ·x̂ + β;
///             then running_mean ← (1 − momentum)·running_mean + momentum·μ,
///             running_var ← (1 − momentum)·running_var + momentum·σ²·M/(M − 1) (unbiased),
///             num_batches_tracked += 1;
///   eval:     μ, σ² are running_mean, running_var (nothing is updated).
///
/// γ = weight (ones) and β = bias (zeros) are parameters of shape (C) if affine, else absent
/// (γ = 1, β = 0). Buffers: running_mean (zeros), running_var (ones), num_batches_tracked (a
/// float64 scalar, 0), all of shape (C) but the last, shape ().
///
/// Derivatives (training; g = dL/dy, means over the channel's M elements):
///   dL/dx = γ/√(σ² + ε) · (g − mean(g) − x̂·mean(g·x̂)),  dL/dγ = Σ g·x̂,  dL/dβ = Σ g;
/// in eval dL/dx = γ/√(σ² + ε)·g. Second derivatives through a graph of the same formulas
/// (reductions and elementwise ops); the forward-mode tangent is the same linear map as dL/dx.
///
/// One node computes the output (two passes over x for the statistics, one for y; backward two
/// passes). The statistics are updated by that node's forward pass, so a Tape replay of a
/// training graph (train_minibatches) updates them on every step too, as calling the module
/// again would; a graph keeps the mode it was built in.
///
/// momentum = None (torch's cumulative average) is not supported.
class BatchNorm : public Module {
  public:
    /// @brief Normalises x (shape as the subclass says; see the class comment).
    /// @throw shape_error naming the layer and the shape for a wrong rank ("BatchNorm2d: expected
    /// a 4-D input (N, C, H, W), got shape (2,3)") or channel count ("BatchNorm1d: expected 3
    /// channels (axis 1), got shape (4,5)"); in training, for a batch with one value per channel
    /// or none ("BatchNorm1d: expected more than 1 value per channel when training, got input of
    /// shape (1,3)", as PyTorch). A Tape replay checks again.
    Var forward(const Var& x) override;

    /// @brief γ, shape (C); an undefined Var when affine is false.
    const Var& weight() const { return weight_; }
    /// @brief β, shape (C); an undefined Var when affine is false.
    const Var& bias() const { return bias_; }
    /// @brief The running mean of each channel, shape (C), a buffer (zeros at first).
    const Var& running_mean() const { return running_mean_; }
    /// @brief The running (unbiased) variance of each channel, shape (C), a buffer (ones at first).
    const Var& running_var() const { return running_var_; }
    /// @brief The number of training forward passes so far, as a double of shape ().
    const Var& num_batches_tracked() const { return num_batches_tracked_; }
    /// @brief C, the number of channels (features), as given.
    std::size_t num_features() const { return channels_; }
    /// @brief ε, added to the variance, as given.
    double eps() const { return eps_; }
    /// @brief The running statistics' momentum, as given.
    double momentum() const { return momentum_; }
    /// @brief True if the layer has the parameters γ and β.
    bool affine() const { return weight_.defined(); }

  protected:
    /// @param name the layer's name in messages; ranks: the accepted input ranks;
    /// expected: the input's shape for messages, e.g. "(N, C, H, W)".
    /// @throw std::invalid_argument for num_features = 0, eps < 0, infinite or NaN ("BatchNorm2d:
    /// eps must be finite and >= 0, got inf"), momentum outside [0, 1].
    BatchNorm(const char* name, std::size_t min_rank, std::size_t max_rank, const char* expected,
              std::size_t num_features, double eps, double momentum, bool affine);

  private:
    const char* name_;
    std::size_t min_rank_, max_rank_;
    const char* expected_;
    std::size_t channels_;
    double eps_, momentum_;
    Var weight_, bias_;
    Var running_mean_, running_var_, num_batches_tracked_;
};

/// @brief Batch norm over (N, C) or (N, C, L) inputs (the statistics per feature c over the N
/// rows, and the L positions): torch.nn.BatchNorm1d.
class BatchNorm1d : public BatchNorm {
  public:
    /// @brief A batch norm of `num_features` channels C.
    /// @throw std::invalid_argument as BatchNorm (num_features = 0, eps < 0, infinite or NaN,
    /// momentum ∉ [0, 1]).
    explicit BatchNorm1d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1,
                         bool affine = true)
        : BatchNorm("BatchNorm1d", 2, 3, "a 2-D (N, C) or 3-D (N, C, L) input", num_features, eps,
                    momentum, affine) {}
};

/// @brief Batch norm over (N, C, H, W) inputs (the statistics per channel over N·H·W
/// elements): torch.nn.BatchNorm2d.
class BatchNorm2d : public BatchNorm {
  public:
    /// @brief A batch norm of `num_features` channels C (PyTorch's parameter name).
    /// @throw std::invalid_argument as BatchNorm (num_features = 0, eps < 0, infinite or NaN,
    /// momentum ∉ [0, 1]).
    explicit BatchNorm2d(std::size_t num_features, double eps = 1e-5, double momentum = 0.1,
                         bool affine = true)
        : BatchNorm("BatchNorm2d", 4, 4, "a 4-D input (N, C, H, W)", num_features, eps, momentum,
                    affine) {}
};

/// @brief torch.nn.LayerNorm: each sample normalised over its last axes, those of
/// `normalized_shape` S (K = ΠS elements): μ = Σx/K, σ² = Σ(x − μ)²/K (biased),
/// x̂ = (x − μ)/√(σ² + ε), y = γ ⊙ x̂ + β with γ (ones) and β (zeros) parameters of shape S if
/// elementwise_affine. x has shape (..., S); y the same. The same in training and eval mode.
/// Derivatives per sample, with h = γ ⊙ g and means over its K elements:
///   dL/dx = (h − mean(h) − x̂·mean(h·x̂))/√(σ² + ε),  dL/dγ = Σ_samples g ⊙ x̂,  dL/dβ = Σ g;
/// second derivatives through a graph of the same formulas; one node, as the batch norms.
class LayerNorm : public Module {
  public:
    /// @brief A layer norm over the last axes `normalized_shape`.
    /// @throw std::invalid_argument for an empty normalized_shape or one with an extent 0, or eps
    /// < 0, infinite or NaN.
    explicit LayerNorm(shape_type normalized_shape, double eps = 1e-5,
                       bool elementwise_affine = true);
    /// @brief The normalised x, of x's shape (..., S).
    /// @throw shape_error "LayerNorm: expected an input whose last axes are (4,5), got shape
    /// (2,3)" when x's trailing extents are not normalized_shape (checked again on replay).
    Var forward(const Var& x) override;

    /// @brief γ, of normalized_shape; undefined without elementwise_affine.
    const Var& weight() const { return weight_; }
    /// @brief β, of normalized_shape; undefined without elementwise_affine.
    const Var& bias() const { return bias_; }
    /// @brief S, the trailing axes normalised over, as given.
    const shape_type& normalized_shape() const { return normalized_shape_; }
    /// @brief ε, added to the variance, as given.
    double eps() const { return eps_; }

  private:
    shape_type normalized_shape_;
    double eps_;
    Var weight_, bias_;
};

}  // namespace xgrad::nn
