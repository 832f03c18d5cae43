/***************************************************************************
 * xgrad: layers, MLPs, optimizers; gradients against PyTorch; XOR, moons   *
 * and three-class iris trained to the stated accuracies.                   *
 ***************************************************************************/
#include <cmath>

#include "reference/mlp_torch.hpp"
#include "reference/nn_torch.hpp"
#include "support.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/data/synthetic.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/metrics.hpp"
#include "xgrad/nn/activations.hpp"
#include "xgrad/nn/layers.hpp"
#include "xgrad/nn/normalization.hpp"
#include "xgrad/nn/predict.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/optim/training.hpp"

namespace xgrad {
namespace {

namespace ref = reference::mlp_torch;

array from_vector(const std::vector<double>& values, const shape_type& shape) {
    array a = array::from_shape(shape);
    std::copy(values.begin(), values.end(), a.begin());
    return a;
}

TEST(NeuralNetwork, MlpGradientsMatchPyTorch) {
    const array X = from_vector(ref::inputs, {6, 4});
    const Var labels = constant(from_vector(ref::labels, {6}));
    const std::pair<const char*, nn::Activation> activations[] = {
        {"relu", nn::Activation::relu},
        {"leaky_relu", nn::Activation::leaky_relu},
        {"tanh", nn::Activation::tanh},
        {"sigmoid", nn::Activation::sigmoid}};
    for (const ref::Case& c : ref::cases) {
        SCOPED_TRACE(c.activation);
        nn::Activation activation = nn::Activation::relu;
        for (const auto& [name, a] : activations) {
            if (std::string(name) == c.activation) activation = a;
        }
        nn::MLP net({4, 5, 4, 3}, activation, 1);
        std::vector<Var> params = net.parameters();  // W1, b1, W2, b2, W3, b3
        ASSERT_EQ(params.size(), 6u);
        for (std::size_t k = 0; k < 3; ++k) {
            params[2 * k].mutable_value() =
                from_vector(ref::weights[k], {ref::sizes[k], ref::sizes[k + 1]});
            params[2 * k + 1].mutable_value() = from_vector(ref::biases[k], {ref::sizes[k + 1]});
        }
        Var loss = cross_entropy(net(constant(X)), labels);
        loss.backward();
        EXPECT_LE(testing::relative_error(loss.item(), c.loss), 1e-14);
        for (std::size_t k = 0; k < 3; ++k) {
            // The reference lists W1, W2, W3 then b1, b2, b3.
            for (auto [param, expected] : {std::pair{params[2 * k], c.gradients[k]},
                                           std::pair{params[2 * k + 1], c.gradients[3 + k]}}) {
                const array reference = from_vector(expected, param.shape());
                EXPECT_LE(normwise_relative_error(param.grad(), reference), 1e-12) << "layer " << k;
            }
        }
    }
}

TEST(NeuralNetwork, InitialisationIsSeededAndScaled) {
    nn::Linear a(200, 100, 7, nn::Init::xavier_uniform);
    nn::Linear b(200, 100, 7, nn::Init::xavier_uniform);
    EXPECT_EQ(a.weight().value(), b.weight().value());
    EXPECT_EQ(a.bias().value(), (xt::zeros<double>({100})));
    const double bound = std::sqrt(6.0 / 300.0);
    double squares = 0.0;
    for (double w : a.weight().value()) {
        EXPECT_LE(std::abs(w), bound);
        squares += w * w;
    }
    // Var of U(−a, a) is a²/3 = 2/(in + out); 20 000 draws pin it to a few percent.
    EXPECT_NEAR(squares / 20000.0, 2.0 / 300.0, 0.05 * 2.0 / 300.0);
    nn::Linear he(400, 50, 9, nn::Init::he_normal);
    squares = 0.0;
    for (double w : he.weight().value()) squares += w * w;
    EXPECT_NEAR(squares / 20000.0, 2.0 / 400.0, 0.05 * 2.0 / 400.0);
    XGRAD_EXPECT_THROW_WITH(a(constant(xt::zeros<double>({3, 5}))), shape_error,
                            "Linear: expects a batch of shape (rows, 200), got (3,5)");
}

TEST(NeuralNetwork, SequentialComposesModules) {
    nn::Sequential net;
    net.add<nn::Linear>(3, 4, 1);
    net.add<nn::LeakyReLU>(0.2);
    net.add<nn::Linear>(4, 2, 2);
    EXPECT_EQ(net.parameters().size(), 4u);
    EXPECT_EQ(net(constant(xt::ones<double>({5, 3}))).shape(), (shape_type{5, 2}));
    nn::MLP mlp({2, 16, 16, 1}, nn::Activation::tanh, 3);
    EXPECT_EQ(mlp.modules().size(), 5u);  // Linear, Tanh, Linear, Tanh, Linear
}

/// @brief Sequential(Linear(3, 4), ReLU(), BatchNorm1d(4), Sequential(Linear(4, 5),
/// Dropout(0.5), LayerNorm({5})), BatchNorm1d(5, affine = false)), as the torch model of
/// scripts/reference/nn_torch.py.
std::shared_ptr<nn::Sequential> nested_model() {
    auto inner = std::make_shared<nn::Sequential>();
    inner->add<nn::Linear>(4, 5, 2);
    inner->add<nn::Dropout>(0.5, 3);
    inner->add<nn::LayerNorm>(shape_type{5});
    auto net = std::make_shared<nn::Sequential>();
    net->add<nn::Linear>(3, 4, 1);
    net->add<nn::ReLU>();
    net->add<nn::BatchNorm1d>(4);
    net->append(inner);
    net->add<nn::BatchNorm1d>(5, 1e-5, 0.1, false);
    return net;
}

TEST(Modules, NamedParametersAndBuffersHavePyTorchsNamesAndOrder) {
    const auto net = nested_model();
    std::vector<std::string> names, buffer_names;
    for (const auto& [name, v] : net->named_parameters()) names.push_back(name);
    for (const auto& [name, v] : net->named_buffers()) buffer_names.push_back(name);
    EXPECT_EQ(names, std::vector<std::string>(reference::nn_torch::parameter_names.begin(),
                                              reference::nn_torch::parameter_names.end()));
    EXPECT_EQ(buffer_names, std::vector<std::string>(reference::nn_torch::buffer_names.begin(),
                                                     reference::nn_torch::buffer_names.end()));
    // parameters() lists the same nodes in the same order; buffers() those of named_buffers()
    const std::vector<Var> params = net->parameters();
    const auto named = net->named_parameters();
    ASSERT_EQ(params.size(), named.size());
    for (std::size_t k = 0; k < params.size(); ++k) {
        EXPECT_EQ(params[k].node_ptr(), named[k].second.node_ptr()) << named[k].first;
        EXPECT_TRUE(params[k].requires_grad());
    }
    for (const Var& b : net->buffers()) EXPECT_FALSE(b.requires_grad());
    const auto& bn = dynamic_cast<const nn::BatchNorm&>(*net->modules()[2]);
    EXPECT_EQ(net->named_buffers()[0].second.node_ptr(), bn.running_mean().node_ptr());
    // Linear's own names; an MLP's layers sit at 0, 2, 4 with activations between
    nn::Linear linear(2, 3, 1);
    ASSERT_EQ(linear.named_parameters().size(), 2u);
    EXPECT_EQ(linear.named_parameters()[0].first, "weight");
    EXPECT_EQ(linear.named_parameters()[0].second.node_ptr(), linear.weight().node_ptr());
    EXPECT_EQ(linear.named_parameters()[1].first, "bias");
    nn::MLP mlp({2, 8, 8, 1}, nn::Activation::tanh, 4);
    std::vector<std::string> mlp_names;
    for (const auto& [name, v] : mlp.named_parameters()) mlp_names.push_back(name);
    EXPECT_EQ(mlp_names, (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias",
                                                   "4.weight", "4.bias"}));
    EXPECT_TRUE(mlp.named_buffers().empty());
}

TEST(Modules, TrainAndEvalReachEveryChild) {
    const auto net = nested_model();
    std::vector<const nn::Module*> all = {net.get()};
    for (std::size_t k = 0; k < all.size(); ++k) {
        for (const auto& child : all[k]->named_children()) all.push_back(child.second.get());
    }
    ASSERT_EQ(all.size(), 9u);  // the two Sequentials and seven layers
    for (const nn::Module* m : all) EXPECT_TRUE(m->is_training());
    net->eval();
    for (const nn::Module* m : all) EXPECT_FALSE(m->is_training());
    // eval: Dropout is the identity and the batch norms use their running statistics
    const Var x = constant(array{{1.0, 2.0, 3.0}});
    const array once = net->forward(x).value();  // a batch of one row: refused in training
    EXPECT_EQ(net->forward(x).value(), once);
    net->train();
    for (const nn::Module* m : all) EXPECT_TRUE(m->is_training());
    XGRAD_EXPECT_THROW_WITH(net->forward(x), shape_error,
                            "more than 1 value per channel when training");
    // a child switched on its own stays so until its parent switches again
    net->modules()[3]->eval();
    EXPECT_TRUE(net->is_training());
    EXPECT_FALSE(net->modules()[3]->named_children()[1].second->is_training());
    net->train(true);
    EXPECT_TRUE(net->modules()[3]->named_children()[1].second->is_training());
}

/// @brief A module registering what a test gives it.
class Registering : public nn::Module {
  public:
    Var forward(const Var& x) override { return x; }
    using Module::register_buffer;
    using Module::register_module;
    using Module::register_parameter;
};

TEST(Modules, RegistrationRefusesBadNamesAndLeaves) {
    Registering m;
    const Var w = m.register_parameter("w", parameter(array{1.0}));
    EXPECT_EQ(m.parameters().size(), 1u);
    EXPECT_EQ(m.parameters()[0].node_ptr(), w.node_ptr());
    XGRAD_EXPECT_THROW_WITH(m.register_parameter("w", parameter(1.0)), std::invalid_argument,
                            "Module: the name 'w' is registered already");
    XGRAD_EXPECT_THROW_WITH(m.register_buffer("w", constant(1.0)), std::invalid_argument,
                            "registered already");
    XGRAD_EXPECT_THROW_WITH(m.register_parameter("a.b", parameter(1.0)), std::invalid_argument,
                            "Module: the name 'a.b' must be non-empty and hold no '.'");
    XGRAD_EXPECT_THROW_WITH(m.register_parameter("", parameter(1.0)), std::invalid_argument,
                            "must be non-empty");
    XGRAD_EXPECT_THROW_WITH(m.register_parameter("c", constant(1.0)), graph_error,
                            "Module: parameter 'c' must be a parameter() leaf, got 'constant'");
    XGRAD_EXPECT_THROW_WITH(m.register_parameter("d", w * 2.0), graph_error, "got 'mul'");
    XGRAD_EXPECT_THROW_WITH(m.register_buffer("e", parameter(1.0)), graph_error,
                            "Module: buffer 'e' must be a constant() leaf, got 'parameter'");
    XGRAD_EXPECT_THROW_WITH(m.register_module("f", nullptr), std::invalid_argument,
                            "Module: child 'f' is null");
    XGRAD_EXPECT_THROW_WITH(nn::Sequential({std::make_shared<nn::ReLU>(), nullptr}),
                            std::invalid_argument, "Sequential: module 1 is null");
    // a Sequential made from a list names its children by position, and shares them
    auto layer = std::make_shared<nn::Linear>(2, 2, 1);
    nn::Sequential list({std::make_shared<nn::ReLU>(), layer});
    EXPECT_EQ(list.named_parameters()[0].first, "1.weight");
    EXPECT_EQ(list.parameters()[0].node_ptr(), layer->weight().node_ptr());
}

TEST(Modules, AModuleAppendedTwiceListsItsParametersOnce) {
    // The same Linear twice in a Sequential: its Vars are listed once (the first name wins, as
    // PyTorch's remove_duplicate), so an optimizer steps each once, by lr times the gradient
    // summed over both uses.
    auto layer = std::make_shared<nn::Linear>(2, 2, 7);
    auto norm = std::make_shared<nn::BatchNorm1d>(2);
    nn::Sequential net;
    net.append(layer);
    net.append(norm);
    net.append(layer);
    net.append(norm);
    std::vector<std::string> names, buffer_names;
    for (const auto& [name, v] : net.named_parameters()) names.push_back(name);
    for (const auto& [name, v] : net.named_buffers()) buffer_names.push_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias"}));
    EXPECT_EQ(buffer_names, (std::vector<std::string>{"1.running_mean", "1.running_var",
                                                      "1.num_batches_tracked"}));
    const std::vector<Var> params = net.parameters();
    ASSERT_EQ(params.size(), 4u);
    EXPECT_EQ(params[0].node_ptr(), layer->weight().node_ptr());
    EXPECT_EQ(params[1].node_ptr(), layer->bias().node_ptr());
    EXPECT_EQ(net.buffers().size(), 3u);

    const double lr = 0.125;
    optim::SGD sgd(net.parameters(), lr);
    sgd.zero_grad();
    sum(net(constant(array{{1.0, -2.0}, {0.5, 3.0}, {-1.5, 0.25}}))).backward();
    const array bias = layer->bias().value();
    const array grad = layer->bias().grad();
    ASSERT_GT(xt::amax(xt::abs(grad))(), 0.0);
    sgd.step();
    EXPECT_EQ(layer->bias().value(), bias - lr * grad);
}

TEST(Optimizers, SgdAndAdamSteps) {
    // f = Σ p², ∇f = 2p.
    Var p = parameter({1.0, -2.0});
    auto gradient_step = [&](optim::Optimizer& opt) {
        opt.zero_grad();
        sum(p * p).backward();
        opt.step();
    };
    optim::SGD plain({p}, 0.1);
    gradient_step(plain);
    EXPECT_EQ(p.value(), (array{0.8, -1.6}));

    p.mutable_value() = array{1.0, -2.0};
    optim::SGD momentum({p}, 0.1, 0.9);
    gradient_step(momentum);  // b = g = 2, p = 0.8
    gradient_step(momentum);  // g = 1.6, b = 0.9·2 + 1.6 = 3.4, p = 0.8 − 0.34
    EXPECT_DOUBLE_EQ(p.value()(0), 0.8 - 0.1 * 3.4);

    p.mutable_value() = array{1.0, -2.0};
    optim::SGD nesterov({p}, 0.1, 0.9, true);
    gradient_step(nesterov);  // b = 2, d = 2 + 0.9·2 = 3.8
    EXPECT_DOUBLE_EQ(p.value()(0), 1.0 - 0.1 * 3.8);

    p.mutable_value() = array{1.0, -2.0};
    optim::Adam adam({p}, 0.01);
    gradient_step(adam);  // first step moves each entry by lr·g/(|g| + ε')
    EXPECT_NEAR(p.value()(0), 1.0 - 0.01, 1e-9);
    EXPECT_NEAR(p.value()(1), -2.0 + 0.01, 1e-9);

    XGRAD_EXPECT_THROW_WITH(optim::SGD({p * 2.0}, 0.1), graph_error, "parameter() leaves");
    XGRAD_EXPECT_THROW_WITH(optim::SGD({p}, 0.0), std::invalid_argument,
                            "learning rate must be > 0");
}

using metrics::accuracy;
using nn::predict_labels;

/// @brief Trains a one-logit network on the mean BCE with Adam.
void train_binary(nn::Module& net, const array& X, const array& y, double rate,
                  EpochOptions epochs) {
    optim::Adam adam(net.parameters(), rate);
    train_minibatches(
        X, y,
        [&net](const Var& features, const Var& targets) {
            return bce_with_logits(reshape(net(features), targets.shape()), targets);
        },
        net.parameters(), [&adam] { adam.step(); }, epochs);
}

TEST(NeuralNetwork, XorWithA241Mlp) {
    const array X = {{0.0, 0.0}, {0.0, 1.0}, {1.0, 0.0}, {1.0, 1.0}};
    const array y = {0.0, 1.0, 1.0, 0.0};
    nn::MLP net({2, 4, 1}, nn::Activation::tanh, 42);
    train_binary(net, X, y, 0.05, {500, 0, 0});
    EXPECT_EQ(predict_labels(net, X), y);
}

TEST(NeuralNetwork, MoonsMlpBeatsLogisticRegression) {
    const data::Dataset moons = data::make_moons(1000, 0.2, 7);
    const data::Split split = data::train_test_split(moons.features, moons.labels, 0.3, 11);
    nn::MLP net({2, 16, 16, 1}, nn::Activation::relu, 5);
    train_binary(net, split.X_train, split.y_train, 0.01, {300, 32, 13});
    const double mlp_accuracy = accuracy(predict_labels(net, split.X_test), split.y_test);
    models::LogisticRegression linear;
    linear.fit(split.X_train, split.y_train, {0.1, 2000, 0, 0});
    const double linear_accuracy = accuracy(linear.predict(split.X_test), split.y_test);
    EXPECT_GE(mlp_accuracy, 0.95);
    EXPECT_LE(linear_accuracy, 0.90);
    RecordProperty("mlp_test_accuracy", std::to_string(mlp_accuracy));
    RecordProperty("logistic_test_accuracy", std::to_string(linear_accuracy));
}

TEST(NeuralNetwork, IrisThreeClasses) {
    const data::Dataset iris = data::read_csv(XGRAD_DATA_DIR "/iris.csv", "species");
    const data::Split split = data::train_test_split(iris.features, iris.labels, 0.3, 2026);
    data::Standardizer scaler;
    const array X_train = scaler.fit_transform(split.X_train);
    const array X_test = scaler.transform(split.X_test);
    for (bool hidden_layer : {false, true}) {
        SCOPED_TRACE(hidden_layer ? "MLP 4-16-3" : "softmax regression");
        std::unique_ptr<nn::Module> net;
        if (hidden_layer) {
            net = std::make_unique<nn::MLP>(std::vector<std::size_t>{4, 16, 3},
                                            nn::Activation::tanh, 3);
        } else {
            net = std::make_unique<nn::Linear>(4, 3, 3);
        }
        optim::Adam adam(net->parameters(), 0.05);
        nn::Module& model = *net;
        const auto history = train_minibatches(
            X_train, split.y_train,
            [&model](const Var& features, const Var& targets) {
                return cross_entropy(model(features), targets);
            },
            model.parameters(), [&adam] { adam.step(); }, {300, 0, 0});
        EXPECT_LT(history.back(), history.front());
        EXPECT_GE(accuracy(predict_labels(model, X_test), split.y_test), 0.95);
    }
}

}  // namespace
}  // namespace xgrad
