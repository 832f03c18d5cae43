// Reductions over everything or along one axis: sum and mean, max and min (and argmax, argmin),
// logsumexp, variance and stddev, and the p-norm. Every node sees its input as (outer, length,
// inner) and reduces each lane of `length` elements, `inner` apart; its forward pass, its
// derivative (first order, as a graph, and as a tangent) sit side by side.
#include <cmath>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "backend/elementwise_kernels.hpp"
#include "core/op.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

namespace {

constexpr double infinity = std::numeric_limits<double>::infinity();
constexpr double not_a_number = std::numeric_limits<double>::quiet_NaN();

/// @brief x seen as (outer, length, inner): one lane per (outer, inner) pair, whose `length`
/// elements lie `inner` apart. Lane j = o·inner + i is also the output element it reduces to,
/// with the axis removed or kept as 1.
struct Layout {
    std::size_t outer = 1, length = 1, inner = 1;
    std::size_t lanes() const { return outer * inner; }
};

Layout layout_of(const shape_type& shape, std::optional<int> axis) {
    Layout l;
    if (!axis) {
        for (std::size_t e : shape) l.length *= e;
        return l;
    }
    for (std::size_t k = 0; k < shape.size(); ++k) {
        const auto ks = static_cast<int>(k);
        if (ks < *axis) l.outer *= shape[k];
        if (ks == *axis) l.length = shape[k];
        if (ks > *axis) l.inner *= shape[k];
    }
    return l;
}

/// @brief Calls f(start, lane) for every lane: its elements are start + k·inner, k < length.
template <class F>
void for_each_lane(const Layout& l, F f) {
    for (std::size_t o = 0; o < l.outer; ++o) {
        for (std::size_t i = 0; i < l.inner; ++i) f(o * l.length * l.inner + i, o * l.inner + i);
    }
}

/// @brief The axis the user named, resolved against `shape` (negative counts from the end);
/// shape_error naming the op if it is out of range.
int resolve_axis(const char* op, int requested, const shape_type& shape) {
    const auto rank = static_cast<int>(shape.size());
    const int resolved = requested < 0 ? requested + rank : requested;
    if (resolved < 0 || resolved >= rank) {
        throw shape_error(std::string(op) + ": axis " + std::to_string(requested) +
                          " is out of range for shape " + format_shape(shape));
    }
    return resolved;
}

std::optional<int> resolve_axis(const char* op, std::optional<int> requested,
                                const shape_type& shape) {
    if (!requested) return std::nullopt;
    return resolve_axis(op, *requested, shape);
}

/// @brief "axis 1 of length 0 (shape (2,0))" or "the empty shape (0,)", for messages.
std::string reduced_part(std::optional<int> requested, const Layout& l, const shape_type& shape) {
    if (!requested) return "the empty shape " + format_shape(shape);
    return "axis " + std::to_string(*requested) + " of length " + std::to_string(l.length) +
           " (shape " + format_shape(shape) + ")";
}

/// @brief max and min have no value over nothing: shape_error if a lane to reduce is empty (an
/// empty result, such as axis 1 of (0,3), is returned empty, as numpy).
void require_elements(const char* op, std::optional<int> requested, const Layout& l,
                      const shape_type& shape) {
    if (l.length == 0 && l.lanes() != 0) {
        throw shape_error(std::string(op) + ": cannot reduce " + reduced_part(requested, l, shape));
    }
}

/// @brief The largest (smallest) element of a non-empty lane; NaN if the lane holds one.
double lane_extremum(const double* x, std::size_t start, const Layout& l, bool is_max) {
    if (l.inner == 1) {  // a contiguous lane: the vector kernel
        return detail::reduce(is_max ? detail::ReduceOp::max : detail::ReduceOp::min, x + start,
                              l.length);
    }
    double top = x[start];
    for (std::size_t k = 0; k < l.length; ++k) {
        const double v = x[start + k * l.inner];
        if (std::isnan(v)) return v;
        if (is_max ? v > top : v < top) top = v;
    }
    return top;
}

/// @brief Calls f(index, share) for every element of a lane whose extremum is y: share = 1/k for
/// the k elements equal to y (the NaN elements if y is NaN), 0 for the others.
template <class F>
void for_each_share(const double* x, std::size_t start, const Layout& l, double y, F f) {
    const bool nan_top = std::isnan(y);
    auto is_top = [&](double v) { return nan_top ? std::isnan(v) : v == y; };
    std::size_t count = 0;
    for (std::size_t k = 0; k < l.length; ++k) count += is_top(x[start + k * l.inner]) ? 1 : 0;
    const double share = 1.0 / static_cast<double>(count);
    for (std::size_t k = 0; k < l.length; ++k) {
        const std::size_t index = start + k * l.inner;
        f(index, is_top(x[index]) ? share : 0.0);
    }
}

/// @brief The mean of a lane, as x₀ + Σ(x − x₀)/n: exact for a lane of equal elements, so that
/// its variance is exactly 0.
double lane_mean(const double* x, std::size_t start, const Layout& l) {
    const double x0 = x[start];
    double total = 0.0;
    if (l.inner == 1) {
        total = detail::reduce(detail::ReduceOp::sum_shifted, x + start, l.length, x0);
    } else {
        for (std::size_t k = 0; k < l.length; ++k) total += x[start + k * l.inner] - x0;
    }
    return x0 + total / static_cast<double>(l.length);
}

/// @brief 1/s where s > 0, else 0 (s ≥ 0), as a graph: mask/(s + 1 − mask). Its derivative
/// −1/s² where s > 0 is 0 at s = 0, so no order of the derivatives through it is NaN there.
Var reciprocal_or_zero(const Var& s) {
    const Var mask = positive_mask(s);
    return mask / (s + (1.0 - mask));
}

/// @brief sign(x) as a graph of masks (no gradient of its own): −1, 0 or 1.
Var sign_of(const Var& x) {
    return positive_mask(x) - positive_mask(-x);
}

double sign_of(double x) {
    return static_cast<double>((x > 0.0) - (x < 0.0));
}

/// @brief A node reducing one input over everything or along one axis (resolved again against
/// the input's rank on every forward pass).
class ReductionNode : public SingleInputNode {
  public:
    ReductionNode(const char* op, const Var& x, std::optional<int> axis, bool keepdims)
        : SingleInputNode(op, x), requested_axis_(axis), keepdims_(keepdims) {}

  protected:
    /// @brief Resolves the axis against the input's current shape and sets layout_; returns x.
    const array& begin_forward() {
        const array& x = input(0).value();
        axis_ = resolve_axis(op_name(), requested_axis_, x.shape());
        layout_ = layout_of(x.shape(), axis_);
        return x;
    }
    /// @brief The reduced shape: () over everything; the axis removed, or kept as 1.
    shape_type reduced_shape(const shape_type& shape) const {
        if (!axis_) return {};
        shape_type out = shape;
        const auto a = static_cast<std::size_t>(*axis_);
        if (keepdims_) {
            out[a] = 1;
        } else {
            out.erase(out.begin() + *axis_);
        }
        return out;
    }
    /// @brief A Var of the reduced shape, reshaped so that it broadcasts against x (the axis kept
    /// as 1); one over everything has shape (), which broadcasts as it is.
    Var spread(const Var& reduced) const {
        if (!axis_ || keepdims_) return reduced;
        shape_type kept = input(0).value().shape();
        kept[static_cast<std::size_t>(*axis_)] = 1;
        return reshape(reduced, kept);
    }
    /// @brief v summed along the axis with the axis kept (or over everything: shape ()).
    Var sum_kept(const Var& v) const { return axis_ ? sum(v, *axis_, true) : sum(v); }
    Var mean_kept(const Var& v) const { return axis_ ? mean(v, *axis_, true) : mean(v); }

    std::optional<int> requested_axis_;  // as the user gave it
    std::optional<int> axis_;            // resolved against the input's rank by forward()
    bool keepdims_;
    Layout layout_;
};

// ---- sum and mean ------------------------------------------------------------------------

/// @brief y = scale · Σ x, over everything or along one axis (scale = 1/length for a mean).
class SumNode final : public ReductionNode {
  public:
    SumNode(const Var& x, std::optional<int> axis, bool keepdims, bool is_mean)
        : ReductionNode(is_mean ? "mean" : "sum", x, axis, keepdims), is_mean_(is_mean) {}

    void forward() override {
        const array& x = begin_forward();
        if (is_mean_ && layout_.length == 0 && layout_.lanes() != 0) {
            // numpy returns NaN (with a warning) for the mean of an empty slice: refuse instead.
            throw shape_error(
                std::string(op_name()) +
                (axis_ ? ": cannot average over axis " + std::to_string(*requested_axis_) +
                             " of length 0 (shape " + format_shape(x.shape()) + ")"
                       : ": cannot average the empty shape " + format_shape(x.shape())));
        }
        value_.resize(reduced_shape(x.shape()));
        reduce_into(value_.data(), x.data());
    }

    // dy/dx = scale for every element folded into y: the gradient is spread back unchanged.
    void backward_into(Node& x) override {
        const GradSink gx(x);
        const double* g = grad().data();
        const double scale = this->scale();
        const Layout& l = layout_;
        for (std::size_t o = 0; o < l.outer; ++o) {
            for (std::size_t k = 0; k < l.length; ++k) {
                const std::size_t row = (o * l.length + k) * l.inner;
                const double* g_row = g + o * l.inner;
                for (std::size_t i = 0; i < l.inner; ++i) gx.put(row + i, scale * g_row[i]);
            }
        }
    }

    Var gradient_as_graph(const Var& g) override {
        const double scale = this->scale();
        return broadcast_to(spread(scale == 1.0 ? g : g * scale), input(0).value().shape());
    }

    // linear: the tangent is summed (and scaled) like the value
    array tangent_of(const array& t) override {
        array out(value_.shape());
        reduce_into(out.data(), t.data());
        return out;
    }

  private:
    double scale() const {
        return is_mean_ && layout_.length > 0 ? 1.0 / static_cast<double>(layout_.length) : 1.0;
    }
    /// @brief out = scale · Σ over the lanes of `in`, row by row (contiguous inner loops).
    void reduce_into(double* out, const double* in) const {
        const Layout& l = layout_;
        const double scale = this->scale();
        if (l.inner == 1) {  // lanes are contiguous: the vector sum kernel
            for (std::size_t o = 0; o < l.outer; ++o) {
                out[o] = detail::sum(in + o * l.length, l.length) * scale;
            }
            return;
        }
        for (std::size_t o = 0; o < l.outer; ++o) {
            double* out_row = out + o * l.inner;
            for (std::size_t i = 0; i < l.inner; ++i) out_row[i] = 0.0;
            for (std::size_t k = 0; k < l.length; ++k) {
                const double* row = in + (o * l.length + k) * l.inner;
                for (std::size_t i = 0; i < l.inner; ++i) out_row[i] += row[i];
            }
            for (std::size_t i = 0; i < l.inner; ++i) out_row[i] *= scale;
        }
    }

    bool is_mean_;
};

// ---- max and min -------------------------------------------------------------------------

/// @brief Each element's share of its lane's maximum (minimum): 1/k for the k tied extrema, 0
/// elsewhere; x's shape. Piecewise constant in x, so it passes no gradient: the mask the graph
/// form of max's derivative multiplies by, recomputed from x on every replay.
class ExtremumShareNode final : public Node {
  public:
    ExtremumShareNode(const Var& x, std::optional<int> axis, bool is_max)
        : Node(is_max ? "max_share" : "min_share", false), axis_(axis), is_max_(is_max) {
        add_input(x.node_ptr());
    }
    void forward() override {
        const array& x = input(0).value();
        const Layout l = layout_of(x.shape(), resolve_axis(op_name(), axis_, x.shape()));
        value_.resize(x.shape());
        double* out = value_.data();
        if (l.length == 0) return;
        for_each_lane(l, [&](std::size_t start, std::size_t) {
            const double y = lane_extremum(x.data(), start, l, is_max_);
            for_each_share(x.data(), start, l, y, [out](std::size_t k, double s) { out[k] = s; });
        });
    }
    // piecewise constant: zero tangent
    array tangent(const Tangents&) override { return xt::zeros<double>(value_.shape()); }

  private:
    std::optional<int> axis_;
    bool is_max_;
};

Var extremum_share(const Var& x, std::optional<int> axis, bool is_max) {
    return finish_op(std::make_shared<ExtremumShareNode>(x, axis, is_max));
}

/// @brief y = the largest (smallest) element, over everything or along one axis.
class ExtremumNode final : public ReductionNode {
  public:
    ExtremumNode(const Var& x, std::optional<int> axis, bool keepdims, bool is_max)
        : ReductionNode(is_max ? "max" : "min", x, axis, keepdims), is_max_(is_max) {}

    void forward() override {
        const array& x = begin_forward();
        require_elements(op_name(), requested_axis_, layout_, x.shape());
        value_.resize(reduced_shape(x.shape()));
        double* out = value_.data();
        for_each_lane(layout_, [&](std::size_t start, std::size_t lane) {
            out[lane] = lane_extremum(x.data(), start, layout_, is_max_);
        });
    }

    // dy/dx_k = 1/k for each of the k elements equal to y (ties split evenly, as torch.amax;
    // the NaN elements if y is NaN), 0 elsewhere
    void backward_into(Node& x) override {
        const GradSink gx(x);
        const double* in = x.value().data();
        const double* g = grad().data();
        for_each_lane(layout_, [&](std::size_t start, std::size_t lane) {
            const double gl = g[lane];
            for_each_share(in, start, layout_, value_.data()[lane],
                           [&](std::size_t k, double s) { gx.put(k, gl * s); });
        });
    }

    // the same, g times the share mask (which has no gradient: the second derivative is 0)
    Var gradient_as_graph(const Var& g) override {
        return spread(g) * extremum_share(input_var(0), requested_axis_, is_max_);
    }

    // dy = Σ_k share_k t_k per lane
    array tangent_of(const array& t) override {
        array out(value_.shape());
        const double* in = input(0).value().data();
        for_each_lane(layout_, [&](std::size_t start, std::size_t lane) {
            double total = 0.0;
            for_each_share(in, start, layout_, value_.data()[lane],
                           [&](std::size_t k, double s) { total += s * t.data()[k]; });
            out.data()[lane] = total;
        });
        return out;
    }

  private:
    bool is_max_;
};

Var extremum(const Var& x, std::optional<int> axis, bool keepdims, bool is_max) {
    return finish_op(std::make_shared<ExtremumNode>(x, axis, keepdims, is_max));
}

/// @brief The index of the first largest (smallest) element along an axis; a NaN wins.
array arg_extremum(const char* op, const Var& x, int axis, bool is_max) {
    const array& v = x.value();
    const int resolved = resolve_axis(op, axis, v.shape());
    const Layout l = layout_of(v.shape(), resolved);
    require_elements(op, axis, l, v.shape());
    shape_type out_shape = v.shape();
    out_shape.erase(out_shape.begin() + resolved);
    array out(out_shape);
    for_each_lane(l, [&](std::size_t start, std::size_t lane) {
        std::size_t best = 0;
        double top = v.data()[start];
        for (std::size_t k = 1; k < l.length && !std::isnan(top); ++k) {
            const double e = v.data()[start + k * l.inner];
            if (std::isnan(e) || (is_max ? e > top : e < top)) {
                top = e;
                best = k;
            }
        }
        out.data()[lane] = static_cast<double>(best);
    });
    return out;
}

// ---- logsumexp ---------------------------------------------------------------------------

/// @brief The shift of a lane's exponentials: its maximum, or 0 if that is ±inf (as torch), if
/// the lane is empty, or if it holds a NaN (the result is NaN then whatever the shift).
double lane_shift(const double* x, std::size_t start, const Layout& l) {
    if (l.length == 0) return 0.0;
    const double top = lane_extremum(x, start, l, true);  // NaN if the lane holds one
    return std::isfinite(top) ? top : 0.0;
}

/// @brief log Σ e^x of a lane, as shift + log Σ e^(x − shift): −inf for a lane of −inf or an
/// empty one, +inf if it holds +inf, NaN if it holds a NaN.
double lane_logsumexp(const double* x, std::size_t start, const Layout& l) {
    const double shift = lane_shift(x, start, l);
    double total = 0.0;
    if (l.inner == 1 && l.length > 0) {
        total = detail::reduce(detail::ReduceOp::sum_exp, x + start, l.length, shift);
    } else {
        for (std::size_t k = 0; k < l.length; ++k)
            total += std::exp(x[start + k * l.inner] - shift);
    }
    return shift + std::log(total);
}

/// @brief Calls f(index, softmax) for every element of a lane: e^(x − shift)/Σ e^(x − shift)
/// (not e^(x − y), which loses the low digits of y = 1000 + log 2); 0 in a lane whose sum is 0
/// (all −inf), where the quotient would be 0/0. `scratch` holds the lane's exponentials.
template <class F>
void for_each_softmax(const double* x, std::size_t start, const Layout& l,
                      std::vector<double>& scratch, F f) {
    const double shift = lane_shift(x, start, l);
    scratch.resize(l.length);
    double total = 0.0;
    for (std::size_t k = 0; k < l.length; ++k) {
        scratch[k] = std::exp(x[start + k * l.inner] - shift);
        total += scratch[k];
    }
    const double inverse = total == 0.0 ? 0.0 : 1.0 / total;
    for (std::size_t k = 0; k < l.length; ++k) f(start + k * l.inner, scratch[k] * inverse);
}

/// @brief s = softmax of x along an axis (or over everything), 0 in lanes whose logsumexp is
/// −inf: the derivative of logsumexp, as a node so that it can be differentiated again.
class SoftmaxAlongNode final : public ReductionNode {
  public:
    SoftmaxAlongNode(const Var& x, std::optional<int> axis)
        : ReductionNode("softmax", x, axis, false) {}

    void forward() override {
        const array& x = begin_forward();
        value_.resize(x.shape());
        const Layout& l = layout_;
        std::vector<double> scratch;
        for_each_lane(l, [&](std::size_t start, std::size_t) {
            for_each_softmax(x.data(), start, l, scratch,
                             [&](std::size_t k, double s) { value_.data()[k] = s; });
        });
    }

    // ds_k/dx_j = s_k(δ_kj − s_j): dx = s ⊙ (g − Σ_lane g s)
    void backward_into(Node& x) override {
        const GradSink gx(x);
        const array g = grad() * value_;  // g ⊙ s
        const Layout& l = layout_;
        for_each_lane(l, [&](std::size_t start, std::size_t) {
            double total = 0.0;
            for (std::size_t k = 0; k < l.length; ++k) total += g.data()[start + k * l.inner];
            for (std::size_t k = 0; k < l.length; ++k) {
                const std::size_t index = start + k * l.inner;
                gx.put(index, g.data()[index] - value_.data()[index] * total);
            }
        });
    }

    Var gradient_as_graph(const Var& g) override {
        const Var s = self();
        const Var gs = derivative::times(g, s);  // strong zeros: see derivative::times
        return gs - derivative::times(sum_kept(gs), s);
    }

    // ds = s ⊙ (t − Σ_lane s t)
    array tangent_of(const array& t) override {
        array out = t * value_;
        const Layout& l = layout_;
        for_each_lane(l, [&](std::size_t start, std::size_t) {
            double total = 0.0;
            for (std::size_t k = 0; k < l.length; ++k) total += out.data()[start + k * l.inner];
            for (std::size_t k = 0; k < l.length; ++k) {
                const std::size_t index = start + k * l.inner;
                out.data()[index] -= value_.data()[index] * total;
            }
        });
        return out;
    }
};

/// @brief y = log Σ e^x over everything or along one axis, shifted by the maximum.
class LogsumexpNode final : public ReductionNode {
  public:
    LogsumexpNode(const Var& x, std::optional<int> axis, bool keepdims)
        : ReductionNode("logsumexp", x, axis, keepdims) {}

    void forward() override {
        const array& x = begin_forward();
        value_.resize(reduced_shape(x.shape()));
        for_each_lane(layout_, [&](std::size_t start, std::size_t lane) {
            value_.data()[lane] = lane_logsumexp(x.data(), start, layout_);
        });
    }

    // dy/dx_k = e^(x_k − y) = softmax_k along the lane (0 where y = −inf)
    void backward_into(Node& x) override {
        const GradSink gx(x);
        const double* in = x.value().data();
        const double* g = grad().data();
        std::vector<double> scratch;
        for_each_lane(layout_, [&](std::size_t start, std::size_t lane) {
            for_each_softmax(in, start, layout_, scratch,
                             [&](std::size_t k, double s) { gx.put(k, g[lane] * s); });
        });
    }

    Var gradient_as_graph(const Var& g) override {
        return derivative::times(spread(g), finish_op(std::make_shared<SoftmaxAlongNode>(
                                                input_var(0), requested_axis_)));
    }

    // dy = Σ_k softmax_k t_k per lane
    array tangent_of(const array& t) override {
        array out(value_.shape());
        const double* in = input(0).value().data();
        std::vector<double> scratch;
        for_each_lane(layout_, [&](std::size_t start, std::size_t lane) {
            double total = 0.0;
            for_each_softmax(in, start, layout_, scratch,
                             [&](std::size_t k, double s) { total += s * t.data()[k]; });
            out.data()[lane] = total;
        });
        return out;
    }
};

// ---- variance and stddev -----------------------------------------------------------------

/// @brief y = Σ(x − mean)²/(n − ddof) (variance) or its square root (stddev), over everything
/// or along one axis (removed).
class DispersionNode final : public ReductionNode {
  public:
    DispersionNode(const Var& x, std::optional<int> axis, int ddof, bool is_std)
        : ReductionNode(is_std ? "stddev" : "variance", x, axis, false),
          ddof_(ddof),
          is_std_(is_std) {}

    void forward() override {
        const array& x = begin_forward();
        const auto n = static_cast<long long>(layout_.length);
        if (n - ddof_ <= 0) {
            throw shape_error(std::string(op_name()) + ": needs n > ddof, got n = " +
                              std::to_string(n) + " and ddof = " + std::to_string(ddof_) + " (" +
                              (axis_ ? "axis " + std::to_string(*requested_axis_) + " of shape "
                                     : std::string("all elements of shape ")) +
                              format_shape(x.shape()) + ")");
        }
        value_.resize(reduced_shape(x.shape()));
        const double dof = degrees_of_freedom();
        for_each_lane(layout_, [&](std::size_t start, std::size_t lane) {
            const double m = lane_mean(x.data(), start, layout_);
            double squares = 0.0;
            if (layout_.inner == 1) {
                squares = detail::reduce(detail::ReduceOp::sum_squares, x.data() + start,
                                         layout_.length, m);
            } else {
                for (std::size_t k = 0; k < layout_.length; ++k) {
                    const double d = x.data()[start + k * layout_.inner] - m;
                    squares += d * d;
                }
            }
            const double var = squares / dof;
            value_.data()[lane] = is_std_ ? std::sqrt(var) : var;
        });
    }

    // variance: dy/dx_k = 2(x_k − mean)/(n − ddof); stddev: (x_k − mean)/((n − ddof)·y), taken
    // as 0 where y = 0 (a constant lane: 0/0, the subgradient 0)
    void backward_into(Node& x) override {
        const GradSink gx(x);
        const double* g = grad().data();
        for_each_slope(x.value(), [&](std::size_t index, std::size_t lane, double slope) {
            gx.put(index, g[lane] * slope);
        });
    }

    Var gradient_as_graph(const Var& g) override {
        const Var x = input_var(0);
        const Var centred = x - mean_kept(x);
        const double dof = degrees_of_freedom();
        // strong zeros (derivative::times): a zero g gives exactly zero at every order
        if (!is_std_) return derivative::times(spread(g), centred * (2.0 / dof));
        return derivative::times(spread(g),
                                 centred * (1.0 / dof) * reciprocal_or_zero(spread(self())));
    }

    // dy = Σ_k slope_k t_k per lane
    array tangent_of(const array& t) override {
        array out = xt::zeros<double>(value_.shape());
        for_each_slope(input(0).value(), [&](std::size_t index, std::size_t lane, double slope) {
            out.data()[lane] += slope * t.data()[index];
        });
        return out;
    }

  private:
    double degrees_of_freedom() const {
        return static_cast<double>(static_cast<long long>(layout_.length) - ddof_);
    }
    /// @brief Calls f(index, lane, dy/dx_index) for every element.
    template <class F>
    void for_each_slope(const array& x, F f) const {
        const double dof = degrees_of_freedom();
        for_each_lane(layout_, [&](std::size_t start, std::size_t lane) {
            const double m = lane_mean(x.data(), start, layout_);
            const double y = value_.data()[lane];
            const double factor = is_std_ ? (y > 0.0 ? 1.0 / (dof * y) : 0.0) : 2.0 / dof;
            for (std::size_t k = 0; k < layout_.length; ++k) {
                const std::size_t index = start + k * layout_.inner;
                f(index, lane, factor * (x.data()[index] - m));
            }
        });
    }

    int ddof_;
    bool is_std_;
};

Var dispersion(const Var& x, std::optional<int> axis, int ddof, bool is_std) {
    return finish_op(std::make_shared<DispersionNode>(x, axis, ddof, is_std));
}

// ---- norm --------------------------------------------------------------------------------

/// @brief y = (Σ|x|^p)^(1/p) of all elements (max |x| for p = inf), scaled by max |x|.
class NormNode final : public SingleInputNode {
  public:
    NormNode(const Var& x, double p) : SingleInputNode("norm", x), p_(p) {}

    void forward() override {
        const array& x = input(0).value();
        double top = 0.0;
        bool has_nan = false;
        for (double v : x) {
            const double a = std::abs(v);
            if (std::isnan(a)) has_nan = true;
            if (a > top) top = a;
        }
        value_.resize(shape_type{});
        double& y = value_();
        if (has_nan) {
            y = not_a_number;
        } else if (p_ == infinity || top == 0.0 || top == infinity) {
            y = top;
        } else if (p_ == 1.0) {
            y = detail::reduce(detail::ReduceOp::sum_abs, x.data(), x.size());
        } else {
            // (Σ|x|^p)^(1/p) = top·(Σ(|x|/top)^p)^(1/p): no power overflows or underflows early
            const double inverse = 1.0 / top;
            double total = 0.0;
            for (double v : x) {
                const double u = std::abs(v) * inverse;
                total += p_ == 2.0 ? u * u : std::pow(u, p_);
            }
            y = top * (p_ == 2.0 ? std::sqrt(total) : std::pow(total, 1.0 / p_));
        }
    }

    // dy/dx = sign(x)(|x|/y)^(p−1): x/y for p = 2, sign(x) for p = 1; for p = inf sign(x)
    // split evenly among the elements with the largest |x|; 0 everywhere where y = 0
    void backward_into(Node& x) override {
        const GradSink gx(x);
        const double g = grad()();
        for_each_slope(x.value(), [&](std::size_t k, double slope) { gx.put(k, g * slope); });
    }

    Var gradient_as_graph(const Var& g) override {
        const Var x = input_var(0);
        if (p_ == 1.0) return g * sign_of(x);
        // the slopes that depend on x meet g as strong products (derivative::times)
        if (p_ == 2.0) return derivative::times(g, x * reciprocal_or_zero(self()));
        if (p_ == infinity) return g * sign_of(x) * extremum_share(abs(x), std::nullopt, true);
        // (|x|/y)^(p−1) with |x|/y replaced by 1 where x = 0 (where sign(x) = 0 anyway): for
        // p < 2 the power's own derivative is infinite at 0, and would meet a zero factor there
        const Var magnitude = abs(x);
        const Var zero = 1.0 - positive_mask(magnitude);
        const Var ratio = magnitude * reciprocal_or_zero(self()) + zero;
        return derivative::times(g, sign_of(x) * pow(ratio, p_ - 1.0));
    }

    // dy = Σ_k slope_k t_k
    array tangent_of(const array& t) override {
        double total = 0.0;
        for_each_slope(input(0).value(),
                       [&](std::size_t k, double slope) { total += slope * t.data()[k]; });
        return array(total);
    }

  private:
    /// @brief Calls f(index, dy/dx_index) for every element.
    template <class F>
    void for_each_slope(const array& x, F f) const {
        const double y = value_();
        const std::size_t n = x.size();
        if (p_ == infinity) {
            const array magnitude = xt::abs(x);
            Layout whole;
            whole.length = n;
            if (n == 0) return;
            for_each_share(magnitude.data(), 0, whole, y, [&](std::size_t k, double share) {
                f(k, y == 0.0 ? 0.0 : sign_of(x.data()[k]) * share);
            });
            return;
        }
        for (std::size_t k = 0; k < n; ++k) {
            const double v = x.data()[k];
            double slope = 0.0;
            if (y != 0.0) {
                if (p_ == 1.0) {
                    slope = sign_of(v);
                } else if (p_ == 2.0) {
                    slope = v / y;
                } else {
                    slope = sign_of(v) * std::pow(std::abs(v) / y, p_ - 1.0);
                }
            }
            f(k, slope);
        }
    }

    double p_;
};

}  // namespace

}  // namespace xgrad::detail

namespace xgrad {

using detail::extremum;
using detail::finish_op;

Var sum(const Var& x) {
    return finish_op(std::make_shared<detail::SumNode>(x, std::nullopt, false, false));
}
Var sum(const Var& x, int axis, bool keepdims) {
    return finish_op(std::make_shared<detail::SumNode>(x, axis, keepdims, false));
}
Var mean(const Var& x) {
    return finish_op(std::make_shared<detail::SumNode>(x, std::nullopt, false, true));
}
Var mean(const Var& x, int axis, bool keepdims) {
    return finish_op(std::make_shared<detail::SumNode>(x, axis, keepdims, true));
}

Var max(const Var& x) {
    return extremum(x, std::nullopt, false, true);
}
Var max(const Var& x, int axis, bool keepdims) {
    return extremum(x, axis, keepdims, true);
}
Var min(const Var& x) {
    return extremum(x, std::nullopt, false, false);
}
Var min(const Var& x, int axis, bool keepdims) {
    return extremum(x, axis, keepdims, false);
}

array argmax(const Var& x, int axis) {
    return detail::arg_extremum("argmax", x, axis, true);
}
array argmin(const Var& x, int axis) {
    return detail::arg_extremum("argmin", x, axis, false);
}

Var logsumexp(const Var& x) {
    return finish_op(std::make_shared<detail::LogsumexpNode>(x, std::nullopt, false));
}
Var logsumexp(const Var& x, int axis, bool keepdims) {
    return finish_op(std::make_shared<detail::LogsumexpNode>(x, axis, keepdims));
}

Var variance(const Var& x, int axis, int ddof) {
    return detail::dispersion(x, axis, ddof, false);
}
Var variance(const Var& x) {
    return detail::dispersion(x, std::nullopt, 0, false);
}
Var stddev(const Var& x, int axis, int ddof) {
    return detail::dispersion(x, axis, ddof, true);
}
Var stddev(const Var& x) {
    return detail::dispersion(x, std::nullopt, 0, true);
}

Var norm(const Var& x, double p) {
    if (!(p >= 1.0)) {
        std::ostringstream message;
        message << "norm: p = " << p << " is below 1 (not a norm); use p >= 1 or infinity";
        throw std::invalid_argument(message.str());
    }
    return finish_op(std::make_shared<detail::NormNode>(x, p));
}

}  // namespace xgrad
