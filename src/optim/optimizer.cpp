// The Optimizer base every update derives from: its checks, zero_grad and zeroed state.
#include "xgrad/optim/optimizer.hpp"

#include <string>

namespace xgrad::optim {

void require_parameters(const std::vector<Var>& params, const std::string& who) {
    for (const Var& p : params) {
        if (!p.is_leaf() || !p.requires_grad()) {
            throw graph_error(who + ": parameters must be parameter() leaves, got '" + p.op_name() +
                              "'");
        }
    }
}

Optimizer::Optimizer(std::vector<Var> params, double learning_rate)
    : params_(std::move(params)), learning_rate_(learning_rate) {
    require_parameters(params_, "optimizer");
    if (!(learning_rate > 0.0)) {
        throw std::invalid_argument("optimizer: learning rate must be > 0, got " +
                                    std::to_string(learning_rate));
    }
}

void Optimizer::zero_grad() const {
    xgrad::zero_grad(params_);
}

std::vector<array> Optimizer::zero_state() const {
    std::vector<array> out;
    for (const Var& p : params_) out.push_back(xt::zeros<double>(p.shape()));
    return out;
}

void Optimizer::check_shapes(std::initializer_list<const std::vector<array>*> states) const {
    for (std::size_t k = 0; k < params_.size(); ++k) {
        const shape_type& shape = params_[k].shape();
        auto fail = [&](const std::string& what, const shape_type& other) {
            throw graph_error("optimizer: parameter " + std::to_string(k) + " has shape " +
                              format_shape(shape) + " but its " + what + " has shape " +
                              format_shape(other) +
                              "; make a new optimizer after changing a parameter's shape");
        };
        if (params_[k].grad().shape() != shape) fail("gradient", params_[k].grad().shape());
        for (const std::vector<array>* state : states) {
            if (!state->empty() && (*state)[k].shape() != shape) fail("state", (*state)[k].shape());
        }
    }
}

}  // namespace xgrad::optim
