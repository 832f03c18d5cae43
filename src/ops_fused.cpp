/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
// linear_bce_with_logits and the kernel behind it (fusion.hpp): bce_with_logits(matmul(X, w) +
// b, y) in one blocked pass over X. This file alone is built for the host's instruction set.
#include <algorithm>
#include <cmath>

#if XGRAD_USE_XSIMD
#include <xsimd/xsimd.hpp>
#endif

#include "blas.hpp"
#include "fusion.hpp"
#include "xgrad/losses.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

bool LinearBceKernel::fits(const array& X, const array& w, const array& b, const array& y) {
    return X.dimension() == 2 && w.dimension() == 1 && w.shape()[0] == X.shape()[1] &&
           b.size() == 1 && b.dimension() <= 1 && y.dimension() == 1 &&
           y.shape()[0] == X.shape()[0] && X.shape()[0] > 0;
}

double LinearBceKernel::forward(const array& X, const array& w, double b, const array& y,
                                double scale) {
    const std::size_t m = X.shape()[0];
    const std::size_t n = X.shape()[1];
    scale_ = scale;
    unit_grad_w_.resize(shape_type{n});
    unit_grad_w_.fill(0.0);
    unit_grad_b_ = 0.0;
    residual_.resize(shape_type{block_rows});
    double* r = residual_.data();
    double total = 0.0;
    for (std::size_t first = 0; first < m; first += block_rows) {
        const std::size_t rows = std::min(block_rows, m - first);
        const double* X_block = X.data() + first * n;
        blas::gemv(false, rows, n, 1.0, X_block, n, w.data(), 0.0, r);
        loss_and_residual(r, y.data() + first, rows, b, total);
        blas::gemv(true, rows, n, 1.0, X_block, n, r, 1.0, unit_grad_w_.data());
    }
    return scale_ * total;
}

// dL/dw = g·Xᵀr, dL/db = g·Σr (made in forward); dL/dX = g·r wᵀ, dL/dy = −g·scale·z.
void LinearBceKernel::backward(double g, Node& X, Node& w, Node& b, Node& y) {
    if (w.requires_grad()) accumulate_grad(w, g * unit_grad_w_);
    if (b.requires_grad()) {  // b holds one number, of shape () or (1,)
        bool overwrite = false;
        double& gb = b.grad_for_accumulate(overwrite).data()[0];
        gb = (overwrite ? 0.0 : gb) + g * unit_grad_b_;
    }
    if (X.requires_grad() || y.requires_grad()) backward_to_data(g, X, w, b, y);
}

// GCC 12 flags the deliberately undefined lanes of _mm512_extractf64x4_pd, which xsimd's hadd
// uses on AVX-512 hosts: a false positive inside the compiler's own intrinsics.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
/// @brief On z (in r): adds the losses to `total`, leaves r = (σ(z + b) − y)·scale and adds it to
/// the bias gradient. Vectorised with xsimd when built for the host's instruction set.
void LinearBceKernel::loss_and_residual(double* r, const double* y, std::size_t rows, double b,
                                        double& total) {
    std::size_t i = 0;
#if XGRAD_USE_XSIMD
    using batch = xsimd::batch<double>;
    constexpr std::size_t width = batch::size;
    const batch zero(0.0);
    const batch one(1.0);
    batch loss_sum(0.0);
    batch residual_sum(0.0);
    for (; i + width <= rows; i += width) {
        const batch z = batch::load_unaligned(r + i) + batch(b);
        const batch yi = batch::load_unaligned(y + i);
        const batch e = xsimd::exp(-xsimd::abs(z));
        loss_sum += xsimd::max(z, zero) - z * yi + xsimd::log1p(e);
        const batch p = xsimd::select(z >= zero, one / (one + e), e / (one + e));
        const batch residual = (p - yi) * batch(scale_);
        residual.store_unaligned(r + i);
        residual_sum += residual;
    }
    total += xsimd::hadd(loss_sum);
    unit_grad_b_ += xsimd::hadd(residual_sum);
#endif
    for (; i < rows; ++i) {
        const double z = r[i] + b;
        const double e = std::exp(-std::abs(z));  // one exponential for loss and σ
        total += std::max(z, 0.0) - z * y[i] + std::log1p(e);
        r[i] = ((z >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - y[i]) * scale_;
        unit_grad_b_ += r[i];
    }
}

#pragma GCC diagnostic pop

/// @brief The rare gradients for X or y: recompute z and r, row by row.
void LinearBceKernel::backward_to_data(double g, Node& X_node, Node& w_node, Node& b_node,
                                       Node& y_node) {
    const array& X = X_node.value();
    const array& w = w_node.value();
    const double b = b_node.value().data()[0];
    const array& y = y_node.value();
    const std::size_t m = X.shape()[0];
    const std::size_t n = X.shape()[1];
    array z = array::from_shape({m});
    blas::gemv(false, m, n, 1.0, X.data(), n, w.data(), 0.0, z.data());
    z += b;
    if (X_node.requires_grad()) {
        array r = array::from_shape({m});
        for (std::size_t i = 0; i < m; ++i) {
            const double e = std::exp(-std::abs(z(i)));
            r(i) = g * scale_ * ((z(i) >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - y(i));
        }
        bool overwrite = false;
        array& gX = X_node.grad_for_accumulate(overwrite);
        if (overwrite) gX.fill(0.0);
        blas::ger(m, n, 1.0, r.data(), w.data(), gX.data(), n);
    }
    if (y_node.requires_grad()) accumulate_grad(y_node, -(g * scale_) * z);
}

namespace {

class LinearBceNode final : public Node {
  public:
    LinearBceNode(const Var& X, const Var& w, const Var& b, const Var& y, reduction how)
        : Node("linear_bce_with_logits", any_requires_grad({&X, &w, &b, &y})), how_(how) {
        if (how == reduction::none) {
            throw std::invalid_argument(
                "linear_bce_with_logits: use bce_with_logits for per-sample losses");
        }
        for (const Var* v : {&X, &w, &b, &y}) add_input(v->node_ptr());
    }

    void forward() override {
        const array& X = input(0).value();
        const array& w = input(1).value();
        const array& b = input(2).value();
        const array& y = input(3).value();
        if (!LinearBceKernel::fits(X, w, b, y)) {
            throw shape_error("linear_bce_with_logits: X " + format_shape(X.shape()) + ", w " +
                              format_shape(w.shape()) + ", b " + format_shape(b.shape()) +
                              " and y " + format_shape(y.shape()) +
                              " do not fit (X (m,n), w (n,), b one number, y (m,))");
        }
        scale_ = how_ == reduction::mean ? 1.0 / static_cast<double>(X.shape()[0]) : 1.0;
        value_.resize(shape_type{});
        value_.data()[0] = kernel_.forward(X, w, b.data()[0], y, scale_);
    }

    void backward() override {
        kernel_.backward(grad().data()[0], input(0), input(1), input(2), input(3));
    }

    GradVars backward_as_graph(const Var& g) override {
        const Var X = input_var(0);
        const Var w = input_var(1);
        const Var b = input_var(2);
        const Var y = input_var(3);
        const Var z = matmul(X, w) + b;
        const Var dz = (g * scale_) * (sigmoid(z) - y);
        GradVars out;
        if (X.requires_grad())
            out[0] = matmul(reshape(dz, {dz.size(), 1}), reshape(w, {1, w.size()}));
        if (w.requires_grad()) out[1] = matmul(transpose(X), dz);
        if (b.requires_grad()) out[2] = reshape(sum(dz), b.shape());
        if (y.requires_grad()) out[3] = -(g * scale_) * z;
        return out;
    }

  private:
    reduction how_;
    double scale_ = 1.0;
    LinearBceKernel kernel_;
};

}  // namespace

}  // namespace xgrad::detail

namespace xgrad {

Var linear_bce_with_logits(const Var& X, const Var& w, const Var& b, const Var& y, reduction how) {
    return detail::finish_op(std::make_shared<detail::LinearBceNode>(X, w, b, y, how));
}

}  // namespace xgrad
