/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <vector>

#include "xgrad/var.hpp"

namespace xgrad::optim {

/// @brief Updates a list of parameters in place from their gradients, one step() at a time.
class Optimizer {
  public:
    Optimizer(std::vector<Var> params, double learning_rate);
    virtual ~Optimizer() = default;

    /// @brief One update from the parameters' current gradients.
    virtual void step() = 0;
    /// @brief Zeroes the parameters' gradients (before the next backward).
    void zero_grad() const;

    const std::vector<Var>& parameters() const { return params_; }
    double learning_rate() const { return learning_rate_; }
    /// @brief For schedules: the rate the next step() uses.
    void set_learning_rate(double rate) { learning_rate_ = rate; }

  protected:
    std::vector<Var> params_;
    double learning_rate_;
};

}  // namespace xgrad::optim
