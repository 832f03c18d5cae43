/***************************************************************************
 * xgrad: multiclass logistic regression (softmax and one-vs-rest)          *
 ***************************************************************************/
#include <random>

#include <xtensor/xview.hpp>

#include "reference/breast_cancer_l2.hpp"
#include "reference/softmax_sklearn.hpp"
#include "support.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/models/metrics.hpp"
#include "xgrad/models/one_vs_rest.hpp"
#include "xgrad/models/softmax_regression.hpp"

namespace xgrad {
namespace {

using models::OneVsRest;
using models::SoftmaxRegression;
using models::TrainOptions;
namespace ref = reference::softmax_sklearn;

/// @brief A bundled data set with every feature standardised (as the reference script does).
data::Dataset standardized(const char* file, const char* label) {
    data::Dataset d = data::read_csv(std::string(XGRAD_DATA_DIR) + "/" + file, label);
    d.features = data::Standardizer().fit_transform(d.features);
    return d;
}

array from(const double* values, const shape_type& shape) {
    array a = array::from_shape(shape);
    std::copy(values, values + a.size(), a.begin());
    return a;
}

TrainOptions solver(const char* name, double l2 = 1.0, std::size_t iterations = 500) {
    TrainOptions options;
    options.optimizer = name;
    options.epochs = iterations;
    options.l2 = l2;
    return options;
}

/// @brief W and b flattened in the solvers' order.
array parameters_of(const SoftmaxRegression& model) {
    const array& W = model.weights().value();
    const array& b = model.bias().value();
    array out = array::from_shape({W.size() + b.size()});
    std::copy(W.begin(), W.end(), out.begin());
    std::copy(b.begin(), b.end(), out.begin() + static_cast<std::ptrdiff_t>(W.size()));
    return out;
}

/// @brief The objective (1/m)·Σ CE + (λ/2m)·‖W‖² of a fitted model, by the plain graph.
double objective_of(const SoftmaxRegression& model, const data::Dataset& d, double l2) {
    const double m = static_cast<double>(d.labels.size());
    const array& W = model.weights().value();
    return model.loss_on(d.features, d.labels) + 0.5 * l2 / m * xt::sum(W * W)();
}

/// @brief One data set's scikit-learn solutions (tests/reference/softmax_sklearn.hpp).
struct Reference {
    std::size_t features;
    std::size_t classes;
    const double* weights;
    const double* intercepts;
    double objective;
    const double* newton_cg_weights;
    const double* newton_cg_intercepts;
    double newton_cg_objective;
};
#define XGRAD_REFERENCE(ns)                                                          \
    Reference {                                                                      \
        ns::features, ns::classes, ns::weights, ns::intercepts, ns::objective,       \
            ns::newton_cg_weights, ns::newton_cg_intercepts, ns::newton_cg_objective \
    }

/// @brief The sklearn reference of one data set: objective to 1e-8 against lbfgs's, parameters
/// against newton-cg's (‖∇‖ < 4e-10) and lbfgs's (its distance to newton-cg's is ~4e-5).
void expect_matches_scikit_learn(const char* file, const char* label, const Reference& Ref) {
    const data::Dataset d = standardized(file, label);
    SoftmaxRegression model;
    model.fit(d.features, d.labels, solver("lbfgs"));
    EXPECT_TRUE(model.fit_summary().converged);
    ASSERT_EQ(model.classes(), Ref.classes);
    const shape_type W_shape{Ref.features, Ref.classes};
    EXPECT_EQ(model.weights().shape(), W_shape);
    const double objective = objective_of(model, d, 1.0);
    EXPECT_NEAR(model.loss_history().back(), objective, 1e-15);
    EXPECT_LE(testing::relative_error(objective, Ref.objective), 1e-8);
    EXPECT_LE(testing::relative_error(objective, Ref.newton_cg_objective), 1e-12);
    EXPECT_LE(
        normwise_relative_error(model.weights().value(), from(Ref.newton_cg_weights, W_shape)),
        1e-7);
    EXPECT_LE(normwise_relative_error(model.bias().value(),
                                      from(Ref.newton_cg_intercepts, {Ref.classes})),
              1e-6);
    EXPECT_LE(normwise_relative_error(model.weights().value(), from(Ref.weights, W_shape)), 1e-4);
    // Predictions: rows of probabilities sum to 1, the class is their argmax.
    const array p = model.predict_proba(d.features);
    const array classes = model.predict(d.features);
    for (std::size_t i = 0; i < p.shape()[0]; ++i) {
        double total = 0.0;
        std::size_t best = 0;
        for (std::size_t k = 0; k < p.shape()[1]; ++k) {
            total += p(i, k);
            if (p(i, k) > p(i, best)) best = k;
        }
        EXPECT_NEAR(total, 1.0, 1e-15) << "row " << i;
        EXPECT_EQ(classes(i), static_cast<double>(best)) << "row " << i;
    }
    EXPECT_GT(metrics::accuracy(classes, d.labels), 0.95);
}

TEST(SoftmaxRegression, MatchesScikitLearnOnIris) {
    expect_matches_scikit_learn("iris.csv", "species", XGRAD_REFERENCE(ref::iris));
}

TEST(SoftmaxRegression, MatchesScikitLearnOnWine) {
    expect_matches_scikit_learn("wine.csv", "cultivar", XGRAD_REFERENCE(ref::wine));
}

/// @brief A random problem: X (m, n), W (n, K), b (K,), labels covering every class.
struct Problem {
    Var X, W, b, y;
};
Problem random_problem(std::mt19937_64& rng, std::size_t m, std::size_t n, std::size_t K,
                       bool x_needs_grad = false) {
    array labels = array::from_shape({m});
    for (std::size_t i = 0; i < m; ++i) labels(i) = static_cast<double>((i * 7 + rng() % 3) % K);
    const array X = testing::random_array(rng, {m, n}, -2.0, 2.0);
    return {x_needs_grad ? parameter(X) : constant(X),
            parameter(testing::random_array(rng, {n, K}, -1.5, 1.5)),
            parameter(testing::random_array(rng, {K}, -1.0, 1.0)), constant(labels)};
}

/// @brief The plain graph of the same loss: (weighted) cross_entropy(X W + b, y).
Var plain_loss(const Problem& p, const std::vector<double>& class_weights, bool bias = true) {
    Var z = matmul(p.X, p.W);
    if (bias) z = z + p.b;
    if (class_weights.empty()) return cross_entropy(z, p.y);
    array c = array::from_shape({class_weights.size()});
    std::copy(class_weights.begin(), class_weights.end(), c.begin());
    return mean(matmul(one_hot(p.y, p.W.shape()[1]), constant(c)) *
                cross_entropy(z, p.y, reduction::none));
}

TEST(LinearSoftmaxCrossEntropy, EqualsThePlainGraph) {
    std::mt19937_64 rng(5);
    // Sizes: tiny, a scalar tail of rows and columns, several blocks, several threads' parts.
    const std::vector<std::array<std::size_t, 3>> sizes{
        {1, 1, 2}, {7, 3, 3}, {37, 5, 4}, {1000, 13, 3}, {6000, 20, 5}};
    for (const auto& [m, n, K] : sizes) {
        for (const bool weighted : {false, true}) {
            for (const bool bias : {true, false}) {
                SCOPED_TRACE(::testing::Message()
                             << "m " << m << ", n " << n << ", K " << K
                             << (weighted ? ", weighted" : "") << (bias ? "" : ", no bias"));
                const Problem p = random_problem(rng, m, n, K, m < 100);
                std::vector<double> c;
                if (weighted) {
                    for (std::size_t k = 0; k < K; ++k) c.push_back(0.5 + 0.75 * k);
                }
                const Var fused =
                    linear_softmax_cross_entropy(p.X, p.W, bias ? p.b : Var(), p.y, c);
                const Var plain = plain_loss(p, c, bias);
                EXPECT_LE(testing::relative_error(fused.item(), plain.item()), 1e-13);
                std::vector<Var> params{p.W};
                if (bias) params.push_back(p.b);
                if (m < 100) params.push_back(p.X);
                const auto g_fused = grad(fused, params);
                const auto g_plain = grad(plain, params);
                for (std::size_t k = 0; k < params.size(); ++k) {
                    EXPECT_LE(normwise_relative_error(g_fused[k].value(), g_plain[k].value()),
                              1e-12)
                        << "parameter " << k;
                }
            }
        }
    }
}

TEST(LinearSoftmaxCrossEntropy, GradientsAgainstCentralDifferences) {
    std::mt19937_64 rng(11);
    const Problem p = random_problem(rng, 9, 3, 4, true);
    testing::expect_gradients_match(linear_softmax_cross_entropy(p.X, p.W, p.b, p.y));
    testing::expect_gradients_match(
        linear_softmax_cross_entropy(p.X, p.W, p.b, p.y, {1.0, 2.0, 0.5, 3.0}));
    // Second order (the graph form of the derivative) and the tangent rule.
    const GradcheckReport second = gradgradcheck(
        [&] {
            return linear_softmax_cross_entropy(p.X, p.W, p.b, p.y, {1.0, 2.0, 0.5, 3.0});
        },
        {p.W, p.b, p.X});
    EXPECT_TRUE(second.passed) << second.to_string();
    const Var loss = linear_softmax_cross_entropy(p.X, p.W, p.b, p.y, {1.0, 2.0, 0.5, 3.0});
    const std::vector<array> t{testing::random_array(rng, {9, 3}),
                               testing::random_array(rng, {3, 4}), testing::random_array(rng, {4})};
    const array forward = jvp(loss, {p.X, p.W, p.b}, t);
    const auto g = grad(loss, {p.X, p.W, p.b});
    double reverse = 0.0;
    for (std::size_t k = 0; k < 3; ++k) reverse += xt::sum(g[k].value() * t[k])();
    EXPECT_NEAR(forward(), reverse, 1e-13);
}

TEST(LinearSoftmaxCrossEntropy, ReplaysAndRejectsBadOperands) {
    std::mt19937_64 rng(3);
    const Problem p = random_problem(rng, 6, 2, 3);
    const Var loss = linear_softmax_cross_entropy(p.X, p.W, p.b, p.y);
    Tape tape(loss);
    p.W.mutable_value() *= 2.0;
    tape.forward();
    EXPECT_LE(testing::relative_error(loss.item(), plain_loss(p, {}).item()), 1e-14);
    p.y.mutable_value()(4) = 3.0;
    XGRAD_EXPECT_THROW_WITH(tape.forward(), std::invalid_argument,
                            "linear_softmax_cross_entropy: class index 3.000000 at position 4 is "
                            "not a whole number in [0, 3)");
    XGRAD_EXPECT_THROW_WITH(
        linear_softmax_cross_entropy(p.X, p.W, p.b, constant(array{0.0, 1.0})), shape_error,
        "linear_softmax_cross_entropy: X (6,2), W (2,3), b (3,), y (2,) and 0 class weights "
        "do not fit");
    XGRAD_EXPECT_THROW_WITH(linear_softmax_cross_entropy(p.X, p.W, p.b, p.y, {1.0, 2.0}),
                            shape_error, "and 2 class weights do not fit");
}

TEST(SoftmaxRegression, HessianIsTheClosedForm) {
    // (1/m)·Σᵢ (diag(pᵢ) − pᵢpᵢᵀ) ⊗ x̃ᵢx̃ᵢᵀ + (λ/m) on W, x̃ᵢ = (xᵢ, 1), parameters ordered
    // W (row-major: feature j, class k at j·K + k), then b.
    std::mt19937_64 rng(17);
    const std::size_t m = 5, n = 2, K = 3;
    const double lambda = 0.7;
    const Problem p = random_problem(rng, m, n, K);
    const Var objective =
        linear_softmax_cross_entropy(p.X, p.W, p.b, p.y) + l2_penalty(p.W, lambda, m);
    const array H = hessian(objective, {p.W, p.b});
    ASSERT_EQ(H.shape(), (shape_type{K * n + K, K * n + K}));
    const array P = softmax(matmul(p.X, p.W) + p.b).value();
    const array& X = p.X.value();
    auto x_tilde = [&](std::size_t i, std::size_t j) { return j < n ? X(i, j) : 1.0; };
    array expected = xt::zeros<double>({K * n + K, K * n + K});
    for (std::size_t a = 0; a <= n; ++a) {
        for (std::size_t k = 0; k < K; ++k) {
            for (std::size_t c = 0; c <= n; ++c) {
                for (std::size_t l = 0; l < K; ++l) {
                    double total = 0.0;
                    for (std::size_t i = 0; i < m; ++i) {
                        const double curvature = (k == l ? P(i, k) : 0.0) - P(i, k) * P(i, l);
                        total += curvature * x_tilde(i, a) * x_tilde(i, c);
                    }
                    double value = total / m;
                    if (a < n && a == c && k == l) value += lambda / m;
                    expected(a * K + k, c * K + l) = value;
                }
            }
        }
    }
    EXPECT_LE(normwise_relative_error(H, expected), 1e-14);
}

TEST(SoftmaxRegression, NewtonAndLbfgsAgree) {
    const data::Dataset d = standardized("iris.csv", "species");
    SoftmaxRegression newton;
    newton.fit(d.features, d.labels, solver("newton", 1.0, 50));
    SoftmaxRegression lbfgs;
    lbfgs.fit(d.features, d.labels, solver("lbfgs"));
    EXPECT_TRUE(newton.fit_summary().converged);
    EXPECT_TRUE(lbfgs.fit_summary().converged);
    EXPECT_LT(newton.fit_summary().steps, 15u);
    EXPECT_LE(testing::relative_error(newton.loss_history().back(), lbfgs.loss_history().back()),
              1e-10);
    EXPECT_LE(normwise_relative_error(parameters_of(newton), parameters_of(lbfgs)), 1e-6);
    // Both keep Σₖ bₖ and Σₖ W₍:,ₖ₎ at zero (the term that makes Newton's Hessian invertible).
    EXPECT_NEAR(xt::sum(newton.bias().value())(), 0.0, 1e-13);
    EXPECT_NEAR(xt::sum(lbfgs.bias().value())(), 0.0, 1e-13);
    EXPECT_LE(xt::amax(xt::abs(xt::sum(newton.weights().value(), {1})))(), 1e-13);
}

TEST(SoftmaxRegression, EveryOptimizerTrains) {
    const data::Dataset d = standardized("iris.csv", "species");
    for (const char* name : {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"}) {
        SCOPED_TRACE(name);
        TrainOptions options(0.05, 30, 16, 7);
        options.optimizer = name;
        SoftmaxRegression model;
        model.fit(d.features, d.labels, options);
        ASSERT_EQ(model.loss_history().size(), 30u);
        // The first epoch's mean over its batches: log 3 at the start, lower after each step.
        EXPECT_LT(model.loss_history().front(), std::log(3.0));
        EXPECT_LT(model.loss_history().back(), 0.6 * std::log(3.0));
        EXPECT_GT(metrics::accuracy(model.predict(d.features), d.labels), 0.8);
        SoftmaxRegression again;  // the same seed: the same shuffles and parameters
        again.fit(d.features, d.labels, options);
        EXPECT_EQ(again.weights().value(), model.weights().value());
    }
}

TEST(SoftmaxRegression, OneFullBatchStepIsTheAnalyticUpdate) {
    // From zero, softmax is 1/K everywhere: W moves by −η·(1/m)·Xᵀ(1/K − onehot(y)).
    const array X = {{1.0, 2.0}, {3.0, -1.0}, {0.5, 0.5}, {-1.0, 0.0}};
    const array y = {0.0, 2.0, 1.0, 2.0};
    SoftmaxRegression model;
    model.fit(X, y, {0.5, 1, 0, 0});
    ASSERT_EQ(model.classes(), 3u);
    EXPECT_DOUBLE_EQ(model.loss_history().front(), std::log(3.0));
    for (std::size_t k = 0; k < 3; ++k) {
        double gb = 0.0;
        for (std::size_t i = 0; i < 4; ++i) gb += (1.0 / 3.0 - (y(i) == k ? 1.0 : 0.0)) / 4.0;
        EXPECT_NEAR(model.bias().value()(k), -0.5 * gb, 1e-16);
        for (std::size_t j = 0; j < 2; ++j) {
            double g = 0.0;
            for (std::size_t i = 0; i < 4; ++i)
                g += X(i, j) * (1.0 / 3.0 - (y(i) == k ? 1.0 : 0.0)) / 4.0;
            EXPECT_NEAR(model.weights().value()(j, k), -0.5 * g, 1e-16);
        }
    }
}

TEST(SoftmaxRegression, ValidationScheduleAndEarlyStopping) {
    const data::Dataset d = standardized("iris.csv", "species");
    TrainOptions options(0.5, 200, 0, 0);
    options.validation_X = d.features;
    options.validation_y = d.labels;
    options.patience = 3;
    std::size_t reports = 0;
    options.on_epoch = [&](const models::EpochReport& r) {
        ++reports;
        EXPECT_FALSE(std::isnan(r.validation_loss));
    };
    options.schedule = [](std::size_t epoch) { return 0.5 / (1.0 + epoch); };
    SoftmaxRegression model;
    model.fit(d.features, d.labels, options);
    EXPECT_EQ(reports, model.loss_history().size());
    EXPECT_EQ(model.validation_loss_history().size(), model.loss_history().size());
    EXPECT_NEAR(model.validation_loss_history()[0], model.loss_on(d.features, d.labels), 1.0);
    // Validation on the training rows with a decaying rate never gets worse: no early stop.
    EXPECT_FALSE(model.fit_summary().stopped_early);
    // A validation set the training moves away from stops it and keeps the best parameters.
    array flipped = d.labels;
    for (double& v : flipped) v = 2.0 - v;
    options.validation_y = flipped;
    options.schedule = {};
    options.on_epoch = {};
    SoftmaxRegression stopped;
    stopped.fit(d.features, d.labels, options);
    EXPECT_TRUE(stopped.fit_summary().stopped_early);
    const auto& history = stopped.validation_loss_history();
    EXPECT_EQ(history.size(), 4u);  // the start is the best, then three worse epochs
    EXPECT_NEAR(stopped.loss_on(d.features, flipped), history.front(), 1e-15);
}

TEST(SoftmaxRegression, BalancedClassWeights) {
    // Iris with 10 setosa, 50 versicolor, 20 virginica.
    const data::Dataset all = standardized("iris.csv", "species");
    std::vector<std::size_t> rows;
    for (std::size_t i = 0; i < 150; ++i) {
        if ((i < 50 && i < 10) || (i >= 50 && i < 100) || (i >= 100 && i < 120)) rows.push_back(i);
    }
    array X = array::from_shape({rows.size(), 4});
    array y = array::from_shape({rows.size()});
    for (std::size_t r = 0; r < rows.size(); ++r) {
        for (std::size_t j = 0; j < 4; ++j) X(r, j) = all.features(rows[r], j);
        y(r) = all.labels(rows[r]);
    }
    TrainOptions options = solver("lbfgs");
    options.balanced_class_weights = true;
    SoftmaxRegression weighted;
    weighted.fit(X, y, options);
    const std::vector<double> expected{80.0 / 30.0, 80.0 / 150.0, 80.0 / 60.0};
    ASSERT_EQ(weighted.class_weights().size(), 3u);
    for (std::size_t k = 0; k < 3; ++k) EXPECT_DOUBLE_EQ(weighted.class_weights()[k], expected[k]);
    // loss_on is the weighted mean: (1/m)·Σ cᵢ·CEᵢ, by hand.
    const array P = weighted.predict_proba(X);
    double by_hand = 0.0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto k = static_cast<std::size_t>(y(i));
        by_hand -= expected[k] * std::log(P(i, k));
    }
    by_hand /= static_cast<double>(rows.size());
    EXPECT_LE(testing::relative_error(weighted.loss_on(X, y), by_hand), 1e-13);
    EXPECT_TRUE(weighted.fit_summary().converged);
    // Weighting the rare virginica up moves the versicolor/virginica boundary towards it.
    SoftmaxRegression plain;
    plain.fit(X, y, solver("lbfgs"));
    EXPECT_TRUE(plain.class_weights().empty());
    const auto virginica = [&](const SoftmaxRegression& model) {
        return xt::sum(xt::equal(model.predict(X), 2.0))();
    };
    EXPECT_GT(virginica(weighted), virginica(plain));
}

TEST(SoftmaxRegression, L1AndElasticNetShrink) {
    const data::Dataset d = standardized("wine.csv", "cultivar");
    auto l1_norm = [&](double l1, double l2) {
        TrainOptions options(0.05, 300, 0, 0);
        options.optimizer = "adam";
        options.l1 = l1;
        options.l2 = l2;
        SoftmaxRegression model;
        model.fit(d.features, d.labels, options);
        EXPECT_LT(model.loss_history().back(), model.loss_history().front());
        return xt::sum(xt::abs(model.weights().value()))();
    };
    const double none = l1_norm(0.0, 0.0);
    const double lasso = l1_norm(10.0, 0.0);
    const double elastic = l1_norm(5.0, 5.0);
    EXPECT_LT(lasso, 0.5 * none);
    EXPECT_LT(elastic, 0.5 * none);
}

TEST(SoftmaxRegression, TwoClassesAreLogisticRegressionWithHalfTheL2) {
    // K = 2: softmax(z₀, z₁)₁ = σ(z₁ − z₀); with L2 the optimum has w₀ = −w₁, so
    // (λ/2m)(‖w₀‖² + ‖w₁‖²) = (λ/4m)·‖w₁ − w₀‖²: softmax at λ = 2 is logistic at λ = 1.
    namespace bc = reference::breast_cancer_l2;
    const data::Dataset d = standardized("breast_cancer.csv", "benign");
    SoftmaxRegression model;
    model.fit(d.features, d.labels, solver("lbfgs", 2.0));
    ASSERT_TRUE(model.fit_summary().converged);
    const array& W = model.weights().value();
    const array w = xt::view(W, xt::all(), 1) - xt::view(W, xt::all(), 0);
    EXPECT_LE(normwise_relative_error(w, from(bc::coefficients, {30})), 1e-7);
    const double b = model.bias().value()(1) - model.bias().value()(0);
    EXPECT_LE(testing::relative_error(b, bc::intercept), 1e-7);
    EXPECT_LE(
        testing::relative_error(
            model.loss_on(d.features, d.labels) + 0.5 * xt::sum(w * w)() / 569.0, bc::objective),
        1e-12);
}

TEST(SoftmaxRegression, WithoutInterceptAndSetParameters) {
    const data::Dataset d = standardized("iris.csv", "species");
    SoftmaxRegression model(false);
    model.fit(d.features, d.labels, solver("lbfgs"));
    EXPECT_FALSE(model.bias().defined());
    EXPECT_TRUE(model.fit_summary().converged);
    SoftmaxRegression copy(false);
    copy.set_parameters(model.weights().value(), array());
    EXPECT_EQ(copy.classes(), 3u);
    EXPECT_EQ(copy.predict_proba(d.features), model.predict_proba(d.features));

    SoftmaxRegression fitted;
    fitted.fit(d.features, d.labels, solver("lbfgs"));
    SoftmaxRegression restored;
    restored.set_parameters(fitted.weights().value(), fitted.bias().value());
    EXPECT_EQ(restored.decision_function(d.features), fitted.decision_function(d.features));
    EXPECT_EQ(restored.predict(d.features), fitted.predict(d.features));
}

TEST(SoftmaxRegression, ExplicitClassCount) {
    // Classes 0 and 1 only, K = 4: the absent classes get probabilities near 0.
    const array X = testing::column({-2.0, -1.0, 1.0, 2.0});
    const array y = {0.0, 0.0, 1.0, 1.0};
    SoftmaxRegression model(true, 4);
    EXPECT_EQ(model.classes(), 4u);
    model.fit(X, y, solver("lbfgs", 1.0));
    EXPECT_EQ(model.weights().shape(), (shape_type{1, 4}));
    const array p = model.predict_proba(X);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_LT(p(i, 2) + p(i, 3), 0.05);
    EXPECT_EQ(model.predict(X), y);
}

TEST(SoftmaxRegression, RejectsBadInput) {
    const array X = testing::column({1.0, 2.0, 3.0});
    SoftmaxRegression model;
    XGRAD_EXPECT_THROW_WITH(model.fit(X, array{0.0, 0.5, 1.0}), std::invalid_argument,
                            "SoftmaxRegression.fit: label at row 1 is 0.500000, not a whole number "
                            ">= 0");
    XGRAD_EXPECT_THROW_WITH(model.fit(X, array{0.0, -1.0, 1.0}), std::invalid_argument,
                            "label at row 1 is -1.000000");
    XGRAD_EXPECT_THROW_WITH(model.fit(X, array{2.0, 2.0, 2.0}), std::invalid_argument,
                            "SoftmaxRegression.fit: the labels hold only one class (2); at least "
                            "two are needed");
    XGRAD_EXPECT_THROW_WITH(model.fit(X, array{0.0, 1.0}), shape_error,
                            "SoftmaxRegression.fit: expects X of shape (rows, features) and y of "
                            "shape (rows,), got (3,1) and (2,)");
    XGRAD_EXPECT_THROW_WITH(model.predict(X), graph_error, "SoftmaxRegression: call fit() first");
    XGRAD_EXPECT_THROW_WITH(model.predict_proba(X), graph_error, "call fit() first");
    SoftmaxRegression three(true, 3);
    XGRAD_EXPECT_THROW_WITH(three.fit(X, array{0.0, 3.0, 1.0}), std::invalid_argument,
                            "label at row 1 is 3.000000, not a whole number in [0, 3)");
    XGRAD_EXPECT_THROW_WITH(SoftmaxRegression(true, 1), std::invalid_argument,
                            "classes must be 0 (from the labels) or at least 2, got 1");
    TrainOptions options;
    options.validation_X = X;
    options.validation_y = array{0.0, 1.0, 2.0};
    XGRAD_EXPECT_THROW_WITH(model.fit(X, array{0.0, 1.0, 1.0}, options), std::invalid_argument,
                            "SoftmaxRegression.fit (validation): label at row 2 is 2.000000, not "
                            "a whole number in [0, 2)");
    options = TrainOptions();
    options.optimizer = "bfgs";
    XGRAD_EXPECT_THROW_WITH(model.fit(X, array{0.0, 1.0, 1.0}, options), std::invalid_argument,
                            "unknown optimizer 'bfgs'");
    model.fit(X, array{0.0, 1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(model.predict(array{{1.0, 2.0}}), shape_error,
                            "SoftmaxRegression: expects X of shape (rows, 1), got (1,2)");
    XGRAD_EXPECT_THROW_WITH(model.set_parameters(xt::ones<double>({1, 1}), array{0.0}), shape_error,
                            "SoftmaxRegression.set_parameters: expects weights (features, classes) "
                            "with classes >= 2 and bias (classes,), got (1,1) and (1,)");
    XGRAD_EXPECT_THROW_WITH(three.set_parameters(array{{1.0, 2.0}}, array{0.0, 0.0}), shape_error,
                            "with classes >= 2 (3) and bias (classes,), got (1,2) and (2,)");
}

TEST(OneVsRest, MatchesScikitLearnOnIris) {
    namespace ovr = ref::iris_one_vs_rest;
    const data::Dataset d = standardized("iris.csv", "species");
    OneVsRest model;
    model.fit(d.features, d.labels, solver("lbfgs"));
    ASSERT_EQ(model.classes(), 3u);
    ASSERT_EQ(model.models().size(), 3u);
    for (std::size_t k = 0; k < 3; ++k) {
        EXPECT_TRUE(model.model(k).fit_summary().converged);
        // Each binary model is class k against the rest.
        const array pk = model.model(k).predict_proba(d.features);
        EXPECT_GT(pk(k * 50 + 10), 0.5 * (k != 1));
    }
    const array p = model.predict_proba(d.features);
    const std::size_t count = std::size(ovr::rows);
    for (std::size_t r = 0; r < count; ++r) {
        for (std::size_t k = 0; k < 3; ++k) {
            EXPECT_NEAR(p(ovr::rows[r], k), ovr::probabilities[r * 3 + k], 1e-5)
                << "row " << ovr::rows[r] << ", class " << k;
        }
    }
    for (std::size_t i = 0; i < 150; ++i) EXPECT_NEAR(xt::sum(xt::view(p, i))(), 1.0, 1e-15);
    EXPECT_DOUBLE_EQ(metrics::accuracy(model.predict(d.features), d.labels), ovr::accuracy);
    const array z = model.decision_function(d.features);
    EXPECT_EQ(z.shape(), (shape_type{150, 3}));
    EXPECT_DOUBLE_EQ(z(7, 2), model.model(2).decision_function(d.features)(7));
}

TEST(OneVsRest, PassesOptionsAndRejectsBadInput) {
    const data::Dataset d = standardized("iris.csv", "species");
    TrainOptions options(0.1, 20, 0, 0);
    options.validation_X = d.features;
    options.validation_y = d.labels;
    std::size_t epochs = 0;
    options.on_epoch = [&](const models::EpochReport&) { ++epochs; };
    OneVsRest model(true, 3);
    model.fit(d.features, d.labels, options);
    EXPECT_EQ(epochs, 60u);  // 20 epochs for each of the three models
    for (std::size_t k = 0; k < 3; ++k) {
        EXPECT_EQ(model.model(k).loss_history().size(), 20u);
        // Its validation labels were relabelled as its training labels were.
        array binary = xt::cast<double>(xt::equal(d.labels, static_cast<double>(k)));
        EXPECT_DOUBLE_EQ(model.model(k).validation_loss_history().back(),
                         model.model(k).loss_on(d.features, binary));
    }
    XGRAD_EXPECT_THROW_WITH(model.model(3), std::out_of_range, "OneVsRest::model: class 3 of 3");
    OneVsRest fresh;
    XGRAD_EXPECT_THROW_WITH(fresh.predict(d.features), graph_error, "OneVsRest: call fit() first");
    XGRAD_EXPECT_THROW_WITH(fresh.fit(d.features, array{0.0, 1.0}), shape_error,
                            "OneVsRest.fit: expects X of shape (rows, features)");
    const array X = testing::column({1.0, 2.0});
    XGRAD_EXPECT_THROW_WITH(fresh.fit(X, array{1.0, 1.0}), std::invalid_argument,
                            "OneVsRest.fit: the labels hold only one class (1)");
    XGRAD_EXPECT_THROW_WITH(fresh.fit(X, array{1.0, 1.5}), std::invalid_argument,
                            "OneVsRest.fit: label at row 1 is 1.500000");
    XGRAD_EXPECT_THROW_WITH(model.predict(X), shape_error,
                            "LogisticRegression: expects X of shape (rows, 4), got (2,1)");
}

}  // namespace
}  // namespace xgrad
