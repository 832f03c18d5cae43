/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/losses.hpp"

#include "fusion.hpp"
#include "node.hpp"
#include "xgrad/ops.hpp"

namespace xgrad {

namespace {

void require_same_shape(const char* op, const char* what_a, const Var& a, const char* what_b,
                        const Var& b) {
    // Broadcasting (m,) against (m,1) would silently build an (m,m) loss: refuse it.
    if (a.shape() != b.shape()) {
        throw shape_error(std::string(op) + ": " + what_a + " " + format_shape(a.shape()) +
                          " and " + what_b + " " + format_shape(b.shape()) + " differ in shape");
    }
}

Var reduce(const Var& terms, reduction how) {
    switch (how) {
        case reduction::mean:
            return mean(terms);
        case reduction::sum:
            return sum(terms);
        case reduction::none:
            break;
    }
    return terms;
}

/// @brief L = scale · Σ [max(z,0) - z y + log(1 + e^-|z|)], fused and stable for any z.
class BceWithLogitsNode final : public detail::Node {
  public:
    BceWithLogitsNode(const Var& z, const Var& y, reduction how)
        : Node("bce_with_logits", detail::any_requires_grad({&z, &y})), how_(how) {
        add_input(z.node_ptr());
        add_input(y.node_ptr());
    }

    void forward() override {
        if (fused_ && forward_fused()) return;
        fused_last_ = false;
        const array& z = input(0).value();
        const array& y = input(1).value();
        if (z.shape() != y.shape()) {
            throw shape_error("bce_with_logits: logits " + format_shape(z.shape()) +
                              " and targets " + format_shape(y.shape()) + " differ in shape");
        }
        const std::size_t n = z.size();
        if (how_ == reduction::mean && n == 0) {
            throw shape_error("bce_with_logits: cannot average over no samples");
        }
        scale_ = how_ == reduction::mean ? 1.0 / static_cast<double>(n) : 1.0;
        const bool per_sample = how_ == reduction::none;
        value_.resize(per_sample ? z.shape() : shape_type{});
        const double total = detail::bce_with_logits_terms(z.data(), y.data(), n,
                                                           per_sample ? value_.data() : nullptr);
        if (!per_sample) value_.data()[0] = scale_ * total;
    }

    // dL/dz = scale (σ(z) - y),  dL/dy = -scale z
    void backward() override {
        if (fused_last_) {  // straight to X, w, b and y: z and X·w were never made
            Node& product = input(0).input(product_side_);
            kernel_.backward(grad().data()[0], product.input(0), product.input(1),
                             input(0).input(1 - product_side_), input(1));
            return;
        }
        // σ(z) is recomputed rather than kept from forward: one m-long buffer less (as PyTorch).
        const array& z = input(0).value();
        const array& y = input(1).value();
        // g is the seed per sample (none), or one number times the mean's scale.
        const bool per_sample = how_ == reduction::none;
        const double* g = grad().data();
        const double g_all = per_sample ? 0.0 : scale_ * g[0];
        if (input(0).requires_grad()) {
            bool overwrite = false;
            double* out = input(0).grad_for_accumulate(overwrite).data();
            detail::bce_with_logits_residual(z.data(), y.data(), z.size(), per_sample ? g : nullptr,
                                             g_all, out, overwrite);
        }
        auto g_at = [&](std::size_t i) { return per_sample ? g[i] : g_all; };
        if (input(1).requires_grad()) {
            bool overwrite = false;
            double* out = input(1).grad_for_accumulate(overwrite).data();
            for (std::size_t i = 0; i < z.size(); ++i) {
                const double d = -g_at(i) * z.data()[i];
                out[i] = overwrite ? d : out[i] + d;
            }
        }
    }

    GradVars backward_as_graph(const Var& g) override {
        const Var z = input_var(0);
        const Var y = input_var(1);
        const Var scaled = g * scale_;
        GradVars out;
        if (z.requires_grad()) out[0] = scaled * (sigmoid(z) - y);
        if (y.requires_grad()) out[1] = -scaled * z;
        return out;
    }

    // On a tape, bce_with_logits(matmul(X, w) + b, y) whose sum and product no one else holds
    // runs as linear_bce_with_logits: one pass over X, and no m-long buffer.
    std::vector<Node*> fuse_for_replay() override {
        Node& z = input(0);
        if (how_ == reduction::none || input_ptr(0).use_count() != 1 ||
            !detail::is_sum_of_two_nodes(z)) {
            return {};
        }
        for (std::size_t side = 0; side < 2; ++side) {
            Node& product = z.input(side);
            if (z.input_ptr(side).use_count() == 1 && detail::is_matrix_vector_product(product)) {
                fused_ = true;
                product_side_ = side;
                return {&z, &product};
            }
        }
        return {};
    }

  private:
    /// @brief The fused pass, if the operands have the shapes it takes; else false, and the
    /// skipped sum and product are recomputed when the plain pass reads z.
    bool forward_fused() {
        Node& z = input(0);
        Node& product = z.input(product_side_);
        z.mark_stale();
        product.mark_stale();
        const array& X = product.input(0).value();
        const array& w = product.input(1).value();
        const array& b = z.input(1 - product_side_).value();
        const array& y = input(1).value();
        if (!detail::LinearBceKernel::fits(X, w, b, y)) return false;
        scale_ = how_ == reduction::mean ? 1.0 / static_cast<double>(X.shape()[0]) : 1.0;
        value_.resize(shape_type{});
        value_.data()[0] = kernel_.forward(X, w, b.data()[0], y, scale_);
        fused_last_ = true;
        return true;
    }

    reduction how_;
    double scale_ = 1.0;
    bool fused_ = false;       // a tape asked for the fused pass
    bool fused_last_ = false;  // the last forward() was fused: backward() goes with it
    std::size_t product_side_ = 0;
    detail::LinearBceKernel kernel_;
};

}  // namespace

Var binary_cross_entropy(const Var& probabilities, const Var& targets, reduction how) {
    require_same_shape("binary_cross_entropy", "probabilities", probabilities, "targets", targets);
    // BCE of σ(z) is BCE with logits z: the same value and gradient in one stable node (σ(z)
    // itself was never in the loss's graph: log(σ(z)) and log(1 − σ(z)) are rewritten anyway).
    if (const auto* z = detail::sigmoid_input(probabilities.node())) {
        return bce_with_logits(Var(*z), targets, how);
    }
    const Var& p = probabilities;
    const Var& y = targets;
    return -reduce(y * log(p) + (1.0 - y) * log(1.0 - p), how);
}

Var bce_with_logits(const Var& logits, const Var& targets, reduction how) {
    return detail::finish_op(std::make_shared<BceWithLogitsNode>(logits, targets, how));
}

Var cross_entropy(const Var& logits, const Var& class_indices, reduction how) {
    if (logits.dimension() != 2 || class_indices.dimension() != 1 ||
        logits.shape()[0] != class_indices.shape()[0]) {
        throw shape_error(
            "cross_entropy: expects logits (m, classes) and class indices (m,), got " +
            format_shape(logits.shape()) + " and " + format_shape(class_indices.shape()));
    }
    const Var picked = sum(one_hot(class_indices, logits.shape()[1]) * log_softmax(logits), 1);
    return -reduce(picked, how);
}

Var mse(const Var& predictions, const Var& targets, reduction how) {
    require_same_shape("mse", "predictions", predictions, "targets", targets);
    return reduce(pow(predictions - targets, 2.0), how);
}

}  // namespace xgrad
