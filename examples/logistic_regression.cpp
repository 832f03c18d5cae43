/***************************************************************************
 * xgrad example: logistic regression as a graph.                           *
 *                                                                          *
 * Part 1 walks through the course's worked examples: z = Xθ, ŷ = σ(z), the *
 * mean binary cross-entropy, backprop's gradient beside the analytic       *
 * (1/m)·Xᵀ(ŷ − y), and one gradient-descent step. Part 2 trains on the     *
 * iris petal features (setosa vs versicolor).                              *
 *                                                                          *
 * Usage: logistic_regression [DATA_DIR]                                    *
 ***************************************************************************/
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <xtensor/xview.hpp>

#include "example_data.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/metrics.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xgrad::array;
using xgrad::Var;

/// @brief The label padded to `width` characters (not bytes: θ, ŷ and ∇ take two or three).
std::string padded(const std::string& label, std::size_t width = 22) {
    std::size_t characters = 0;
    for (unsigned char c : label) characters += (c & 0xC0) != 0x80 ? 1 : 0;
    return label + std::string(width > characters ? width - characters : 0, ' ');
}

void print_row(const char* label, const array& values) {
    std::printf("  %s [", padded(label).c_str());
    for (std::size_t i = 0; i < values.size(); ++i) {
        std::printf("%s%.15f", i ? ", " : "", values.data()[i]);
    }
    std::printf("]\n");
}

/// @brief One step of the worked example: forward, backward, compare, update.
void worked_example(const char* title, const array& X_data, const array& y_data) {
    const double learning_rate = 0.01;
    std::printf("\n%s (m = %zu, bias folded into θ as a column of ones)\n", title, y_data.size());
    Var X = xgrad::constant(X_data);
    Var y = xgrad::constant(y_data);
    Var theta = xgrad::parameter({0.1, 0.5, -0.1});
    Var z = xgrad::matmul(X, theta);
    Var y_hat = xgrad::sigmoid(z);
    Var loss = -xgrad::mean(y * xgrad::log(y_hat) + (1.0 - y) * xgrad::log(1.0 - y_hat));
    loss.backward();

    // The analytic gradient of the mean BCE, written out independently of the graph.
    const auto m = static_cast<double>(y_data.size());
    const array residual = y_hat.value() - y_data;
    const array analytic = xt::sum(X_data * xt::view(residual, xt::all(), xt::newaxis()), {0}) / m;

    print_row("θ", theta.value());
    print_row("z = Xθ", z.value());
    print_row("ŷ = σ(z)", y_hat.value());
    std::printf("  %s %.15f\n", padded("loss (mean BCE)").c_str(), loss.item());
    print_row("∇θ by backprop", theta.grad());
    print_row("(1/m)·Xᵀ(ŷ − y)", analytic);
    double worst = 0.0;
    for (std::size_t j = 0; j < analytic.size(); ++j) {
        worst = std::max(worst, std::abs(theta.grad()(j) - analytic(j)) / std::abs(analytic(j)));
    }
    std::printf("  %s %.2e\n", padded("max relative diff").c_str(), worst);
    xt::noalias(theta.mutable_value()) -= learning_rate * theta.grad();
    print_row("θ − η∇θ (η = 0.01)", theta.value());
}

int train_on_iris(const std::string& data_dir) {
    const std::string path = data_dir + "/iris.csv";
    const xgrad::data::Dataset iris = xgrad::examples::iris_petals(data_dir);
    const array& X = iris.features;
    const array& y = iris.labels;

    std::printf("\nTraining on %s: %zu rows, features petal_length and petal_width\n", path.c_str(),
                y.size());
    std::printf("batch gradient descent, η = 0.1, 1000 epochs, loss = bce_with_logits\n");
    xgrad::models::LogisticRegression model;
    xgrad::models::TrainOptions options;
    options.learning_rate = 0.1;
    options.epochs = 1000;
    model.fit(X, y, options);

    const auto& history = model.loss_history();
    for (std::size_t epoch : {0, 1, 9, 99, 499, 999}) {
        std::printf("  epoch %4zu  loss %.6f\n", epoch + 1, history[epoch]);
    }
    bool monotonic = true;
    for (std::size_t e = 1; e < history.size(); ++e)
        monotonic = monotonic && history[e] < history[e - 1];
    const array predicted = model.predict(X);
    const double accuracy = xgrad::metrics::accuracy(predicted, y);
    std::printf("  loss decreased at every epoch: %s\n", monotonic ? "yes" : "no");
    std::printf("  weights [%.6f, %.6f], bias %.6f\n", model.weights().value()(0),
                model.weights().value()(1), model.bias().value()());
    std::printf("  training accuracy: %.1f %%\n", 100.0 * accuracy);
    return monotonic && accuracy == 1.0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        std::printf("xgrad: logistic regression as a computation graph\n");
        worked_example("Worked example 1: mini-batch", array{{1.0, 1.5, 0.2}, {1.0, 4.1, 1.3}},
                       array{0.0, 1.0});
        worked_example("Worked example 2: full batch",
                       array{{1.0, 1.4, 0.2}, {1.0, 1.5, 0.2}, {1.0, 3.0, 1.1}, {1.0, 4.1, 1.3}},
                       array{0.0, 0.0, 1.0, 1.0});
        return train_on_iris(argc > 1 ? argv[1] : XGRAD_DATA_DIR);
    } catch (const std::exception& error) {
        std::fprintf(stderr, "logistic_regression: %s\n", error.what());
        return 2;
    }
}
