// Build-time rewrites (see rewrites.hpp): log∘σ, log∘(1 − σ), BCE∘σ and matmul∘transpose.
#include "fusion/rewrites.hpp"

#include <cmath>

#include "ops/loss_nodes.hpp"
#include "ops/stable_math.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail::fusion {

namespace {

/// @brief The z of x = σ(z), or null.
const std::shared_ptr<Node>* sigmoid_input(const Node& x) {
    return x.kind() == OpKind::sigmoid ? &x.input_ptr(0) : nullptr;
}

/// @brief log(σ(z)) (written `log(sigmoid(z))`) or log(1 − σ(z)) (written
/// `log(1 - sigmoid(z))`), valued as log_sigmoid(z) = −softplus(−z) or −softplus(z): finite for
/// every z, where the written form gives −inf once σ rounds to 0 or 1. Inputs: the written
/// operand x (σ(z) or 1 − σ(z)), then z. Backward sends the gradient straight to z, stably,
/// when no one observes the intermediates; otherwise it follows the graph as written (g/x into
/// x), so that a held σ(z) gets its gradient.
class LogOfSigmoidNode final : public Node {
  public:
    LogOfSigmoidNode(const Var& written, const Var& z, bool complement)
        : Node(complement ? "log_one_minus_sigmoid" : "log_sigmoid", any_requires_grad({&written})),
          complement_(complement) {
        add_input(written.node_ptr());
        add_input(z.node_ptr());
    }

    // y = −softplus(∓z)
    void forward() override {
        const double sign = complement_ ? 1.0 : -1.0;
        map_elementwise(value_, input(1).value(),
                        [sign](double v) { return -stable_softplus(sign * v); });
    }

    // Straight to z: d log σ(z)/dz = 1 − σ(z) = −expm1(y); d log(1 − σ(z))/dz = −σ(z) = expm1(y).
    // As written: d log x/dx = 1/x.
    void backward() override {
        if (!input(0).requires_grad()) return;
        const double* g = grad().data();
        const double* y = value_.data();
        const std::size_t n = value_.size();
        if (bypass()) {
            const GradSink gz(input(1));
            const double sign = complement_ ? 1.0 : -1.0;
            for (std::size_t i = 0; i < n; ++i) gz.put(i, g[i] * sign * std::expm1(y[i]));
        } else {
            const GradSink gx(input(0));
            const double* x = input(0).value().data();
            for (std::size_t i = 0; i < n; ++i) gx.put(i, g[i] / x[i]);
        }
    }

    GradVars backward_as_graph(const Var& g) override {
        if (!input(0).requires_grad()) return {};
        if (bypass()) {
            const Var z = input_var(1);
            return {Var(), complement_ ? -(g * xgrad::sigmoid(z)) : g * xgrad::sigmoid(-z)};
        }
        return {g / input_var(0)};
    }

    // From z's tangent (the written σ(z)'s follows from it): d log σ(z) = (1 − σ(z)) dz =
    // −expm1(y) dz; d log(1 − σ(z)) = −σ(z) dz = expm1(y) dz.
    array tangent(const Tangents& t) override {
        array out = xt::zeros<double>(value_.shape());
        if (!t[1]) return out;
        const double sign = complement_ ? 1.0 : -1.0;
        for (std::size_t i = 0; i < out.size(); ++i) {
            out.data()[i] = sign * std::expm1(value_.data()[i]) * t[1]->data()[i];
        }
        return out;
    }

  private:
    /// @brief Whether σ(z) (and 1 − σ(z)) are observed by no one.
    bool bypass() const {
        if (!may_bypass(input_ptr(0))) return false;
        return !complement_ || may_bypass(input(0).input_ptr(0));
    }

    bool complement_;
};

}  // namespace

Var rewrite_log(const Var& x) {
    if (const auto* z = sigmoid_input(x.node())) {
        return finish_op(std::make_shared<LogOfSigmoidNode>(x, Var(*z), false));
    }
    const Node& n = x.node();
    if (n.kind() == OpKind::sub_from_scalar && n.scalar() == 1.0) {
        if (const auto* z = sigmoid_input(n.input(0))) {
            return finish_op(std::make_shared<LogOfSigmoidNode>(x, Var(*z), true));
        }
    }
    return Var();
}

Var rewrite_binary_cross_entropy(const Var& p, const Var& y, reduction how) {
    if (const auto* z = sigmoid_input(p.node())) return make_bce_with_logits(Var(*z), y, how, &p);
    return Var();
}

MatmulOperand matmul_operand(const Var& v) {
    if (v.node().kind() != OpKind::transpose) return {v, false, Var()};
    // Through every transpose (the graph form of a product's gradient writes transpose(op_a) of
    // a transposed operand): an odd count reads the stored node transposed.
    const std::shared_ptr<Node>* stored = &v.node().input_ptr(0);
    bool transposed = true;
    while ((*stored)->kind() == OpKind::transpose) {
        stored = &(*stored)->input_ptr(0);
        transposed = !transposed;
    }
    return {Var(*stored), transposed, v};
}

}  // namespace xgrad::detail::fusion
