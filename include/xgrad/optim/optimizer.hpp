// optim::Optimizer, the base of the step-by-step optimizers, and require_parameters.
#pragma once

#include <string>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::optim {

/// @brief Throws graph_error "<who>: parameters must be parameter() leaves, got '<op>'" unless
/// every Var is a leaf whose gradient is tracked.
void require_parameters(const std::vector<Var>& params, const std::string& who);

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
    /// @brief Throws graph_error unless every parameter's gradient, and its slot of each state
    /// list (moments, velocities), still has the parameter's shape: a parameter given a new shape
    /// after the optimizer was made would otherwise be updated out of bounds.
    void check_shapes(std::initializer_list<const std::vector<array>*> states = {}) const;
    /// @brief One zero array per parameter, of its shape: a fresh state list.
    std::vector<array> zero_state() const;

    std::vector<Var> params_;
    double learning_rate_;
};

}  // namespace xgrad::optim
