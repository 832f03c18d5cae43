/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
// linear_bce_with_logits: bce_with_logits(matmul(X, w) + b, y) in one pass over X. Rows are taken
// in blocks that fit in cache: z = X_blk·w + b, the loss and the residual r = (σ(z) − y)·scale,
// then Xᵀ_blk·r while the block is still in cache. The gradients for w and b are made during
// forward, per unit of the output's gradient, and scaled in backward.
#include <cmath>

#if XGRAD_USE_XSIMD
#include <xsimd/xsimd.hpp>
#endif

#include "blas.hpp"
#include "node.hpp"
#include "xgrad/losses.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

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
        const Shape s = check();
        scale_ = how_ == reduction::mean ? 1.0 / static_cast<double>(s.m) : 1.0;
        const double* X = input(0).value().data();
        const double* w = input(1).value().data();
        const double b = input(2).value().data()[0];
        const double* y = input(3).value().data();
        unit_grad_w_.resize(shape_type{s.n});
        unit_grad_w_.fill(0.0);
        unit_grad_b_ = 0.0;
        residual_.resize(shape_type{block_rows});
        double* r = residual_.data();
        double total = 0.0;
        for (std::size_t first = 0; first < s.m; first += block_rows) {
            const std::size_t rows = std::min(block_rows, s.m - first);
            const double* X_block = X + first * s.n;
            blas::gemv(false, rows, s.n, 1.0, X_block, s.n, w, 0.0, r);
            loss_and_residual(r, y + first, rows, b, total);
            blas::gemv(true, rows, s.n, 1.0, X_block, s.n, r, 1.0, unit_grad_w_.data());
        }
        value_.resize(shape_type{});
        value_.data()[0] = scale_ * total;
    }

    // dL/dw = g·Xᵀr, dL/db = g·Σr (made in forward); dL/dX = g·r wᵀ, dL/dy = −g·scale·z.
    void backward() override {
        const double g = grad().data()[0];
        if (input(1).requires_grad()) accumulate_grad(input(1), g * unit_grad_w_);
        if (input(2).requires_grad()) {  // b holds one number, of shape () or (1,)
            bool overwrite = false;
            double& gb = input(2).grad_for_accumulate(overwrite).data()[0];
            gb = (overwrite ? 0.0 : gb) + g * unit_grad_b_;
        }
        if (input(0).requires_grad() || input(3).requires_grad()) backward_to_data(g);
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
    /// @brief On z (in r): adds the losses to `total`, leaves r = (σ(z + b) − y)·scale and adds it
    /// to the bias gradient. Vectorised with xsimd when built for the host's instruction set.
    void loss_and_residual(double* r, const double* y, std::size_t rows, double b, double& total) {
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

    static constexpr std::size_t block_rows = 512;  // 512 rows × 100 features = 400 KB: in L2

    struct Shape {
        std::size_t m;
        std::size_t n;
    };

    Shape check() {
        const shape_type& X = input(0).value().shape();
        const shape_type& w = input(1).value().shape();
        const shape_type& b = input(2).value().shape();
        const shape_type& y = input(3).value().shape();
        const bool fits = X.size() == 2 && w.size() == 1 && w[0] == X[1] &&
                          input(2).value().size() == 1 && b.size() <= 1 && y.size() == 1 &&
                          y[0] == X[0] && X[0] > 0;
        if (!fits) {
            throw shape_error("linear_bce_with_logits: X " + format_shape(X) + ", w " +
                              format_shape(w) + ", b " + format_shape(b) + " and y " +
                              format_shape(y) +
                              " do not fit (X (m,n), w (n,), b one number, y (m,))");
        }
        return {X[0], X[1]};
    }

    /// @brief The rare gradients for X or y: recompute z and r, row by row.
    void backward_to_data(double g) {
        const Shape s = check();
        const array& X = input(0).value();
        const array& w = input(1).value();
        const double b = input(2).value().data()[0];
        const array& y = input(3).value();
        array z = array::from_shape({s.m});
        blas::gemv(false, s.m, s.n, 1.0, X.data(), s.n, w.data(), 0.0, z.data());
        z += b;
        if (input(0).requires_grad()) {
            array r = array::from_shape({s.m});
            for (std::size_t i = 0; i < s.m; ++i) {
                const double e = std::exp(-std::abs(z(i)));
                r(i) = g * scale_ * ((z(i) >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - y(i));
            }
            bool overwrite = false;
            array& gX = input(0).grad_for_accumulate(overwrite);
            if (overwrite) gX.fill(0.0);
            blas::ger(s.m, s.n, 1.0, r.data(), w.data(), gX.data(), s.n);
        }
        if (input(3).requires_grad()) accumulate_grad(input(3), -(g * scale_) * z);
    }

    reduction how_;
    double scale_ = 1.0;
    array unit_grad_w_;  // Xᵀr for an output gradient of 1
    double unit_grad_b_ = 0.0;
    array residual_;  // one block of r
};

}  // namespace

}  // namespace xgrad::detail

namespace xgrad {

Var linear_bce_with_logits(const Var& X, const Var& w, const Var& b, const Var& y, reduction how) {
    return detail::finish_op(std::make_shared<detail::LinearBceNode>(X, w, b, y, how));
}

}  // namespace xgrad
