// Graph export for Graphviz (write_dot).
#pragma once

#include <string>

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief The graph behind `output` in Graphviz DOT: one box per node with its op name (and
/// label), its shape and, once backward has run, the norm of its gradient. Parameters, constants
/// and ops are styled apart; edges run from inputs to the ops that consume them.
std::string to_dot(const Var& output);

/// @brief to_dot written atomically to `path` (render with `dot -Tsvg path -o graph.svg`).
void write_dot(const Var& output, const std::string& path);

}  // namespace xgrad
