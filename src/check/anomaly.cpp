// Anomaly mode: the first non-finite value or gradient, named by op, label and element.
#include "check/anomaly.hpp"

#include <cmath>
#include <string>

namespace xgrad::detail {

namespace {

/// @brief The first element that is NaN or infinite, or values.size().
std::size_t first_non_finite(const array& values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (!std::isfinite(values.data()[i])) return i;
    }
    return values.size();
}

}  // namespace

void check_forward_anomaly(Node& node) {
    const array& v = node.value();
    const std::size_t bad = first_non_finite(v);
    if (bad == v.size()) return;
    std::string inputs;
    for (std::size_t i = 0; i < node.input_count(); ++i) {
        inputs += (i ? ", " : "") + node.input(i).describe() + " " +
                  format_shape(node.input(i).value().shape());
    }
    throw anomaly_error("anomaly: forward of " + node.describe() + " produced " +
                        std::to_string(v.data()[bad]) + " at element " + std::to_string(bad) +
                        " of shape " + format_shape(v.shape()) +
                        (inputs.empty() ? "" : "; its inputs: " + inputs));
}

void check_backward_anomaly(Node& node) {
    for (std::size_t i = 0; i < node.input_count(); ++i) {
        Node& input = node.input(i);
        if (!input.requires_grad()) continue;
        const array& g = input.grad();
        const std::size_t bad = first_non_finite(g);
        if (bad == g.size()) continue;
        throw anomaly_error("anomaly: backward of " + node.describe() + " produced " +
                            std::to_string(g.data()[bad]) + " in the gradient of its input " +
                            std::to_string(i) + " " + input.describe() + " at element " +
                            std::to_string(bad) + " of shape " + format_shape(g.shape()));
    }
}

void check_tangent_anomaly(Node& node, const array& tangent) {
    const std::size_t bad = first_non_finite(tangent);
    if (bad == tangent.size()) return;
    throw anomaly_error("anomaly: the tangent rule (forward mode) of " + node.describe() +
                        " produced " + std::to_string(tangent.data()[bad]) + " at element " +
                        std::to_string(bad) + " of shape " + format_shape(tangent.shape()));
}

}  // namespace xgrad::detail
