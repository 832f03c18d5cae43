// Shape ops: reshape, broadcast_to and its inverse sum_to. Backward of each is another of them,
// which is what makes the graph form of every broadcasting rule differentiable again.
#include <algorithm>

#include <xtensor/xbroadcast.hpp>

#include "core/op.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

namespace {

std::size_t element_count(const shape_type& shape) {
    std::size_t n = 1;
    for (std::size_t e : shape) n *= e;
    return n;
}

/// @brief Throws unless `from` broadcasts to exactly `to`.
void require_broadcastable(const char* op, const shape_type& from, const shape_type& to) {
    if (from.size() > to.size() || broadcast_shapes(op, from, to) != to) {
        throw shape_error(std::string(op) + ": cannot broadcast " + format_shape(from) + " to " +
                          format_shape(to));
    }
}

/// @brief y = x with another shape of the same size.
class ReshapeNode final : public SameElementsNode {
  public:
    ReshapeNode(const Var& x, const shape_type& shape)
        : SameElementsNode("reshape", x), shape_(shape) {}

  private:
    shape_type shape_for(const shape_type& in) const override {
        if (element_count(in) != element_count(shape_)) {
            throw shape_error("reshape: cannot reshape " + format_shape(in) + " into " +
                              format_shape(shape_));
        }
        return shape_;
    }

    shape_type shape_;
};

/// @brief y = x repeated to `shape`.
class BroadcastToNode final : public SingleInputNode {
  public:
    BroadcastToNode(const Var& x, const shape_type& shape)
        : SingleInputNode("broadcast_to", x), shape_(shape) {}
    void forward() override {
        const array& x = input(0).value();
        require_broadcastable("broadcast_to", x.shape(), shape_);
        xt::noalias(value_) = xt::broadcast(x, shape_);
    }
    // each copy of an element passes its gradient back to it: sum over the repeated axes
    void backward_into(Node& x) override {
        GradSink gx(x);
        sum_to_shape(grad().data(), value_.shape(), gx);
    }
    Var gradient_as_graph(const Var& g) override { return sum_to(g, input(0).value().shape()); }
    array tangent_of(const array& t) override { return xt::broadcast(t, shape_); }  // linear

  private:
    shape_type shape_;
};

/// @brief y = x summed down to `shape` (the shape x was broadcast from).
class SumToNode final : public SingleInputNode {
  public:
    SumToNode(const Var& x, const shape_type& shape)
        : SingleInputNode("sum_to", x), shape_(shape) {}
    void forward() override {
        const array& x = input(0).value();
        require_broadcastable("sum_to", shape_, x.shape());
        value_.resize(shape_);
        sum_to_shape(x.data(), x.shape(), value_);
    }
    // every summed element receives the gradient of its sum
    void backward_into(Node& x) override {
        accumulate_grad(x, xt::broadcast(grad(), x.value().shape()));
    }
    Var gradient_as_graph(const Var& g) override {
        return broadcast_to(g, input(0).value().shape());
    }
    array tangent_of(const array& t) override {  // linear: summed like the value
        array out(shape_);
        sum_to_shape(t.data(), t.shape(), out);
        return out;
    }

  private:
    shape_type shape_;
};

/// @brief y = 1 where x > 0, else 0: piecewise constant, so it passes no gradient.
class PositiveMaskNode final : public Node {
  public:
    explicit PositiveMaskNode(const Var& x) : Node("positive_mask", false) {
        add_input(x.node_ptr());
    }
    void forward() override { xt::noalias(value_) = xt::where(input(0).value() > 0.0, 1.0, 0.0); }
    // piecewise constant: zero tangent
    array tangent(const Tangents&) override { return xt::zeros<double>(value_.shape()); }
};

/// @brief y = 1 where lo ≤ x ≤ hi, else 0: piecewise constant, so it passes no gradient.
class IntervalMaskNode final : public Node {
  public:
    IntervalMaskNode(const Var& x, double lo, double hi)
        : Node("interval_mask", false), lo_(lo), hi_(hi) {
        add_input(x.node_ptr());
    }
    void forward() override {
        const array& x = input(0).value();
        xt::noalias(value_) = xt::where(x >= lo_ && x <= hi_, 1.0, 0.0);
    }
    // piecewise constant: zero tangent
    array tangent(const Tangents&) override { return xt::zeros<double>(value_.shape()); }

  private:
    double lo_, hi_;
};

}  // namespace

void SameElementsNode::forward() {
    const array& x = input(0).value();
    value_.resize(shape_for(x.shape()));
    std::copy(x.data(), x.data() + x.size(), value_.data());
}

// dy/dx = identity, read in x's shape
void SameElementsNode::backward_into(Node& x) {
    const GradSink gx(x);
    const double* g = grad().data();
    for (std::size_t i = 0; i < gx.size(); ++i) gx.put(i, g[i]);
}

Var SameElementsNode::gradient_as_graph(const Var& g) {
    return reshape(g, input(0).value().shape());
}

// linear: the tangent in the value's shape
array SameElementsNode::tangent_of(const array& t) {
    array out = array::from_shape(value_.shape());
    std::copy(t.data(), t.data() + t.size(), out.data());
    return out;
}

Var reduce_to_shape(const Var& c, const shape_type& shape) {
    return c.shape() == shape ? c : sum_to(c, shape);
}

Var positive_mask(const Var& x) {
    return finish_op(std::make_shared<PositiveMaskNode>(x));
}

Var interval_mask(const Var& x, double lo, double hi) {
    return finish_op(std::make_shared<IntervalMaskNode>(x, lo, hi));
}

}  // namespace xgrad::detail

namespace xgrad {

// Each returns a node of its own even when the shape does not change: handing back x itself
// would make the result's gradient x's whole gradient, not the part that flows through it.
Var reshape(const Var& x, const shape_type& shape) {
    return detail::finish_op(std::make_shared<detail::ReshapeNode>(x, shape));
}

Var broadcast_to(const Var& x, const shape_type& shape) {
    return detail::finish_op(std::make_shared<detail::BroadcastToNode>(x, shape));
}

Var sum_to(const Var& x, const shape_type& shape) {
    return detail::finish_op(std::make_shared<detail::SumToNode>(x, shape));
}

}  // namespace xgrad
