// nn::Sequential and nn::MLP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/module.hpp"

namespace xgrad::nn {

/// @brief Modules applied one after the other. Child k is registered under the name "k" (as
/// torch.nn.Sequential): its entries are "k.weight", "k.running_mean", ...; train()/eval()
/// reach every child.
class Sequential : public Module {
  public:
    Sequential() = default;
    /// @brief The given modules in order. @throw std::invalid_argument for a null module.
    explicit Sequential(std::vector<std::shared_ptr<Module>> modules);

    /// @brief Appends a module made in place: `net.add<Linear>(2, 4, seed)`. The module keeps
    /// its own mode (a new one trains) until train()/eval() is called on the Sequential.
    template <class M, class... Args>
    M& add(Args&&... args) {
        auto module = std::make_shared<M>(std::forward<Args>(args)...);
        append(module);
        return *module;
    }
    /// @brief Appends an existing module (shared, not copied), named by its position.
    /// @throw std::invalid_argument for a null module.
    void append(std::shared_ptr<Module> module);

    /// @brief Each module's forward() applied in turn (x itself for an empty Sequential).
    Var forward(const Var& x) override;
    /// @brief The modules in order (a module appended twice is listed at both positions).
    const std::vector<std::shared_ptr<Module>>& modules() const { return modules_; }

  private:
    std::vector<std::shared_ptr<Module>> modules_;
};

/// @brief The activation an MLP puts between its Linear layers: nn::ReLU, nn::LeakyReLU (its
/// default slope), nn::Tanh, nn::Sigmoid.
enum class Activation { relu, leaky_relu, tanh, sigmoid };

/// @brief A multi-layer perceptron: Linear layers of the given sizes (sizes.front() inputs,
/// sizes.back() outputs) with the activation between them, none after the last. Layer k is
/// seeded with seed + k. Weights start He-initialised for ReLU-like activations, Glorot for
/// tanh and sigmoid.
class MLP : public Sequential {
  public:
    /// @brief The MLP with the initialisation of the class comment (He for relu and leaky_relu,
    /// Glorot for tanh and sigmoid).
    /// @throw std::invalid_argument for fewer than two sizes or a size of 0.
    MLP(const std::vector<std::size_t>& sizes, Activation activation, std::uint64_t seed);
    /// @brief The MLP with every Linear layer initialised by `init`. Throws as above.
    MLP(const std::vector<std::size_t>& sizes, Activation activation, std::uint64_t seed,
        Init init);
};

}  // namespace xgrad::nn
