// The one table of optimizer names: OptimizerKind, parse_optimizer, make_optimizer.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "xgrad/optim/optimizer.hpp"

namespace xgrad::optim {

/// @brief The optimizers a model can be trained with, in the order of optimizer_names().
/// The first six are step-by-step optimizers (make_optimizer makes them); the last two are
/// solvers that run to convergence on the whole objective (xgrad/solvers/solvers.hpp).
enum class OptimizerKind {
    sgd,       ///< "sgd": SGD(params, η), plain gradient descent
    momentum,  ///< "momentum": SGD(params, η, 0.9), heavy-ball momentum
    nesterov,  ///< "nesterov": SGD(params, η, 0.9, true), Nesterov momentum
    adagrad,   ///< "adagrad": AdaGrad(params, η), ε = 1e-10
    rmsprop,   ///< "rmsprop": RMSProp(params, η), α = 0.99, ε = 1e-8, no momentum
    adam,      ///< "adam": Adam(params, η), β₁ = 0.9, β₂ = 0.999, ε = 1e-8
    lbfgs,     ///< "lbfgs": solvers::lbfgs, not an Optimizer
    newton,    ///< "newton": solvers::newton, not an Optimizer
};

/// @brief The name of every optimizer, in OptimizerKind's order: sgd, momentum, nesterov,
/// adagrad, rmsprop, adam, lbfgs, newton (what the command line's --optimizer accepts).
/// @return a reference to one list that lives as long as the program; never throws.
const std::vector<std::string>& optimizer_names();

/// @brief The name of `kind`, e.g. "adam".
/// @return a reference into optimizer_names(); never throws for a named enumerator.
/// @throw std::invalid_argument for a value outside the enumeration.
const std::string& optimizer_name(OptimizerKind kind);

/// @brief The kind an exact, case-sensitive name stands for ("adam" → OptimizerKind::adam).
/// @return std::nullopt for any other text (including "Adam" and " adam"); never throws.
std::optional<OptimizerKind> parse_optimizer(std::string_view name);

/// @brief True for lbfgs and newton, which are solvers (solvers::lbfgs, solvers::newton) rather
/// than step-by-step optimizers; false for the rest. Never throws.
bool is_solver(OptimizerKind kind);

/// @brief A step-by-step optimizer of the given kind over `params`, with the hyper-parameters
/// listed at OptimizerKind and the given learning rate η.
/// @param params parameter() leaves of any shapes; the optimizer keeps handles to them.
/// @param learning_rate η > 0.
/// @return the optimizer, owned by the caller.
/// @throw std::invalid_argument for lbfgs and newton (solvers: call solvers::lbfgs or
/// solvers::newton), a value outside the enumeration, or a learning rate that is not > 0.
/// @throw graph_error if a Var is not a parameter() leaf (see require_parameters).
std::unique_ptr<Optimizer> make_optimizer(OptimizerKind kind, std::vector<Var> params,
                                          double learning_rate);

}  // namespace xgrad::optim
