// write_dot: one box per node (op, shape, gradient norm).
#include "xgrad/check/graphviz.hpp"

#include <cmath>
#include <cstdio>

#include "core/op.hpp"
#include "core/tape_impl.hpp"
#include "xgrad/core/tape.hpp"
#include "xgrad/data/io.hpp"

namespace xgrad {

namespace {

std::string node_id(const detail::Node& node) {
    return "n" + std::to_string(node.sequence());
}

std::string escape(const std::string& text) {
    std::string out;
    for (char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

}  // namespace

std::string to_dot(const Var& output) {
    const Tape tape(output);
    std::string dot =
        "digraph xgrad {\n  rankdir=BT;\n  node [shape=box, fontname=\"sans-serif\"];\n";
    const std::vector<detail::Node*>& nodes = detail::TapeAccess::order(tape);
    for (detail::Node* node : nodes) {
        // Lines are separated by DOT's own "\n"; only the user's label needs escaping.
        std::string text = node->op_name();
        if (!node->label.empty()) text += " '" + escape(node->label) + "'";
        text += "\\n" + format_shape(node->value().shape());
        if (node->requires_grad() && !node->grad_pending_zero()) {
            double squares = 0.0;
            for (double g : node->grad()) squares += g * g;
            char norm[48];
            std::snprintf(norm, sizeof norm, "\\n|grad| = %.4g", std::sqrt(squares));
            text += norm;
        }
        std::string style;
        if (node->is_leaf()) {
            style = node->requires_grad() ? ", style=filled, fillcolor=\"#cfe2ff\", penwidth=2"
                                          : ", style=\"filled,dashed\", fillcolor=\"#eeeeee\"";
        } else {
            style = ", style=rounded";
        }
        dot += "  " + node_id(*node) + " [label=\"" + text + "\"" + style + "];\n";
        for (std::size_t i = 0; i < node->input_count(); ++i) {
            dot += "  " + node_id(node->input(i)) + " -> " + node_id(*node) + ";\n";
        }
    }
    return dot + "}\n";
}

void write_dot(const Var& output, const std::string& path) {
    write_file_atomically(path, to_dot(output));
}

}  // namespace xgrad
