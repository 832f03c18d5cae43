// Elementwise ops: their nodes, and each derivative's graph form (for second order). The numbers
// of each op, forward beside derivative, are in elementwise_rules.hpp and run vectorised by the
// kernels of src/backend; the graph forms here must state the same formulas.
#include <cmath>
#include <type_traits>

#include <xtensor/xmath.hpp>
#include <xtensor/xoperation.hpp>

#include "backend/elementwise_kernels.hpp"
#include "core/op.hpp"
#include "fusion/rewrites.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::detail {

// Functions the graph forms of the derivatives need (on Vars, for second derivatives).
namespace derivative {

// ---- strong zeros --------------------------------------------------------------------------
// A zero gradient arriving at an op contributes exactly zero to its inputs, even where the op's
// local derivative is infinite or undefined (0·∞, 0·NaN). Only that keeps the branch where()
// does not take out of every gradient: where(x > 0, sqrt(x), 0) sends sqrt a 0 wherever x ≤ 0,
// and sqrt's slope there is +inf (x = 0) or NaN (x < 0). PyTorch and JAX give NaN there.

/// @brief g·d, exactly 0 where g = 0.
/// @brief The same as a graph node (strong_mul), whose own derivatives are strong too.
Var times(const Var& g, const Var& d);
inline Var times(const Var& g, double d) {
    return g * d;  // a finite constant slope needs no mask
}

/// @brief g/d, exactly 0 where g = 0.
inline Var divide(const Var& g, const Var& d) {
    return times(g, 1.0 / d);
}
inline Var divide(const Var& g, double d) {
    return g / d;
}

/// @brief g·p·x^(p−1), the derivative of x^p, and exactly 0 for p = 0: x⁰ is the constant 1
/// everywhere (as PyTorch), where the formula would give 0·x⁻¹ = 0·∞ = NaN at x = 0.
/// @brief The same as a graph; no contribution at all for p = 0.
inline Var power_rule(const Var& g, const Var& x, double p) {
    if (p == 0.0) return Var();
    return g * p * xgrad::pow(x, p - 1.0);
}

/// @brief ∂(aᵇ)/∂a = b·aᵇ⁻¹, exactly 0 where b = 0 (a⁰ is the constant 1; at a = 0 the formula
/// would be 0·∞); and ∂(aᵇ)/∂b = aᵇ·log a = y·log a, exactly 0 where a = 0 and b ≥ 0 (y = 0
/// there, and log 0 = −inf). Both NaN for a < 0 with a non-integer b, where aᵇ itself is NaN.
inline Var pow_slope_base(const Var& a, const Var& b) {
    // where a = b = 0, a is read as 1 (and b·1ᵇ⁻¹ = 0): the same numbers, and differentiable
    const Var safe = xgrad::where(xgrad::equal(a, 0.0) * xgrad::equal(b, 0.0), 1.0, a);
    return b * xgrad::pow(safe, b - 1.0);
}
inline Var pow_slope_exponent(const Var& a, const Var& b, const Var& y) {
    const Var safe = xgrad::where(xgrad::equal(a, 0.0) * xgrad::greater_equal(b, 0.0), 1.0, a);
    return y * xgrad::log(safe);
}

/// @brief g·cos x and −g·sin x: the derivatives of sin and cos.
inline Var times_cos(const Var& g, const Var& x) {
    return g * xgrad::cos(x);
}
inline Var times_minus_sin(const Var& g, const Var& x) {
    return -(g * xgrad::sin(x));
}

/// @brief 2/√π · e^(−x²), the derivative of erf.
inline Var erf_slope(const Var& x) {
    return M_2_SQRTPI * xgrad::exp(-(x * x));
}

/// @brief σ(x)(1 + x(1 − σ(x))), the derivative of x·σ(x).
inline Var silu_slope(const Var& x) {
    const Var s = xgrad::sigmoid(x);
    return s * (1.0 + x * (1.0 - s));
}

/// @brief Φ(x) + x·φ(x), the derivative of x·Φ(x) (Φ, φ: the standard normal's CDF and density).
/// At ±1000 φ underflows to 0 and x·φ is 0, not 0·∞.
inline Var gelu_slope(const Var& x) {
    const Var cdf = 0.5 * (1.0 + xgrad::erf(x * M_SQRT1_2));
    const Var density = xgrad::exp(-0.5 * (x * x)) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
    return cdf + x * density;
}

/// @brief a's share of the gradient g of max(a, b) (IsMax) or min(a, b): g where a is the
/// chosen operand, g/2 at a tie (the gradient split evenly, as PyTorch), else 0. A NaN operand
/// is chosen (the result is NaN, as numpy and PyTorch) and takes the gradient, as a NaN does in
/// max(x): a NaN a gets g, or g/2 if b is NaN too; a gets 0 against a NaN b. b's share is
/// share_of_extreme(g, b, a). Doubles, arrays or expressions (a broadcast scalar on one side),
/// and graph nodes.
template <bool IsMax>
Var share_of_extreme(const Var& g, const Var& a, const Var& b) {
    // masks with no gradient of their own, recomputed on a replay; x ≠ x only for a NaN
    const Var chosen = IsMax ? xgrad::greater(a, b) : xgrad::less(a, b);
    const Var a_nan = xgrad::not_equal(a, a);
    const Var b_nan = xgrad::not_equal(b, b);
    return g * (chosen + 0.5 * xgrad::equal(a, b) + a_nan * (1.0 - 0.5 * b_nan));
}
template <bool IsMax>
Var share_of_extreme(const Var& g, const Var& a, double b) {
    return share_of_extreme<IsMax>(g, a, xgrad::constant(b));
}
template <bool IsMax>
Var share_of_extreme(const Var& g, double a, const Var& b) {
    return share_of_extreme<IsMax>(g, xgrad::constant(a), b);
}

/// @brief max(a, b) (IsMax) or min(a, b), NaN if either is NaN (as numpy and PyTorch, whatever
/// the order of the operands).

/// @brief g on [lo, hi] (bounds included, as PyTorch's clamp), else 0.
inline Var where_between(const Var& x, const Var& g, double lo, double hi) {
    return g * interval_mask(x, lo, hi);
}

/// @brief g where x > 0, else 0.
inline Var where_positive(const Var& x, const Var& g) {
    return g * positive_mask(x);
}

/// @brief g where x > 0, else slope·g.
inline Var where_positive_else(const Var& x, const Var& g, double slope) {
    return g * (positive_mask(x) * (1.0 - slope) + slope);
}

/// @brief sign(x): −1, 0 or 1 (0 at 0, the subgradient the optimisers expect).
inline Var sign(const Var& x) {
    return positive_mask(x) - positive_mask(-x);
}

/// @brief σ(x) from y = softplus(x): 1 − e^−y, as −expm1(−y) to keep small values exact.
inline Var sigmoid_given_softplus(const Var& x, const Var&) {
    return sigmoid(x);
}

/// @brief 1 − σ(x) from y = log σ(x): 1 − e^y, as −expm1(y) to keep small values exact.
inline Var one_minus_sigmoid_given_log_sigmoid(const Var& x, const Var&) {
    return sigmoid(-x);
}

}  // namespace derivative

namespace rules {

// ---- binary --------------------------------------------------------------------------------
// A binary rule names its kernel (`op`: forward and derivatives on numbers in
// elementwise_rules.hpp) and gives here the graph forms of ∂L/∂a and ∂L/∂b, on Vars or a Var
// and a constant double, for second order.

struct add {
    static constexpr const char* name = "add";
    static constexpr BinaryOp op = BinaryOp::add;
    // d(a+b)/da = 1, d(a+b)/db = 1
    template <class G, class A, class B, class Y>
    static const G& grad_a(const G& g, const A&, const B&, const Y&) {
        return g;
    }
    template <class G, class A, class B, class Y>
    static const G& grad_b(const G& g, const A&, const B&, const Y&) {
        return g;
    }
};

struct sub {
    static constexpr const char* name = "sub";
    static constexpr BinaryOp op = BinaryOp::sub;
    // d(a-b)/da = 1, d(a-b)/db = -1
    template <class G, class A, class B, class Y>
    static const G& grad_a(const G& g, const A&, const B&, const Y&) {
        return g;
    }
    template <class G, class A, class B, class Y>
    static auto grad_b(const G& g, const A&, const B&, const Y&) {
        return -g;
    }
};

struct mul {
    static constexpr const char* name = "mul";
    static constexpr BinaryOp op = BinaryOp::mul;
    // d(ab)/da = b, d(ab)/db = a (strong zeros: a 0 gradient stays 0 against an infinite factor)
    template <class G, class A, class B, class Y>
    static auto grad_a(const G& g, const A&, const B& b, const Y&) {
        return derivative::times(g, b);
    }
    template <class G, class A, class B, class Y>
    static auto grad_b(const G& g, const A& a, const B&, const Y&) {
        return derivative::times(g, a);
    }
};

struct div {
    static constexpr const char* name = "div";
    static constexpr BinaryOp op = BinaryOp::div;
    // d(a/b)/da = 1/b, d(a/b)/db = -a/b² = -y/b (no b² to overflow for tiny b); strong zeros
    template <class G, class A, class B, class Y>
    static auto grad_a(const G& g, const A&, const B& b, const Y&) {
        return derivative::divide(g, b);
    }
    template <class G, class A, class B, class Y>
    static auto grad_b(const G& g, const A&, const B& b, const Y& y) {
        return -derivative::times(g, y / b);
    }
};

struct power_of {
    static constexpr const char* name = "pow";
    static constexpr BinaryOp op = BinaryOp::pow;
    // ∂(aᵇ)/∂a = b·aᵇ⁻¹ (0 where b = 0), ∂(aᵇ)/∂b = y·log a (0 where a = 0, b ≥ 0)
    template <class G, class A, class B, class Y>
    static auto grad_a(const G& g, const A& a, const B& b, const Y&) {
        return derivative::times(g, derivative::pow_slope_base(a, b));
    }
    template <class G, class A, class B, class Y>
    static auto grad_b(const G& g, const A& a, const B& b, const Y& y) {
        return derivative::times(g, derivative::pow_slope_exponent(a, b, y));
    }
};

/// @brief a·b, but exactly 0 where a = 0 whatever b is: the product every derivative rule's
/// graph form multiplies its incoming gradient a by (see derivative::times). Its own
/// derivatives are strong products too, so the convention holds at every order.
struct strong_mul {
    static constexpr const char* name = "strong_mul";
    static constexpr BinaryOp op = BinaryOp::strong_mul;
    // ∂/∂a = b (times the incoming gradient, strong in it); ∂/∂b = a, exactly 0 where a = 0
    // (there y is the constant 0 whatever b is, even against an infinite incoming gradient)
    template <class G, class A, class B, class Y>
    static auto grad_a(const G& g, const A&, const B& b, const Y&) {
        return derivative::times(g, b);
    }
    template <class G, class A, class B, class Y>
    static auto grad_b(const G& g, const A& a, const B&, const Y&) {
        return derivative::times(a, g);
    }
};

struct maximum {
    static constexpr const char* name = "maximum";
    static constexpr BinaryOp op = BinaryOp::maximum;
    // ∂max/∂a = 1 where a > b, ½ at a tie, else 0; ∂max/∂b mirrored (a NaN operand is chosen)
    template <class G, class A, class B, class Y>
    static auto grad_a(const G& g, const A& a, const B& b, const Y&) {
        return derivative::share_of_extreme<true>(g, a, b);
    }
    template <class G, class A, class B, class Y>
    static auto grad_b(const G& g, const A& a, const B& b, const Y&) {
        return derivative::share_of_extreme<true>(g, b, a);
    }
};

struct minimum {
    static constexpr const char* name = "minimum";
    static constexpr BinaryOp op = BinaryOp::minimum;
    // ∂min/∂a = 1 where a < b, ½ at a tie, else 0; ∂min/∂b mirrored (a NaN operand is chosen)
    template <class G, class A, class B, class Y>
    static auto grad_a(const G& g, const A& a, const B& b, const Y&) {
        return derivative::share_of_extreme<false>(g, a, b);
    }
    template <class G, class A, class B, class Y>
    static auto grad_b(const G& g, const A& a, const B& b, const Y&) {
        return derivative::share_of_extreme<false>(g, b, a);
    }
};

// ---- unary ---------------------------------------------------------------------------------
// A unary rule names its kernel (`op`: the forward and the derivative on numbers, side by side in
// elementwise_rules.hpp, run vectorised by src/backend) and its parameters, and gives here the
// same derivative as graph nodes, grad(g, x, y) on Vars, for second order.

struct neg {
    static constexpr const char* name = "neg";
    static constexpr UnaryOp op = UnaryOp::neg;
    rules_math::Params params() const { return {}; }
    // d(-x)/dx = -1
    template <class G, class X, class Y>
    auto grad(const G& g, const X&, const Y&) const {
        return -g;
    }
};

struct square {
    static constexpr const char* name = "square";
    static constexpr UnaryOp op = UnaryOp::square;
    rules_math::Params params() const { return {}; }
    // d(x²)/dx = 2x
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return 2.0 * g * x;
    }
};

struct power {
    static constexpr const char* name = "pow";
    double p;
    static constexpr UnaryOp op = UnaryOp::power;
    rules_math::Params params() const { return {p, 0.0}; }
    // d(x^p)/dx = p x^(p-1), and 0 for p = 0
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return derivative::power_rule(g, x, p);
    }
};

struct exp {
    static constexpr const char* name = "exp";
    static constexpr UnaryOp op = UnaryOp::exp;
    rules_math::Params params() const { return {}; }
    // d(e^x)/dx = e^x = y
    template <class G, class X, class Y>
    auto grad(const G& g, const X&, const Y& y) const {
        return g * y;
    }
};

struct log {
    static constexpr const char* name = "log";
    static constexpr UnaryOp op = UnaryOp::log;
    rules_math::Params params() const { return {}; }
    // d(ln x)/dx = 1/x
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return g / x;
    }
};

struct tanh {
    static constexpr const char* name = "tanh";
    static constexpr UnaryOp op = UnaryOp::tanh;
    rules_math::Params params() const { return {}; }
    // d(tanh x)/dx = 1 - y²
    template <class G, class X, class Y>
    auto grad(const G& g, const X&, const Y& y) const {
        return g * (1.0 - y * y);
    }
};

struct sigmoid {
    static constexpr const char* name = "sigmoid";
    static constexpr OpKind kind = OpKind::sigmoid;
    static constexpr UnaryOp op = UnaryOp::sigmoid;
    rules_math::Params params() const { return {}; }
    // dσ/dx = y(1 - y)
    template <class G, class X, class Y>
    auto grad(const G& g, const X&, const Y& y) const {
        return g * y * (1.0 - y);
    }
};

struct relu {
    static constexpr const char* name = "relu";
    static constexpr UnaryOp op = UnaryOp::relu;
    rules_math::Params params() const { return {}; }
    // d max(x,0)/dx = 1 where x > 0, else 0
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return derivative::where_positive(x, g);
    }
};

struct absolute {
    static constexpr const char* name = "abs";
    static constexpr UnaryOp op = UnaryOp::abs;
    rules_math::Params params() const { return {}; }
    // d|x|/dx = sign(x), taken as 0 at 0
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return g * derivative::sign(x);
    }
};

struct leaky_relu {
    static constexpr const char* name = "leaky_relu";
    double slope;
    static constexpr UnaryOp op = UnaryOp::leaky_relu;
    rules_math::Params params() const { return {slope, 0.0}; }
    // d/dx = 1 where x > 0, else the slope
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return derivative::where_positive_else(x, g, slope);
    }
};

struct softplus {
    static constexpr const char* name = "softplus";
    static constexpr UnaryOp op = UnaryOp::softplus;
    rules_math::Params params() const { return {}; }
    // d log(1+e^x)/dx = σ(x)
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y& y) const {
        return g * derivative::sigmoid_given_softplus(x, y);
    }
};

struct log_sigmoid {
    static constexpr const char* name = "log_sigmoid";
    static constexpr UnaryOp op = UnaryOp::log_sigmoid;
    rules_math::Params params() const { return {}; }
    // d log σ(x)/dx = 1 - σ(x)
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y& y) const {
        return g * derivative::one_minus_sigmoid_given_log_sigmoid(x, y);
    }
};

struct sin {
    static constexpr const char* name = "sin";
    static constexpr UnaryOp op = UnaryOp::sin;
    rules_math::Params params() const { return {}; }
    // d sin x/dx = cos x
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return derivative::times_cos(g, x);
    }
};

struct cos {
    static constexpr const char* name = "cos";
    static constexpr UnaryOp op = UnaryOp::cos;
    rules_math::Params params() const { return {}; }
    // d cos x/dx = −sin x
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return derivative::times_minus_sin(g, x);
    }
};

struct tan {
    static constexpr const char* name = "tan";
    static constexpr UnaryOp op = UnaryOp::tan;
    rules_math::Params params() const { return {}; }
    // d tan x/dx = 1 + tan² x = 1 + y²
    template <class G, class X, class Y>
    auto grad(const G& g, const X&, const Y& y) const {
        return g * (1.0 + y * y);
    }
};

struct sqrt {
    static constexpr const char* name = "sqrt";
    static constexpr UnaryOp op = UnaryOp::sqrt;
    rules_math::Params params() const { return {}; }
    // d√x/dx = 1/(2√x) = 1/(2y): +inf at 0, as PyTorch
    template <class G, class X, class Y>
    auto grad(const G& g, const X&, const Y& y) const {
        return g / (2.0 * y);
    }
};

struct log1p {
    static constexpr const char* name = "log1p";
    static constexpr UnaryOp op = UnaryOp::log1p;
    rules_math::Params params() const { return {}; }
    // d log(1 + x)/dx = 1/(1 + x)
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return g / (1.0 + x);
    }
};

struct expm1 {
    static constexpr const char* name = "expm1";
    static constexpr UnaryOp op = UnaryOp::expm1;
    rules_math::Params params() const { return {}; }
    // d(eˣ − 1)/dx = eˣ = y + 1
    template <class G, class X, class Y>
    auto grad(const G& g, const X&, const Y& y) const {
        return g * (y + 1.0);
    }
};

struct erf {
    static constexpr const char* name = "erf";
    static constexpr UnaryOp op = UnaryOp::erf;
    rules_math::Params params() const { return {}; }
    // d erf x/dx = 2/√π · e^(−x²)
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return g * derivative::erf_slope(x);
    }
};

struct silu {
    static constexpr const char* name = "silu";
    static constexpr UnaryOp op = UnaryOp::silu;
    rules_math::Params params() const { return {}; }
    // d xσ(x)/dx = σ(x)(1 + x(1 − σ(x)))
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return g * derivative::silu_slope(x);
    }
};

struct gelu {
    static constexpr const char* name = "gelu";
    static constexpr UnaryOp op = UnaryOp::gelu;
    rules_math::Params params() const { return {}; }
    // d xΦ(x)/dx = Φ(x) + x φ(x)
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return g * derivative::gelu_slope(x);
    }
};

struct elu {
    static constexpr const char* name = "elu";
    double alpha;
    static constexpr UnaryOp op = UnaryOp::elu;
    rules_math::Params params() const { return {alpha, 0.0}; }
    // d/dx = 1 where x > 0, else α eˣ = y + α
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y& y) const {
        return derivative::where_positive(x, g) + negative_part(g, x, y);
    }

    /// @brief g·(y + α) where x ≤ 0, else 0.
    Var negative_part(const Var& g, const Var& x, const Var& y) const {
        return g * (1.0 - positive_mask(x)) * (y + alpha);
    }
};

struct clip {
    static constexpr const char* name = "clip";
    double lo, hi;
    static constexpr UnaryOp op = UnaryOp::clip;
    rules_math::Params params() const { return {lo, hi}; }
    // d clip(x)/dx = 1 on [lo, hi] (bounds included, as PyTorch's clamp), else 0
    template <class G, class X, class Y>
    auto grad(const G& g, const X& x, const Y&) const {
        return derivative::where_between(x, g, lo, hi);
    }
};

}  // namespace rules

/// @brief Rule::kind where a rule declares one (for the rewrites), else OpKind::other.
template <class Rule, class = void>
struct kind_of_rule {
    static constexpr OpKind value = OpKind::other;
};
template <class Rule>
struct kind_of_rule<Rule, std::void_t<decltype(Rule::kind)>> {
    static constexpr OpKind value = Rule::kind;
};

/// @brief A node applying a one-input rule.
template <class Rule>
class UnaryNode final : public SingleInputNode {
  public:
    UnaryNode(Rule rule, const Var& x)
        : SingleInputNode(Rule::name, x, kind_of_rule<Rule>::value), rule_(rule) {}
    void forward() override {
        const array& x = input(0).value();
        value_.resize(x.shape());
        unary_forward(Rule::op, rule_.params(), x.data(), value_.data(), x.size());
    }
    // g·f′(x) by the rule's kernel; a zero gradient contributes exactly 0, even where the slope
    // is infinite (strong zeros)
    void backward_into(Node& x) override {
        const GradSink sink(x);
        unary_backward(Rule::op, rule_.params(), grad().data(), x.value().data(), value_.data(),
                       sink.data(), value_.size(), !sink.first());
    }
    // g times the slope f'(x) (the rule applied to a gradient of 1), as a strong product
    Var gradient_as_graph(const Var& g) override {
        const Var slope = rule_.grad(constant(1.0), input_var(0), self());
        if (!slope.defined()) return Var();  // a constant op (x⁰): no contribution at all
        return derivative::times(g, slope);
    }
    // The Jacobian is diagonal (f'(x) per element), so J·t is the same rule applied to t.
    array tangent_of(const array& t) override {
        array out(value_.shape());
        unary_backward(Rule::op, rule_.params(), t.data(), input(0).value().data(), value_.data(),
                       out.data(), out.size(), false);
        return out;
    }

  private:
    Rule rule_;
};

/// @brief How the elements of a broadcast binary op line up: the output, in order, as `runs`
/// runs of `run` elements, along which each operand steps by 1 (it has that axis) or 0 (it is
/// broadcast along it). Axes of extent 1 are dropped and neighbouring axes merged wherever both
/// operands are laid out alike across them, so equal shapes are one run, a matrix with a bias
/// row is one run per row, with a column one run per row with the column's element repeated.
class BroadcastRuns {
  public:
    BroadcastRuns(const shape_type& a, const shape_type& b, const shape_type& out) {
        const std::size_t rank = out.size();
        std::size_t stride_a = 1, stride_b = 1;
        bool innermost = true;
        for (std::size_t k = rank; k-- > 0;) {
            const std::size_t extent = out[k];
            const std::size_t ea = k + a.size() >= rank ? a[k + a.size() - rank] : 1;
            const std::size_t eb = k + b.size() >= rank ? b[k + b.size() - rank] : 1;
            const std::size_t sa = ea == 1 ? 0 : stride_a;
            const std::size_t sb = eb == 1 ? 0 : stride_b;
            stride_a *= ea;
            stride_b *= eb;
            if (extent == 1) continue;
            if (innermost) {
                run_ = extent;
                a_step_ = sa;
                b_step_ = sb;
                innermost = false;
            } else if (outer_.empty() && sa == a_step_ * run_ && sb == b_step_ * run_) {
                run_ *= extent;  // still one contiguous (or one repeated) run
            } else if (!outer_.empty() && sa == outer_.back().a * outer_.back().extent &&
                       sb == outer_.back().b * outer_.back().extent) {
                outer_.back().extent *= extent;
            } else {
                outer_.push_back({extent, sa, sb});
            }
            if (extent == 0) run_ = 0;
        }
        for (const Axis& axis : outer_) runs_ *= axis.extent;
    }

    /// @brief f(a_offset, b_offset, out_offset, run, a_step, b_step) for every run, in order.
    template <class F>
    void for_each(F&& f) const {
        if (run_ == 0) return;
        for (std::size_t r = 0; r < runs_; ++r) {
            std::size_t rest = r, oa = 0, ob = 0;
            for (const Axis& axis : outer_) {  // innermost first: r's fastest digit
                const std::size_t index = rest % axis.extent;
                rest /= axis.extent;
                oa += index * axis.a;
                ob += index * axis.b;
            }
            f(oa, ob, r * run_, run_, a_step_, b_step_);
        }
    }

    /// @brief Elements per run, and how many runs.
    std::size_t run() const { return run_; }
    std::size_t runs() const { return run_ == 0 ? 0 : runs_; }

  private:
    struct Axis {
        std::size_t extent, a, b;
    };
    std::size_t run_ = 1;
    std::size_t a_step_ = 0, b_step_ = 0;
    std::size_t runs_ = 1;
    xt::svector<Axis, 4> outer_;  // innermost first
};

/// @brief A node applying a two-input rule; either side may instead be a constant double.
/// Forward and backward run the rule's kernel (src/backend) over the runs of BroadcastRuns.
template <class Rule, bool LeftScalar, bool RightScalar>
class BinaryNode final : public Node {
    static_assert(!(LeftScalar && RightScalar), "one operand must be a node");

  public:
    BinaryNode(std::initializer_list<const Var*> operands, double scalar)
        : Node(Rule::name, any_requires_grad(operands), tag()), scalar_(scalar) {
        for (const Var* v : operands) add_input(v->node_ptr());
    }

    void forward() override {
        const Operands o = operands();
        value_.resize(o.out);
        double* y = value_.data();
        for_each_piece(o, [&](const double* pa, std::size_t sa, const double* pb, std::size_t sb,
                              std::size_t iy, std::size_t n) {
            binary_forward(Rule::op, pa, sa, pb, sb, y + iy, n);
        });
    }

    void backward() override {
        const Operands o = operands();
        const double* g = grad().data();
        if constexpr (!LeftScalar) {
            if (input(0).requires_grad()) backward_side(0, input(0), o, g);
        }
        if constexpr (!RightScalar) {
            Node& b = input(LeftScalar ? 0 : 1);
            if (b.requires_grad()) backward_side(1, b, o, g);
        }
    }

    GradVars backward_as_graph(const Var& g) override {
        GradVars out(input_count());
        const Var y = self();
        auto operand = [this](std::size_t i) { return input_var(i); };
        auto run = [&](const auto& left, const auto& right) {
            if constexpr (!LeftScalar) {
                if (input(0).requires_grad()) {
                    out[0] =
                        reduce_to_shape(Rule::grad_a(g, left, right, y), input(0).value().shape());
                }
            }
            if constexpr (!RightScalar) {
                Node& b = input(LeftScalar ? 0 : 1);
                if (b.requires_grad()) {
                    out[LeftScalar ? 0 : 1] =
                        reduce_to_shape(Rule::grad_b(g, left, right, y), b.value().shape());
                }
            }
        };
        if constexpr (LeftScalar) {
            run(scalar_, operand(0));
        } else if constexpr (RightScalar) {
            run(operand(0), scalar_);
        } else {
            run(operand(0), operand(1));
        }
        return out;
    }

    // J·t = (∂y/∂a) ta + (∂y/∂b) tb: the backward rules applied to the tangents, each broadcast
    // to the output's shape (the Jacobian is diagonal after broadcasting)
    array tangent(const Tangents& t) override {
        const Operands o = operands();
        array out = xt::zeros<double>(value_.shape());
        bool written = false;
        for (int side = 0; side < 2; ++side) {
            if ((side == 0 && LeftScalar) || (side == 1 && RightScalar)) continue;
            const array* ts = t[LeftScalar ? 0 : static_cast<std::size_t>(side)];
            if (ts == nullptr) continue;
            const array full = xt::broadcast(*ts, value_.shape());
            apply_backward(side, o, full.data(), out.data(), written);
            written = true;
        }
        return out;
    }

    double scalar() const override { return scalar_; }

  private:
    /// @brief The tag the rewrites look for: a + b of two nodes, and c − x.
    static constexpr OpKind tag() {
        if (std::is_same_v<Rule, rules::add> && !LeftScalar && !RightScalar) return OpKind::add;
        if (std::is_same_v<Rule, rules::sub> && LeftScalar) return OpKind::sub_from_scalar;
        return OpKind::other;
    }

    /// @brief The operands' data (the constant for a scalar side, as a 0-d operand), the
    /// output's shape (shape_error naming the op if they do not broadcast), and the runs.
    struct Operands {
        const double* a;
        const double* b;
        shape_type out;
        BroadcastRuns runs;
    };
    Operands operands() const {
        static const shape_type none{};
        const array* a = LeftScalar ? nullptr : &input(0).value();
        const array* b = RightScalar ? nullptr : &input(LeftScalar ? 0 : 1).value();
        const shape_type& sa = a ? a->shape() : none;
        const shape_type& sb = b ? b->shape() : none;
        shape_type out = !a ? sb : !b ? sa : sa == sb ? sa : broadcast_shapes(Rule::name, sa, sb);
        BroadcastRuns runs(sa, sb, out);
        return {a ? a->data() : &scalar_, b ? b->data() : &scalar_, std::move(out),
                std::move(runs)};
    }

    /// @brief f(a, a_step, b, b_step, out_offset, n) over the output in order: once per run, or,
    /// where runs are short (a (m, 1) against a (1, 2), say: a kernel call per two elements),
    /// per chunk of whole runs gathered into contiguous copies of both operands. Every element
    /// is computed by the same kernel instructions either way.
    template <class F>
    void for_each_piece(const Operands& o, F&& f) const {
        constexpr std::size_t short_run = 64;
        constexpr std::size_t chunk = 2048;
        if (o.runs.run() >= short_run || o.runs.runs() <= 1) {
            o.runs.for_each([&](std::size_t ia, std::size_t ib, std::size_t iy, std::size_t n,
                                std::size_t sa,
                                std::size_t sb) { f(o.a + ia, sa, o.b + ib, sb, iy, n); });
            return;
        }
        double gathered_a[chunk];
        double gathered_b[chunk];
        std::size_t filled = 0, first = 0;
        o.runs.for_each([&](std::size_t ia, std::size_t ib, std::size_t iy, std::size_t n,
                            std::size_t sa, std::size_t sb) {
            if (filled + n > chunk) {  // runs are short: a chunk holds at least 32
                f(gathered_a, 1, gathered_b, 1, first, filled);
                filled = 0;
            }
            if (filled == 0) first = iy;
            for (std::size_t i = 0; i < n; ++i) {
                gathered_a[filled + i] = o.a[ia + i * sa];
                gathered_b[filled + i] = o.b[ib + i * sb];
            }
            filled += n;
        });
        if (filled > 0) f(gathered_a, 1, gathered_b, 1, first, filled);
    }

    /// @brief out (=, or += if `accumulate`) the side's derivative times g, at every element of
    /// the output (out has the output's shape).
    void apply_backward(int side, const Operands& o, const double* g, double* out,
                        bool accumulate) const {
        const double* y = value_.data();
        for_each_piece(o, [&](const double* pa, std::size_t sa, const double* pb, std::size_t sb,
                              std::size_t iy, std::size_t n) {
            binary_backward(Rule::op, side, g + iy, pa, sa, pb, sb, y + iy, out + iy, n,
                            accumulate);
        });
    }

    /// @brief One operand's gradient: straight into its buffer when it has the output's shape,
    /// else through scratch_ and summed over the broadcast axes.
    void backward_side(int side, Node& target, const Operands& o, const double* g) {
        const shape_type& out_shape = value_.shape();
        if (target.value().shape() == out_shape) {
            const GradSink sink(target);
            apply_backward(side, o, g, sink.data(), !sink.first());
            return;
        }
        GradSink sink(target);
        if (Rule::op == BinaryOp::add || (Rule::op == BinaryOp::sub && side == 0)) {
            sum_to_shape(g, out_shape, sink);  // the derivative is g itself
            return;
        }
        scratch_.resize(out_shape);
        apply_backward(side, o, g, scratch_.data(), false);
        sum_to_shape(scratch_.data(), out_shape, sink);
    }

    double scalar_;  // the constant operand, if there is one
    array scratch_;  // a broadcast operand's gradient before it is summed back to its shape
};

/// @brief y = a where the condition is 1, b where it is 0 (numpy broadcasting over all three).
/// The condition is a constant 0/1 array: piecewise constant, it gets no gradient.
class WhereNode final : public Node {
  public:
    WhereNode(const Var& condition, const Var& a, const Var& b)
        : Node("where", any_requires_grad({&a, &b})) {
        add_input(condition.node_ptr());
        add_input(a.node_ptr());
        add_input(b.node_ptr());
    }

    void forward() override {
        const array& c = input(0).value();
        const array& a = input(1).value();
        const array& b = input(2).value();
        broadcast_shapes("where", broadcast_shapes("where", c.shape(), a.shape()), b.shape());
        for (std::size_t i = 0; i < c.size(); ++i) {
            const double v = c.data()[i];
            if (v != 0.0 && v != 1.0) {
                throw std::invalid_argument("where: condition element " + std::to_string(i) +
                                            " is " + std::to_string(v) + ", not 0 or 1");
            }
        }
        xt::noalias(value_) = xt::where(xt::not_equal(c, 0.0), a, b);
    }

    // ∂y/∂a = 1 where the condition holds, else 0; ∂y/∂b the other way round. The gradient is
    // selected, not multiplied by the mask, so a branch not taken gets exactly 0 (see
    // derivative::times for why that 0 then stays 0 through the branch's own ops).
    void backward() override {
        const array& c = input(0).value();
        const array& g = grad();
        for (std::size_t side = 1; side <= 2; ++side) {
            Node& target = input(side);
            if (!target.requires_grad()) continue;
            if (side == 1) {
                accumulate_broadcast_grad(target, xt::where(xt::not_equal(c, 0.0), g, 0.0),
                                          scratch_);
            } else {
                accumulate_broadcast_grad(target, xt::where(xt::not_equal(c, 0.0), 0.0, g),
                                          scratch_);
            }
        }
    }

    GradVars backward_as_graph(const Var& g) override {
        GradVars out(3);
        const Var c = input_var(0);
        if (input(1).requires_grad()) {
            out[1] = reduce_to_shape(xgrad::where(c, g, 0.0), input(1).value().shape());
        }
        if (input(2).requires_grad()) {
            out[2] = reduce_to_shape(xgrad::where(c, 0.0, g), input(2).value().shape());
        }
        return out;
    }

    // linear in (a, b): the tangents are selected like the values
    array tangent(const Tangents& t) override {
        const array& c = input(0).value();
        const array zero = xt::zeros<double>(value_.shape());
        const array a_part = t[1] ? array(xt::broadcast(*t[1], value_.shape())) : zero;
        const array b_part = t[2] ? array(xt::broadcast(*t[2], value_.shape())) : zero;
        return xt::where(xt::not_equal(c, 0.0), a_part, b_part);
    }

  private:
    array scratch_;
};

/// @brief y = 1 where `a op b` holds, else 0 (numpy broadcasting): a constant 0/1 array for
/// where(), recomputed when the graph is replayed; piecewise constant, so it passes no gradient.
class CompareNode final : public Node {
  public:
    enum class Op { greater, greater_equal, less, less_equal, equal, not_equal };
    CompareNode(const char* name, Op op, const Var& a, const Var& b) : Node(name, false), op_(op) {
        add_input(a.node_ptr());
        add_input(b.node_ptr());
    }
    void forward() override {
        const array& a = input(0).value();
        const array& b = input(1).value();
        broadcast_shapes(op_name(), a.shape(), b.shape());
        switch (op_) {
            case Op::greater:
                xt::noalias(value_) = xt::where(a > b, 1.0, 0.0);
                break;
            case Op::greater_equal:
                xt::noalias(value_) = xt::where(a >= b, 1.0, 0.0);
                break;
            case Op::less:
                xt::noalias(value_) = xt::where(a < b, 1.0, 0.0);
                break;
            case Op::less_equal:
                xt::noalias(value_) = xt::where(a <= b, 1.0, 0.0);
                break;
            case Op::equal:
                xt::noalias(value_) = xt::where(xt::equal(a, b), 1.0, 0.0);
                break;
            case Op::not_equal:
                xt::noalias(value_) = xt::where(xt::not_equal(a, b), 1.0, 0.0);
                break;
        }
    }
    // piecewise constant: zero tangent
    array tangent(const Tangents&) override { return xt::zeros<double>(value_.shape()); }

  private:
    Op op_;
};

namespace {

Var compare(const char* name, CompareNode::Op op, const Var& a, const Var& b) {
    return finish_op(std::make_shared<CompareNode>(name, op, a, b));
}

template <class Rule>
Var unary(const Var& x, Rule rule = {}) {
    return finish_op(std::make_shared<UnaryNode<Rule>>(rule, x));
}
template <class Rule>
Var binary(const Var& a, const Var& b) {
    return finish_op(std::make_shared<BinaryNode<Rule, false, false>>(
        std::initializer_list<const Var*>{&a, &b}, 0.0));
}
template <class Rule>
Var binary(const Var& a, double b) {
    return finish_op(
        std::make_shared<BinaryNode<Rule, false, true>>(std::initializer_list<const Var*>{&a}, b));
}
template <class Rule>
Var binary(double a, const Var& b) {
    return finish_op(
        std::make_shared<BinaryNode<Rule, true, false>>(std::initializer_list<const Var*>{&b}, a));
}

}  // namespace

Var derivative::times(const Var& g, const Var& d) {
    return binary<rules::strong_mul>(g, d);
}

}  // namespace xgrad::detail

namespace xgrad {

using namespace detail;

Var operator+(const Var& a, const Var& b) {
    return binary<rules::add>(a, b);
}
Var operator-(const Var& a, const Var& b) {
    return binary<rules::sub>(a, b);
}
Var operator*(const Var& a, const Var& b) {
    return binary<rules::mul>(a, b);
}
Var operator/(const Var& a, const Var& b) {
    return binary<rules::div>(a, b);
}
Var operator+(const Var& a, double b) {
    return binary<rules::add>(a, b);
}
Var operator-(const Var& a, double b) {
    return binary<rules::sub>(a, b);
}
Var operator*(const Var& a, double b) {
    return binary<rules::mul>(a, b);
}
Var operator/(const Var& a, double b) {
    return binary<rules::div>(a, b);
}
Var operator+(double a, const Var& b) {
    return binary<rules::add>(a, b);
}
Var operator-(double a, const Var& b) {
    return binary<rules::sub>(a, b);
}
Var operator*(double a, const Var& b) {
    return binary<rules::mul>(a, b);
}
Var operator/(double a, const Var& b) {
    return binary<rules::div>(a, b);
}
Var operator-(const Var& x) {
    return unary<rules::neg>(x);
}

Var pow(const Var& x, double exponent) {
    if (exponent == 2.0) return unary<rules::square>(x);  // no pow() call per element
    return unary<rules::power>(x, rules::power{exponent});
}
Var exp(const Var& x) {
    return unary<rules::exp>(x);
}
Var tanh(const Var& x) {
    return unary<rules::tanh>(x);
}
Var sigmoid(const Var& x) {
    return unary<rules::sigmoid>(x);
}
Var relu(const Var& x) {
    return unary<rules::relu>(x);
}
Var abs(const Var& x) {
    return unary<rules::absolute>(x);
}
Var leaky_relu(const Var& x, double slope) {
    return unary<rules::leaky_relu>(x, rules::leaky_relu{slope});
}
Var softplus(const Var& x) {
    return unary<rules::softplus>(x);
}
Var log_sigmoid(const Var& x) {
    return unary<rules::log_sigmoid>(x);
}
Var sin(const Var& x) {
    return unary<rules::sin>(x);
}
Var cos(const Var& x) {
    return unary<rules::cos>(x);
}
Var tan(const Var& x) {
    return unary<rules::tan>(x);
}
Var sqrt(const Var& x) {
    return unary<rules::sqrt>(x);
}
Var square(const Var& x) {
    return unary<rules::square>(x);
}
Var log1p(const Var& x) {
    return unary<rules::log1p>(x);
}
Var expm1(const Var& x) {
    return unary<rules::expm1>(x);
}
Var erf(const Var& x) {
    return unary<rules::erf>(x);
}
Var silu(const Var& x) {
    return unary<rules::silu>(x);
}
Var gelu(const Var& x) {
    return unary<rules::gelu>(x);
}
Var elu(const Var& x, double alpha) {
    return unary<rules::elu>(x, rules::elu{alpha});
}
Var maximum(const Var& a, const Var& b) {
    return binary<rules::maximum>(a, b);
}
Var minimum(const Var& a, const Var& b) {
    return binary<rules::minimum>(a, b);
}
Var pow(const Var& base, const Var& exponent) {
    return binary<rules::power_of>(base, exponent);
}

Var where(const Var& condition, const Var& a, const Var& b) {
    return finish_op(std::make_shared<WhereNode>(condition, a, b));
}
Var where(const Var& condition, const Var& a, double b) {
    return where(condition, a, constant(b));
}
Var where(const Var& condition, double a, const Var& b) {
    return where(condition, constant(a), b);
}

Var greater(const Var& a, const Var& b) {
    return compare("greater", CompareNode::Op::greater, a, b);
}
Var greater_equal(const Var& a, const Var& b) {
    return compare("greater_equal", CompareNode::Op::greater_equal, a, b);
}
Var less(const Var& a, const Var& b) {
    return compare("less", CompareNode::Op::less, a, b);
}
Var less_equal(const Var& a, const Var& b) {
    return compare("less_equal", CompareNode::Op::less_equal, a, b);
}
Var equal(const Var& a, const Var& b) {
    return compare("equal", CompareNode::Op::equal, a, b);
}
Var not_equal(const Var& a, const Var& b) {
    return compare("not_equal", CompareNode::Op::not_equal, a, b);
}
Var greater(const Var& a, double b) {
    return greater(a, constant(b));
}
Var greater_equal(const Var& a, double b) {
    return greater_equal(a, constant(b));
}
Var less(const Var& a, double b) {
    return less(a, constant(b));
}
Var less_equal(const Var& a, double b) {
    return less_equal(a, constant(b));
}
Var equal(const Var& a, double b) {
    return equal(a, constant(b));
}
Var not_equal(const Var& a, double b) {
    return not_equal(a, constant(b));
}

Var clip(const Var& x, double lo, double hi) {
    if (!(lo <= hi)) {
        throw std::invalid_argument("clip: lower bound " + std::to_string(lo) +
                                    " is above the upper bound " + std::to_string(hi));
    }
    return unary<rules::clip>(x, rules::clip{lo, hi});
}

Var log(const Var& x) {
    // log(σ(z)) and log(1 - σ(z)) underflow to -inf once σ saturates; their stable forms do not.
    if (Var rewritten = fusion::rewrite_log(x); rewritten.defined()) return rewritten;
    return unary<rules::log>(x);
}

}  // namespace xgrad
