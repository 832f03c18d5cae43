// optim::Optimizer, the base of the step-by-step optimizers, and require_parameters.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::optim {

/// @brief Checks that every Var is a leaf whose gradient is tracked, i.e. made by parameter():
/// what the optimizers and the solvers (who = "optimizer", "solver") update in place.
/// @param params Vars of any shapes; an empty list passes.
/// @param who the caller's name, the message's prefix.
/// @throw graph_error "<who>: parameters must be parameter() leaves, got '<op>'" for the first
/// Var that is an op's result or a constant (op "constant"); graph_error for an empty
/// (default-constructed) Var.
void require_parameters(const std::vector<Var>& params, const std::string& who);

/// @brief Updates a list of parameters in place from their gradients, one step() at a time.
/// Use: backward() (or Tape::backward()) fills the gradients, step() moves the parameters,
/// zero_grad() clears the gradients before the next backward (they accumulate, as in PyTorch).
class Optimizer {
  public:
    /// @param params parameter() leaves of any shapes; the optimizer keeps handles to the same
    /// nodes, so their values change under the caller's Vars.
    /// @param learning_rate η > 0.
    /// @throw graph_error if a Var is not a parameter() leaf (see require_parameters).
    /// @throw std::invalid_argument "optimizer: learning rate must be > 0" for η ≤ 0 or NaN.
    Optimizer(std::vector<Var> params, double learning_rate);
    virtual ~Optimizer() = default;

    /// @brief One update of every parameter from its current gradient (same shape as the
    /// parameter); the value is changed in place, its shape kept.
    /// @throw graph_error if a parameter's value, gradient or state no longer have one shape
    /// (the parameter was given a new shape after the optimizer was made); nothing is written.
    virtual void step() = 0;
    /// @brief Zeroes the parameters' gradients (before the next backward). Never throws.
    void zero_grad() const;

    /// @brief The parameters, in the order given to the constructor.
    const std::vector<Var>& parameters() const { return params_; }
    /// @brief The rate the next step() uses.
    double learning_rate() const { return learning_rate_; }
    /// @brief For schedules: the rate the next step() uses. Not checked (a schedule may
    /// reach 0); never throws.
    void set_learning_rate(double rate) { learning_rate_ = rate; }

  protected:
    /// @brief For step() implementations, before writing anything: checks that every
    /// parameter's gradient, and its slot of each state list (moments, velocities; an empty
    /// list is skipped), still has the parameter's shape: a parameter given a new shape after
    /// the optimizer was made would otherwise be updated out of bounds.
    /// @throw graph_error "optimizer: parameter k has shape S but its gradient|state has shape
    /// T; make a new optimizer after changing a parameter's shape".
    void check_shapes(std::initializer_list<const std::vector<array>*> states = {}) const;
    /// @brief A fresh state list: one array of zeros per parameter, of its shape.
    std::vector<array> zero_state() const;

    std::vector<Var> params_;
    double learning_rate_;
};

}  // namespace xgrad::optim
