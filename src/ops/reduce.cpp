// Sum and mean, over all elements or along one axis. A mean is a sum scaled by 1/count.
#include <optional>

#include "core/op.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

namespace {

/// @brief y = scale · Σ x, over everything or over one axis.
class SumNode final : public SingleInputNode {
  public:
    SumNode(const Var& x, std::optional<int> axis, bool is_mean)
        : SingleInputNode(is_mean ? "mean" : "sum", x), requested_axis_(axis), is_mean_(is_mean) {}

    // The axis is resolved against the input's rank on every pass: a replay with another rank
    // reduces the axis the user named (a negative one counts from the new end) or throws.
    void forward() override {
        const array& x = input(0).value();
        resolve_axis(x.shape());
        const Layout l = layout(x);
        if (is_mean_ && l.length == 0 && l.outer * l.inner != 0) {
            // numpy returns NaN (with a warning) for the mean of an empty slice: refuse instead.
            throw shape_error(
                std::string(op_name()) +
                (axis_ ? ": cannot average over axis " + std::to_string(*requested_axis_) +
                             " of length 0 (shape " + format_shape(x.shape()) + ")"
                       : ": cannot average the empty shape " + format_shape(x.shape())));
        }
        if (axis_) {
            shape_type out_shape = x.shape();
            out_shape.erase(out_shape.begin() + *axis_);
            value_.resize(out_shape);
        } else {
            value_.resize(shape_type{});
        }
        reduce_into(value_.data(), x.data(), l);
    }

    // dy/dx = scale for every element folded into y: the gradient is spread back unchanged.
    void backward_into(Node& x) override {
        const Layout l = layout(x.value());
        const GradSink gx(x);
        const double* g = grad().data();
        for (std::size_t o = 0; o < l.outer; ++o) {
            for (std::size_t k = 0; k < l.length; ++k) {
                const std::size_t row = (o * l.length + k) * l.inner;
                const double* g_row = g + o * l.inner;
                for (std::size_t i = 0; i < l.inner; ++i) gx.put(row + i, l.scale * g_row[i]);
            }
        }
    }

    Var gradient_as_graph(const Var& g) override {
        Node& x = input(0);
        const Layout l = layout(x.value());
        Var spread = l.scale == 1.0 ? g : g * l.scale;
        if (axis_) {  // put the summed axis back as a 1 so that broadcasting restores it
            shape_type kept = x.value().shape();
            kept[static_cast<std::size_t>(*axis_)] = 1;
            spread = reshape(spread, kept);
        }
        return broadcast_to(spread, x.value().shape());
    }

    // linear: the tangent is summed (and scaled) like the value
    array tangent_of(const array& t) override {
        array out(value_.shape());
        reduce_into(out.data(), t.data(), layout(t));
        return out;
    }

  private:
    void resolve_axis(const shape_type& shape) {
        if (!requested_axis_) return;
        const auto rank = static_cast<int>(shape.size());
        const int resolved = *requested_axis_ < 0 ? *requested_axis_ + rank : *requested_axis_;
        if (resolved < 0 || resolved >= rank) {
            throw shape_error(std::string(op_name()) + ": axis " +
                              std::to_string(*requested_axis_) + " is out of range for shape " +
                              format_shape(shape));
        }
        axis_ = resolved;
    }

    struct Layout;
    /// @brief out = scale · Σ over the middle extent of `in` seen as (outer, length, inner).
    static void reduce_into(double* out, const double* in, const Layout& l) {
        for (std::size_t o = 0; o < l.outer; ++o) {
            for (std::size_t i = 0; i < l.inner; ++i) out[o * l.inner + i] = 0.0;
            for (std::size_t k = 0; k < l.length; ++k) {
                const double* row = in + (o * l.length + k) * l.inner;
                for (std::size_t i = 0; i < l.inner; ++i) out[o * l.inner + i] += row[i];
            }
            for (std::size_t i = 0; i < l.inner; ++i) out[o * l.inner + i] *= l.scale;
        }
    }

    /// @brief x seen as (outer, length, inner), summed over `length`.
    struct Layout {
        std::size_t outer = 1, length = 1, inner = 1;
        double scale = 1.0;
    };
    Layout layout(const array& x) const {
        Layout l;
        if (!axis_) {
            l.length = x.size();
        } else {
            const shape_type& s = x.shape();
            for (std::size_t k = 0; k < s.size(); ++k) {
                const auto ks = static_cast<int>(k);
                if (ks < *axis_) l.outer *= s[k];
                if (ks == *axis_) l.length = s[k];
                if (ks > *axis_) l.inner *= s[k];
            }
        }
        if (is_mean_ && l.length > 0) l.scale = 1.0 / static_cast<double>(l.length);
        return l;
    }

    std::optional<int> requested_axis_;  // as the user gave it
    std::optional<int> axis_;            // resolved against the input's rank by forward()
    bool is_mean_;
};

Var reduce(const Var& x, std::optional<int> axis, bool is_mean) {
    return finish_op(std::make_shared<SumNode>(x, axis, is_mean));
}

}  // namespace

}  // namespace xgrad::detail

namespace xgrad {

Var sum(const Var& x) {
    return detail::reduce(x, std::nullopt, false);
}
Var sum(const Var& x, int axis) {
    return detail::reduce(x, axis, false);
}
Var mean(const Var& x) {
    return detail::reduce(x, std::nullopt, true);
}
Var mean(const Var& x, int axis) {
    return detail::reduce(x, axis, true);
}

}  // namespace xgrad
