/***************************************************************************
 * xgrad: the course's loss experiments, as checks: closed-form gradients,  *
 * MSE's vanishing gradient at saturation, the tanh output, and linear      *
 * regression against least squares.                                        *
 ***************************************************************************/
#include <cmath>

#include "support.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/optim/sgd.hpp"
#include "xgrad/optim/training.hpp"

namespace xgrad {
namespace {

/// @brief Standardised iris petal features, setosa (0) against versicolor (1).
struct Petals {
    array X;
    array y;
};

Petals petals() {
    const data::Dataset d = data::where_label(
        data::read_csv(XGRAD_DATA_DIR "/iris.csv", "species", {"petal_length", "petal_width"}),
        [](double species) { return species <= 1.0; });
    return {data::Standardizer().fit_transform(d.features), d.labels};
}

/// @brief (1/m)·Σᵢ xᵢ·rᵢ.
array weighted_rows(const array& X, const array& r) {
    array g = xt::zeros<double>({X.shape()[1]});
    for (std::size_t i = 0; i < X.shape()[0]; ++i) {
        for (std::size_t j = 0; j < X.shape()[1]; ++j) {
            g(j) += X(i, j) * r(i) / static_cast<double>(X.shape()[0]);
        }
    }
    return g;
}

double norm(const array& a) {
    return std::sqrt(xt::sum(a * a)());
}

TEST(LossExperiments, SigmoidMseGradientHasClosedForm) {
    const Petals d = petals();
    Random random(3);
    for (int trial = 0; trial < 5; ++trial) {
        Var w = parameter(array{random.normal(), random.normal()});
        Var p = sigmoid(matmul(constant(d.X), w));
        const array y_hat = p.value();
        const array autodiff = grad(mse(p, constant(d.y)), {w})[0].value();
        const array closed = weighted_rows(d.X, 2.0 * (y_hat - d.y) * y_hat * (1.0 - y_hat));
        EXPECT_LE(testing::max_relative_error(autodiff, closed), 1e-12);
    }
}

TEST(LossExperiments, MseGradientVanishesFromASaturatedStartWhereBceDoesNot) {
    const Petals d = petals();
    auto start = [&] {
        return std::pair{parameter(xt::full_like(array::from_shape({2}), -10.0)), parameter(-10.0)};
    };
    auto [w, b] = start();
    Var p = sigmoid(matmul(constant(d.X), w) + b);
    const double mse_gradient = norm(grad(mse(p, constant(d.y)), {w})[0].value());
    const double bce_gradient = norm(grad(binary_cross_entropy(p, constant(d.y)), {w})[0].value());
    EXPECT_LT(mse_gradient, 0.01 * bce_gradient);  // measured: 3.4e-3 against 1.4

    for (bool use_mse : {true, false}) {
        auto [w0, b0] = start();
        optim::SGD sgd({w0, b0}, 0.5);
        const auto history = train_minibatches(
            d.X, d.y,
            [&, w0 = w0, b0 = b0](const Var& f, const Var& t) {
                Var q = sigmoid(matmul(f, w0) + b0);
                return use_mse ? mse(q, t) : binary_cross_entropy(q, t);
            },
            {w0, b0}, [&sgd] { sgd.step(); }, {300, 0, 0});
        if (use_mse) {
            EXPECT_GT(history.back(), 0.95 * history.front());  // stuck: 0.996 → 0.985
        } else {
            EXPECT_LT(history.back(), 0.01);  // 19.3 → 0.0069
        }
    }
}

TEST(LossExperiments, TanhOutputGradientSimplifies) {
    const Petals d = petals();
    Random random(5);
    Var w = parameter(array{random.normal(0.0, 0.5), random.normal(0.0, 0.5)});
    auto loss_of = [&w](const Var& f, const Var& t) {
        return binary_cross_entropy((tanh(matmul(f, w)) + 1.0) / 2.0, t);
    };
    const array autodiff = grad(loss_of(constant(d.X), constant(d.y)), {w})[0].value();
    const array y_hat = xt::tanh(matmul(constant(d.X), w).value());
    EXPECT_LE(testing::max_relative_error(autodiff, weighted_rows(d.X, y_hat + 1.0 - 2.0 * d.y)),
              1e-12);

    optim::SGD sgd({w}, 0.1);
    train_minibatches(d.X, d.y, loss_of, {w}, [&sgd] { sgd.step(); }, {500, 0, 0});
    const array z = matmul(constant(d.X), w).value();
    for (std::size_t i = 0; i < d.y.size(); ++i) EXPECT_EQ(z(i) > 0.0, d.y(i) == 1.0) << i;
}

TEST(LossExperiments, LinearRegressionOnHousePrices) {
    // The course's table: size (ft²) → price ($1000s).
    const array sizes = testing::column({2104.0, 1416.0, 1534.0, 852.0});
    const array prices = {460.0, 232.0, 315.0, 178.0};
    data::Standardizer scaler;
    const array X = scaler.fit_transform(sizes);
    Var w = parameter(array{0.5});
    Var b = parameter(0.0);
    Var y_hat = matmul(constant(X), w) + b;
    const array autodiff = grad(mse(y_hat, constant(prices)), {w})[0].value();
    EXPECT_LE(
        testing::max_relative_error(autodiff, weighted_rows(X, 2.0 * (y_hat.value() - prices))),
        1e-12);

    models::LinearRegression model;
    model.fit(X, prices, {0.1, 1000, 0, 0});
    const double slope = model.weights().value()(0) / scaler.scale()(0);
    // Least squares by hand: slope = cov(x, y) / var(x).
    const double mx = xt::mean(sizes)();
    const double my = xt::mean(prices)();
    double sxy = 0.0;
    double sxx = 0.0;
    for (std::size_t i = 0; i < 4; ++i) {
        sxy += (sizes(i, 0) - mx) * (prices(i) - my);
        sxx += (sizes(i, 0) - mx) * (sizes(i, 0) - mx);
    }
    EXPECT_LE(testing::relative_error(slope, sxy / sxx), 1e-10);
    EXPECT_LE(testing::relative_error(model.bias().value()(), my), 1e-12);
}

}  // namespace
}  // namespace xgrad
