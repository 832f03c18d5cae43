// Custom ops: the node that runs a user's Function (forward, backward, backward_as_graph,
// tangent) with the shape checks and messages, through the same machinery as built-in ops.
#include "xgrad/core/function.hpp"

#include <memory>
#include <stdexcept>
#include <utility>

#include "core/op.hpp"

namespace xgrad {

const array& Function::Inputs::operator[](std::size_t i) const {
    if (i >= values_.size()) {
        throw std::out_of_range("custom op: input index " + std::to_string(i) +
                                " is out of range for " + std::to_string(values_.size()) +
                                " inputs");
    }
    return *values_[i];
}

bool Function::Inputs::requires_grad(std::size_t i) const {
    if (i >= requires_grad_.size()) {
        throw std::out_of_range("custom op: input index " + std::to_string(i) +
                                " is out of range for " + std::to_string(requires_grad_.size()) +
                                " inputs");
    }
    return requires_grad_[i];
}

namespace {

/// @brief Keeps the Function alive (and its name, which the node's op_name points into) before
/// the Node base is constructed.
struct FunctionHolder {
    explicit FunctionHolder(const Function& f) : fn(f) {}
    Function fn;
};

bool any_input_requires_grad(const std::vector<Var>& inputs) {
    if (!is_grad_enabled()) return false;
    for (const Var& v : inputs) {
        if (v.requires_grad()) return true;
    }
    return false;
}

/// @brief The node of one application of a custom op: its rules are the Function's callbacks.
class CustomOpNode final : private FunctionHolder, public detail::Node {
  public:
    CustomOpNode(const Function& f, const std::vector<Var>& inputs)
        : FunctionHolder(f), Node(fn.name.c_str(), any_input_requires_grad(inputs)) {
        for (const Var& v : inputs) add_input(v.node_ptr());
    }

    void forward() override { value_ = fn.forward(inputs_view(false)); }

    // dL/dxᵢ = J_iᵀ g, from the user's backward, for each input that needs a gradient
    void backward() override {
        if (!fn.backward) throw missing("backward", "reverse mode (backward, grad, jacobian)");
        const std::vector<array> grads = fn.backward(grad(), inputs_view(true), value());
        check_count("backward", grads.size());
        for (std::size_t i = 0; i < input_count(); ++i) {
            if (!input(i).requires_grad()) continue;
            check_shape("backward", i, grads[i].shape());
            detail::GradSink(input(i)).assign(grads[i]);
        }
    }

    // The same J_iᵀ g as Var ops (the user's backward_as_graph), so that it can be
    // differentiated again. When only values are wanted (grad() without create_graph, which
    // runs under no_grad) the first-order backward serves, as constants.
    GradVars backward_as_graph(const Var& g) override {
        GradVars out(input_count());
        if (!fn.backward_as_graph) {
            if (is_grad_enabled()) {
                throw missing("second-order rule (backward_as_graph)",
                              "grad(create_graph=true), hessian and gradgradcheck");
            }
            if (!fn.backward) throw missing("backward", "reverse mode (backward, grad, jacobian)");
            std::vector<array> grads = fn.backward(g.value(), inputs_view(true), value());
            check_count("backward", grads.size());
            for (std::size_t i = 0; i < input_count(); ++i) {
                if (!input(i).requires_grad()) continue;
                check_shape("backward", i, grads[i].shape());
                out[i] = constant(std::move(grads[i]));
            }
            return out;
        }
        std::vector<Var> xs;
        for (std::size_t i = 0; i < input_count(); ++i) xs.push_back(input_var(i));
        const std::vector<Var> grads = fn.backward_as_graph(g, xs, self());
        check_count("backward_as_graph", grads.size());
        for (std::size_t i = 0; i < input_count(); ++i) {
            if (!input(i).requires_grad() || !grads[i].defined()) continue;
            check_shape("backward_as_graph", i, grads[i].shape());
            out[i] = grads[i];
        }
        return out;
    }

    // dy = Σᵢ J_i·tᵢ, from the user's tangent
    array tangent(const Tangents& t) override {
        if (!fn.tangent) {
            throw missing("tangent rule (tangent)",
                          "jvp, jacobian_forward and forward-over-reverse Hessian-vector products");
        }
        array out = fn.tangent(t, inputs_view(false), value());
        if (out.shape() != value().shape()) {
            throw shape_error("custom op '" + fn.name + "': tangent returned shape " +
                              format_shape(out.shape()) + ", but the output has shape " +
                              format_shape(value().shape()));
        }
        return out;
    }

  private:
    Function::Inputs inputs_view(bool in_backward) const {
        std::vector<const array*> values;
        std::vector<bool> wants;
        for (std::size_t i = 0; i < input_count(); ++i) {
            values.push_back(&input(i).value());
            wants.push_back(in_backward && input(i).requires_grad());
        }
        return Function::Inputs(std::move(values), std::move(wants));
    }

    graph_error missing(const std::string& rule, const std::string& users) const {
        return graph_error("custom op '" + fn.name + "' has no " + rule + ": " + users +
                           " cannot pass through it");
    }

    void check_count(const char* rule, std::size_t count) const {
        if (count != input_count()) {
            throw shape_error("custom op '" + fn.name + "': " + rule + " returned " +
                              std::to_string(count) + " gradients for " +
                              std::to_string(input_count()) + " inputs");
        }
    }

    void check_shape(const char* rule, std::size_t i, const shape_type& shape) const {
        const shape_type& expected = input(i).value().shape();
        if (shape != expected) {
            throw shape_error("custom op '" + fn.name + "': " + rule +
                              " returned a gradient of shape " + format_shape(shape) +
                              " for input " + std::to_string(i) + ", which has shape " +
                              format_shape(expected));
        }
    }
};

}  // namespace

Var apply(const Function& fn, const std::vector<Var>& inputs) {
    if (fn.name.empty()) throw graph_error("custom op: the Function has no name");
    if (!fn.forward) throw graph_error("custom op '" + fn.name + "' has no forward");
    if (inputs.empty()) {
        throw graph_error("custom op '" + fn.name +
                          "': no inputs (an op needs at least one; make a constant() for a value "
                          "that depends on nothing)");
    }
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        if (!inputs[i].defined()) {
            throw graph_error("custom op '" + fn.name + "': input " + std::to_string(i) +
                              " is an empty Var");
        }
    }
    return detail::finish_op(std::make_shared<CustomOpNode>(fn, inputs));
}

Var Function::operator()(const std::vector<Var>& inputs) const {
    return apply(*this, inputs);
}

}  // namespace xgrad
