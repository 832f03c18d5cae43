// Losses: binary cross-entropy on probabilities and on logits, MSE, cross-entropy, each a node
// with its value and gradient side by side.
#include "xgrad/ops/losses.hpp"

#include <cmath>

#include "core/op.hpp"
#include "fusion/logistic_kernel.hpp"
#include "fusion/rewrites.hpp"
#include "ops/loss_nodes.hpp"
#include "ops/stable_math.hpp"
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

/// @brief The scale of a reduction over n terms; throws for the mean of none.
double reduction_scale(const char* op, reduction how, std::size_t n) {
    if (how == reduction::mean && n == 0) {
        throw shape_error(std::string(op) +
                          ": cannot average over no samples (the mean of an "
                          "empty batch is undefined; use reduction::sum)");
    }
    return how == reduction::mean ? 1.0 / static_cast<double>(n) : 1.0;
}

/// @brief y·log p, taken as 0 where y = 0 whatever p is (the limit of y·log p as y → 0, so a
/// label of 0 never meets log 0 = −inf: scipy's xlogy).
double xlogy(double y, double p) {
    return y == 0.0 ? 0.0 : y * std::log(p);
}

/// @brief dBCE/dp for one term: (p − y)/(p(1 − p)). At p = y ∈ {0, 1} the term is 0 and so is
/// its gradient (the formula's 0/0; as PyTorch). Where p ∈ {0, 1} meets the other label the
/// loss is infinite and the gradient is ∓inf, the formula's value.
double bce_probability_grad(double p, double y) {
    if (p == y) return 0.0;
    return (p - y) / (p * (1.0 - p));
}

/// @brief g·(p − y)/(p(1 − p)) as a graph, for second derivatives: built as
/// g·(p − y)·k / (p(1 − p) + 1 − k) with the constant k = 0 where p = y ∈ {0, 1} (there the
/// quotient is the constant 0, and so are its derivatives) and 1 elsewhere.
Var probability_gradient(const Var& g, const Var& p, const Var& y) {
    const array& pv = p.value();
    const array keep =
        xt::where(xt::equal(pv, y.value()) && (xt::equal(pv, 0.0) || xt::equal(pv, 1.0)), 0.0, 1.0);
    return g * ((p - y) * constant(keep)) / (p * (1.0 - p) + constant(1.0 - keep));
}

/// @brief A loss of a prediction and a target of one shape, term by term, folded by a reduction:
/// L = scale · Σ term(pᵢ, tᵢ) (or the terms themselves for reduction::none). The shapes are
/// checked on every forward pass, so a replay with (m,) against (m, 1) is refused rather than
/// broadcast to (m, m). `Term` gives the name, the term, and its two partial derivatives (for
/// doubles) and their graph form (for second derivatives).
template <class Term>
class PairLossNode final : public detail::Node {
  public:
    PairLossNode(const Var& p, const Var& t, reduction how)
        : Node(Term::name, detail::any_requires_grad({&p, &t})), how_(how) {
        add_input(p.node_ptr());
        add_input(t.node_ptr());
    }

    void forward() override {
        const array& p = input(0).value();
        const array& t = input(1).value();
        if (p.shape() != t.shape()) {
            throw shape_error(std::string(Term::name) + ": " + Term::prediction + " " +
                              format_shape(p.shape()) + " and targets " + format_shape(t.shape()) +
                              " differ in shape");
        }
        scale_ = reduction_scale(Term::name, how_, p.size());
        const bool per_sample = how_ == reduction::none;
        value_.resize(per_sample ? p.shape() : shape_type{});
        double total = 0.0;
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double term = Term::value(p.data()[i], t.data()[i], i);
            if (per_sample) value_.data()[i] = term;
            total += term;
        }
        if (!per_sample) value_.data()[0] = scale_ * total;
    }

    void backward() override {
        const array& p = input(0).value();
        const array& t = input(1).value();
        const bool per_sample = how_ == reduction::none;
        const double* g = grad().data();
        for (std::size_t side = 0; side < 2; ++side) {
            if (!input(side).requires_grad()) continue;
            const detail::GradSink sink(input(side));
            for (std::size_t i = 0; i < p.size(); ++i) {
                const double gi = scale_ * (per_sample ? g[i] : g[0]);
                const double pi = p.data()[i];
                const double ti = t.data()[i];
                sink.put(i, gi * (side == 0 ? Term::d_prediction(pi, ti) : Term::d_target(pi, ti)));
            }
        }
    }

    GradVars backward_as_graph(const Var& g) override {
        const Var scaled = g * scale_;
        const Var p = input_var(0);
        const Var t = input_var(1);
        GradVars out(input_count());
        if (p.requires_grad()) out[0] = Term::d_prediction(scaled, p, t);
        if (t.requires_grad()) out[1] = Term::d_target(scaled, p, t);
        return out;
    }

    // dL = scale · Σ (∂term/∂p · dp + ∂term/∂t · dt), term by term for reduction::none
    array tangent(const Tangents& dt) override {
        const array& p = input(0).value();
        const array& t = input(1).value();
        array out = xt::zeros<double>(value_.shape());
        const bool per_sample = how_ == reduction::none;
        for (std::size_t i = 0; i < p.size(); ++i) {
            const double pi = p.data()[i];
            const double ti = t.data()[i];
            double d = 0.0;
            if (dt[0]) d += Term::d_prediction(pi, ti) * dt[0]->data()[i];
            if (dt[1]) d += Term::d_target(pi, ti) * dt[1]->data()[i];
            out.data()[per_sample ? i : 0] += scale_ * d;
        }
        return out;
    }

  private:
    reduction how_;
    double scale_ = 1.0;
};

/// @brief Binary cross-entropy on probabilities: −[t log p + (1 − t) log(1 − p)], p ∈ [0, 1]. A
/// term whose weight t or 1 − t is 0 is 0 (no 0·log 0 = NaN): a confident right answer costs
/// nothing, and only a confident wrong one (p = 0 with t > 0, or p = 1 with t < 1) is infinite.
struct BinaryCrossEntropyTerm {
    static constexpr const char* name = "binary_cross_entropy";
    static constexpr const char* prediction = "probabilities";
    static double value(double p, double t, std::size_t i) {
        if (!(p >= 0.0 && p <= 1.0)) {
            throw std::domain_error("binary_cross_entropy: probability " + std::to_string(p) +
                                    " at element " + std::to_string(i) +
                                    " is outside [0, 1] (pass logits to bce_with_logits)");
        }
        return -(xlogy(t, p) + xlogy(1.0 - t, 1.0 - p));
    }
    // ∂/∂p = (p − t)/(p(1 − p)), 0 where p = t ∈ {0, 1};  ∂/∂t = −(log p − log(1 − p))
    static double d_prediction(double p, double t) { return bce_probability_grad(p, t); }
    static double d_target(double p, double) { return -(std::log(p) - std::log1p(-p)); }
    static Var d_prediction(const Var& g, const Var& p, const Var& t) {
        return probability_gradient(g, p, t);
    }
    static Var d_target(const Var& g, const Var& p, const Var&) {
        return -g * (log(p) - log(1.0 - p));
    }
};

/// @brief Squared error (p − t)².
struct SquaredErrorTerm {
    static constexpr const char* name = "mse";
    static constexpr const char* prediction = "predictions";
    static double value(double p, double t, std::size_t) { return (p - t) * (p - t); }
    // ∂/∂p = 2(p − t) = −∂/∂t
    static double d_prediction(double p, double t) { return 2.0 * (p - t); }
    static double d_target(double p, double t) { return -2.0 * (p - t); }
    static Var d_prediction(const Var& g, const Var& p, const Var& t) { return g * 2.0 * (p - t); }
    static Var d_target(const Var& g, const Var& p, const Var& t) { return g * -2.0 * (p - t); }
};

/// @brief L = scale · Σ [max(z,0) - z y + log(1 + e^-|z|)], fused and stable for any z.
/// Built by `binary_cross_entropy(sigmoid(z), y)` it also holds the written σ(z) (input 2, never
/// read in forward): while someone observes σ(z), backward gives σ(z) its gradient as
/// binary_cross_entropy would, rather than going around it. A tape may replay it, with the
/// matmul and add that make z, as one kernel (src/fusion/replay.cpp).
class BceWithLogitsNode final : public detail::Node {
  public:
    BceWithLogitsNode(const Var& z, const Var& y, reduction how, const Var* probabilities)
        : Node("bce_with_logits", detail::any_requires_grad({&z, &y}), kind_for(how)), how_(how) {
        add_input(z.node_ptr());
        add_input(y.node_ptr());
        if (probabilities != nullptr) add_input(probabilities->node_ptr());
    }

    void forward() override {
        const array& z = input(0).value();
        const array& y = input(1).value();
        if (z.shape() != y.shape()) {
            throw shape_error("bce_with_logits: logits " + format_shape(z.shape()) +
                              " and targets " + format_shape(y.shape()) + " differ in shape");
        }
        const std::size_t n = z.size();
        const double scale = reduction_scale("bce_with_logits", how_, n);
        const bool per_sample = how_ == reduction::none;
        value_.resize(per_sample ? z.shape() : shape_type{});
        const double total = detail::bce_with_logits_terms(z.data(), y.data(), n,
                                                           per_sample ? value_.data() : nullptr);
        if (!per_sample) value_.data()[0] = scale * total;
    }

    // dL/dz = scale (σ(z) - y),  dL/dy = -scale z
    void backward() override {
        // σ(z) is recomputed rather than kept from forward: one m-long buffer less (as PyTorch).
        const array& z = input(0).value();
        const array& y = input(1).value();
        // g is the seed per sample (none), or one number times the mean's scale.
        const bool per_sample = how_ == reduction::none;
        const double* g = grad().data();
        const double g_all = per_sample ? 0.0 : scale() * g[0];
        if (input(0).requires_grad() && !around_probabilities()) {
            // As binary_cross_entropy on the observed σ(z), which passes it on to z.
            const detail::GradSink gp(input(2));
            const array& p = input(2).value();
            for (std::size_t i = 0; i < p.size(); ++i) {
                gp.put(i, (per_sample ? g[i] : g_all) *
                              bce_probability_grad(p.data()[i], y.data()[i]));
            }
        } else if (input(0).requires_grad()) {
            const detail::GradSink gz(input(0));
            detail::bce_with_logits_residual(z.data(), y.data(), z.size(), per_sample ? g : nullptr,
                                             g_all, gz.data(), gz.first());
        }
        auto g_at = [&](std::size_t i) { return per_sample ? g[i] : g_all; };
        if (input(1).requires_grad()) {
            const detail::GradSink gy(input(1));
            for (std::size_t i = 0; i < z.size(); ++i) gy.put(i, -g_at(i) * z.data()[i]);
        }
    }

    GradVars backward_as_graph(const Var& g) override {
        const Var z = input_var(0);
        const Var y = input_var(1);
        const Var scaled = g * scale();
        GradVars out(input_count());
        if (z.requires_grad() && !around_probabilities()) {
            out[2] = probability_gradient(scaled, input_var(2), y);
        } else if (z.requires_grad()) {
            out[0] = scaled * (sigmoid(z) - y);
        }
        if (y.requires_grad()) out[1] = -scaled * z;
        return out;
    }

    // dL = scale · Σ ((σ(z) − y) dz − z dy); the written σ(z)'s tangent is z's, passed on
    array tangent(const Tangents& t) override {
        const array& z = input(0).value();
        const array& y = input(1).value();
        const bool per_sample = how_ == reduction::none;
        const double s = per_sample ? 1.0 : scale();
        array out = xt::zeros<double>(value_.shape());
        for (std::size_t i = 0; i < z.size(); ++i) {
            const double zi = z.data()[i];
            double d = 0.0;
            if (t[0]) d += (detail::stable_sigmoid(zi) - y.data()[i]) * t[0]->data()[i];
            if (t[1]) d -= zi * t[1]->data()[i];
            out.data()[per_sample ? i : 0] += s * d;
        }
        return out;
    }

  private:
    static detail::OpKind kind_for(reduction how) {
        if (how == reduction::mean) return detail::OpKind::bce_with_logits_mean;
        if (how == reduction::sum) return detail::OpKind::bce_with_logits_sum;
        return detail::OpKind::other;
    }
    /// @brief The reduction's scale for the current z (a fused replay does not run forward()).
    double scale() { return reduction_scale("bce_with_logits", how_, input(0).value().size()); }
    /// @brief Whether the gradient may go straight to z: there is no written σ(z), or no one
    /// observes it.
    bool around_probabilities() const {
        return input_count() < 3 || detail::may_bypass(input_ptr(2));
    }

    reduction how_;
};

}  // namespace

namespace detail {
Var make_bce_with_logits(const Var& z, const Var& y, reduction how,
                         const Var* written_probabilities) {
    return finish_op(std::make_shared<BceWithLogitsNode>(z, y, how, written_probabilities));
}
}  // namespace detail

Var binary_cross_entropy(const Var& probabilities, const Var& targets, reduction how) {
    require_same_shape("binary_cross_entropy", "probabilities", probabilities, "targets", targets);
    // BCE of σ(z) is BCE with logits z: the same value and gradient in one stable node.
    if (Var rewritten = detail::fusion::rewrite_binary_cross_entropy(probabilities, targets, how);
        rewritten.defined()) {
        return rewritten;
    }
    return detail::finish_op(
        std::make_shared<PairLossNode<BinaryCrossEntropyTerm>>(probabilities, targets, how));
}

Var bce_with_logits(const Var& logits, const Var& targets, reduction how) {
    return detail::make_bce_with_logits(logits, targets, how);
}

Var linear_bce_with_logits(const Var& X, const Var& w, const Var& b, const Var& y, reduction how) {
    if (how == reduction::none) {
        throw std::invalid_argument(
            "linear_bce_with_logits: use bce_with_logits for per-sample losses");
    }
    if (!detail::LinearBceKernel::fits(X.value(), w.value(), b.value(), y.value())) {
        throw shape_error("linear_bce_with_logits: X " + format_shape(X.shape()) + ", w " +
                          format_shape(w.shape()) + ", b " + format_shape(b.shape()) + " and y " +
                          format_shape(y.shape()) +
                          " do not fit (X (m,n), w (n,), b one number, y (m,))");
    }
    // The plain graph: a tape replays it as one pass over X (src/fusion/replay.cpp), the one
    // route to that kernel.
    return bce_with_logits(matmul(X, w) + b, y, how);
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
    return detail::finish_op(
        std::make_shared<PairLossNode<SquaredErrorTerm>>(predictions, targets, how));
}

}  // namespace xgrad
