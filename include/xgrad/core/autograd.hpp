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

}  // namespace xgrad
