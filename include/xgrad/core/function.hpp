// Custom ops: xgrad::Function (a name, a forward pass and its derivative rules as callbacks) and
// apply(), which puts one into the graph like a built-in op.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief A custom op, like torch.autograd.Function: an op written outside the library from a
/// forward pass and its derivative rules, used through apply() (or operator()) like any
/// built-in op. Its node takes part in everything a built-in node does: backward passes (its
/// gradients written with first-contribution-overwrites, so zero_grad and NaN-filled buffers
/// behave as for built-in ops), Tape replays (forward() runs again on the leaves' new values),
/// no_grad (the result is a constant and no node is kept), detect_anomaly (a non-finite value,
/// gradient or tangent it makes throws anomaly_error naming it) and version checks (a backward
/// pass after one of its inputs changed throws graph_error).
///
/// The contract, for an op of n inputs:
/// - `forward(inputs)` returns the output, of any shape it chooses, from the inputs' values
///   (`inputs[i]`, each of input i's shape). It runs once in apply() and again at each Tape
///   replay; it checks its inputs' shapes itself (throw shape_error naming the op).
/// - `backward(g, inputs, output)` is the vector-Jacobian product: given g = dL/d(output) (the
///   output's shape) and the values of the forward pass, it returns n arrays, the i-th
///   dL/d(input i) = J_iᵀ g of input i's shape. Entries for inputs that need no gradient
///   (`inputs.requires_grad(i)` is false) are ignored and may be left empty (skip computing
///   them). Called by backward passes (Var::backward, Tape::backward, jacobian) and by
///   grad() without create_graph. A wrong count, or a wrong shape for an input that needs a
///   gradient, throws shape_error naming the op, the input and both shapes.
/// - `backward_as_graph(g, inputs, output)` (optional) is the same derivative built from Var ops
///   (g, the inputs and the output are graph nodes), so that it can be differentiated again: it
///   returns n Vars, undefined (Var()) for "no contribution". Called by grad(create_graph=true),
///   hessian, hessian_vector_product and gradgradcheck; without it they throw graph_error
///   ("custom op 'name' has no second-order rule (backward_as_graph): ..."). First-order uses
///   never need it.
/// - `tangent(tangents, inputs, output)` (optional) is the forward-mode rule J·t: `tangents[i]`
///   points to input i's tangent (its shape), or is null where input i has no tangent (zero; at
///   least one is non-null); it returns the output's tangent, of the output's shape (else
///   shape_error). Called by jvp, jacobian_forward and forward-over-reverse Hessian-vector
///   products; without it they throw graph_error ("custom op 'name' has no tangent rule ...").
///
/// A rule is asked for only when a pass needs it: a Function with forward alone works under
/// no_grad and on constants, and one without backward_as_graph works for every first-order use.
///
/// Threads and state: the callbacks must be pure functions of their arguments. They may be
/// called again at any time (replays, each jacobian row), and concurrently from several
/// threads when grad() or hessian() run on one graph from several threads; they must not keep
/// state between calls (store nothing in captured variables; read only what they are passed).
/// Everything a rule needs from the forward pass is the inputs and the output it is given.
///
/// Example (y = x³): `Function cube{"cube", [](const Function::Inputs& in) { return array(in[0] *
/// in[0] * in[0]); }, [](const array& g, const Function::Inputs& in, const array&) { return
/// std::vector<array>{3.0 * in[0] * in[0] * g}; }};` then `Var y = cube({x});`.
struct Function {
    /// @brief Read-only view of the inputs' values during a callback (no copies): `inputs[i]` is
    /// input i's value, `requires_grad(i)` whether a backward pass wants its gradient.
    class Inputs {
      public:
        Inputs(std::vector<const array*> values, std::vector<bool> requires_grad)
            : values_(std::move(values)), requires_grad_(std::move(requires_grad)) {}
        std::size_t size() const { return values_.size(); }
        /// @brief Input i's value; throws std::out_of_range for i ≥ size().
        const array& operator[](std::size_t i) const;
        /// @brief Whether input i needs a gradient (false for constants, and for every input
        /// outside a backward pass).
        bool requires_grad(std::size_t i) const;

      private:
        std::vector<const array*> values_;
        std::vector<bool> requires_grad_;
    };

    using ForwardFn = std::function<array(const Inputs& inputs)>;
    using BackwardFn = std::function<std::vector<array>(const array& grad_output,
                                                        const Inputs& inputs, const array& output)>;
    using BackwardGraphFn = std::function<std::vector<Var>(
        const Var& grad_output, const std::vector<Var>& inputs, const Var& output)>;
    using TangentFn = std::function<array(const std::vector<const array*>& tangents,
                                          const Inputs& inputs, const array& output)>;

    /// @brief The op's name, shown in errors, anomaly reports and graph exports.
    std::string name;
    /// @brief The output's value from the inputs' values (required).
    ForwardFn forward;
    /// @brief dL/d(input i) = J_iᵀ g for each input (required for reverse mode).
    BackwardFn backward;
    /// @brief The same as graph nodes, for second derivatives (optional).
    BackwardGraphFn backward_as_graph;
    /// @brief The forward-mode rule J·t (optional).
    TangentFn tangent;

    /// @brief apply(*this, inputs).
    Var operator()(const std::vector<Var>& inputs) const;
};

/// @brief Puts the custom op `fn` into the graph with these inputs (any number, at least one)
/// and runs its forward pass: returns a Var whose value is fn.forward(inputs' values), whose
/// gradient flows back through fn.backward. The Function is copied into the node (it may be a
/// temporary). Throws graph_error if fn has no name or no forward, if `inputs` is empty or one is
/// an empty Var; whatever fn.forward throws propagates (and no node is made).
Var apply(const Function& fn, const std::vector<Var>& inputs);

}  // namespace xgrad
