// nn::Dropout (inverted dropout with its own seeded generator) and nn::Flatten.
#pragma once

#include <cstdint>
#include <memory>

#include "xgrad/core/random.hpp"
#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

/// @brief Inverted dropout, as torch.nn.Dropout. In training mode y = x·m/(1 − p) elementwise,
/// with m ~ Bernoulli(1 − p) drawn independently for every element from the module's own
/// generator (seeded by `seed`; element kept when a uniform draw in [0, 1) is below 1 − p).
/// Every forward pass draws a fresh mask, a Tape replay of the graph too (so a replayed
/// training loop sees new masks); backward uses the mask of the node's last forward pass.
/// Two modules with the same seed draw the same masks. In eval mode forward returns x itself.
/// Any shape; the output has x's shape.
/// Derivative: m/(1 − p) elementwise (the identity in eval mode); second derivative 0.
/// p = 0 returns x itself in both modes; p = 1 gives x·0 (zeros; NaN where x is ±inf or NaN) and a
/// zero gradient, as PyTorch.
class Dropout : public Module {
  public:
    /// @brief A dropout layer zeroing each element with probability p.
    /// @param p the probability of zeroing an element, in [0, 1].
    /// @param seed seeds the module's generator.
    /// @throw std::invalid_argument "Dropout: p must be in [0, 1], got 1.5" otherwise (NaN too).
    explicit Dropout(double p = 0.5, std::uint64_t seed = 0);
    /// @brief x·m/(1 − p) with a fresh mask m in training mode, x itself in eval mode or for
    /// p = 0 (see the class comment); any shape, the output has x's. Never throws.
    Var forward(const Var& x) override;
    /// @brief The probability of zeroing an element, as given.
    double p() const { return p_; }

  private:
    double p_;
    std::shared_ptr<Random> random_;  // shared with the nodes it made, which draw on replay
};

/// @brief torch.nn.Flatten: axes start_dim..end_dim (inclusive; negative counts from the end)
/// merged into one, e.g. (N, C, H, W) → (N, C·H·W) with the defaults. A shape op (flatten,
/// xgrad/ops/indexing.hpp): derivative g reshaped back to x's shape.
/// A Tape replay with another batch size recomputes the shape.
class Flatten : public Module {
  public:
    /// @brief Merges axes start_dim..end_dim (inclusive, negative from the end); checked against
    /// the input's rank in forward(), so the constructor never throws.
    explicit Flatten(int start_dim = 1, int end_dim = -1)
        : start_dim_(start_dim), end_dim_(end_dim) {}
    /// @brief flatten(x, start_dim, end_dim).
    /// @throw shape_error for an axis out of range for x's rank ("flatten: axis 1 is out of range
    /// for shape (5,)") or start after end, as flatten().
    Var forward(const Var& x) override;

  private:
    int start_dim_;
    int end_dim_;
};

}  // namespace xgrad::nn
