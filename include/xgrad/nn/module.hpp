// nn::Module: forward, named parameters and buffers, child modules, train/eval mode, zero_grad.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::nn {

/// @brief A (name, Var) pair of a module's state: "weight", "0.bias", "2.running_mean", ...
using NamedVar = std::pair<std::string, Var>;

/// @brief A piece of a network: maps a batch to an output and owns the parameters (trained) and
/// buffers (not trained: running statistics) it uses, and its child modules, each under a name.
///
/// Names follow PyTorch's state_dict: a module's own entries by their names ("weight"), a
/// child's entries prefixed with the child's name and a dot ("0.weight", "2.running_mean" for
/// the children of a Sequential, named by position). A layer registers what it owns in its
/// constructor (register_parameter, register_buffer, register_module); the Vars are handles,
/// so the module and its registry share the same nodes.
///
/// A module starts in training mode (as PyTorch); train(false) or eval() switches it and every
/// registered child. Dropout and the batch norms read the mode when forward() builds their node;
/// a graph keeps the mode it was built in (a Tape replay does not look at the mode again).
class Module {
  public:
    Module() = default;
    virtual ~Module() = default;
    Module(const Module&) = default;
    Module& operator=(const Module&) = default;
    Module(Module&&) = default;
    Module& operator=(Module&&) = default;

    /// @brief The module's output for the batch x. Shapes and errors: see each layer.
    virtual Var forward(const Var& x) = 0;
    /// @brief forward(x): `net(x)` as in PyTorch. Throws what forward() throws.
    Var operator()(const Var& x) { return forward(x); }

    /// @brief The parameters to train, in a fixed order: the module's own registered
    /// parameters in registration order, then each child's parameters() in registration order,
    /// each Var once: one reached again (a child registered twice, e.g. the same module
    /// appended twice to a Sequential) is skipped, so an optimizer steps it once.
    /// A subclass may override it (older modules that register nothing do); such a module's
    /// parameters are then not named, and save/load do not see them. Never throws.
    virtual std::vector<Var> parameters() const;
    /// @brief Every registered parameter with its dotted name, in the order of parameters()
    /// (own, then each child's, recursively): ("0.weight", W), ("0.bias", b), ... A Var reached
    /// under several names is listed once, under the first (PyTorch's remove_duplicate = True):
    /// Sequential(a, b, a) lists "0.weight", "0.bias", "1.…", not "2.weight". Never throws.
    std::vector<NamedVar> named_parameters() const;
    /// @brief Every registered buffer with its dotted name, own first then each child's:
    /// ("1.running_mean", ·), ("1.running_var", ·), ("1.num_batches_tracked", ·). Buffers are
    /// constant leaves (no gradient), updated by the layer itself. Each Var once, under its
    /// first name, as named_parameters(). Never throws.
    std::vector<NamedVar> named_buffers() const;
    /// @brief The values of named_buffers(), in its order.
    std::vector<Var> buffers() const;
    /// @brief The registered children with their names, in registration order.
    const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
        return children_;
    }

    /// @brief Sets training mode (on = true) or evaluation mode (false) on this module and,
    /// recursively, on every registered child. An override must call Module::train(on).
    virtual void train(bool on = true);
    /// @brief train(false): Dropout becomes the identity, batch norms use their running
    /// statistics.
    void eval() { train(false); }
    /// @brief True in training mode (the initial mode), false after eval().
    bool is_training() const { return training_; }

    /// @brief Zeroes the gradients of parameters(). Never throws.
    void zero_grad() const { xgrad::zero_grad(parameters()); }

  protected:
    /// @brief Registers a trained parameter under `name` and returns it (store it in a member:
    /// `weight_ = register_parameter("weight", parameter(w));`).
    /// @throw std::invalid_argument if the name is empty, holds a '.', or is taken already by a
    /// parameter, buffer or child of this module; graph_error if v is not a parameter() leaf.
    Var register_parameter(const std::string& name, Var v);
    /// @brief Registers a buffer (a constant() leaf the layer updates itself) under `name` and
    /// returns it. Errors as register_parameter; graph_error if v is not a constant() leaf.
    Var register_buffer(const std::string& name, Var v);
    /// @brief Registers a child module under `name` ("0", "1", ... in a Sequential); it then
    /// follows train()/eval() and its entries are named "name.entry".
    /// @throw std::invalid_argument for a bad or taken name (as register_parameter) or a null
    /// module.
    void register_module(const std::string& name, std::shared_ptr<Module> module);

  private:
    /// @brief Checks a name about to be registered on this module.
    /// @throw std::invalid_argument if it is empty, holds a '.', or is taken already by a
    /// parameter, buffer or child of this module.
    void check_new_name(const std::string& name) const;

    bool training_ = true;
    std::vector<NamedVar> parameters_;
    std::vector<NamedVar> buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace xgrad::nn
