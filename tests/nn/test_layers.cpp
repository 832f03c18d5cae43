/***************************************************************************
 * xgrad: BatchNorm1d/2d, LayerNorm, Dropout, Flatten and the initialisers: *
 * values and gradients against torch.autograd (float64), central           *
 * differences, gradgradcheck, tangents; running statistics; errors.        *
 ***************************************************************************/
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <string>

#include "reference/nn_torch.hpp"
#include "support.hpp"
#include "xgrad/nn/init.hpp"
#include "xgrad/nn/layers.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/normalization.hpp"

namespace xgrad {
namespace {

namespace ref = reference::nn_torch;
using testing::random_array;

array from_vector(const std::vector<double>& values, const shape_type& shape) {
    array a = array::from_shape(shape);
    EXPECT_EQ(values.size(), a.size());
    std::copy(values.begin(), values.end(), a.begin());
    return a;
}

shape_type to_shape(const std::vector<std::size_t>& extents) {
    return shape_type(extents.begin(), extents.end());
}

/// @brief The layer of a reference case, with its weight, bias and running statistics set.
std::unique_ptr<nn::Module> make_layer(const ref::NormCase& c) {
    const shape_type shape = to_shape(c.shape);
    std::unique_ptr<nn::Module> layer;
    shape_type parameter_shape;
    if (std::string(c.layer) == "LayerNorm") {
        parameter_shape = to_shape(c.normalized);
        layer = std::make_unique<nn::LayerNorm>(parameter_shape, 1e-5, c.affine);
    } else {
        parameter_shape = {shape[1]};
        if (std::string(c.layer) == "BatchNorm1d") {
            layer = std::make_unique<nn::BatchNorm1d>(shape[1], 1e-5, 0.1, c.affine);
        } else {
            layer = std::make_unique<nn::BatchNorm2d>(shape[1], 1e-5, 0.1, c.affine);
        }
        if (!c.running_mean.empty()) {
            auto& bn = dynamic_cast<nn::BatchNorm&>(*layer);
            bn.running_mean().mutable_value() = from_vector(c.running_mean, parameter_shape);
            bn.running_var().mutable_value() = from_vector(c.running_var, parameter_shape);
        }
    }
    if (c.affine) {
        const auto named = layer->named_parameters();
        EXPECT_EQ(named.size(), 2u);
        EXPECT_EQ(named[0].first, "weight");
        EXPECT_EQ(named[1].first, "bias");
        named[0].second.mutable_value() = from_vector(c.weight, parameter_shape);
        named[1].second.mutable_value() = from_vector(c.bias, parameter_shape);
    } else {
        EXPECT_TRUE(layer->parameters().empty());
    }
    layer->train(c.training);
    return layer;
}

// ---- batch norm and layer norm against torch ------------------------------------------------

TEST(Normalization, ValuesGradientsAndRunningStatisticsMatchTorch) {
    for (const ref::NormCase& c : ref::norm_cases) {
        SCOPED_TRACE(c.name);
        const shape_type shape = to_shape(c.shape);
        auto layer = make_layer(c);
        const Var x = parameter(from_vector(c.x, shape));
        const Var y = (*layer)(x);
        ASSERT_EQ(y.shape(), shape);
        EXPECT_LE(normwise_relative_error(y.value(), from_vector(c.y, shape)), 1e-12);
        sum(y * constant(from_vector(c.seed, shape))).backward();
        EXPECT_LE(normwise_relative_error(x.grad(), from_vector(c.grad_x, shape)), 1e-12);
        const auto params = layer->parameters();
        if (c.affine) {
            const shape_type p = params[0].shape();
            EXPECT_LE(normwise_relative_error(params[0].grad(), from_vector(c.grad_weight, p)),
                      1e-12);
            EXPECT_LE(normwise_relative_error(params[1].grad(), from_vector(c.grad_bias, p)),
                      1e-12);
        }
        if (std::string(c.layer) != "LayerNorm") {
            const auto& bn = dynamic_cast<const nn::BatchNorm&>(*layer);
            const shape_type channels = {shape[1]};
            EXPECT_LE(normwise_relative_error(bn.running_mean().value(),
                                              from_vector(c.running_mean_after, channels)),
                      1e-12);
            EXPECT_LE(normwise_relative_error(bn.running_var().value(),
                                              from_vector(c.running_var_after, channels)),
                      1e-12);
            EXPECT_EQ(bn.num_batches_tracked().item(), c.training ? 1.0 : 0.0);
        }
    }
}

TEST(Normalization, GradientsMatchCentralDifferences) {
    for (const ref::NormCase& c : ref::norm_cases) {
        SCOPED_TRACE(c.name);
        auto layer = make_layer(c);
        const shape_type shape = to_shape(c.shape);
        const Var x = parameter(from_vector(c.x, shape));
        // The replays of the central differences also update the running statistics: harmless
        // to the gradients, which use the batch's statistics in training.
        testing::expect_gradients_match(sum((*layer)(x)*constant(from_vector(c.seed, shape))), 1e-6,
                                        1e-8);
    }
}

GradcheckOptions strict() {
    GradcheckOptions o;
    o.atol = 1e-7;
    o.rtol = 1e-6;
    return o;
}

TEST(Normalization, SecondDerivativesPassGradgradcheck) {
    std::mt19937_64 rng(3);
    for (const ref::NormCase& c : ref::norm_cases) {
        SCOPED_TRACE(c.name);
        auto layer = make_layer(c);
        const shape_type shape = to_shape(c.shape);
        const Var x = parameter(from_vector(c.x, shape));
        std::vector<Var> params = {x};
        for (const Var& p : layer->parameters()) params.push_back(p);
        const Var w = constant(random_array(rng, shape));
        // L = Σ w·y + 0.3·Σ y²: the Hessian of y's entries and the product of its gradients
        const GradcheckReport report = gradgradcheck(
            [&] {
                const Var y = (*layer)(x);
                return sum(y * w) + 0.3 * sum(square(y));
            },
            params, strict());
        EXPECT_TRUE(report.passed) << report.to_string();
    }
}

TEST(Normalization, TangentsAndBothHessianVectorProductModesAgreeWithReverseMode) {
    std::mt19937_64 rng(4);
    for (const ref::NormCase& c : ref::norm_cases) {
        SCOPED_TRACE(c.name);
        auto layer = make_layer(c);
        const shape_type shape = to_shape(c.shape);
        const Var x = parameter(from_vector(c.x, shape));
        std::vector<Var> params = {x};
        for (const Var& p : layer->parameters()) params.push_back(p);
        const Var y = (*layer)(x);
        // ⟨v, J·t⟩ = Σ_inputs ⟨Jᵀv, t⟩
        std::vector<array> tangents;
        for (const Var& p : params) tangents.push_back(random_array(rng, p.shape()));
        const array v = random_array(rng, shape);
        const array forward = jvp(y, params, tangents);
        const std::vector<Var> reverse = grad(sum(y * constant(v)), params);
        double by_forward = 0.0, by_reverse = 0.0;
        for (std::size_t i = 0; i < v.size(); ++i) by_forward += v.data()[i] * forward.data()[i];
        for (std::size_t k = 0; k < params.size(); ++k) {
            for (std::size_t i = 0; i < tangents[k].size(); ++i) {
                by_reverse += reverse[k].value().data()[i] * tangents[k].data()[i];
            }
        }
        EXPECT_LE(testing::relative_error(by_forward, by_reverse), 1e-12);
        // and the whole forward Jacobian against the reverse one, input by input
        for (const Var& p : params) {
            EXPECT_LE(testing::max_relative_error(jacobian_forward(y, p), jacobian(y, p), 1e-12),
                      1e-10);
        }
        const Var f = sum(square(y) * constant(v));
        const auto rr = hessian_vector_product(f, params, tangents, hvp_mode::reverse_over_reverse);
        const auto fr = hessian_vector_product(f, params, tangents, hvp_mode::forward_over_reverse);
        for (std::size_t k = 0; k < params.size(); ++k) {
            EXPECT_LE(testing::max_relative_error(fr[k], rr[k], 1e-10), 1e-9);
        }
    }
}

// ---- running statistics --------------------------------------------------------------------

TEST(BatchNorm, RunningStatisticsAfterThreeTrainingPassesThenEvalMatchTorch) {
    namespace run = ref::running;
    const shape_type shape(std::begin(run::shape), std::end(run::shape));
    nn::BatchNorm2d bn(shape[1], 1e-5, run::momentum);
    EXPECT_TRUE(bn.is_training());
    bn.weight().mutable_value() = from_vector(run::weight, {shape[1]});
    bn.bias().mutable_value() = from_vector(run::bias, {shape[1]});
    for (const auto& step : run::steps) bn(constant(from_vector(step, shape)));
    EXPECT_LE(normwise_relative_error(bn.running_mean().value(),
                                      from_vector(run::running_mean, {shape[1]})),
              1e-14);
    EXPECT_LE(normwise_relative_error(bn.running_var().value(),
                                      from_vector(run::running_var, {shape[1]})),
              1e-14);
    EXPECT_EQ(bn.num_batches_tracked().item(), run::num_batches_tracked);
    EXPECT_EQ(bn.num_batches_tracked().shape(), shape_type{});

    bn.eval();
    const array mean_before = bn.running_mean().value();
    const Var x = parameter(from_vector(run::x, shape));
    const Var y = bn(x);
    EXPECT_LE(normwise_relative_error(y.value(), from_vector(run::y, shape)), 1e-12);
    sum(y * constant(from_vector(run::seed, shape))).backward();
    EXPECT_LE(normwise_relative_error(x.grad(), from_vector(run::grad_x, shape)), 1e-12);
    EXPECT_LE(normwise_relative_error(bn.weight().grad(), from_vector(run::grad_weight, {3})),
              1e-12);
    EXPECT_LE(normwise_relative_error(bn.bias().grad(), from_vector(run::grad_bias, {3})), 1e-12);
    EXPECT_EQ(bn.running_mean().value(), mean_before);  // eval updates nothing
    EXPECT_EQ(bn.num_batches_tracked().item(), run::num_batches_tracked);
}

TEST(BatchNorm, TapeReplaysOfATrainingGraphUpdateTheStatisticsWithTheNewBatch) {
    std::mt19937_64 rng(8);
    nn::BatchNorm1d bn(2, 1e-5, 0.5);
    const Var x = constant(random_array(rng, {4, 2}));
    const Var w = parameter(array{1.0, 1.0});
    Tape tape(sum(bn(x * w)));
    EXPECT_EQ(bn.num_batches_tracked().item(), 1.0);
    // a new batch, replayed: the running mean moves half way to the new batch's mean
    const array before = bn.running_mean().value();
    const array batch = random_array(rng, {4, 2}, 5.0, 6.0);
    x.mutable_value() = batch;
    tape.forward();
    EXPECT_EQ(bn.num_batches_tracked().item(), 2.0);
    const array expected = 0.5 * before + 0.5 * xt::mean(batch, {0});
    EXPECT_LE(testing::max_relative_error(bn.running_mean().value(), expected), 1e-15);
    // an eval graph replayed reads the running statistics and updates nothing
    bn.eval();
    Tape eval_tape(sum(bn(x * w)));
    eval_tape.forward();
    EXPECT_EQ(bn.num_batches_tracked().item(), 2.0);
}

/// @brief The checks of BatchNorm.PlanesFarFromZero... for one input shape (N, 2, ...).
void check_far_from_zero(const shape_type& shape) {
    std::mt19937_64 rng(17);
    const std::size_t N = shape[0], C = shape[1], L = xt::compute_size(shape) / (N * C);
    const double eps = 1e-5;
    array data = random_array(rng, shape, -1.0, 1.0);
    for (std::size_t n = 0; n < N; ++n) {
        for (std::size_t c = 0; c < C; ++c) {
            for (std::size_t l = 0; l < L; ++l) {
                data.data()[(n * C + c) * L + l] += 1000.0 * (c + 1.0) + 0.25 * n;
            }
        }
    }
    const array seed = random_array(rng, data.shape());
    std::unique_ptr<nn::BatchNorm> bn;
    if (shape.size() == 4) {
        bn = std::make_unique<nn::BatchNorm2d>(C, eps, 0.1);
    } else {
        bn = std::make_unique<nn::BatchNorm1d>(C, eps, 0.1);
    }
    bn->weight().mutable_value() = array{1.5, -0.5};
    bn->bias().mutable_value() = array{0.25, 2.0};
    const Var x = parameter(data);
    const Var y = (*bn)(x);
    sum(y * constant(seed)).backward();

    const auto M = static_cast<long double>(N * L);
    for (std::size_t c = 0; c < C; ++c) {
        SCOPED_TRACE("channel " + std::to_string(c));
        auto at = [&](std::size_t n, std::size_t l) { return (n * C + c) * L + l; };
        long double mean = 0, squares = 0, sum_g = 0, sum_gx = 0, size_g = 0, size_gx = 0;
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t l = 0; l < L; ++l) mean += data.data()[at(n, l)];
        }
        mean /= M;
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t l = 0; l < L; ++l) {
                const long double d = data.data()[at(n, l)] - mean;
                squares += d * d;
            }
        }
        const long double inv = 1.0L / std::sqrt(squares / M + eps);
        const long double gamma = bn->weight().value()(c), beta = bn->bias().value()(c);
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t l = 0; l < L; ++l) {
                const long double xhat = (data.data()[at(n, l)] - mean) * inv;
                sum_g += seed.data()[at(n, l)];
                sum_gx += seed.data()[at(n, l)] * xhat;
                size_g += std::abs(seed.data()[at(n, l)]);
                size_gx += std::abs(seed.data()[at(n, l)] * xhat);
            }
        }
        EXPECT_LE(testing::relative_error(bn->running_mean().value()(c),
                                          static_cast<double>(0.1L * mean)),
                  1e-15);
        EXPECT_LE(testing::relative_error(bn->running_var().value()(c),
                                          static_cast<double>(0.9L + 0.1L * squares / (M - 1))),
                  1e-13);
        // sums of terms of both signs: their errors measured against the sums of magnitudes
        EXPECT_LE(std::abs(bn->weight().grad()(c) - sum_gx), 1e-12L * size_gx);
        EXPECT_LE(std::abs(bn->bias().grad()(c) - sum_g), 1e-15L * size_g);
        double worst_y = 0.0, worst_dx = 0.0;
        for (std::size_t n = 0; n < N; ++n) {
            for (std::size_t l = 0; l < L; ++l) {
                const long double xhat = (data.data()[at(n, l)] - mean) * inv;
                const long double expected_y = xhat * gamma + beta;
                const long double expected_dx =
                    gamma * inv * (seed.data()[at(n, l)] - sum_g / M - xhat * sum_gx / M);
                worst_y = std::max(
                    worst_y,
                    std::abs(static_cast<double>(y.value().data()[at(n, l)] - expected_y)));
                worst_dx = std::max(
                    worst_dx,
                    std::abs(static_cast<double>(x.grad().data()[at(n, l)] - expected_dx)));
            }
        }
        // y is O(1); dx is O(γ/σ) = O(1) too: absolute errors of a few hundred ulp of 1000
        // (the inputs' own spacing) at most
        EXPECT_LE(worst_y, 1e-11);
        EXPECT_LE(worst_dx, 1e-11);
    }
}

TEST(BatchNorm, PlanesFarFromZeroMatchATwoPassLongDoubleReference) {
    // Each channel centred 1000 standard deviations from 0 with a different mean per image:
    // statistics must match the two-pass formulas in long double (E[x²] − E[x]² would lose about
    // 6 of the 16 digits here). Planes of 35 values (BatchNorm2d: formed plane by plane, sums of
    // eight interleaved chains and a tail of 3, combined as Chan et al.) and of 1 value
    // (BatchNorm1d on (N, C): a row of channels at a time).
    for (const shape_type& shape : {shape_type{3, 2, 5, 7}, shape_type{40, 2}}) {
        SCOPED_TRACE(format_shape(shape));
        check_far_from_zero(shape);
    }
}

TEST(BatchNorm, NoGradStillNormalisesWithTheBatchInTraining) {
    nn::BatchNorm1d bn(1);
    no_grad scope;
    const Var y = bn(constant(testing::column({1.0, 3.0})));
    EXPECT_FALSE(y.requires_grad());
    // (x − 2)/√(1 + ε)
    EXPECT_NEAR(y.value()(0, 0), -1.0 / std::sqrt(1.0 + 1e-5), 1e-15);
    EXPECT_DOUBLE_EQ(bn.running_mean().value()(0), 0.2);             // 0.9·0 + 0.1·2
    EXPECT_DOUBLE_EQ(bn.running_var().value()(0), 0.9 + 0.1 * 2.0);  // unbiased variance 2
}

TEST(BatchNorm, ErrorsNameTheLayerAndTheShapes) {
    nn::BatchNorm1d bn1(3);
    nn::BatchNorm2d bn2(3);
    XGRAD_EXPECT_THROW_WITH(bn1(constant(xt::zeros<double>({4, 5}))), shape_error,
                            "BatchNorm1d: expected 3 channels (axis 1), got shape (4,5)");
    XGRAD_EXPECT_THROW_WITH(bn1(constant(xt::zeros<double>({2, 3, 4, 5}))), shape_error,
                            "BatchNorm1d: expected a 2-D (N, C) or 3-D (N, C, L) input, got shape "
                            "(2,3,4,5)");
    XGRAD_EXPECT_THROW_WITH(bn2(constant(xt::zeros<double>({2, 3}))), shape_error,
                            "BatchNorm2d: expected a 4-D input (N, C, H, W), got shape (2,3)");
    XGRAD_EXPECT_THROW_WITH(bn2(constant(xt::zeros<double>({2, 4, 2, 2}))), shape_error,
                            "BatchNorm2d: expected 3 channels (axis 1), got shape (2,4,2,2)");
    XGRAD_EXPECT_THROW_WITH(bn1(constant(xt::zeros<double>({1, 3}))), shape_error,
                            "BatchNorm1d: expected more than 1 value per channel when training, "
                            "got input of shape (1,3)");
    XGRAD_EXPECT_THROW_WITH(bn2(constant(xt::zeros<double>({1, 3, 1, 1}))), shape_error,
                            "more than 1 value per channel when training");
    XGRAD_EXPECT_THROW_WITH(bn1(constant(xt::zeros<double>({0, 3}))), shape_error,
                            "more than 1 value per channel");
    EXPECT_EQ(bn1.num_batches_tracked().item(), 0.0);  // nothing updated by a refused batch
    // one value per channel is fine in eval (and an (N, C, L) batch of one row in training)
    bn1.eval();
    EXPECT_EQ(bn1(constant(xt::ones<double>({1, 3}))).shape(), (shape_type{1, 3}));
    bn1.train();
    std::mt19937_64 rng(1);
    EXPECT_EQ(bn1(constant(random_array(rng, {1, 3, 2}))).shape(), (shape_type{1, 3, 2}));
    XGRAD_EXPECT_THROW_WITH(nn::BatchNorm1d(0), std::invalid_argument,
                            "BatchNorm1d: num_features must be > 0");
    XGRAD_EXPECT_THROW_WITH(nn::BatchNorm2d(2, -1.0), std::invalid_argument,
                            "BatchNorm2d: eps must be finite and >= 0, got -1");
    // an infinite eps would make every output β (and NaN for an infinite input): refused too
    XGRAD_EXPECT_THROW_WITH(nn::BatchNorm2d(2, std::numeric_limits<double>::infinity()),
                            std::invalid_argument,
                            "BatchNorm2d: eps must be finite and >= 0, got inf");
    XGRAD_EXPECT_THROW_WITH(nn::BatchNorm1d(2, std::numeric_limits<double>::quiet_NaN()),
                            std::invalid_argument,
                            "BatchNorm1d: eps must be finite and >= 0, got nan");
    XGRAD_EXPECT_THROW_WITH(nn::LayerNorm({2}, std::numeric_limits<double>::infinity()),
                            std::invalid_argument,
                            "LayerNorm: eps must be finite and >= 0, got inf");
    XGRAD_EXPECT_THROW_WITH(nn::LayerNorm({2}, -std::numeric_limits<double>::infinity()),
                            std::invalid_argument, "got -inf");
    EXPECT_EQ(nn::BatchNorm2d(2, 0.0).eps(), 0.0);  // 0 is allowed, as PyTorch
    EXPECT_EQ(nn::BatchNorm2d(2, 1e300).num_features(), 2u);
    XGRAD_EXPECT_THROW_WITH(nn::BatchNorm2d(2, 1e-5, 1.5), std::invalid_argument,
                            "BatchNorm2d: momentum must be in [0, 1], got 1.5");
    // a replay with a wrong shape is refused too
    const Var x = constant(xt::ones<double>({2, 3}));
    Tape tape(sum(bn1(x * parameter(1.0))));
    x.mutable_value() = xt::ones<double>({2, 4});
    XGRAD_EXPECT_THROW_WITH(tape.forward(), shape_error,
                            "BatchNorm1d: expected 3 channels (axis 1), got shape (2,4)");
}

TEST(LayerNorm, ErrorsAndTheLastAxesOnly) {
    nn::LayerNorm ln({4, 5});
    XGRAD_EXPECT_THROW_WITH(ln(constant(xt::zeros<double>({2, 3}))), shape_error,
                            "LayerNorm: expected an input whose last axes are (4,5), got shape "
                            "(2,3)");
    XGRAD_EXPECT_THROW_WITH(ln(constant(xt::zeros<double>({5}))), shape_error, "got shape (5,)");
    XGRAD_EXPECT_THROW_WITH(nn::LayerNorm(shape_type{}), std::invalid_argument,
                            "LayerNorm: normalized_shape must have at least one axis");
    XGRAD_EXPECT_THROW_WITH(nn::LayerNorm({3, 0}), std::invalid_argument, "got (3,0)");
    // the input may be exactly the normalized shape, and each row is normalised on its own
    array counting = xt::arange<double>(20.0);
    counting.reshape({4, 5});
    const Var y = ln(constant(counting));
    EXPECT_NEAR(xt::mean(y.value())(), 0.0, 1e-15);
    nn::LayerNorm rows({3}, 1e-5, false);
    const array out = rows(constant(array{{1.0, 2.0, 3.0}, {10.0, 10.0, 10.0}})).value();
    const double s = 1.0 / std::sqrt(2.0 / 3.0 + 1e-5);
    EXPECT_NEAR(out(0, 0), -s, 1e-15);
    EXPECT_NEAR(out(0, 2), s, 1e-15);
    EXPECT_EQ(out(1, 0), 0.0);  // a constant row: x̂ = 0
    EXPECT_EQ(rows.parameters().size(), 0u);
}

// ---- dropout -------------------------------------------------------------------------------

TEST(Dropout, EvalModeReturnsTheInputItself) {
    nn::Dropout drop(0.4, 1);
    drop.eval();
    const Var x = parameter(array{1.0, 2.0, 3.0});
    EXPECT_EQ(drop(x).node_ptr(), x.node_ptr());
    nn::Dropout none(0.0, 1);  // p = 0: the identity in training too
    EXPECT_EQ(none(x).node_ptr(), x.node_ptr());
}

TEST(Dropout, TrainingKeepsAboutOneMinusPScaledByItsInverse) {
    for (double p : {0.1, 0.5, 0.8}) {
        SCOPED_TRACE(p);
        nn::Dropout drop(p, 11);
        const std::size_t n = 200000;
        const Var x = parameter(xt::ones<double>({n / 100, std::size_t{100}}));
        const Var y = drop(x);
        ASSERT_EQ(y.shape(), x.shape());
        const double scale = 1.0 / (1.0 - p);
        std::size_t kept = 0;
        for (double v : y.value()) {
            EXPECT_TRUE(v == 0.0 || v == scale) << v;
            kept += v != 0.0 ? 1 : 0;
        }
        // the kept fraction's standard deviation is √(p(1 − p)/n) ≤ 0.0012: 5 of them
        EXPECT_NEAR(static_cast<double>(kept) / n, 1.0 - p, 0.006);
        // dL/dx = seed ⊙ m/(1 − p), and with x = 1 that mask is y itself
        std::mt19937_64 rng(2);
        const array seed = random_array(rng, x.shape());
        y.backward(seed);
        EXPECT_EQ(x.grad(), seed * y.value());
        // forward mode: J·t = t ⊙ m/(1 − p)
        const array t = random_array(rng, x.shape());
        EXPECT_EQ(jvp(y, {x}, {t}), t * y.value());
    }
}

TEST(Dropout, SameSeedSameMasksAndEveryPassDrawsAFreshOne) {
    std::mt19937_64 rng(5);
    const Var x = constant(random_array(rng, {50, 40}, 1.0, 2.0));
    nn::Dropout a(0.5, 42), b(0.5, 42), c(0.5, 43);
    const array first = a(x).value();
    EXPECT_EQ(b(x).value(), first);
    EXPECT_NE(c(x).value(), first);
    const array second = a(x).value();
    EXPECT_NE(second, first);
    EXPECT_EQ(b(x).value(), second);  // b's second mask is a's second mask
    // a Tape replay draws a new mask too (so replayed training loops see fresh masks)
    const Var w = parameter(1.0);
    const Var y = a(x * w);
    Tape tape(sum(y));
    const array built = y.value();
    tape.forward();
    EXPECT_NE(y.value(), built);
    // and backward uses the mask of the last pass
    tape.backward();
    // y = w·x·m/(1 − p) with w = 1: dL/dw = Σ x·m/(1 − p) = Σ y
    EXPECT_LE(testing::relative_error(w.grad()(), xt::sum(y.value())()), 1e-13);
}

TEST(Dropout, GradientMatchesCentralDifferencesWithSameSeedModules) {
    // Each evaluation uses a fresh module of the same seed, hence the same mask.
    std::mt19937_64 rng(6);
    const array x0 = random_array(rng, {3, 4});
    const array seed = random_array(rng, {3, 4});
    auto f = [&](const array& at) {
        nn::Dropout drop(0.3, 99);
        return xt::sum(drop(constant(at)).value() * seed)();
    };
    nn::Dropout drop(0.3, 99);
    const Var x = parameter(x0);
    sum(drop(x) * constant(seed)).backward();
    const double h = 1e-6;
    for (std::size_t i = 0; i < x0.size(); ++i) {
        array plus = x0, minus = x0;
        plus.data()[i] += h;
        minus.data()[i] -= h;
        EXPECT_NEAR(x.grad().data()[i], (f(plus) - f(minus)) / (2 * h), 1e-8);
    }
    // the graph form gives the same seed ⊙ m/(1 − p), for the mask of that pass
    const Var y = drop(x);
    const Var g = grad(sum(y * constant(seed)), {x}, true)[0];
    const array mask = xt::where(xt::equal(y.value(), 0.0), 0.0, 1.0 / (1.0 - 0.3));
    EXPECT_EQ(g.value(), seed * mask);
}

TEST(Dropout, PMustBeAProbabilityAndOneGivesZeros) {
    XGRAD_EXPECT_THROW_WITH(nn::Dropout(1.5), std::invalid_argument,
                            "Dropout: p must be in [0, 1], got 1.5");
    XGRAD_EXPECT_THROW_WITH(nn::Dropout(-0.1), std::invalid_argument, "got -0.1");
    XGRAD_EXPECT_THROW_WITH(nn::Dropout(std::nan("")), std::invalid_argument, "got nan");
    nn::Dropout all(1.0, 3);
    const Var x = parameter(array{1.0, -2.0, 3.0});
    const Var y = all(x);
    EXPECT_EQ(y.value(), (array{0.0, 0.0, 0.0}));
    sum(y).backward();
    EXPECT_EQ(x.grad(), (array{0.0, 0.0, 0.0}));
}

// ---- flatten -------------------------------------------------------------------------------

TEST(Flatten, MatchesTorchAndCentralDifferences) {
    namespace fl = ref::flatten;
    nn::Flatten flatten;
    const Var x = parameter(from_vector(fl::x, {2, 3, 2, 2}));
    const Var y = flatten(x);
    ASSERT_EQ(y.shape(), (shape_type{2, 12}));
    EXPECT_EQ(y.value(), from_vector(fl::y, {2, 12}));
    const Var seed = constant(from_vector(fl::seed, {2, 12}));
    sum(y * seed).backward();
    EXPECT_EQ(x.grad(), from_vector(fl::grad_x, {2, 3, 2, 2}));
    testing::expect_gradients_match(sum(flatten(x) * seed));
    // other axes, and a replay with another batch size
    EXPECT_EQ(nn::Flatten(0)(x).shape(), (shape_type{24}));
    EXPECT_EQ(nn::Flatten(1, 2)(x).shape(), (shape_type{2, 6, 2}));
    const Var batch = constant(xt::zeros<double>({2, 3, 2, 2}));
    const Var out = flatten(batch * parameter(1.0));
    Tape tape(sum(out));
    batch.mutable_value() = xt::zeros<double>({5, 3, 2, 2});
    tape.forward();
    EXPECT_EQ(out.shape(), (shape_type{5, 12}));
    XGRAD_EXPECT_THROW_WITH(flatten(constant(array{1.0, 2.0})), shape_error,
                            "flatten: axis 1 is out of range for shape (2,)");
}

// ---- initialisers --------------------------------------------------------------------------

TEST(Init, FansFollowTorch) {
    const nn::init::Fans conv = nn::init::compute_fans({16, 3, 5, 5});
    EXPECT_EQ(conv.fan_in, 75u);
    EXPECT_EQ(conv.fan_out, 400u);
    const nn::init::Fans linear = nn::init::compute_fans({4, 7});  // torch's (out, in)
    EXPECT_EQ(linear.fan_in, 7u);
    EXPECT_EQ(linear.fan_out, 4u);
    XGRAD_EXPECT_THROW_WITH(nn::init::compute_fans({3}), std::invalid_argument,
                            "init: fan_in and fan_out cannot be computed for shape (3,) (fewer "
                            "than 2 axes)");
    EXPECT_DOUBLE_EQ(nn::init::leaky_relu_gain(), std::sqrt(2.0));
    EXPECT_DOUBLE_EQ(nn::init::leaky_relu_gain(std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
}

/// @brief The mean of the squares and the largest magnitude.
std::pair<double, double> second_moment_and_max(const array& w) {
    double squares = 0.0, top = 0.0;
    for (double v : w) {
        squares += v * v;
        top = std::max(top, std::abs(v));
    }
    return {squares / static_cast<double>(w.size()), top};
}

TEST(Init, BoundsAndVariancesOfEachScheme) {
    Random random(17);
    const shape_type conv = {64, 32, 3, 3};  // fan_in 288, fan_out 576, 18 432 draws
    const double fan_in = 288.0, fan_out = 576.0;
    // Var of U(−b, b) is b²/3; 18 432 draws pin a variance to about 1% (3.5% allowed)
    auto expect_variance = [](const array& w, double variance) {
        EXPECT_NEAR(second_moment_and_max(w).first, variance, 0.035 * variance);
    };
    const array ku = nn::init::kaiming_uniform(conv, random);
    EXPECT_LE(second_moment_and_max(ku).second, std::sqrt(6.0 / fan_in));
    expect_variance(ku, 2.0 / fan_in);
    const array ku_out = nn::init::kaiming_uniform(conv, random, 0.0, nn::init::FanMode::fan_out);
    EXPECT_LE(second_moment_and_max(ku_out).second, std::sqrt(6.0 / fan_out));
    expect_variance(ku_out, 2.0 / fan_out);
    // torch's default for Linear and Conv layers: a = √5, b = √(1/fan_in)
    const array torch_default = nn::init::kaiming_uniform(conv, random, std::sqrt(5.0));
    EXPECT_LE(second_moment_and_max(torch_default).second, std::sqrt(1.0 / fan_in));
    expect_variance(torch_default, 1.0 / (3.0 * fan_in));
    expect_variance(nn::init::kaiming_normal(conv, random), 2.0 / fan_in);
    expect_variance(nn::init::kaiming_normal(conv, random, 0.0, nn::init::FanMode::fan_out),
                    2.0 / fan_out);
    const array xu = nn::init::xavier_uniform(conv, random, 2.0);
    EXPECT_LE(second_moment_and_max(xu).second, 2.0 * std::sqrt(6.0 / (fan_in + fan_out)));
    expect_variance(xu, 4.0 * 2.0 / (fan_in + fan_out));
    expect_variance(nn::init::xavier_normal(conv, random), 2.0 / (fan_in + fan_out));
    // explicit fans (xgrad's Linear layout (in, out)); empty shapes draw nothing
    expect_variance(nn::init::xavier_normal({300, 100}, {300, 100}, random), 2.0 / 400.0);
    EXPECT_EQ(nn::init::kaiming_uniform({0, 5}, {0, 0}, random).size(), 0u);
    XGRAD_EXPECT_THROW_WITH(nn::init::kaiming_normal({2, 5}, {0, 2}, random), std::invalid_argument,
                            "init: kaiming_normal needs a fan_in > 0 for shape (2,5)");
    XGRAD_EXPECT_THROW_WITH(nn::init::xavier_uniform({2, 5}, {0, 0}, random), std::invalid_argument,
                            "init: xavier_uniform needs fan_in + fan_out > 0 for shape (2,5)");
    // seeded: the same seed draws the same weights, row-major
    Random a(5), b(5);
    EXPECT_EQ(nn::init::kaiming_uniform({8, 4, 3, 3}, a),
              nn::init::kaiming_uniform({8, 4, 3, 3}, b));
}

TEST(Init, LinearDrawsAreTheSchemesWithFansInOut) {
    // Linear(in, out) draws W (in, out) row-major with Fans{in, out}: exactly the numbers it drew
    // before nn::init existed, U(−a, a) or N(0, σ) element by element.
    const std::size_t in = 7, out = 5;
    for (nn::Init scheme : {nn::Init::xavier_uniform, nn::Init::xavier_normal, nn::Init::he_uniform,
                            nn::Init::he_normal}) {
        nn::Linear layer(in, out, 23, scheme);
        Random random(23);
        array expected = array::from_shape({in, out});
        for (double& v : expected) {
            switch (scheme) {
                case nn::Init::xavier_uniform:
                    v = random.uniform(-std::sqrt(6.0 / 12.0), std::sqrt(6.0 / 12.0));
                    break;
                case nn::Init::xavier_normal:
                    v = random.normal(0.0, std::sqrt(2.0 / 12.0));
                    break;
                case nn::Init::he_uniform:
                    v = random.uniform(-std::sqrt(6.0 / 7.0), std::sqrt(6.0 / 7.0));
                    break;
                case nn::Init::he_normal:
                    v = random.normal(0.0, std::sqrt(2.0 / 7.0));
                    break;
            }
        }
        EXPECT_EQ(layer.weight().value(), expected);
    }
}

}  // namespace
}  // namespace xgrad
