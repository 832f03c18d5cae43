/***************************************************************************
 * xgrad: leaves, accumulation, depth, grad modes and the errors of misuse  *
 ***************************************************************************/
#include "support.hpp"

namespace xgrad {
namespace {

TEST(Var, LeavesKnowWhatTheyAre) {
    Var w = parameter({1.0, 2.0});
    Var x = constant(3.0);
    EXPECT_TRUE(w.requires_grad());
    EXPECT_FALSE(x.requires_grad());
    EXPECT_TRUE(w.is_leaf());
    EXPECT_STREQ(w.op_name(), "parameter");
    EXPECT_STREQ(x.op_name(), "constant");
    EXPECT_EQ(x.shape(), shape_type{});
    EXPECT_EQ(x.item(), 3.0);
    Var y = w * x;
    EXPECT_TRUE(y.requires_grad());
    EXPECT_FALSE(y.is_leaf());
    EXPECT_STREQ(y.op_name(), "mul");
    EXPECT_FALSE((x * 2.0).requires_grad());
}

TEST(Var, NodeUsedTwiceAccumulates) {
    // f = x·y + x·x: df/dx = y + 2x, df/dy = x.
    Var x = parameter(3.0);
    Var y = parameter(-4.0);
    Var f = x * y + x * x;
    f.backward();
    EXPECT_EQ(x.grad()(), -4.0 + 6.0);
    EXPECT_EQ(y.grad()(), 3.0);
}

TEST(Var, DiamondAccumulates) {
    // a = 1; b = a + a; c = b + b  →  dc/da = 4, dc/db = 2.
    Var a = parameter(1.0);
    Var b = a + a;
    Var c = b + b;
    c.backward();
    EXPECT_EQ(c.item(), 4.0);
    EXPECT_EQ(a.grad()(), 4.0);
    EXPECT_EQ(b.grad()(), 2.0);
}

TEST(Var, SameNodeAsBothOperandsAccumulates) {
    Var x = parameter({1.0, -2.0, 3.0});
    sum(x * x * x).backward();  // d(x³)/dx = 3x²
    EXPECT_EQ(x.grad(), (array{3.0, 12.0, 27.0}));
}

TEST(Var, ParameterGradientsAccumulateAcrossBackwardUntilZeroed) {
    Var x = parameter(2.0);
    Var f = x * x;
    f.backward();
    f.backward();
    EXPECT_EQ(x.grad()(), 8.0);
    x.zero_grad();
    EXPECT_EQ(x.grad()(), 0.0);
    f.backward();
    EXPECT_EQ(x.grad()(), 4.0);
    Var g = 3.0 * x;
    g.backward();
    EXPECT_EQ(x.grad()(), 7.0);
}

TEST(Var, ZeroGradOnAListOfParameters) {
    Var a = parameter(1.0);
    Var b = parameter({1.0, 2.0});
    sum(a * b).backward();
    std::vector<Var> params{a, b};
    zero_grad(params);
    EXPECT_EQ(a.grad()(), 0.0);
    EXPECT_EQ(b.grad(), (array{0.0, 0.0}));
}

TEST(Var, ChainOfHundredThousandNodes) {
    // Backward and teardown must both be iterative: recursion would overflow the stack here.
    Var x = parameter(1.0);
    Var y = x;
    for (int i = 0; i < 100000; ++i) y = y * 1.0 + 0.0 * i;
    y.backward();
    EXPECT_EQ(x.grad()(), 1.0);
    EXPECT_EQ(y.item(), 1.0);
}

TEST(Var, ChainOfMillionNodesTearsDown) {
    Var x = parameter(1.0);
    {
        Var y = x;
        for (int i = 0; i < 1000000; ++i) y = -y;
        EXPECT_EQ(y.item(), 1.0);
    }
    EXPECT_EQ(x.node_ptr().use_count(), 1);  // nothing else still holds the leaf
}

TEST(Var, NoGradRecordsNoGraph) {
    Var w = parameter({1.0, 2.0});
    Var y;
    {
        no_grad scope;
        EXPECT_FALSE(is_grad_enabled());
        y = w * 3.0;
        EXPECT_FALSE(y.requires_grad());
        EXPECT_TRUE(y.is_leaf());  // the value, detached
    }
    EXPECT_TRUE(is_grad_enabled());
    EXPECT_EQ(y.value(), (array{3.0, 6.0}));
    EXPECT_EQ(w.node_ptr().use_count(), 1);
    EXPECT_TRUE((w * 3.0).requires_grad());
}

TEST(Var, NoGradKeepsLazyValues) {
    Var a = parameter(xt::xarray<double>({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}));
    no_grad scope;
    Var t = transpose(a);
    EXPECT_EQ(t.shape(), (shape_type{3, 2}));
    EXPECT_EQ(t.value()(2, 0), 3.0);
}

TEST(Var, NoGradScopesNest) {
    {
        no_grad outer;
        { no_grad inner; }
        EXPECT_FALSE(is_grad_enabled());
    }
    EXPECT_TRUE(is_grad_enabled());
}

TEST(Var, BackwardWithSeed) {
    Var x = parameter({1.0, 2.0, 3.0});
    Var y = x * x;
    y.backward({1.0, 0.5, -1.0});
    EXPECT_EQ(x.grad(), (array{2.0, 2.0, -6.0}));
}

TEST(Var, InteriorGradientsAreReadable) {
    Var x = parameter(2.0);
    Var y = x * 3.0;
    Var z = y * y;
    z.backward();
    EXPECT_EQ(y.grad()(), 12.0);
    EXPECT_EQ(x.grad()(), 36.0);
}

using testing::random_array;

TEST(VarErrors, ShapeMismatchNamesOpAndShapes) {
    Var a = parameter(xt::zeros<double>({4, 3}));
    Var b = parameter(xt::zeros<double>({2}));
    XGRAD_EXPECT_THROW_WITH(matmul(a, b), shape_error, "matmul: cannot multiply (4,3) by (2,)");
    XGRAD_EXPECT_THROW_WITH(matmul(transpose(a), b), shape_error,
                            "matmul: cannot multiply (3,4) by (2,)");
    XGRAD_EXPECT_THROW_WITH(matmul(a, a), shape_error, "matmul: cannot multiply (4,3) by (4,3)");
    XGRAD_EXPECT_THROW_WITH(a + b, shape_error, "add: cannot broadcast (4,3) with (2,)");
    XGRAD_EXPECT_THROW_WITH(a - b, shape_error, "sub: cannot broadcast (4,3) with (2,)");
    XGRAD_EXPECT_THROW_WITH(b * a, shape_error, "mul: cannot broadcast (2,) with (4,3)");
    XGRAD_EXPECT_THROW_WITH(a / b, shape_error, "div: cannot broadcast (4,3) with (2,)");
    XGRAD_EXPECT_THROW_WITH(matmul(constant(1.0), b), shape_error,
                            "matmul: cannot multiply () by (2,)");
    XGRAD_EXPECT_THROW_WITH(sum(a, 2), shape_error, "sum: axis 2 is out of range for shape (4,3)");
    XGRAD_EXPECT_THROW_WITH(mean(a, -3), shape_error, "mean: axis -3 is out of range");
    XGRAD_EXPECT_THROW_WITH(mean(constant(xt::zeros<double>({0}))), shape_error,
                            "mean: cannot average the empty shape (0,)");
}

TEST(VarErrors, Misuse) {
    Var x = constant({1.0, 2.0});
    Var w = parameter({1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(x.grad(), graph_error, "'constant' node has no gradient");
    XGRAD_EXPECT_THROW_WITH((x * 2.0).grad(), graph_error, "'mul' node has no gradient");
    XGRAD_EXPECT_THROW_WITH(sum(x).backward(), graph_error, "depends on no parameter");
    XGRAD_EXPECT_THROW_WITH((w * x).backward(), graph_error,
                            "output has shape (2,), not a single number");
    XGRAD_EXPECT_THROW_WITH((w * x).backward(array{1.0, 2.0, 3.0}), shape_error,
                            "seed of shape (3,) does not match the output's shape (2,)");
    XGRAD_EXPECT_THROW_WITH((w * x).mutable_value(), graph_error, "only leaves can be written");
    XGRAD_EXPECT_THROW_WITH(w.item(), shape_error, "item(): value of shape (2,)");
    XGRAD_EXPECT_THROW_WITH(Var().value(), graph_error, "empty");
}

TEST(VarErrors, ReplayRechecksShapes) {
    Var a = constant(xt::zeros<double>({3}));
    Var w = parameter(xt::zeros<double>({3}));
    Tape tape(sum(a * w));
    a.mutable_value() = xt::zeros<double>({4});
    XGRAD_EXPECT_THROW_WITH(tape.forward(), shape_error, "mul: cannot broadcast (4,) with (3,)");
}

}  // namespace
}  // namespace xgrad
