// nn::Conv2d, nn::MaxPool2d, nn::AvgPool2d: the layers give exactly their ops' numbers, register
// PyTorch's names and layout, draw Kaiming/Glorot weights with a conv weight's fans, have
// gradients that match central differences, save and reload inside a small CNN, and refuse bad
// sizes.
#include <unistd.h>
#include <cmath>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using namespace xgrad;

array random_images(shape_type shape, std::uint64_t seed) {
    Random random(seed);
    array x = array::from_shape(shape);
    for (double& v : x) v = random.uniform(-1.0, 1.0);
    return x;
}

TEST(Conv2dLayer, RegistersPyTorchsLayoutAndGivesConv2dsNumbers) {
    nn::Conv2d conv(3, 4, 3, 7, 2, 1);
    const std::vector<nn::NamedVar> named = conv.named_parameters();
    ASSERT_EQ(named.size(), 2u);
    EXPECT_EQ(named[0].first, "weight");
    EXPECT_EQ(named[0].second.shape(), (shape_type{4, 3, 3, 3}));
    EXPECT_EQ(named[1].first, "bias");
    EXPECT_EQ(named[1].second.shape(), (shape_type{4}));
    EXPECT_EQ(conv.bias().value(), (array(xt::zeros<double>({4}))));
    const Var x = constant(random_images({2, 3, 7, 6}, 1));
    const Var y = conv(x);
    EXPECT_EQ(y.shape(), (shape_type{2, 4, 4, 3}));  // ⌊(7 + 2 − 3)/2⌋ + 1, ⌊(6 + 2 − 3)/2⌋ + 1
    EXPECT_EQ(y.value(), conv2d(x, conv.weight(), conv.bias(), 2, 1).value());

    nn::Conv2d plain(2, 2, 1, 7, 1, 0, nn::Init::he_uniform, false);
    EXPECT_FALSE(plain.bias().defined());
    ASSERT_EQ(plain.named_parameters().size(), 1u);
    const Var z = constant(random_images({1, 2, 3, 3}, 2));
    EXPECT_EQ(plain(z).value(), conv2d(z, plain.weight(), Var()).value());
}

TEST(Conv2dLayer, DrawsItsWeightsWithAConvWeightsFans) {
    // fan_in = C_in·k² = 8·9 = 72, fan_out = C_out·k² = 16·9 = 144
    const double he = std::sqrt(6.0 / 72.0);
    const double glorot = std::sqrt(6.0 / (72.0 + 144.0));
    for (const auto& [init, bound] : std::vector<std::pair<nn::Init, double>>{
             {nn::Init::he_uniform, he}, {nn::Init::xavier_uniform, glorot}}) {
        nn::Conv2d conv(8, 16, 3, 11, 1, 0, init);
        const array& w = conv.weight().value();
        double largest = 0.0, squares = 0.0;
        for (double v : w) {
            largest = std::max(largest, std::abs(v));
            squares += v * v;
        }
        EXPECT_LE(largest, bound);
        EXPECT_GT(largest, 0.9 * bound);  // 1 152 draws reach close to the bound
        // U(−b, b) has variance b²/3
        EXPECT_NEAR(squares / static_cast<double>(w.size()), bound * bound / 3.0,
                    0.15 * bound * bound / 3.0);
    }
    // the same seed draws the same weights, another seed others
    EXPECT_EQ(nn::Conv2d(2, 3, 3, 5).weight().value(), nn::Conv2d(2, 3, 3, 5).weight().value());
    EXPECT_NE(nn::Conv2d(2, 3, 3, 5).weight().value(), nn::Conv2d(2, 3, 3, 6).weight().value());
}

TEST(Conv2dLayer, GradientsMatchCentralDifferences) {
    nn::Conv2d conv(2, 3, 3, 3, 1, 1);
    const Var x = parameter(random_images({2, 2, 4, 5}, 4));
    xgrad::testing::expect_gradients_match(sum(square(conv(x))));
}

TEST(PoolLayers, GiveTheirOpsNumbersAndHaveNoParameters) {
    const Var x = constant(random_images({2, 3, 7, 7}, 3));
    nn::MaxPool2d max_pool(3, 2);
    nn::AvgPool2d avg_pool(2);
    EXPECT_EQ(max_pool(x).value(), max_pool2d(x, 3, 2).value());
    EXPECT_EQ(avg_pool(x).value(), avg_pool2d(x, 2).value());
    EXPECT_EQ(avg_pool(x).shape(), (shape_type{2, 3, 3, 3}));
    EXPECT_TRUE(max_pool.parameters().empty());
    EXPECT_TRUE(avg_pool.named_parameters().empty());
}

TEST(ConvLayers, ASmallCnnSavesAndReloadsToTheSameOutputs) {
    auto make = [](std::uint64_t seed) {
        nn::Sequential net;
        net.add<nn::Conv2d>(1, 4, 3, seed, 1, 1);
        net.add<nn::BatchNorm2d>(4);
        net.add<nn::ReLU>();
        net.add<nn::MaxPool2d>(2);
        net.add<nn::Flatten>();
        net.add<nn::Linear>(4 * 3 * 3, 5, seed + 1);
        return net;
    };
    nn::Sequential net = make(1);
    const Var x = constant(random_images({6, 1, 6, 6}, 9));
    net(x);  // a training step's forward: the running statistics move
    net.eval();
    const array before = net(x).value();
    std::vector<std::string> names;
    for (const auto& [name, v] : net.named_parameters()) names.push_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias",
                                               "5.weight", "5.bias"}));
    char dir[] = "/tmp/xgrad_cnn_XXXXXX";
    const std::string path = std::string(::mkdtemp(dir)) + "/cnn.npz";
    nn::save(net, path);
    nn::Sequential other = make(2);
    EXPECT_NE(other.parameters()[0].value(), net.parameters()[0].value());
    nn::load(other, path);
    other.eval();
    EXPECT_EQ(other(x).value(), before);
    std::remove(path.c_str());
    ::rmdir(dir);
}

TEST(ConvLayers, RefuseZeroSizesAndWrongInputs) {
    XGRAD_EXPECT_THROW_WITH(nn::Conv2d(0, 4, 3, 1), std::invalid_argument,
                            "Conv2d: needs in_channels, out_channels, kernel and stride > 0, got "
                            "0, 4, 3 and 1");
    XGRAD_EXPECT_THROW_WITH(nn::Conv2d(1, 4, 3, 1, 0), std::invalid_argument, "3 and 0");
    XGRAD_EXPECT_THROW_WITH(nn::MaxPool2d(0), std::invalid_argument,
                            "MaxPool2d: needs kernel > 0, got 0");
    XGRAD_EXPECT_THROW_WITH(nn::AvgPool2d(0), std::invalid_argument,
                            "AvgPool2d: needs kernel > 0, got 0");
    nn::Conv2d conv(3, 2, 3, 1);
    XGRAD_EXPECT_THROW_WITH(conv(constant(random_images({2, 1, 5, 5}, 1))), shape_error,
                            "conv2d: weight (2,3,3,3) expects 3 input channels");
    nn::MaxPool2d pool(4);
    XGRAD_EXPECT_THROW_WITH(pool(constant(random_images({1, 1, 3, 3}, 1))), shape_error,
                            "max_pool2d");
}

}  // namespace
