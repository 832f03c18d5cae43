/***************************************************************************
 * xgrad: indexing and joining ops (slice, index_select, gather,            *
 * concatenate, stack, squeeze, unsqueeze, flatten, permute): values        *
 * against numpy/torch results worked by hand, gradients against central    *
 * differences, second derivatives, repeated indices, errors, sizes 0 and 1 *
 ***************************************************************************/
#include <cmath>
#include <functional>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xbuilder.hpp>
#include <xtensor/xmanipulation.hpp>
#include <xtensor/xview.hpp>

#include "support.hpp"

namespace xgrad {
namespace {

using testing::expect_gradients_match;
using testing::random_array;

constexpr long to_front = std::numeric_limits<long>::min();

/// @brief A scalar that weighs every element of y differently, so a wrong index shows up.
Var weighted_sum(const Var& y, std::mt19937_64& rng) {
    return sum(y * constant(random_array(rng, y.shape(), 0.5, 1.5)));
}

/// @brief 0, 1, 2, ... in the given shape.
array counting(const shape_type& shape) {
    array a = array::from_shape(shape);
    for (std::size_t i = 0; i < a.size(); ++i) a.data()[i] = static_cast<double>(i);
    return a;
}

const array x34 = counting({3, 4});  // [[0,1,2,3],[4,5,6,7],[8,9,10,11]]

// ---- values ---------------------------------------------------------------------------------

TEST(Slice, ValuesFollowPythonSlices) {
    const Var x = constant(x34);
    EXPECT_EQ(slice(x, 0, 1, 3).value(), (array{{4, 5, 6, 7}, {8, 9, 10, 11}}));  // x[1:3]
    EXPECT_EQ(slice(x, 1, -3, -1).value(), (array{{1, 2}, {5, 6}, {9, 10}}));     // x[:, -3:-1]
    EXPECT_EQ(slice(x, 1, 0, 100, 2).value(), (array{{0, 2}, {4, 6}, {8, 10}}));  // x[:, 0:100:2]
    EXPECT_EQ(slice(x, -1, -100, 2).value(), (array{{0, 1}, {4, 5}, {8, 9}}));    // x[:, -100:2]
    EXPECT_EQ(slice(x, 1, -1, to_front, -1).value(),                              // x[:, ::-1]
              (array{{3, 2, 1, 0}, {7, 6, 5, 4}, {11, 10, 9, 8}}));
    EXPECT_EQ(slice(x, 0, 10, -10, -2).value(),
              (array{{8, 9, 10, 11}, {0, 1, 2, 3}}));                            // x[10:-10:-2]
    EXPECT_EQ(slice(x, 1, 2, 0, -1).value(), (array{{2, 1}, {6, 5}, {10, 9}}));  // x[:, 2:0:-1]
    EXPECT_EQ(slice(x, 0, 1, 2).value(), (array{{4, 5, 6, 7}}));  // one row: shape (1,4)
    // |step| beyond the axis takes the first position only; LONG_MIN as a step is no overflow
    EXPECT_EQ(slice(x, 1, 0, 4, 1000).value(), testing::column({0, 4, 8}));
    EXPECT_EQ(slice(x, 1, -1, to_front, to_front).value(), testing::column({3, 7, 11}));
    // empty results: shape with a 0 (numpy: x[:, 3:1], x[:, 5:7], x[0:3:-1])
    EXPECT_EQ(slice(x, 1, 3, 1).shape(), (shape_type{3, 0}));
    EXPECT_EQ(slice(x, -1, 5, 7).shape(), (shape_type{3, 0}));
    EXPECT_EQ(slice(x, 0, 0, 3, -1).shape(), (shape_type{0, 4}));
    EXPECT_STREQ(slice(x, 0, 0, 3).op_name(), "slice");
    // 3-D against xt::view (negative step included)
    const array y = counting({2, 3, 4});
    EXPECT_EQ(slice(constant(y), 1, 2, 0, -1).value(),
              array(xt::view(y, xt::all(), xt::range(2, 0, -1), xt::all())));
    EXPECT_EQ(slice(constant(y), 2, 1, 4, 2).value(),
              array(xt::view(y, xt::all(), xt::all(), xt::range(1, 4, 2))));
    EXPECT_EQ(slice(constant(y), 0, -1, 2).value(), array(xt::view(y, xt::range(1, 2))));
}

TEST(IndexSelect, ValuesAsTorch) {
    const Var x = constant(x34);
    EXPECT_EQ(index_select(x, 0, {2, 0, 2}).value(),
              (array{{8, 9, 10, 11}, {0, 1, 2, 3}, {8, 9, 10, 11}}));
    EXPECT_EQ(index_select(x, 1, {3, 0}).value(), (array{{3, 0}, {7, 4}, {11, 8}}));
    EXPECT_EQ(index_select(x, -1, {1}).value(), testing::column({1, 5, 9}));
    EXPECT_EQ(index_select(x, 0, {}).shape(), (shape_type{0, 4}));
    EXPECT_EQ(index_select(x, 1, {}).shape(), (shape_type{3, 0}));
    const array y = counting({2, 3, 4});
    const array picked = index_select(constant(y), 1, {2, 1}).value();
    ASSERT_EQ(picked.shape(), (shape_type{2, 2, 4}));
    EXPECT_EQ(array(xt::view(picked, xt::all(), 0, xt::all())),
              array(xt::view(y, xt::all(), 2, xt::all())));
    EXPECT_EQ(array(xt::view(picked, xt::all(), 1, xt::all())),
              array(xt::view(y, xt::all(), 1, xt::all())));
    EXPECT_EQ(index_select(constant(array{5.0, 6.0, 7.0}), 0, {2, 2}).value(), (array{7.0, 7.0}));
}

TEST(Gather, ValuesAsTorch) {
    // torch.gather's documented example: t = [[1,2],[3,4]], dim 1, index [[0,0],[1,0]]
    const Var t = constant(array{{1.0, 2.0}, {3.0, 4.0}});
    EXPECT_EQ(gather(t, 1, array{{0.0, 0.0}, {1.0, 0.0}}).value(), (array{{1, 1}, {4, 3}}));
    // dim 0: out[i][j] = t[index[i][j]][j]; the gathered axis may be longer than t's
    EXPECT_EQ(gather(t, 0, array{{1.0, 0.0}, {1.0, 1.0}, {0.0, 0.0}}).value(),
              (array{{3, 2}, {3, 4}, {1, 2}}));
    EXPECT_EQ(gather(t, -2, array{{1.0, 0.0}}).value(), (array{{3, 2}}));
    // an index shorter than x on another axis: out[i][j] = x[i][index[i][j]] for i < 2
    const Var x = constant(x34);
    EXPECT_EQ(gather(x, 1, testing::column({3.0, 0.0})).value(), testing::column({3, 4}));
    // 3-D, axis 2: out[i][j][k] = y[i][j][index[i][j][k]]
    const array y = counting({2, 3, 4});
    array index = array::from_shape({2, 2, 3});
    for (std::size_t i = 0; i < index.size(); ++i) index.data()[i] = static_cast<double>(i % 4);
    const array out = gather(constant(y), 2, index).value();
    ASSERT_EQ(out.shape(), index.shape());
    for (std::size_t i = 0; i < 2; ++i) {
        for (std::size_t j = 0; j < 2; ++j) {
            for (std::size_t k = 0; k < 3; ++k) {
                EXPECT_EQ(out(i, j, k), y(i, j, static_cast<std::size_t>(index(i, j, k))));
            }
        }
    }
    // empty index: an empty result
    EXPECT_EQ(gather(x, 0, array::from_shape({0, 4})).shape(), (shape_type{0, 4}));
}

TEST(Concatenate, ValuesAsNumpy) {
    const Var a = constant(array{{1.0, 2.0}, {3.0, 4.0}});
    const Var b = constant(array{{5.0, 6.0}});
    EXPECT_EQ(concatenate({a, b}, 0).value(), (array{{1, 2}, {3, 4}, {5, 6}}));
    EXPECT_EQ(concatenate({a, b, a}, 0).value(), (array{{1, 2}, {3, 4}, {5, 6}, {1, 2}, {3, 4}}));
    EXPECT_EQ(concatenate({a, constant(testing::column({7.0, 8.0}))}, -1).value(),
              (array{{1, 2, 7}, {3, 4, 8}}));
    EXPECT_EQ(concatenate({a}, 1).value(), a.value());
    EXPECT_STREQ(concatenate({a}, 1).op_name(), "concatenate");
    EXPECT_EQ(
        concatenate(
            {constant(array{1.0}), constant(array::from_shape({0})), constant(array{2.0, 3.0})}, 0)
            .value(),
        (array{1, 2, 3}));
    // 3-D along the middle axis
    const array y = counting({2, 3, 4});
    const array z = counting({2, 1, 4}) + 100.0;
    EXPECT_EQ(concatenate({constant(y), constant(z)}, 1).value(),
              array(xt::concatenate(xt::xtuple(y, z), 1)));
}

TEST(Stack, ValuesAsNumpy) {
    const Var a = constant(array{1.0, 2.0, 3.0});
    const Var b = constant(array{4.0, 5.0, 6.0});
    EXPECT_EQ(stack({a, b}, 0).value(), (array{{1, 2, 3}, {4, 5, 6}}));
    EXPECT_EQ(stack({a, b, a}, 1).value(), (array{{1, 4, 1}, {2, 5, 2}, {3, 6, 3}}));
    EXPECT_EQ(stack({a, b}, -1).value(), (array{{1, 4}, {2, 5}, {3, 6}}));
    EXPECT_EQ(stack({a, b}, -2).value(), (array{{1, 2, 3}, {4, 5, 6}}));
    EXPECT_EQ(stack({constant(1.0), constant(2.0)}, 0).value(), (array{1.0, 2.0}));
    EXPECT_EQ(stack({a}, 0).shape(), (shape_type{1, 3}));
    const array y = counting({2, 3});
    EXPECT_EQ(stack({constant(y), constant(y + 6.0)}, 2).value(),
              (array{{{0, 6}, {1, 7}, {2, 8}}, {{3, 9}, {4, 10}, {5, 11}}}));
}

TEST(ShapeChanges, SqueezeUnsqueezeFlattenPermute) {
    const array y = counting({2, 1, 3});
    EXPECT_EQ(squeeze(constant(y), 1).value(), (array{{0, 1, 2}, {3, 4, 5}}));
    EXPECT_EQ(squeeze(constant(y), -2).shape(), (shape_type{2, 3}));
    EXPECT_EQ(squeeze(constant(array{7.0}), 0).shape(), shape_type{});
    const Var x = constant(x34);
    EXPECT_EQ(unsqueeze(x, 0).shape(), (shape_type{1, 3, 4}));
    EXPECT_EQ(unsqueeze(x, 2).shape(), (shape_type{3, 4, 1}));
    EXPECT_EQ(unsqueeze(x, -1).shape(), (shape_type{3, 4, 1}));
    EXPECT_EQ(unsqueeze(x, -3).shape(), (shape_type{1, 3, 4}));
    EXPECT_EQ(unsqueeze(constant(2.0), 0).value(), (array{2.0}));
    const array z = counting({2, 3, 4});
    EXPECT_EQ(flatten(constant(z)).value(), counting({24}));
    EXPECT_EQ(flatten(constant(z), 1).shape(), (shape_type{2, 12}));
    EXPECT_EQ(flatten(constant(z), 0, 1).shape(), (shape_type{6, 4}));
    EXPECT_EQ(flatten(constant(z), -2, -1).shape(), (shape_type{2, 12}));
    EXPECT_EQ(flatten(constant(z), 1, 1).shape(), (shape_type{2, 3, 4}));
    EXPECT_EQ(flatten(constant(3.0)).value(), (array{3.0}));  // torch: a 0-d input gives (1,)
    EXPECT_EQ(permute(constant(z), {2, 0, 1}).value(), array(xt::transpose(z, {2, 0, 1})));
    EXPECT_EQ(permute(constant(z), {1, 2, 0}).value(), array(xt::transpose(z, {1, 2, 0})));
    EXPECT_EQ(permute(x, {1, 0}).value(), array(xt::transpose(x34)));
    EXPECT_EQ(permute(constant(5.0), {}).value(), array(5.0));
    // each op is a node of its own, even when nothing moves
    const Var p = parameter(array{1.0, 2.0});
    for (const Var& same : {permute(p, {0}), flatten(p), slice(p, 0, 0, 2),
                            index_select(p, 0, {0, 1}), concatenate({p}, 0)}) {
        EXPECT_NE(&same.node(), &p.node()) << same.op_name();
        EXPECT_EQ(same.value(), p.value());
    }
    EXPECT_STREQ(squeeze(constant(y), 1).op_name(), "squeeze");
    EXPECT_STREQ(unsqueeze(x, 0).op_name(), "unsqueeze");
    EXPECT_STREQ(flatten(x).op_name(), "flatten");
    EXPECT_STREQ(permute(x, {0, 1}).op_name(), "permute");
}

// ---- gradients ------------------------------------------------------------------------------

/// @brief One op applied to parameters of given shapes, for the gradient checks.
struct OpCase {
    std::string name;
    std::function<Var(const std::vector<Var>&)> op;
    std::vector<shape_type> shapes;
};

std::vector<OpCase> op_cases() {
    using P = std::vector<Var>;
    return {
        {"slice", [](const P& p) { return slice(p[0], 0, 1, 3); }, {{4, 3}}},
        {"slice negative step",
         [](const P& p) { return slice(p[0], -1, -1, to_front, -2); },
         {{3, 5}}},
        {"slice 3-D middle axis", [](const P& p) { return slice(p[0], 1, 2, 0, -1); }, {{2, 3, 2}}},
        {"index_select repeated",
         [](const P& p) {
             return index_select(p[0], 0, {0, 0, 2});
         },
         {{3, 4}}},
        {"index_select axis 1",
         [](const P& p) {
             return index_select(p[0], 1, {2, 0, 2, 1});
         },
         {{3, 3}}},
        {"gather axis 0",
         [](const P& p) {
             return gather(p[0], 0, array{{1.0, 0.0, 1.0}, {1.0, 1.0, 0.0}});
         },
         {{2, 3}}},
        {"gather axis 1",
         [](const P& p) {
             return gather(p[0], 1, array{{2.0, 2.0, 0.0, 1.0}, {0.0, 0.0, 0.0, 2.0}});
         },
         {{2, 3}}},
        {"concatenate a, b, a",
         [](const P& p) {
             return concatenate({p[0], p[1], p[0]}, 1);
         },
         {{2, 2}, {2, 3}}},
        {"stack a, b, a",
         [](const P& p) {
             return stack({p[0], p[1], p[0]}, 0);
         },
         {{2, 3}, {2, 3}}},
        {"squeeze", [](const P& p) { return squeeze(p[0], 0); }, {{1, 4}}},
        {"unsqueeze", [](const P& p) { return unsqueeze(p[0], 1); }, {{2, 3}}},
        {"flatten", [](const P& p) { return flatten(p[0], 0, 1); }, {{2, 3, 2}}},
        {"permute",
         [](const P& p) {
             return permute(p[0], {1, 2, 0});
         },
         {{2, 3, 2}}},
    };
}

std::vector<Var> parameters_for(const OpCase& c, std::mt19937_64& rng) {
    std::vector<Var> params;
    for (const shape_type& s : c.shapes) params.push_back(parameter(random_array(rng, s)));
    return params;
}

TEST(IndexingGradients, MatchCentralDifferences) {
    std::mt19937_64 rng(401);
    for (const OpCase& c : op_cases()) {
        SCOPED_TRACE(c.name);
        const std::vector<Var> p = parameters_for(c, rng);
        expect_gradients_match(weighted_sum(c.op(p), rng));
    }
}

TEST(IndexingGradients, SecondDerivativesMatchCentralDifferences) {
    // square after the op, so that the Hessian is not zero: it runs through the graph form
    // (the scatter and its own derivative, the gather).
    std::mt19937_64 rng(409);
    GradcheckOptions strict;
    strict.atol = 1e-7;
    strict.rtol = 1e-6;
    for (const OpCase& c : op_cases()) {
        SCOPED_TRACE(c.name);
        const std::vector<Var> p = parameters_for(c, rng);
        const Var weights = constant(random_array(rng, c.op(p).shape(), 0.5, 1.5));
        const GradcheckReport report =
            gradgradcheck([&] { return sum(square(c.op(p)) * weights); }, p, strict);
        EXPECT_TRUE(report.passed) << report.to_string();
        // and the op after a nonlinearity: the scatter's gradient is the gather
        const GradcheckReport inner = gradgradcheck(
            [&] {
                std::vector<Var> q;
                for (const Var& v : p) q.push_back(sin(v));
                return sum(c.op(q) * weights);
            },
            p, strict);
        EXPECT_TRUE(inner.passed) << inner.to_string();
    }
}

TEST(IndexingGradients, HessianVectorProductsAgreeInEveryMode) {
    // The gradient as a graph (scatter nodes) equals backward()'s; then H·v three ways through
    // that graph: grad() again (the scatter's graph form), forward mode (its tangent) and
    // backward() on ∇f·v (its first-order rule).
    std::mt19937_64 rng(421);
    for (const OpCase& c : op_cases()) {
        SCOPED_TRACE(c.name);
        const std::vector<Var> p = parameters_for(c, rng);
        const Var weights = constant(random_array(rng, c.op(p).shape(), 0.5, 1.5));
        const Var f = sum(square(c.op(p)) * weights);
        std::vector<array> v;
        for (const Var& q : p) v.push_back(random_array(rng, q.shape()));
        const auto reverse = hessian_vector_product(f, p, v, hvp_mode::reverse_over_reverse);
        const auto forward = hessian_vector_product(f, p, v, hvp_mode::forward_over_reverse);
        const std::vector<Var> g = grad(f, p, true);
        zero_grad(p);
        f.backward();  // the graph form's value (the scatter's forward) is the first-order rule's
        for (std::size_t k = 0; k < p.size(); ++k) {
            EXPECT_LE(testing::max_relative_error(g[k].value(), p[k].grad(), 1e-12), 1e-14);
        }
        Var directional = sum(g[0] * constant(v[0]));
        for (std::size_t k = 1; k < p.size(); ++k) {
            directional = directional + sum(g[k] * constant(v[k]));
        }
        zero_grad(p);
        directional.backward();
        for (std::size_t k = 0; k < p.size(); ++k) {
            EXPECT_LE(testing::max_relative_error(forward[k], reverse[k], 1e-12), 1e-12);
            EXPECT_LE(testing::max_relative_error(p[k].grad(), reverse[k], 1e-12), 1e-12);
            EXPECT_GT(xt::amax(xt::abs(reverse[k]))(), 0.1);  // not a vacuous zero
        }
    }
}

TEST(IndexingGradients, SliceScattersIntoTheSlicedPositions) {
    const Var p = parameter(xt::zeros<double>({2, 5}));
    const array w = {{1.0, 2.0}, {3.0, 4.0}};
    sum(slice(p, 1, 3, 0, -2) * constant(w)).backward();  // columns 3 and 1
    EXPECT_EQ(p.grad(), (array{{0, 2, 0, 1, 0}, {0, 4, 0, 3, 0}}));
}

TEST(IndexingGradients, RepeatedIndicesAccumulate) {
    const Var x = parameter(xt::ones<double>({3, 2}));
    sum(index_select(x, 0, {0, 0, 2})).backward();
    EXPECT_EQ(x.grad(), (array{{2, 2}, {0, 0}, {1, 1}}));
    const Var y = parameter(xt::ones<double>({2, 3}));
    sum(index_select(y, 1, {2, 2, 2, 0})).backward();
    EXPECT_EQ(y.grad(), (array{{1, 0, 3}, {1, 0, 3}}));
    const Var z = parameter(array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}});
    const Var gathered = gather(z, 1, array{{0.0, 0.0, 0.0}, {1.0, 1.0, 0.0}});
    sum(gathered * constant(array{{1.0, 2.0, 4.0}, {1.0, 2.0, 4.0}})).backward();
    EXPECT_EQ(z.grad(), (array{{7, 0, 0}, {4, 3, 0}}));
    const Var v = parameter(array{1.0, 2.0});
    sum(gather(v, 0, array{1.0, 1.0, 1.0, 0.0})).backward();
    EXPECT_EQ(v.grad(), (array{1.0, 3.0}));
}

TEST(IndexingGradients, TheSameVarTwiceGetsBothGradients) {
    const Var a = parameter(array{{1.0, 2.0}});
    const Var b = parameter(array{{3.0, 4.0}});
    const array w = {{1.0, 2.0}, {10.0, 20.0}, {100.0, 200.0}};
    sum(concatenate({a, b, a}, 0) * constant(w)).backward();
    EXPECT_EQ(a.grad(), (array{{101.0, 202.0}}));
    EXPECT_EQ(b.grad(), (array{{10.0, 20.0}}));
    const Var u = parameter(array{1.0, 2.0});
    const Var s = stack({u, u, u}, 1);  // (2,3): every column is u
    sum(square(s)).backward();
    EXPECT_EQ(u.grad(), (array{6.0, 12.0}));  // 3 · 2u
    // the graph form adds them too: d²/du² of Σ (stack(u,u,u))² is 6 on the diagonal
    EXPECT_EQ(hessian(sum(square(stack({u, u, u}, 0))), {u}), array(6.0 * xt::eye<double>(2)));
    EXPECT_EQ(hessian(sum(square(concatenate({u, u}, 0))), {u}), array(4.0 * xt::eye<double>(2)));
}

TEST(IndexingGradients, ThirdDerivativeThroughScatterAndGather) {
    // f = Σ s³ with s = p[0:3:2]: ∂f/∂p = scatter(3s²), the next derivative along w is
    // scatter(6 s w), the next along v is scatter(6 w v): each order runs through the pair.
    const Var p = parameter(array{0.5, -1.0, 2.0});
    const Var s = slice(p, 0, 0, 3, 2);
    const Var f = sum(s * s * s);
    const Var g1 = grad(f, {p}, true)[0];
    EXPECT_EQ(g1.value(), (array{0.75, 0.0, 12.0}));
    const Var g2 = grad(sum(g1 * constant(array{1.0, 5.0, 2.0})), {p}, true)[0];
    EXPECT_EQ(g2.value(), (array{3.0, 0.0, 24.0}));  // 6·s·w at positions 0 and 2
    const Var g3 = grad(sum(g2 * constant(array{3.0, 7.0, -1.0})), {p}, true)[0];
    EXPECT_EQ(g3.value(), (array{18.0, 0.0, -12.0}));  // 6·w·v
    // the same third derivative by backward() through the graph of the second
    p.zero_grad();
    sum(g2 * constant(array{3.0, 7.0, -1.0})).backward();
    EXPECT_EQ(p.grad(), (array{18.0, 0.0, -12.0}));
}

TEST(IndexingGradients, TangentsAreTheOpAppliedToTheTangent) {
    const Var p = parameter(counting({3, 4}));
    const array t = counting({3, 4}) * 0.5 + 1.0;
    EXPECT_EQ(jvp(slice(p, 1, -1, to_front, -2), {p}, {t}),
              slice(constant(t), 1, -1, to_front, -2).value());
    EXPECT_EQ(jvp(index_select(p, 0, {2, 2}), {p}, {t}),
              index_select(constant(t), 0, {2, 2}).value());
    EXPECT_EQ(jvp(permute(p, {1, 0}), {p}, {t}), array(xt::transpose(t)));
    const Var q = parameter(array{1.0, 2.0, 3.0, 4.0});
    EXPECT_EQ(jvp(concatenate({p, unsqueeze(q, 0)}, 0), {q}, {array{1.0, 1.0, 1.0, 1.0}}),
              (array{{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}, {1, 1, 1, 1}}));
}

TEST(IndexingGradients, ReplaysResolveAxesAndIndicesAgain) {
    Var x = parameter(counting({2, 3}));
    Tape tape(sum(slice(x, -1, -2, 100)));  // the last two columns
    EXPECT_EQ(tape.output().item(), 1 + 2 + 4 + 5);
    x.mutable_value() = counting({2, 2, 4});
    tape.forward();
    EXPECT_EQ(tape.output().item(), (2 + 3) + (6 + 7) + (10 + 11) + (14 + 15));
    x.zero_grad();
    tape.backward();
    array expected = xt::zeros<double>({2, 2, 4});
    xt::view(expected, xt::all(), xt::all(), xt::range(2, 4)) = 1.0;
    EXPECT_EQ(x.grad(), expected);
    // an index that no longer fits is refused on the replay
    Var y = parameter(counting({3, 2}));
    Tape picks(sum(index_select(y, 0, {2})));
    y.mutable_value() = counting({2, 2});
    XGRAD_EXPECT_THROW_WITH(picks.forward(), std::out_of_range,
                            "index_select: index 2 at position 0 is out of range for axis 0 of "
                            "length 2 (shape (2,2))");
    // a join whose shapes stop fitting is refused
    Var a = parameter(counting({2, 3}));
    Tape joined(sum(concatenate({a, constant(counting({1, 3}))}, 0)));
    a.mutable_value() = counting({2, 2});
    XGRAD_EXPECT_THROW_WITH(joined.forward(), shape_error,
                            "concatenate: shapes (2,2), (1,3) differ outside axis 0");
}

// ---- sizes 0 and 1 --------------------------------------------------------------------------

TEST(IndexingSizes, EmptyResultsAndInputsPassZeroGradients) {
    const Var x = parameter(counting({2, 3}));
    const Var empty = slice(x, 1, 2, 2);
    EXPECT_EQ(empty.shape(), (shape_type{2, 0}));
    (sum(empty) + sum(index_select(x, 0, {})) + sum(gather(x, 1, array::from_shape({2, 0}))))
        .backward();
    EXPECT_EQ(x.grad(), array(xt::zeros<double>({2, 3})));
    const Var e = parameter(array::from_shape({0, 3}));
    const Var f = parameter(array{{1.0, 2.0, 3.0}});
    const Var joined = concatenate({e, f, e}, 0);
    EXPECT_EQ(joined.value(), f.value());
    sum(square(joined)).backward();
    EXPECT_EQ(e.grad().shape(), (shape_type{0, 3}));
    EXPECT_EQ(f.grad(), (array{{2.0, 4.0, 6.0}}));
    EXPECT_EQ(permute(e, {1, 0}).shape(), (shape_type{3, 0}));
    EXPECT_EQ(flatten(e).shape(), (shape_type{0}));
    EXPECT_EQ(stack({e, e}, 1).shape(), (shape_type{0, 2, 3}));
    EXPECT_EQ(slice(parameter(array::from_shape({0})), 0, 0, 10).shape(), (shape_type{0}));
    EXPECT_EQ(slice(parameter(array::from_shape({0})), 0, -1, to_front, -1).shape(),
              (shape_type{0}));
}

TEST(IndexingSizes, OneElement) {
    const Var x = parameter(array{3.0});
    const Var y = square(index_select(slice(x, 0, -1, 1), 0, {0, 0}));
    EXPECT_EQ(y.value(), (array{9.0, 9.0}));
    sum(y).backward();
    EXPECT_EQ(x.grad(), (array{12.0}));
    const Var s = parameter(2.0);
    const Var joined = stack({s}, 0);
    EXPECT_EQ(joined.value(), (array{2.0}));
    sum(square(flatten(s)) + squeeze(unsqueeze(s, 0), 0)).backward();
    EXPECT_EQ(s.grad()(), 5.0);
}

// ---- errors ---------------------------------------------------------------------------------

TEST(IndexingErrors, NameTheOpAndTheShapes) {
    const Var x = parameter(counting({2, 3}));
    XGRAD_EXPECT_THROW_WITH(slice(x, 1, 0, 3, 0), std::invalid_argument,
                            "slice: step cannot be zero");
    XGRAD_EXPECT_THROW_WITH(slice(x, 2, 0, 1), shape_error,
                            "slice: axis 2 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(slice(x, -3, 0, 1), shape_error,
                            "slice: axis -3 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(slice(parameter(1.0), 0, 0, 1), shape_error,
                            "slice: axis 0 is out of range for shape ()");
    XGRAD_EXPECT_THROW_WITH(index_select(x, 1, {0, 3}), std::out_of_range,
                            "index_select: index 3 at position 1 is out of range for axis 1 of "
                            "length 3 (shape (2,3))");
    XGRAD_EXPECT_THROW_WITH(index_select(x, 2, {0}), shape_error,
                            "index_select: axis 2 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(
        gather(x, 0, array{0.0, 1.0}), shape_error,
        "gather: index of shape (2,) does not have the rank of the input (2,3)");
    XGRAD_EXPECT_THROW_WITH(
        gather(x, 0, array{{0.0, 1.0, 0.0, 1.0}}), shape_error,
        "gather: index of shape (1,4) is longer than the input (2,3) on axis 1");
    XGRAD_EXPECT_THROW_WITH(gather(x, 0, array{{0.0, 1.0}, {0.0, 2.0}}), std::out_of_range,
                            "gather: index[1,1] = 2 is out of range for axis 0 of length 2 (input "
                            "shape (2,3))");
    XGRAD_EXPECT_THROW_WITH(gather(x, 1, array{{0.0, -1.0}}), std::out_of_range,
                            "gather: index[0,1] = -1 is out of range for axis 1 of length 3");
    XGRAD_EXPECT_THROW_WITH(gather(x, 1, array{{0.0, 1.5}}), std::invalid_argument,
                            "gather: index[0,1] = 1.5 is not a whole number");
    XGRAD_EXPECT_THROW_WITH(gather(x, 1, testing::column({std::nan("")})), std::invalid_argument,
                            "gather: index[0,0] = nan is not a whole number");
    XGRAD_EXPECT_THROW_WITH(gather(x, 2, testing::column({0.0})), shape_error,
                            "gather: axis 2 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(concatenate({}, 0), shape_error, "concatenate: no inputs");
    XGRAD_EXPECT_THROW_WITH(stack({}, 0), shape_error, "stack: no inputs");
    XGRAD_EXPECT_THROW_WITH(concatenate({x, parameter(counting({3, 2})), x}, 0), shape_error,
                            "concatenate: shapes (2,3), (3,2), (2,3) differ outside axis 0");
    XGRAD_EXPECT_THROW_WITH(concatenate({x, parameter(counting({3}))}, 0), shape_error,
                            "concatenate: shapes (2,3), (3,) have different ranks");
    XGRAD_EXPECT_THROW_WITH(concatenate({x, x}, 2), shape_error,
                            "concatenate: axis 2 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(concatenate({parameter(1.0), parameter(2.0)}, 0), shape_error,
                            "concatenate: cannot join 0-d inputs (shapes (), ())");
    XGRAD_EXPECT_THROW_WITH(concatenate({x, Var()}, 0), graph_error,
                            "concatenate: input 1 is an empty Var");
    XGRAD_EXPECT_THROW_WITH(stack({x, parameter(counting({2, 2}))}, 0), shape_error,
                            "stack: shapes (2,3), (2,2) differ; stack needs inputs of one shape");
    XGRAD_EXPECT_THROW_WITH(stack({x, x}, 3), shape_error,
                            "stack: axis 3 is out of range for shape (2,3) (a new axis goes at "
                            "-3 to 2)");
    XGRAD_EXPECT_THROW_WITH(stack({x, x}, -4), shape_error, "stack: axis -4 is out of range");
    XGRAD_EXPECT_THROW_WITH(squeeze(x, 1), shape_error,
                            "squeeze: axis 1 has length 3, not 1 (shape (2,3))");
    XGRAD_EXPECT_THROW_WITH(squeeze(x, 2), shape_error,
                            "squeeze: axis 2 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(unsqueeze(x, 3), shape_error,
                            "unsqueeze: axis 3 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(unsqueeze(x, -4), shape_error,
                            "unsqueeze: axis -4 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(flatten(x, 1, 0), shape_error,
                            "flatten: start_axis 1 comes after end_axis 0 for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(flatten(x, 0, 2), shape_error,
                            "flatten: axis 2 is out of range for shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(permute(x, {0, 0}), shape_error,
                            "permute: axes (0,0) are not a permutation of the axes of shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(permute(x, {1}), shape_error,
                            "permute: axes (1,) are not a permutation of the axes of shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(permute(x, {0, 2}), shape_error, "permute: axes (0,2)");
}

// ---- a use: mini-batches ----------------------------------------------------------------------

TEST(IndexingUse, MiniBatchLogisticRegressionGradient) {
    // Rows of a data matrix taken with index_select (one repeated), the mean logistic loss of
    // those rows: ∇w = (1/m) Xᵦᵀ(ŷ − yᵦ), ∇b = mean(ŷ − yᵦ).
    std::mt19937_64 rng(419);
    const array X = random_array(rng, {10, 3}, -2.0, 2.0);
    const array y = testing::random_labels(rng, 10);
    const std::vector<std::size_t> rows = {7, 2, 9, 2, 0};
    const Var w = parameter(random_array(rng, {3}));
    const Var b = parameter(0.3);
    const Var Xb = index_select(constant(X), 0, rows);
    const Var yb = index_select(constant(y), 0, rows);
    bce_with_logits(matmul(Xb, w) + b, yb).backward();
    const double m = static_cast<double>(rows.size());
    array expected_w = xt::zeros<double>({3});
    double expected_b = 0.0;
    for (std::size_t r : rows) {
        double z = b.item();
        for (std::size_t j = 0; j < 3; ++j) z += X(r, j) * w.value()(j);
        const double residual = 1.0 / (1.0 + std::exp(-z)) - y(r);
        for (std::size_t j = 0; j < 3; ++j) expected_w(j) += X(r, j) * residual / m;
        expected_b += residual / m;
    }
    EXPECT_LE(testing::max_relative_error(w.grad(), expected_w), 1e-13);
    EXPECT_NEAR(b.grad()(), expected_b, 1e-14);
    // and through a trainable data matrix, the rows' gradients land on the rows taken
    const Var Xp = parameter(X);
    bce_with_logits(matmul(index_select(Xp, 0, rows), w) + b, yb).backward();
    EXPECT_EQ(array(xt::view(Xp.grad(), 1, xt::all())), array(xt::zeros<double>({3})));
    expect_gradients_match(bce_with_logits(matmul(index_select(Xp, 0, rows), w) + b, yb));
}

}  // namespace
}  // namespace xgrad
