// nn layers: Linear (initialisation), activations, Sequential, MLP, predictions.
#include <cmath>

#include "xgrad/core/random.hpp"
#include "xgrad/nn/activations.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/predict.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/ops.hpp"

namespace xgrad::nn {

Linear::Linear(std::size_t in, std::size_t out, std::uint64_t seed, Init init) {
    if (in == 0 || out == 0) {
        throw std::invalid_argument("Linear: needs in > 0 and out > 0, got " + std::to_string(in) +
                                    " and " + std::to_string(out));
    }
    Random random(seed);
    const auto fan_in = static_cast<double>(in);
    const auto fan_out = static_cast<double>(out);
    array w = array::from_shape({in, out});
    for (double& v : w) {
        switch (init) {
            case Init::xavier_uniform: {
                const double a = std::sqrt(6.0 / (fan_in + fan_out));
                v = random.uniform(-a, a);
                break;
            }
            case Init::xavier_normal:
                v = random.normal(0.0, std::sqrt(2.0 / (fan_in + fan_out)));
                break;
            case Init::he_uniform: {
                const double a = std::sqrt(6.0 / fan_in);
                v = random.uniform(-a, a);
                break;
            }
            case Init::he_normal:
                v = random.normal(0.0, std::sqrt(2.0 / fan_in));
                break;
        }
    }
    weight_ = parameter(std::move(w));
    bias_ = parameter(xt::zeros<double>({out}));
}

Var Linear::forward(const Var& x) {
    if (x.dimension() != 2 || x.shape()[1] != weight_.shape()[0]) {
        throw shape_error("Linear: expects a batch of shape (rows, " +
                          std::to_string(weight_.shape()[0]) + "), got " + format_shape(x.shape()));
    }
    return matmul(x, weight_) + bias_;
}

Var Sequential::forward(const Var& x) {
    Var out = x;
    for (const auto& module : modules_) out = module->forward(out);
    return out;
}

std::vector<Var> Sequential::parameters() const {
    std::vector<Var> params;
    for (const auto& module : modules_) {
        for (const Var& p : module->parameters()) params.push_back(p);
    }
    return params;
}

namespace {

Init default_init(Activation activation) {
    return activation == Activation::relu || activation == Activation::leaky_relu
               ? Init::he_uniform
               : Init::xavier_uniform;
}

}  // namespace

MLP::MLP(const std::vector<std::size_t>& sizes, Activation activation, std::uint64_t seed)
    : MLP(sizes, activation, seed, default_init(activation)) {}

MLP::MLP(const std::vector<std::size_t>& sizes, Activation activation, std::uint64_t seed,
         Init init) {
    if (sizes.size() < 2) throw std::invalid_argument("MLP: needs at least input and output sizes");
    for (std::size_t k = 0; k + 1 < sizes.size(); ++k) {
        add<Linear>(sizes[k], sizes[k + 1], seed + k, init);
        if (k + 2 == sizes.size()) break;  // no activation after the output layer
        switch (activation) {
            case Activation::relu:
                add<ReLU>();
                break;
            case Activation::leaky_relu:
                add<LeakyReLU>();
                break;
            case Activation::tanh:
                add<Tanh>();
                break;
            case Activation::sigmoid:
                add<Sigmoid>();
                break;
        }
    }
}

array predict_outputs(Module& net, const array& X) {
    no_grad scope;
    return net(constant(X)).value();
}

array predict_labels(Module& net, const array& X) {
    const array out = predict_outputs(net, X);
    const std::size_t rows = out.dimension() == 0 ? 1 : out.shape()[0];
    const std::size_t columns = out.dimension() == 2 ? out.shape()[1] : 1;
    array labels = array::from_shape({rows});
    for (std::size_t i = 0; i < rows; ++i) {
        const double* row = out.data() + i * columns;
        std::size_t best = 0;
        for (std::size_t k = 1; k < columns; ++k) best = row[k] > row[best] ? k : best;
        labels(i) = columns == 1 ? (row[0] > 0.0 ? 1.0 : 0.0) : static_cast<double>(best);
    }
    return labels;
}

}  // namespace xgrad::nn
