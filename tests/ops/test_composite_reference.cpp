/***************************************************************************
 * xgrad: the op library in one composite float64 model against PyTorch:    *
 * loss, gradients, Hessian-vector products (both modes), the Jacobians of  *
 * an intermediate vector (both modes and torch's); the points where the    *
 * two libraries' conventions meet or differ (ties, where's NaN trap, std   *
 * of constant rows, norm at 0).                                            *
 ***************************************************************************/
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "reference/composite_torch.hpp"
#include "support.hpp"

namespace xgrad {
namespace {

namespace ref = reference::composite_torch;
using testing::max_relative_error;

array to_array(const ref::Tensor& t) {
    shape_type shape(t.shape.begin(), t.shape.end());
    array a = array::from_shape(shape);
    EXPECT_EQ(a.size(), t.values.size());
    std::copy(t.values.begin(), t.values.end(), a.begin());
    return a;
}

/// @brief The main model of scripts/reference/composite_torch.py, op for op (torch's call in
/// the comment where the spelling differs).
struct Composite {
    Var loss;
    Var feature;  // (30,): an intermediate vector output
};

Composite composite(const Var& W, const Var& b, const Var& T, const Var& P) {
    const Var X = constant(to_array(ref::X));
    const Var h = matmul(X, W) + b;  // (6,5)
    const Var t = tanh(h);
    const Var s = sigmoid(h);
    const Var u = sin(h) * cos(t) + tan(0.3 * s);
    const Var r = sqrt(square(h) + 1.0);
    const Var l = log1p(square(u)) + expm1(0.2 * t);
    const Var e = erf(h) + silu(h) + gelu(h) + elu(h, 0.7);
    const Var c = clip(e, -1.75, 4.0);  // torch.clamp
    const Var m = maximum(c, l) - minimum(u, 0.5 * r - 0.1) + 0.1 * c;
    const Var w = where(h > 0.0, pow(r, P), m);      // P (5,) broadcast over the rows
    const Var Z = stack({w, m, l}, 0);               // (3,6,5)
    const Var Y = matmul(Z, permute(T, {0, 2, 1}));  // (3,6,4)
    const Var mx = max(Y, 1, true);                  // torch.amax(Y, 1, keepdim=True): (3,1,4)
    const Var mn = min(Y, -1);                       // torch.amin(Y, -1): (3,6)
    const Var lse = logsumexp(Y, 2);                 // (3,6)
    const Var var = variance(Y, 1, 1);               // torch.var(Y, 1, unbiased=True): (3,4)
    const Var sd = stddev(Y, 2, 0);                  // torch.std(Y, 2, unbiased=False): (3,6)
    const Var Yc = Y - mx;
    const Var Ys = slice(Yc, 1, 1, 6, 2);  // Yc[:, 1:6:2, :]: (3,3,4)
    const Var Yu = Y / unsqueeze(sd + 1.0, 2);
    const Var Yi = index_select(Yu, 2, ref::select_indices);     // (3,6,3), index 3 twice
    const Var Yg = gather(Y, 1, to_array(ref::gather_indices));  // (3,2,4)
    const Var q = concatenate({Ys, Yg}, 1);                      // torch.cat: (3,5,4)
    const Var q2 = flatten(q, 0, 1);                             // (15,4)
    const Var sm = softmax(q2);
    const Var lsm = log_softmax(Yi);
    const Var sk = sum(Yi, 1, true);  // (3,1,3)
    const Var mk = mean(q, 2, true);  // (3,5,1)
    const Var feature = concatenate({flatten(squeeze(mx, 1) * var), flatten(mn - lse + sd)}, 0);
    const Var loss = sum(sm * q2) + mean(lsm * tanh(sk)) + 0.1 * sum(sin(q) * mk) +
                     norm(feature, 2.0) + 0.5 * norm(lsm, 3.0);
    return {loss, feature};
}

std::vector<Var> parameters_from(const std::vector<ref::Tensor>& tensors) {
    std::vector<Var> params;
    for (const ref::Tensor& t : tensors) params.push_back(parameter(to_array(t)));
    return params;
}

Composite composite(const std::vector<Var>& p) {
    return composite(p[0], p[1], p[2], p[3]);
}

const char* const parameter_names[] = {"W", "b", "T", "P"};

// Relative errors are |a − b| / max(|a|, |b|, floor): the floor keeps an entry that is
// mathematically 0 (and ~1e-17 by rounding on either side) from counting as a total miss.
constexpr double floor_ = 1e-8;

TEST(CompositeReference, LossAndGradientsMatchPyTorch) {
    const std::vector<Var> p = parameters_from(ref::parameters);
    const Composite model = composite(p);
    const double loss_error = testing::relative_error(model.loss.item(), ref::loss);
    EXPECT_LE(loss_error, 1e-12) << model.loss.item() << " vs torch " << ref::loss;
    EXPECT_LE(max_relative_error(model.feature.value(), to_array(ref::feature), floor_), 1e-12);

    // The gradient by backward() and by grad() (the graph form of every rule).
    zero_grad(p);
    model.loss.backward();
    const std::vector<Var> g = grad(model.loss, p, true);
    double worst = 0.0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        SCOPED_TRACE(parameter_names[k]);
        const array expected = to_array(ref::gradients[k]);
        const double backward_error = max_relative_error(p[k].grad(), expected, floor_);
        EXPECT_LE(backward_error, 1e-10);
        EXPECT_LE(max_relative_error(g[k].value(), expected, floor_), 1e-10);
        EXPECT_GT(xt::amax(xt::abs(expected))(), 1e-3);  // every parameter matters
        worst = std::max(worst, backward_error);
    }
    std::printf("[ composite ] loss %.3g, gradients %.3g (largest relative differences)\n",
                loss_error, worst);
}

TEST(CompositeReference, HessianVectorProductMatchesPyTorchInBothModes) {
    const std::vector<Var> p = parameters_from(ref::parameters);
    const Composite model = composite(p);
    std::vector<array> v;
    for (const ref::Tensor& t : ref::direction) v.push_back(to_array(t));
    const auto reverse = hessian_vector_product(model.loss, p, v, hvp_mode::reverse_over_reverse);
    const auto forward = hessian_vector_product(model.loss, p, v, hvp_mode::forward_over_reverse);
    ASSERT_EQ(reverse.size(), p.size());
    ASSERT_EQ(forward.size(), p.size());
    double worst = 0.0;
    for (std::size_t k = 0; k < p.size(); ++k) {
        SCOPED_TRACE(parameter_names[k]);
        const array expected = to_array(ref::hessian_vector_product[k]);
        const double reverse_error = max_relative_error(reverse[k], expected, floor_);
        const double forward_error = max_relative_error(forward[k], expected, floor_);
        EXPECT_LE(reverse_error, 1e-9);
        EXPECT_LE(forward_error, 1e-9);
        EXPECT_LE(max_relative_error(forward[k], reverse[k], floor_), 1e-9);
        EXPECT_GT(xt::amax(xt::abs(expected))(), 1e-2);  // not a vacuous zero
        worst = std::max({worst, reverse_error, forward_error});
    }
    std::printf("[ composite ] Hessian-vector product %.3g (largest relative difference)\n", worst);
}

TEST(CompositeReference, IntermediateJacobiansAgreeBothModesAndWithPyTorch) {
    // d feature / d parameter by one backward pass per output element (reverse) and by one
    // tangent pass per input element (forward): the same numbers, through every op's first-order
    // rule and its tangent rule; with respect to W also torch.autograd.functional.jacobian's.
    const std::vector<Var> p = parameters_from(ref::parameters);
    const Composite model = composite(p);
    for (std::size_t k = 0; k < p.size(); ++k) {
        SCOPED_TRACE(parameter_names[k]);
        const array reverse = jacobian(model.feature, p[k]);
        const array forward = jacobian_forward(model.feature, p[k]);
        shape_type expected_shape{30};
        expected_shape.insert(expected_shape.end(), p[k].shape().begin(), p[k].shape().end());
        EXPECT_EQ(reverse.shape(), expected_shape);
        EXPECT_LE(max_relative_error(forward, reverse, floor_), 1e-10);
        EXPECT_GT(xt::amax(xt::abs(reverse))(), 1e-2);
    }
    const double torch_error = max_relative_error(jacobian(model.feature, p[0]),
                                                  to_array(ref::feature_jacobian_W), floor_);
    EXPECT_LE(torch_error, 1e-10);
    std::printf("[ composite ] Jacobian w.r.t. W %.3g (largest relative difference)\n",
                torch_error);
}

TEST(CompositeReference, ConventionsAtTiesTrapsAndConstantRows) {
    // The conventions model of the script, with each trap on a parameter of its own:
    //   x: where(x > 0, sqrt(x), 0) with x holding −0.5, −0.001 and 0. torch gives NaN in x's
    //      gradient there (0 · sqrt'(x) with sqrt'(x) NaN below 0 and +inf at 0); xgrad gives
    //      exactly 0 there by design (strong zeros: an exact 0 gradient contributes exactly 0,
    //      see where() in include/xgrad/ops/elementwise.hpp). Elsewhere the two agree.
    //   y, z: ties at amax along axis 1 (two and three equal maxima), at maximum(y, z) and at
    //      amin along axis 0: both split the gradient evenly among the tied elements.
    //   k: std (ddof 0) of the constant rows [0.5]·3 and [0.7]·3 along axis 1: 0 in both
    //      (torch masks std = 0 to a zero gradient; xgrad takes 0/0 as 0).
    //   n: vector_norm of a zero vector, p = 2 and p = 3: the subgradient 0 in both.
    //   c: std (ddof 0) of the whole constant vector [0.7]·3: torch's mean of it is inexact, so
    //      its std is 1.1e-16 instead of 0 and its gradient the rounding artifact 1/3 per
    //      element; xgrad's mean is exact for a constant slice (x₀ + Σ(x − x₀)/n), its std is
    //      exactly 0 and the gradient 0.
    const std::vector<Var> p = parameters_from(ref::conventions_parameters);
    ASSERT_EQ(p.size(), 6u);
    const Var &x = p[0], &y = p[1], &z = p[2], &k = p[3], &n = p[4], &c = p[5];
    const Var root = where(x > 0.0, sqrt(x), 0.0);
    const Var loss = sum(root * sigmoid(y)) + sum(max(y, 1)) + sum(maximum(y, z)) +
                     sum(min(z, 0) * constant(array{1.0, 2.0, 3.0, 4.0})) +
                     sum(stddev(k, 1, 0) * constant(array{1.0, 2.0, 3.0})) + norm(n, 2.0) +
                     norm(n, 3.0) + stddev(c);
    EXPECT_LE(testing::relative_error(loss.item(), ref::conventions_loss), 1e-14);
    zero_grad(p);
    loss.backward();
    const std::vector<Var> g = grad(loss, p);

    const char* const names[] = {"x", "y", "z", "k", "n", "c"};
    for (std::size_t q = 0; q < p.size(); ++q) {
        SCOPED_TRACE(names[q]);
        const array expected = to_array(ref::conventions_gradients[q]);
        EXPECT_LE(max_relative_error(p[q].grad(), g[q].value(), 1e-12), 1e-14);  // rounding
        if (q == 5) continue;  // c: the documented difference, checked below
        for (std::size_t i = 0; i < expected.size(); ++i) {
            const double got = p[q].grad().data()[i];
            if (std::isnan(expected.data()[i])) {
                // Only the trap gives torch NaN, and exactly at x ≤ 0; xgrad's is exactly 0.
                EXPECT_EQ(q, 0u) << "element " << i;
                EXPECT_LE(x.value().data()[i], 0.0) << "element " << i;
                EXPECT_EQ(got, 0.0) << "element " << i;
            } else {
                EXPECT_LE(testing::relative_error(got, expected.data()[i], 1e-12), 1e-12)
                    << "element " << i << ": " << got << " vs torch " << expected.data()[i];
            }
        }
    }
    // torch gives NaN at every x ≤ 0 (four of them), so the trap above was exercised.
    const array x_expected = to_array(ref::conventions_gradients[0]);
    for (std::size_t i = 0; i < x_expected.size(); ++i) {
        EXPECT_EQ(std::isnan(x_expected.data()[i]), x.value().data()[i] <= 0.0) << "element " << i;
    }
    // Ties, spelled out: y row 0 has maxima at 1 and 3 (½ each), row 1 at 0, 1, 2 (⅓ each);
    // maximum(y, z) ties at (0,0), (0,3), (1,1), (1,3) (½ each, else 1 to the larger); z column
    // 1 ties at amin (½ of the weight 2 each); plus σ'(y)·root from the first term.
    const array sig = 1.0 / (1.0 + xt::exp(-y.value()));
    const array root_value = xt::where(x.value() > 0.0, xt::sqrt(x.value()), 0.0);
    const array y_expected =
        array{{0.5, 1.5, 0.0, 1.0}, {1.0 / 3 + 1, 1.0 / 3 + 0.5, 1.0 / 3, 0.5}} +
        root_value * sig * (1.0 - sig);
    EXPECT_LE(max_relative_error(y.grad(), y_expected, 1e-12), 1e-14);
    EXPECT_EQ(z.grad(), (array{{0.5, 1.0, 3.0 + 1.0, 0.5}, {1.0, 0.5 + 1.0, 1.0, 0.5 + 4.0}}));
    // c: torch's rounding artifact against xgrad's exact 0.
    for (double t : ref::conventions_gradients[5].values) EXPECT_NEAR(t, 1.0 / 3.0, 1e-15);
    EXPECT_EQ(stddev(c).item(), 0.0);
    EXPECT_EQ(c.grad(), (array{0.0, 0.0, 0.0}));
}

}  // namespace
}  // namespace xgrad
