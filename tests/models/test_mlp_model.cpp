/***************************************************************************
 * xgrad: MLPClassifier and MLPRegressor: the objective they train on (loss *
 * plus weight decay) against the network by hand, training through        *
 * train_minibatches (iris, a sine), early stopping, set_layers, errors.    *
 ***************************************************************************/
#include <cmath>

#include "support.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/models/metrics.hpp"
#include "xgrad/models/mlp_model.hpp"

namespace xgrad {
namespace {

using models::MLPClassifier;
using models::MLPRegressor;

data::Dataset iris() {
    return data::read_csv(XGRAD_DATA_DIR "/iris.csv", "species");
}

TEST(MLPModel, ClassifierLearnsIrisAndItsProbabilitiesSumToOne) {
    const data::Dataset d = iris();
    const array X = data::Standardizer().fit_transform(d.features);
    MLPClassifier model({16}, nn::Activation::tanh);
    models::TrainOptions options(0.05, 200, 32, 7);
    options.optimizer = "adam";
    model.fit(X, d.labels, options);
    EXPECT_EQ(model.classes(), 3u);
    ASSERT_EQ(model.loss_history().size(), 200u);
    EXPECT_LT(model.loss_history().back(), 0.2 * model.loss_history().front());
    const array p = model.predict_proba(X);
    for (std::size_t i = 0; i < p.shape()[0]; ++i)
        EXPECT_NEAR(p(i, 0) + p(i, 1) + p(i, 2), 1.0, 1e-12);
    EXPECT_GE(metrics::accuracy(model.predict(X), d.labels), 0.95);
    // The same seed gives the same network.
    MLPClassifier again({16}, nn::Activation::tanh);
    again.fit(X, d.labels, options);
    EXPECT_EQ(again.predict_proba(X), p);
}

TEST(MLPModel, TheObjectiveIsTheMeanLossPlusWeightDecayOnTheWeightsOnly) {
    // The first history entry is the objective at the starting parameters. They are read from
    // a fit with the same seed whose one step is 1e-300 long (no change in double precision).
    const array X{{0.5, -1.0}, {1.5, 2.0}, {-0.5, 0.25}};
    const array y{0.0, 1.0, 1.0};
    MLPClassifier model({3}, nn::Activation::relu);
    models::TrainOptions options(0.1, 1, 0, 3);
    options.optimizer = "sgd";
    options.l2 = 0.6;
    model.fit(X, y, options);
    MLPClassifier start({3}, nn::Activation::relu);
    models::TrainOptions frozen(1e-300, 1, 0, 3);
    frozen.optimizer = "sgd";
    start.fit(X, y, frozen);
    const auto layers = start.layers();
    ASSERT_EQ(layers.size(), 2u);
    double loss = 0.0;
    for (std::size_t i = 0; i < 3; ++i) {
        std::vector<double> hidden(3);
        for (std::size_t h = 0; h < 3; ++h) {
            double a = layers[0].bias(h);
            for (std::size_t j = 0; j < 2; ++j) a += X(i, j) * layers[0].weight(j, h);
            hidden[h] = std::max(a, 0.0);
        }
        double z[2];
        for (std::size_t c = 0; c < 2; ++c) {
            z[c] = layers[1].bias(c);
            for (std::size_t h = 0; h < 3; ++h) z[c] += hidden[h] * layers[1].weight(h, c);
        }
        const double top = std::max(z[0], z[1]);
        const double log_total = top + std::log(std::exp(z[0] - top) + std::exp(z[1] - top));
        loss += log_total - z[static_cast<std::size_t>(y(i))];
    }
    loss /= 3.0;
    double squares = 0.0;
    for (const auto& layer : layers) {
        for (double w : layer.weight) squares += w * w;
    }
    EXPECT_NEAR(model.loss_history().front(), loss + 0.6 / (2.0 * 3.0) * squares, 1e-12);
}

TEST(MLPModel, RegressorFitsASine) {
    const std::size_t m = 64;
    array X = array::from_shape({m, std::size_t{1}});
    array y = array::from_shape({m});
    for (std::size_t i = 0; i < m; ++i) {
        X(i, 0) = -3.0 + 6.0 * static_cast<double>(i) / static_cast<double>(m - 1);
        y(i) = std::sin(X(i, 0));
    }
    MLPRegressor model({32}, nn::Activation::tanh);
    models::TrainOptions options(0.02, 400, 16, 1);
    options.optimizer = "adam";
    model.fit(X, y, options);
    const array predicted = model.predict(X);
    ASSERT_EQ(predicted.shape(), (std::vector<std::size_t>{m}));
    EXPECT_GT(metrics::r2_score(predicted, y), 0.98);
}

TEST(MLPModel, EarlyStoppingKeepsTheBestEpoch) {
    const data::Dataset d = iris();
    const array X = data::Standardizer().fit_transform(d.features);
    MLPClassifier model({8}, nn::Activation::relu);
    models::TrainOptions options(0.5, 500, 16, 2);
    options.optimizer = "adam";
    options.validation_X = X;
    options.validation_y = d.labels;
    options.patience = 5;
    std::size_t reports = 0;
    options.on_epoch = [&](const models::EpochReport& r) {
        EXPECT_EQ(r.epoch, reports++);
        EXPECT_TRUE(std::isfinite(r.validation_loss));
    };
    model.fit(X, d.labels, options);
    ASSERT_TRUE(model.fit_summary().stopped_early);
    const auto& v = model.validation_loss_history();
    ASSERT_EQ(v.size(), reports);
    EXPECT_LT(v.size(), 500u);
    const double best = *std::min_element(v.begin(), v.end());
    MLPClassifier copy({8}, nn::Activation::relu);
    copy.set_layers(model.layers());
    EXPECT_EQ(copy.predict_proba(X), model.predict_proba(X));
    // The kept parameters are the best epoch's: their validation loss is the smallest.
    double loss = 0.0;
    const array p = model.predict_proba(X);
    for (std::size_t i = 0; i < p.shape()[0]; ++i)
        loss -= std::log(p(i, static_cast<std::size_t>(d.labels(i))));
    EXPECT_NEAR(loss / static_cast<double>(p.shape()[0]), best, 1e-12);
}

TEST(MLPModel, ErrorsNameTheProblem) {
    const array X = xt::xarray<double>({{1.0, 0.0}, {2.0, 1.0}});
    models::TrainOptions options;
    options.optimizer = "lbfgs";
    XGRAD_EXPECT_THROW_WITH(
        MLPClassifier({4}, nn::Activation::relu).fit(X, array{0.0, 1.0}, options),
        std::invalid_argument,
        "MLPClassifier.fit: optimizer lbfgs is a solver for convex objectives");
    options.optimizer = "sgd";
    XGRAD_EXPECT_THROW_WITH(
        MLPClassifier({4}, nn::Activation::relu).fit(X, array{1.0, 1.0}, options),
        std::invalid_argument, "only one class");
    XGRAD_EXPECT_THROW_WITH(MLPClassifier({0}, nn::Activation::relu), std::invalid_argument,
                            "MLP: hidden layer 1 has size 0");
    XGRAD_EXPECT_THROW_WITH(MLPRegressor({4}, nn::Activation::relu).predict(X), graph_error,
                            "MLPRegressor: call fit() first");
    XGRAD_EXPECT_THROW_WITH(models::parse_activation("gelu"), std::invalid_argument,
                            "MLP: unknown activation 'gelu' (relu, leaky_relu, tanh or sigmoid)");
    MLPRegressor model({2}, nn::Activation::tanh);
    const array first = xt::ones<double>({std::size_t{1}, std::size_t{2}});
    const array second = xt::ones<double>({std::size_t{3}, std::size_t{1}});
    const std::vector<models::LayerParameters> layers{{first, xt::zeros<double>({2})},
                                                      {second, xt::zeros<double>({1})}};
    XGRAD_EXPECT_THROW_WITH(model.set_layers(layers), shape_error,
                            "MLPRegressor.set_layers: layer 1: takes 3 inputs, the layer before "
                            "gives 2");
}

}  // namespace
}  // namespace xgrad
