// grad() as graph nodes, Hessians and Hessian-vector products.
#pragma once

#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief d(output)/d(input) for each input, as new Vars; the inputs' .grad() is left alone.
/// With create_graph the results are graph nodes built from the ops' derivative rules, so they
/// can be differentiated again (second derivatives). An input the output does not depend on gets
/// zeros. The output must be a single number.
std::vector<Var> grad(const Var& output, const std::vector<Var>& inputs, bool create_graph = false);
/// @brief The same with an explicit seed d(loss)/d(output) of the output's shape.
std::vector<Var> grad(const Var& output, const std::vector<Var>& inputs, const Var& seed,
                      bool create_graph = false);

/// @brief The Hessian of a scalar output with respect to the parameters, flattened and
/// concatenated in order: an (N, N) matrix, N the parameters' total element count.
array hessian(const Var& output, const std::vector<Var>& params);

/// @brief H·v without forming H (one backward through the gradient graph). `v` has one array per
/// parameter, of its shape; so does the result.
std::vector<array> hessian_vector_product(const Var& output, const std::vector<Var>& params,
                                          const std::vector<array>& v);

/// @brief How hessian_vector_product differentiates the gradient a second time.
enum class hvp_mode {
    /// Backward through the gradient's graph (the gradient of ∇f·v).
    reverse_over_reverse,
    /// Forward through the gradient's graph (the directional derivative of ∇f along v, one
    /// tangent pass by the ops' tangent rules); see BENCHMARKS.md for when it is faster.
    forward_over_reverse,
};
/// @brief H·v by the chosen mode; the same numbers up to rounding. Throws shape_error unless v
/// has one array per parameter, of its shape; graph_error if an op on the way has no
/// second-order (or, forward, no tangent) rule.
std::vector<array> hessian_vector_product(const Var& output, const std::vector<Var>& params,
                                          const std::vector<array>& v, hvp_mode mode);

/// @brief Forward mode: the Jacobian-vector product J·t of `output` with respect to `inputs`
/// along `tangents` (one array per input, of its shape; their directions add), at the values the
/// graph was last computed at. The tangents are pushed through the recorded graph in creation
/// order, each op applying its own tangent rule (not the double-backward trick). Returns an
/// array of output's shape; zeros if no input reaches the output. Inputs may be leaves or interior
/// nodes (an interior input takes its tangent from the caller, not from the nodes before it).
/// Throws shape_error for a tangent of the wrong shape or count, graph_error if a leaf changed
/// since the graph was computed or an op on the way has no tangent rule.
array jvp(const Var& output, const std::vector<Var>& inputs, const std::vector<array>& tangents);

/// @brief The Jacobian d(output)/d(input) by forward mode: one jvp per input element, so its
/// cost grows with input.size(). Shape output.shape ++ input.shape: J[i..., j...] =
/// ∂output[i...]/∂input[j...]. Throws as jvp.
array jacobian_forward(const Var& output, const Var& input);

/// @brief The Jacobian d(output)/d(input) by reverse mode: one vector-Jacobian product (a
/// backward pass of the recorded graph, replayed, not rebuilt) per output element, so its cost
/// grows with output.size(). Same shape and numbers as jacobian_forward (up to rounding); zeros
/// if the output does not depend on the input. The parameters' accumulated .grad() is left as it
/// was. Runs backward passes: one thread per graph at a time, as Tape::backward. Throws
/// graph_error if a leaf changed since the graph was computed.
array jacobian(const Var& output, const Var& input);

}  // namespace xgrad
