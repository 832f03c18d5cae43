/***************************************************************************
 * xgrad example: the course's loss experiments.                            *
 *                                                                          *
 * 1. Sigmoid + MSE against sigmoid + BCE from a saturated start: MSE's     *
 *    gradient carries a factor ŷ(1 − ŷ) that vanishes, BCE's does not.     *
 * 2. A tanh output rescaled to (0, 1) with BCE: its gradient simplifies to *
 *    xᵢ·(ŷ + 1 − 2y).                                                      *
 * 3. Linear regression by the graph: house prices, and a generated line.   *
 * Every autodiff gradient is printed beside its closed form.               *
 *                                                                          *
 * Usage: loss_experiments [DATA_DIR] [OUT_DIR]                             *
 ***************************************************************************/
#include <cmath>
#include <cstdio>

#include "example_data.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/models/metrics.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/optim/training.hpp"
#include "xgrad/plot/svg_plot.hpp"
#include "xgrad/xgrad.hpp"

namespace {

using xgrad::array;
using xgrad::Var;

using xgrad::normwise_relative_error;

/// @brief (1/m)·Σᵢ xᵢ·rᵢ for per-sample factors r: the shape every closed form here takes.
array weighted_rows(const array& X, const array& r) {
    array g = xt::zeros<double>({X.shape()[1]});
    for (std::size_t i = 0; i < X.shape()[0]; ++i) {
        for (std::size_t j = 0; j < X.shape()[1]; ++j)
            g(j) += X(i, j) * r(i) / static_cast<double>(X.shape()[0]);
    }
    return g;
}

/// @brief Trains w (and b) from the saturated start w = −10, b = −10 with gradient descent on
/// the loss of σ(Xw + b); returns the loss per epoch and the final training accuracy.
std::pair<std::vector<double>, double> train_from_saturation(const array& X, const array& y,
                                                             bool use_mse, std::size_t epochs,
                                                             double rate) {
    Var w = xgrad::parameter(xt::full_like(array::from_shape({X.shape()[1]}), -10.0));
    Var b = xgrad::parameter(-10.0);
    xgrad::optim::SGD sgd({w, b}, rate);
    const auto history = xgrad::train_minibatches(
        X, y,
        [&](const Var& f, const Var& t) {
            Var p = xgrad::sigmoid(xgrad::matmul(f, w) + b);
            return use_mse ? xgrad::mse(p, t) : xgrad::binary_cross_entropy(p, t);
        },
        {w, b}, [&sgd] { sgd.step(); }, {epochs, 0, 0});
    xgrad::no_grad scope;
    const array z = (xgrad::matmul(xgrad::constant(X), w) + b).value();
    array predicted = array::from_shape({y.size()});
    for (std::size_t i = 0; i < y.size(); ++i) predicted(i) = z(i) > 0.0 ? 1.0 : 0.0;
    return {history, xgrad::metrics::accuracy(predicted, y)};
}

bool mse_against_bce(const array& X, const array& y, const std::string& out_dir) {
    std::printf("1. Sigmoid + MSE against sigmoid + BCE (iris petals, standardised)\n");
    // The gradient at the saturated start, autodiff beside the closed forms.
    Var w = xgrad::parameter(xt::full_like(array::from_shape({X.shape()[1]}), -10.0));
    Var b = xgrad::parameter(-10.0);
    Var p = xgrad::sigmoid(xgrad::matmul(xgrad::constant(X), w) + b);
    const array y_hat = p.value();
    const array mse_grad = xgrad::grad(xgrad::mse(p, xgrad::constant(y)), {w})[0].value();
    const array bce_grad =
        xgrad::grad(xgrad::binary_cross_entropy(p, xgrad::constant(y)), {w})[0].value();
    const array mse_closed = weighted_rows(X, 2.0 * (y_hat - y) * y_hat * (1.0 - y_hat));
    const array bce_closed = weighted_rows(X, y_hat - y);
    std::printf(
        "   at w = (-10, -10), b = -10 the samples sit on the wrong side, saturated:\n"
        "   mean ŷ(1 − ŷ) = %.1e (it is 0.25 at z = 0), mean |ŷ − y| = %.3f\n",
        xt::mean(y_hat * (1.0 - y_hat))(), xt::mean(xt::abs(y_hat - y))());
    std::printf("   MSE gradient %+.3e %+.3e, closed form 2·x·(ŷ−y)·ŷ(1−ŷ) agrees to %.1e\n",
                mse_grad(0), mse_grad(1), normwise_relative_error(mse_grad, mse_closed));
    std::printf("   BCE gradient %+.3e %+.3e, closed form x·(ŷ−y) agrees to %.1e\n", bce_grad(0),
                bce_grad(1), normwise_relative_error(bce_grad, bce_closed));
    const auto [mse_history, mse_accuracy] = train_from_saturation(X, y, true, 300, 0.5);
    const auto [bce_history, bce_accuracy] = train_from_saturation(X, y, false, 300, 0.5);
    for (std::size_t epoch : {0, 9, 99, 299}) {
        std::printf("   epoch %3zu: MSE loss %.6f   BCE loss %.6f\n", epoch + 1, mse_history[epoch],
                    bce_history[epoch]);
    }
    std::printf("   after 300 epochs (lr 0.5): MSE accuracy %.0f %%, BCE accuracy %.0f %%\n",
                100.0 * mse_accuracy, 100.0 * bce_accuracy);
    xgrad::plot::Series mse_series{"sigmoid + MSE", {}, mse_history, false};
    xgrad::plot::Series bce_series{"sigmoid + BCE", {}, bce_history, false};
    for (std::size_t e = 0; e < mse_history.size(); ++e) {
        mse_series.x.push_back(static_cast<double>(e + 1));
        bce_series.x.push_back(static_cast<double>(e + 1));
    }
    const std::string path = out_dir + "/mse_vs_bce.svg";
    xgrad::write_file_atomically(
        path, xgrad::plot::line_plot_svg({mse_series, bce_series},
                                         {"Training from a saturated start (w = b = -10)", "epoch",
                                          "training loss", false, true, 760, 480}));
    std::printf("   plot: %s\n\n", path.c_str());
    return bce_accuracy == 1.0 && normwise_relative_error(mse_grad, mse_closed) < 1e-12;
}

bool tanh_output(const array& X, const array& y) {
    std::printf("2. Tanh output: ŷ = tanh(z), ŷs = (ŷ + 1)/2, BCE on ŷs\n");
    xgrad::Random random(5);
    array w0 = array::from_shape({X.shape()[1]});
    for (double& v : w0) v = random.normal(0.0, 0.5);
    Var w = xgrad::parameter(w0);
    auto loss_of = [&w](const Var& f, const Var& t) {
        const Var y_hat = xgrad::tanh(xgrad::matmul(f, w));
        return xgrad::binary_cross_entropy((y_hat + 1.0) / 2.0, t);
    };
    const Var loss = loss_of(xgrad::constant(X), xgrad::constant(y));
    const array autodiff = xgrad::grad(loss, {w})[0].value();
    const array y_hat = xt::tanh(xgrad::matmul(xgrad::constant(X), w).value());
    const array closed = weighted_rows(X, y_hat + 1.0 - 2.0 * y);
    std::printf("   gradient %+.6f %+.6f, closed form x·(ŷ + 1 − 2y) agrees to %.1e\n", autodiff(0),
                autodiff(1), normwise_relative_error(autodiff, closed));
    xgrad::optim::SGD sgd({w}, 0.1);
    const auto history =
        xgrad::train_minibatches(X, y, loss_of, {w}, [&sgd] { sgd.step(); }, {500, 0, 0});
    xgrad::no_grad scope;
    const array z = xgrad::matmul(xgrad::constant(X), w).value();
    array predicted = array::from_shape({y.size()});
    for (std::size_t i = 0; i < y.size(); ++i) predicted(i) = z(i) > 0.0 ? 1.0 : 0.0;
    const double accuracy = xgrad::metrics::accuracy(predicted, y);
    std::printf("   trained 500 epochs (lr 0.1): loss %.4f -> %.4f, accuracy %.0f %%\n\n",
                history.front(), history.back(), 100.0 * accuracy);
    return accuracy == 1.0 && normwise_relative_error(autodiff, closed) < 1e-12;
}

/// @brief Least squares by the normal equations for one feature: the exact answer to compare.
std::pair<double, double> least_squares_line(const array& x, const array& y) {
    const auto m = static_cast<double>(y.size());
    double sx = 0.0, sy = 0.0, sxx = 0.0, sxy = 0.0;
    for (std::size_t i = 0; i < y.size(); ++i) {
        sx += x(i, 0);
        sy += y(i);
        sxx += x(i, 0) * x(i, 0);
        sxy += x(i, 0) * y(i);
    }
    const double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
    return {slope, (sy - slope * sx) / m};
}

bool linear_regression(const xgrad::data::Dataset& houses) {
    std::printf("3. Linear regression by the graph, ŷ = w·x + b, loss = mean (ŷ − y)²\n");
    bool ok = true;
    xgrad::Random random(8);
    xgrad::data::Dataset line;
    line.features = array::from_shape({200, 1});
    line.labels = array::from_shape({200});
    for (std::size_t i = 0; i < 200; ++i) {
        line.features(i, 0) = random.uniform(-5.0, 5.0);
        line.labels(i) = 3.0 * line.features(i, 0) + 2.0 + random.normal(0.0, 0.5);
    }
    for (const auto& [name, d] : {std::pair{"house prices (size → price)", houses},
                                  std::pair{"generated y = 3x + 2 + N(0, 0.5²)", line}}) {
        xgrad::data::Standardizer scaler;
        const array X = scaler.fit_transform(d.features);
        // The gradient at w = 0.5, b = 0 beside the closed form 2·x·(ŷ − y).
        Var w = xgrad::parameter(array{0.5});
        Var b = xgrad::parameter(0.0);
        Var y_hat = xgrad::matmul(xgrad::constant(X), w) + b;
        const array autodiff =
            xgrad::grad(xgrad::mse(y_hat, xgrad::constant(d.labels)), {w})[0].value();
        const array closed = weighted_rows(X, 2.0 * (y_hat.value() - d.labels));
        xgrad::models::LinearRegression model;
        model.fit(X, d.labels, {0.1, 1000, 0, 0});
        // Back to the original units: ŷ = w·(x − μ)/σ + b.
        const double slope = model.weights().value()(0) / scaler.scale()(0);
        const double intercept = model.bias().value()() - slope * scaler.mean()(0);
        const auto [exact_slope, exact_intercept] = least_squares_line(d.features, d.labels);
        std::printf("   %s: gradient agrees with 2·x·(ŷ − y) to %.1e\n", name,
                    normwise_relative_error(autodiff, closed));
        std::printf(
            "     gradient descent: w = %.6f, b = %.6f; least squares: w = %.6f, b = %.6f\n", slope,
            intercept, exact_slope, exact_intercept);
        ok = ok && normwise_relative_error(autodiff, closed) < 1e-12 &&
             std::abs(slope - exact_slope) < 1e-8 * std::abs(exact_slope);
    }
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const auto [data_dir, out_dir] = xgrad::examples::parse_arguments(argc, argv);
        const xgrad::data::Dataset petals = xgrad::examples::iris_petals(data_dir);
        const array X = xgrad::data::Standardizer().fit_transform(petals.features);
        const bool ok = mse_against_bce(X, petals.labels, out_dir) & tanh_output(X, petals.labels) &
                        linear_regression(xgrad::examples::house_prices());
        return ok ? 0 : 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "loss_experiments: %s\n", error.what());
        return 2;
    }
}
