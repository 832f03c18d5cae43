// The table of optimizer names and kinds, and the factory of the step-by-step ones.
#include "xgrad/optim/registry.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

#include "xgrad/optim/adagrad.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/rmsprop.hpp"
#include "xgrad/optim/sgd.hpp"

namespace xgrad::optim {

namespace {

// What each name stands for: the step-by-step optimizers with their hyper-parameters.
std::unique_ptr<Optimizer> make_sgd(std::vector<Var> params, double rate) {
    return std::make_unique<SGD>(std::move(params), rate);
}
std::unique_ptr<Optimizer> make_momentum(std::vector<Var> params, double rate) {
    return std::make_unique<SGD>(std::move(params), rate, 0.9);
}
std::unique_ptr<Optimizer> make_nesterov(std::vector<Var> params, double rate) {
    return std::make_unique<SGD>(std::move(params), rate, 0.9, true);
}
std::unique_ptr<Optimizer> make_adagrad(std::vector<Var> params, double rate) {
    return std::make_unique<AdaGrad>(std::move(params), rate);
}
std::unique_ptr<Optimizer> make_rmsprop(std::vector<Var> params, double rate) {
    return std::make_unique<RMSProp>(std::move(params), rate);
}
std::unique_ptr<Optimizer> make_adam(std::vector<Var> params, double rate) {
    return std::make_unique<Adam>(std::move(params), rate);
}

struct Entry {
    OptimizerKind kind;
    const char* name;
    /// @brief Null for the solvers, which are not Optimizers.
    std::unique_ptr<Optimizer> (*make)(std::vector<Var> params, double rate);
};

/// @brief The one table: every kind, in the enumeration's order.
constexpr Entry table[] = {
    {OptimizerKind::sgd, "sgd", &make_sgd},
    {OptimizerKind::momentum, "momentum", &make_momentum},
    {OptimizerKind::nesterov, "nesterov", &make_nesterov},
    {OptimizerKind::adagrad, "adagrad", &make_adagrad},
    {OptimizerKind::rmsprop, "rmsprop", &make_rmsprop},
    {OptimizerKind::adam, "adam", &make_adam},
    {OptimizerKind::lbfgs, "lbfgs", nullptr},
    {OptimizerKind::newton, "newton", nullptr},
};
constexpr std::size_t table_size = sizeof(table) / sizeof(table[0]);

constexpr bool in_enumeration_order() {
    for (std::size_t i = 0; i < table_size; ++i) {
        if (static_cast<std::size_t>(table[i].kind) != i) return false;
    }
    return true;
}
static_assert(in_enumeration_order(), "the table must list the kinds in the enumeration's order");

const Entry& entry(OptimizerKind kind, const char* who) {
    const auto index = static_cast<std::size_t>(kind);
    if (index >= table_size) {
        throw std::invalid_argument(std::string(who) + ": no optimizer has kind " +
                                    std::to_string(index));
    }
    return table[index];
}

}  // namespace

const std::vector<std::string>& optimizer_names() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const Entry& e : table) out.emplace_back(e.name);
        return out;
    }();
    return names;
}

const std::string& optimizer_name(OptimizerKind kind) {
    entry(kind, "optimizer_name");  // refuses a value outside the enumeration
    return optimizer_names()[static_cast<std::size_t>(kind)];
}

std::optional<OptimizerKind> parse_optimizer(std::string_view name) {
    for (const Entry& e : table) {
        if (name == e.name) return e.kind;
    }
    return std::nullopt;
}

bool is_solver(OptimizerKind kind) {
    const auto index = static_cast<std::size_t>(kind);
    return index < table_size && table[index].make == nullptr;
}

std::unique_ptr<Optimizer> make_optimizer(OptimizerKind kind, std::vector<Var> params,
                                          double learning_rate) {
    const Entry& e = entry(kind, "make_optimizer");
    if (e.make == nullptr) {
        throw std::invalid_argument(
            std::string("make_optimizer: '") + e.name +
            "' is a solver, not a step-by-step optimizer: call solvers::" + e.name);
    }
    return e.make(std::move(params), learning_rate);
}

}  // namespace xgrad::optim
