// Activation layers: ReLU, LeakyReLU, Tanh, Sigmoid.
#pragma once

#include "xgrad/nn/module.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::nn {

/// @brief The activations as modules, for Sequential.
class ReLU : public Module {
  public:
    Var forward(const Var& x) override { return relu(x); }
};

class LeakyReLU : public Module {
  public:
    explicit LeakyReLU(double slope = 0.01) : slope_(slope) {}
    Var forward(const Var& x) override { return leaky_relu(x, slope_); }

  private:
    double slope_;
};

class Tanh : public Module {
  public:
    Var forward(const Var& x) override { return tanh(x); }
};

class Sigmoid : public Module {
  public:
    Var forward(const Var& x) override { return sigmoid(x); }
};

}  // namespace xgrad::nn
