// log_softmax along the last axis (fused, with the log-sum-exp shift), and one_hot.
#include <cmath>

#include "core/op.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

namespace {

/// @brief x seen as rows of the last axis: (rows, width).
struct Rows {
    std::size_t rows;
    std::size_t width;
};

Rows rows_of(const array& x) {
    const std::size_t width = x.dimension() == 0 ? 1 : x.shape().back();
    return {width == 0 ? 0 : x.size() / width, width};
}

/// @brief y = x − max(x) − log Σ e^(x − max(x)) per row: no exponential can overflow.
class LogSoftmaxNode final : public SingleInputNode {
  public:
    explicit LogSoftmaxNode(const Var& x) : SingleInputNode("log_softmax", x) {}

    void forward() override {
        const array& x = input(0).value();
        if (x.dimension() == 0 || x.shape().back() == 0) {
            throw shape_error("log_softmax: needs at least one class along the last axis, got " +
                              format_shape(x.shape()));
        }
        value_.resize(x.shape());
        const Rows r = rows_of(x);
        for (std::size_t i = 0; i < r.rows; ++i) {
            const double* in = x.data() + i * r.width;
            double* out = value_.data() + i * r.width;
            double top = in[0];
            for (std::size_t k = 1; k < r.width; ++k) top = std::max(top, in[k]);
            double total = 0.0;
            for (std::size_t k = 0; k < r.width; ++k) total += std::exp(in[k] - top);
            const double shift = top + std::log(total);
            for (std::size_t k = 0; k < r.width; ++k) out[k] = in[k] - shift;
        }
    }

    // dy_k/dx_j = δ_kj − softmax_j: dx = g − softmax · Σ_k g_k, row by row (softmax = e^y)
    void backward_into(Node& x) override {
        const GradSink gx(x);
        const Rows r = rows_of(value_);
        const double* g = grad().data();
        for (std::size_t i = 0; i < r.rows; ++i) {
            const double* gi = g + i * r.width;
            const double* yi = value_.data() + i * r.width;
            double total = 0.0;
            for (std::size_t k = 0; k < r.width; ++k) total += gi[k];
            for (std::size_t k = 0; k < r.width; ++k) {
                gx.put(i * r.width + k, gi[k] - std::exp(yi[k]) * total);
            }
        }
    }

    Var gradient_as_graph(const Var& g) override {
        shape_type kept = value_.shape();
        kept.back() = 1;
        const Var row_sums = reshape(sum(g, -1), kept);
        return g - derivative::times(row_sums, exp(self()));  // strong zeros
    }

    // dy = t − Σ_k softmax_k t_k, row by row
    array tangent_of(const array& t) override {
        array out(value_.shape());
        const Rows r = rows_of(value_);
        for (std::size_t i = 0; i < r.rows; ++i) {
            const double* ti = t.data() + i * r.width;
            const double* yi = value_.data() + i * r.width;
            double mean = 0.0;
            for (std::size_t k = 0; k < r.width; ++k) mean += std::exp(yi[k]) * ti[k];
            for (std::size_t k = 0; k < r.width; ++k) out.data()[i * r.width + k] = ti[k] - mean;
        }
        return out;
    }
};

/// @brief One row per index with a 1 in the index's column; constant, no gradient.
class OneHotNode final : public Node {
  public:
    OneHotNode(const Var& indices, std::size_t classes)
        : Node("one_hot", false), classes_(classes) {
        add_input(indices.node_ptr());
    }

    void forward() override {
        const array& indices = input(0).value();
        if (indices.dimension() != 1) {
            throw shape_error("one_hot: expects class indices of shape (m,), got " +
                              format_shape(indices.shape()));
        }
        value_.resize(shape_type{indices.size(), classes_});
        value_.fill(0.0);
        for (std::size_t i = 0; i < indices.size(); ++i) {
            const double c = indices(i);
            if (!(c >= 0.0 && c < static_cast<double>(classes_) && c == std::floor(c))) {
                throw std::invalid_argument("one_hot: class index " + std::to_string(c) +
                                            " at position " + std::to_string(i) +
                                            " is not a whole number in [0, " +
                                            std::to_string(classes_) + ")");
            }
            value_(i, static_cast<std::size_t>(c)) = 1.0;
        }
    }
    // piecewise constant in the indices: zero tangent
    array tangent(const Tangents&) override { return xt::zeros<double>(value_.shape()); }

  private:
    std::size_t classes_;
};

}  // namespace

}  // namespace xgrad::detail

namespace xgrad {

Var log_softmax(const Var& x) {
    return detail::finish_op(std::make_shared<detail::LogSoftmaxNode>(x));
}

Var softmax(const Var& x) {
    return exp(log_softmax(x));
}

Var one_hot(const Var& class_indices, std::size_t classes) {
    return detail::finish_op(std::make_shared<detail::OneHotNode>(class_indices, classes));
}

}  // namespace xgrad
