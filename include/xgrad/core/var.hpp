// Var, the handle to a graph node; parameter() and constant() leaves; no_grad, detect_anomaly.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <xtensor/xarray.hpp>
#include <xtensor/xnoalias.hpp>

#include "xgrad/core/errors.hpp"
#include "xgrad/core/types.hpp"

namespace xgrad {

namespace detail {
class Node;
}

/// @brief A handle to one node of the computation graph: a leaf (parameter or constant) or
/// the result of an op. Copying a Var copies the handle, not the node.
class Var {
  public:
    Var() = default;
    explicit Var(std::shared_ptr<detail::Node> node);

    /// @brief The node's current value.
    const array& value() const;
    /// @brief Writable value of a leaf, for updates in place (e.g. `w -= lr * grad`) and new
    /// mini-batches. Ops that read it see the change when their graph is next run forward.
    /// Each call counts as a change (the leaf's version goes up): a graph recorded before it
    /// refuses backward() until it has run forward again, rather than mixing the gradients of
    /// two points. Write through the reference before the next forward pass, not after it.
    /// Throws graph_error for a node that is not a leaf.
    array& mutable_value() const;
    /// @brief The accumulated gradient d(output)/d(this) of the last backward pass(es).
    /// Throws graph_error for nodes that need no gradient (constants and what depends only on
    /// them).
    const array& grad() const;
    /// @brief The gradient, writable in place: for what changes a gradient between backward()
    /// and an optimizer's step (an all-reduce over processes, clipping). A pending zero_grad()
    /// is applied first (a parameter no backward reached reads as zeros of its shape). Throws
    /// graph_error as grad() does.
    array& mutable_grad() const;

    const shape_type& shape() const;
    std::size_t size() const;
    std::size_t dimension() const;
    /// @brief The value of a one-element node as a double.
    double item() const;

    /// @brief Whether a gradient flows to this node: a parameter, or an op some parameter feeds
    /// (false for constants, and for everything built inside no_grad).
    bool requires_grad() const;
    /// @brief Whether this node is a parameter() or constant() (no inputs).
    bool is_leaf() const;
    /// @brief The op's name ("mul", "sigmoid", ...), "parameter" or "constant".
    const char* op_name() const;
    /// @brief A name of the user's choosing, shown by anomaly errors and graph exports.
    const Var& set_label(std::string label) const;
    const std::string& label() const;

    /// @brief Backpropagates from this scalar node to every node it depends on.
    void backward() const;
    /// @brief Backpropagates with an explicit seed d(loss)/d(this), of this node's shape.
    void backward(const array& seed) const;
    /// @brief Resets this node's accumulated gradient to zero (cheaply: it is zeroed lazily).
    void zero_grad() const;

    /// @brief False for a default-constructed Var (no node); every other method then throws
    /// graph_error.
    bool defined() const { return node_ != nullptr; }
    detail::Node& node() const;
    const std::shared_ptr<detail::Node>& node_ptr() const { return node_; }

  private:
    std::shared_ptr<detail::Node> node_;
};

/// @brief A leaf whose gradient is tracked (weights, biases).
Var parameter(array value);
/// @brief A scalar parameter: shape ().
Var parameter(double value);
/// @brief A leaf without gradient (data, labels).
Var constant(array value);
/// @brief A scalar constant: shape ().
Var constant(double value);

template <class Vars>
/// @brief Zeroes the gradients of every parameter in the list (any range of Vars); O(1) each, the
/// buffers are overwritten by the next backward pass. Throws graph_error for an empty Var.
void zero_grad(const Vars& vars) {
    for (const Var& v : vars) v.zero_grad();
}

/// @brief While alive, ops compute values but record no graph: their results are constants.
class no_grad {
  public:
    no_grad();
    ~no_grad();
    no_grad(const no_grad&) = delete;
    no_grad& operator=(const no_grad&) = delete;

  private:
    bool previous_;
};

/// @brief While alive, ops record a graph again, even inside a no_grad scope (as
/// torch.enable_grad): for code that must build a graph whoever calls it (checkpoint's
/// recomputation). Per thread, like no_grad.
class enable_grad {
  public:
    enable_grad();
    ~enable_grad();
    enable_grad(const enable_grad&) = delete;
    enable_grad& operator=(const enable_grad&) = delete;

  private:
    bool previous_;
};

/// @brief False inside a no_grad scope (and not inside a nested enable_grad).
bool is_grad_enabled();

/// @brief While alive, every value an op computes and every gradient backward computes is
/// checked for NaN and infinity; the first offender throws anomaly_error naming the op (and its
/// label). Costs a pass over each result: for debugging, not for training runs.
class detect_anomaly {
  public:
    detect_anomaly();
    ~detect_anomaly();
    detect_anomaly(const detect_anomaly&) = delete;
    detect_anomaly& operator=(const detect_anomaly&) = delete;

  private:
    bool previous_;
};

/// @brief True inside a detect_anomaly scope.
bool is_anomaly_detection_enabled();

}  // namespace xgrad
