// nn::Module: forward, parameters, zero_grad.
#pragma once

#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::nn {

/// @brief A piece of a network: maps a batch (rows, features) to an output and owns the
/// parameters it uses.
class Module {
  public:
    virtual ~Module() = default;
    virtual Var forward(const Var& x) = 0;
    Var operator()(const Var& x) { return forward(x); }
    /// @brief The parameters to train, in a fixed order.
    virtual std::vector<Var> parameters() const { return {}; }
    void zero_grad() const { xgrad::zero_grad(parameters()); }
};

}  // namespace xgrad::nn
