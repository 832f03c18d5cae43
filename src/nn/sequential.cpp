// nn::Sequential (modules in a row) and nn::MLP (Linear layers with an activation between).
#include "xgrad/nn/sequential.hpp"

#include <stdexcept>
#include <string>

#include "xgrad/nn/activations.hpp"
#include "xgrad/nn/linear.hpp"

namespace xgrad::nn {

Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) {
    for (auto& module : modules) append(std::move(module));
}

void Sequential::append(std::shared_ptr<Module> module) {
    if (!module) {
        throw std::invalid_argument("Sequential: module " + std::to_string(modules_.size()) +
                                    " is null");
    }
    register_module(std::to_string(modules_.size()), module);
    modules_.push_back(std::move(module));
}

Var Sequential::forward(const Var& x) {
    Var out = x;
    for (const auto& module : modules_) out = module->forward(out);
    return out;
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

}  // namespace xgrad::nn
