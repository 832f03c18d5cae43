/***************************************************************************
 * xgrad example: the logistic-regression graph, exported for Graphviz.     *
 *                                                                          *
 * Builds the course's worked example (m = 2) with the written-out binary   *
 * cross-entropy, runs backward, and writes the graph as DOT, each box with *
 * its op, shape and gradient norm. If Graphviz's `dot` is installed, it    *
 * also renders an SVG.                                                     *
 *                                                                          *
 * Usage: graph_export [OUT_DIR]                                            *
 ***************************************************************************/
#include <cstdio>
#include <cstdlib>
#include <string>

#include "xgrad/xgrad.hpp"

int main(int argc, char** argv) {
    try {
        const std::string out_dir = argc > 1 ? argv[1] : ".";
        using xgrad::Var;
        Var X = xgrad::constant(xgrad::array{{1.0, 1.5, 0.2}, {1.0, 4.1, 1.3}}).set_label("X");
        Var y = xgrad::constant(xgrad::array{0.0, 1.0}).set_label("y");
        Var theta = xgrad::parameter(xgrad::array{0.1, 0.5, -0.1}).set_label("θ");
        Var y_hat = xgrad::sigmoid(xgrad::matmul(X, theta)).set_label("ŷ");
        Var loss = -xgrad::mean(y * xgrad::log(y_hat) + (1.0 - y) * xgrad::log(1.0 - y_hat));
        loss.set_label("loss");
        loss.backward();

        const std::string dot_path = out_dir + "/logistic_regression_graph.dot";
        xgrad::write_dot(loss, dot_path);
        std::printf("graph: %s (loss %.15f)\n", dot_path.c_str(), loss.item());
        if (std::system("command -v dot >/dev/null 2>&1") == 0) {
            const std::string svg_path = out_dir + "/logistic_regression_graph.svg";
            const std::string command = "dot -Tsvg '" + dot_path + "' -o '" + svg_path +
                                        ".tmp' && mv '" + svg_path + ".tmp' '" + svg_path + "'";
            if (std::system(command.c_str()) != 0) {
                std::fprintf(stderr, "graph_export: dot failed to render %s\n", dot_path.c_str());
                return 1;
            }
            std::printf("rendered: %s\n", svg_path.c_str());
        } else {
            std::printf("Graphviz's dot is not installed: render with dot -Tsvg %s\n",
                        dot_path.c_str());
        }
        return 0;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "graph_export: %s\n", error.what());
        return 2;
    }
}
