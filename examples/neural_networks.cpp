/***************************************************************************
 * xgrad example: small neural networks on the same engine.                 *
 *                                                                          *
 * XOR with a 2-4-1 MLP; two half-moons where a 2-16-16-1 MLP beats         *
 * logistic regression (decision regions of both in one SVG); three-class  *
 * iris with softmax regression and a 4-16-3 MLP.                           *
 *                                                                          *
 * Usage: neural_networks [DATA_DIR] [OUT_DIR]                              *
 ***************************************************************************/
#include <cstdio>
#include <memory>

#include "example_data.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/data/synthetic.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/metrics.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/predict.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/training.hpp"
#include "xgrad/plot/svg_plot.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xgrad::array;
using xgrad::Var;

/// @brief Adam on the mean BCE of a network with one output logit; returns the loss history.
std::vector<double> train_binary(xgrad::nn::Module& net, const array& X, const array& y,
                                 double rate, xgrad::EpochOptions epochs) {
    xgrad::optim::Adam adam(net.parameters(), rate);
    return xgrad::train_minibatches(
        X, y,
        [&net](const Var& features, const Var& targets) {
            return xgrad::bce_with_logits(xgrad::reshape(net(features), targets.shape()), targets);
        },
        net.parameters(), [&adam] { adam.step(); }, epochs);
}

bool xor_problem() {
    const array X = {{0.0, 0.0}, {0.0, 1.0}, {1.0, 0.0}, {1.0, 1.0}};
    const array y = {0.0, 1.0, 1.0, 0.0};
    xgrad::nn::MLP net({2, 4, 1}, xgrad::nn::Activation::tanh, 42);
    const auto history = train_binary(net, X, y, 0.05, {500, 0, 0});
    const array p = xgrad::sigmoid(xgrad::constant(xgrad::nn::predict_outputs(net, X))).value();
    std::printf("XOR, 2-4-1 MLP (tanh), Adam lr 0.05, 500 full-batch steps: loss %.4f -> %.2e\n",
                history.front(), history.back());
    for (std::size_t i = 0; i < 4; ++i) {
        std::printf("  (%g, %g) -> P(1) = %.4f, label %g\n", X(i, 0), X(i, 1), p.data()[i], y(i));
    }
    const double acc = xgrad::metrics::accuracy(xgrad::nn::predict_labels(net, X), y);
    std::printf("  accuracy %.0f %%\n\n", 100.0 * acc);
    return acc == 1.0;
}

bool moons(const std::string& out_dir) {
    const xgrad::data::Dataset moons = xgrad::data::make_moons(1000, 0.2, 7);
    const auto split = xgrad::data::train_test_split(moons.features, moons.labels, 0.3, 11);
    xgrad::nn::MLP net({2, 16, 16, 1}, xgrad::nn::Activation::relu, 5);
    train_binary(net, split.X_train, split.y_train, 0.01, {300, 32, 13});
    const double mlp =
        xgrad::metrics::accuracy(xgrad::nn::predict_labels(net, split.X_test), split.y_test);
    xgrad::models::LogisticRegression linear;
    linear.fit(split.X_train, split.y_train, {0.1, 2000, 0, 0});
    const double logistic = xgrad::metrics::accuracy(linear.predict(split.X_test), split.y_test);
    std::printf("Two moons (1000 points, noise 0.2; 700 train / 300 test)\n");
    std::printf("  logistic regression:             test accuracy %.1f %%\n", 100.0 * logistic);
    std::printf("  2-16-16-1 MLP (ReLU, Adam, b=32): test accuracy %.1f %%\n", 100.0 * mlp);

    auto panel = [&](const std::string& title, std::function<double(double, double)> p) {
        xgrad::plot::DecisionPanel d{title, {}, {}, {}, std::move(p), "x₁", "x₂"};
        for (std::size_t i = 0; i < split.y_test.size(); ++i) {
            d.x.push_back(split.X_test(i, 0));
            d.y.push_back(split.X_test(i, 1));
            d.labels.push_back(split.y_test(i));
        }
        return d;
    };
    char mlp_title[64];
    char linear_title[64];
    std::snprintf(linear_title, sizeof linear_title, "logistic regression: %.1f %%",
                  100.0 * logistic);
    std::snprintf(mlp_title, sizeof mlp_title, "2-16-16-1 MLP: %.1f %%", 100.0 * mlp);
    const std::string path = out_dir + "/moons_decision_regions.svg";
    xgrad::write_file_atomically(
        path, xgrad::plot::decision_regions_svg(
                  {panel(linear_title,
                         [&](double a, double b) {
                             return linear.predict_proba(array{{a, b}})(0);
                         }),
                   panel(mlp_title,
                         [&](double a, double b) {
                             const array z = xgrad::nn::predict_outputs(net, array{{a, b}});
                             return 1.0 / (1.0 + std::exp(-z.data()[0]));
                         })},
                  "Two moons: decision regions and test points"));
    std::printf("  plot: %s\n\n", path.c_str());
    return mlp >= 0.95;
}

bool iris(const std::string& data_dir) {
    const auto iris = xgrad::data::read_csv(data_dir + "/iris.csv", "species");
    const auto split = xgrad::data::train_test_split(iris.features, iris.labels, 0.3, 2026);
    xgrad::data::Standardizer scaler;
    const array X_train = scaler.fit_transform(split.X_train);
    const array X_test = scaler.transform(split.X_test);
    std::printf(
        "Iris, 3 classes, 4 features (stratified split: %zu train / %zu test, standardised)\n",
        split.y_train.size(), split.y_test.size());
    bool ok = true;
    for (bool hidden : {false, true}) {
        std::unique_ptr<xgrad::nn::Module> net;
        if (hidden) {
            net = std::make_unique<xgrad::nn::MLP>(std::vector<std::size_t>{4, 16, 3},
                                                   xgrad::nn::Activation::tanh, 3);
        } else {
            net = std::make_unique<xgrad::nn::Linear>(4, 3, 3);
        }
        xgrad::nn::Module& model = *net;
        xgrad::optim::Adam adam(model.parameters(), 0.05);
        const auto history = xgrad::train_minibatches(
            X_train, split.y_train,
            [&model](const Var& f, const Var& t) { return xgrad::cross_entropy(model(f), t); },
            model.parameters(), [&adam] { adam.step(); }, {300, 0, 0});
        const double acc =
            xgrad::metrics::accuracy(xgrad::nn::predict_labels(model, X_test), split.y_test);
        std::printf("  %-22s cross-entropy %.4f -> %.4f, test accuracy %.1f %%\n",
                    hidden ? "4-16-3 MLP (tanh)" : "softmax regression", history.front(),
                    history.back(), 100.0 * acc);
        ok = ok && acc >= 0.95;
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const auto [data_dir, out_dir] = xgrad::examples::parse_arguments(argc, argv);
        const bool ok = xor_problem() & moons(out_dir) & iris(data_dir);
        return ok ? 0 : 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "neural_networks: %s\n", error.what());
        return 2;
    }
}
