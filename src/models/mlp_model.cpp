// MLPClassifier and MLPRegressor: nn::MLP trained by xgrad::train_minibatches.
#include "xgrad/models/mlp_model.hpp"

#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

#include "xgrad/distributed/communicator.hpp"
#include "xgrad/errors.hpp"
#include "xgrad/models/softmax_regression.hpp"
#include "xgrad/nn/linear.hpp"
#include "xgrad/nn/predict.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/optim/registry.hpp"
#include "xgrad/optim/training.hpp"

namespace xgrad::models {

nn::Activation parse_activation(const std::string& name) {
    if (name == "relu") return nn::Activation::relu;
    if (name == "leaky_relu") return nn::Activation::leaky_relu;
    if (name == "tanh") return nn::Activation::tanh;
    if (name == "sigmoid") return nn::Activation::sigmoid;
    throw std::invalid_argument("MLP: unknown activation '" + name +
                                "' (relu, leaky_relu, tanh or sigmoid)");
}

const char* activation_name(nn::Activation activation) {
    switch (activation) {
        case nn::Activation::relu:
            return "relu";
        case nn::Activation::leaky_relu:
            return "leaky_relu";
        case nn::Activation::tanh:
            return "tanh";
        case nn::Activation::sigmoid:
            return "sigmoid";
    }
    throw std::invalid_argument("MLP: unknown activation");
}

namespace {

/// @brief The dense layers of a network, in order.
std::vector<const nn::Linear*> dense_layers(const nn::MLP& net) {
    std::vector<const nn::Linear*> out;
    for (const auto& m : net.modules()) {
        if (const auto* layer = dynamic_cast<const nn::Linear*>(m.get())) out.push_back(layer);
    }
    return out;
}

}  // namespace

MLPModel::MLPModel(std::vector<std::size_t> hidden, nn::Activation activation)
    : hidden_(std::move(hidden)), activation_(activation) {
    for (std::size_t k = 0; k < hidden_.size(); ++k) {
        if (hidden_[k] == 0) {
            throw std::invalid_argument("MLP: hidden layer " + std::to_string(k + 1) +
                                        " has size 0");
        }
    }
}

Var MLPModel::objective(const Var& X, const Var& y, double l2_per_row) const {
    Var total = loss((*net_)(X), y);
    if (l2_per_row > 0.0) {
        // Weight decay (λ/2m)·Σ‖W‖²: the weight matrices only, not the biases.
        for (const nn::Linear* layer : dense_layers(*net_))
            total = total + (0.5 * l2_per_row) * sum(square(layer->weight()));
    }
    return total;
}

void MLPModel::fit(const array& X, const array& y, const TrainOptions& options) {
    distributed::Communicator* const comm = options.communicator;
    // The group of this fit, for outputs() and check_targets(); cleared when fit returns or
    // throws, so that it never outlives the caller's communicator.
    communicator_ = comm;
    struct Clear {
        distributed::Communicator*& held;
        ~Clear() { held = nullptr; }
    } clear{communicator_};
    std::optional<optim::OptimizerKind> kind;
    // Checks one rank makes alone are agreed with a group: a bad row stops every rank.
    const auto checks = [&] {
        if (X.dimension() != 2 || y.dimension() != 1 || X.shape()[0] != y.shape()[0]) {
            throw shape_error(
                std::string(name()) +
                ".fit: expects X of shape (rows, features) and y of shape (rows,), got " +
                format_shape(X.shape()) + " and " + format_shape(y.shape()));
        }
        if (X.shape()[0] == 0) {
            if (comm != nullptr) {
                throw std::invalid_argument(
                    std::string(name()) + ".fit: rank " + std::to_string(comm->rank()) +
                    " has no training rows (each rank needs at least one: use fewer processes)");
            }
            throw shape_error(
                std::string(name()) +
                ".fit: expects X of shape (rows, features) and y of shape (rows,), got " +
                format_shape(X.shape()) + " and " + format_shape(y.shape()));
        }
        for (std::size_t i = 0; i < X.size(); ++i) {
            if (!std::isfinite(X.data()[i])) {
                throw std::invalid_argument(std::string(name()) +
                                            ".fit: X holds a non-finite value at row " +
                                            std::to_string(i / X.shape()[1]) + ", column " +
                                            std::to_string(i % X.shape()[1]));
            }
        }
        kind = optim::parse_optimizer(options.optimizer);
        if (!kind) {
            throw std::invalid_argument(std::string(name()) + ".fit: unknown optimizer '" +
                                        options.optimizer + "'");
        }
        if (optim::is_solver(*kind)) {
            throw std::invalid_argument(std::string(name()) + ".fit: optimizer " +
                                        options.optimizer +
                                        " is a solver for convex objectives; train an MLP with "
                                        "sgd, momentum, nesterov, adagrad, rmsprop or adam");
        }
        if (options.l1 > 0.0) {
            throw std::invalid_argument(std::string(name()) +
                                        ".fit: L1 is not supported for an MLP");
        }
        check_targets(y);
    };
    distributed::agree(comm, checks);
    const std::size_t rows = X.shape()[0];
    // m of the weight decay: all ranks' rows
    const std::size_t m = comm == nullptr ? rows
                                          : static_cast<std::size_t>(distributed::allreduce_sum(
                                                *comm, static_cast<double>(rows)));
    std::vector<std::size_t> sizes{X.shape()[1]};
    sizes.insert(sizes.end(), hidden_.begin(), hidden_.end());
    sizes.push_back(outputs(y));  // a classifier's K: of all ranks' labels
    net_ = std::make_shared<nn::MLP>(sizes, activation_, options.seed);
    inputs_ = X.shape()[1];
    const std::vector<Var> params = net_->parameters();
    const auto optimizer = optim::make_optimizer(*kind, params, options.learning_rate);
    const double l2_per_row = options.l2 / static_cast<double>(m);
    // A regressor's one output is (rows, 1): so are its targets.
    const bool column_targets = sizes.back() == 1;
    const array targets = column_targets ? array(xt::reshape_view(y, {rows, std::size_t{1}})) : y;
    bool validating = options.validation_X.dimension() == 2 && options.validation_X.size() > 0;
    array validation_targets;
    if (validating) {
        validation_targets =
            column_targets ? array(xt::reshape_view(options.validation_y,
                                                    {options.validation_y.size(), std::size_t{1}}))
                           : options.validation_y;
    }
    // With a group: validating when any rank has validation rows; the loss is the sum of the
    // ranks' loss sums over all validation rows.
    const double local_validation_rows =
        validating ? static_cast<double>(options.validation_X.shape()[0]) : 0.0;
    double global_validation_rows = local_validation_rows;
    if (comm != nullptr) {
        global_validation_rows = distributed::allreduce_sum(*comm, local_validation_rows);
        validating = global_validation_rows > 0.0;
    }
    const auto validation_loss_now = [&] {
        double local = 0.0;
        if (local_validation_rows > 0.0) {
            no_grad scope;
            local = loss((*net_)(constant(options.validation_X)), constant(validation_targets))
                        .value()();
        }
        if (comm == nullptr) return local;
        return distributed::allreduce_sum(*comm, local * local_validation_rows) /
               global_validation_rows;
    };
    loss_history_.clear();
    validation_history_.clear();
    summary_ = {};
    summary_.budget = options.epochs;
    std::vector<array> best;
    double best_loss = std::numeric_limits<double>::infinity();
    std::size_t since_best = 0;
    EpochOptions epochs(options.epochs, options.batch_size, options.seed);
    epochs.after_epoch = [&](std::size_t epoch, double train_loss) {
        double validation_loss = std::numeric_limits<double>::quiet_NaN();
        if (validating) {
            validation_loss = validation_loss_now();
            validation_history_.push_back(validation_loss);
        }
        summary_.steps = epoch + 1;
        if (options.on_epoch) {
            options.on_epoch({epoch, options.epochs, train_loss, validation_loss,
                              options.schedule ? options.schedule(epoch) : options.learning_rate});
        }
        if (!validating || options.patience == 0) return true;
        if (validation_loss < best_loss) {
            best_loss = validation_loss;
            since_best = 0;
            best.clear();
            for (const Var& p : params) best.push_back(p.value());
            return true;
        }
        if (++since_best < options.patience) return true;
        summary_.stopped_early = true;
        return false;
    };
    const auto update = [&] {
        if (options.schedule) optimizer->set_learning_rate(options.schedule(summary_.steps));
        optimizer->step();
    };
    epochs.communicator = comm;
    if (comm != nullptr) epochs.global_rows = options.row_ids;
    loss_history_ = train_minibatches(
        X, targets,
        [&](const Var& features, const Var& batch_targets) {
            return objective(features, batch_targets, l2_per_row);
        },
        params, update, epochs);
    if (!best.empty()) {
        for (std::size_t k = 0; k < params.size(); ++k) params[k].mutable_value() = best[k];
    }
}

void MLPModel::check_fitted(const array& X) const {
    if (!net_) throw graph_error(std::string(name()) + ": call fit() first");
    if (X.dimension() != 2 || X.shape()[1] != inputs_) {
        throw shape_error(std::string(name()) + ": expects X of shape (rows, " +
                          std::to_string(inputs_) + "), got " + format_shape(X.shape()));
    }
}

array MLPModel::decision_function(const array& X) const {
    check_fitted(X);
    array out = nn::predict_outputs(*net_, X);
    // A regressor's one output column is returned as a vector (a classifier has K ≥ 2).
    if (out.dimension() == 2 && out.shape()[1] == 1)
        return array(xt::reshape_view(out, {out.shape()[0]}));
    return out;
}

std::vector<LayerParameters> MLPModel::layers() const {
    std::vector<LayerParameters> out;
    if (!net_) return out;
    for (const nn::Linear* layer : dense_layers(*net_))
        out.push_back({layer->weight().value(), layer->bias().value()});
    return out;
}

void MLPModel::set_layers(const std::vector<LayerParameters>& layers) {
    if (layers.size() != hidden_.size() + 1) {
        throw shape_error(std::string(name()) + ".set_layers: expects " +
                          std::to_string(hidden_.size() + 1) + " layers, got " +
                          std::to_string(layers.size()));
    }
    std::vector<std::size_t> sizes;
    for (std::size_t k = 0; k < layers.size(); ++k) {
        const auto& w = layers[k].weight;
        const auto& b = layers[k].bias;
        const std::string which = std::string(name()) + ".set_layers: layer " + std::to_string(k);
        if (w.dimension() != 2 || b.dimension() != 1 || b.size() != w.shape()[1])
            throw shape_error(which + ": weight " + format_shape(w.shape()) + " and bias " +
                              format_shape(b.shape()) + " do not fit");
        if (k > 0 && w.shape()[0] != sizes.back())
            throw shape_error(which + ": takes " + std::to_string(w.shape()[0]) +
                              " inputs, the layer before gives " + std::to_string(sizes.back()));
        if (k < hidden_.size() && w.shape()[1] != hidden_[k])
            throw shape_error(which + ": has " + std::to_string(w.shape()[1]) +
                              " outputs, the model's hidden size is " + std::to_string(hidden_[k]));
        if (k == 0) sizes.push_back(w.shape()[0]);
        sizes.push_back(w.shape()[1]);
    }
    net_ = std::make_shared<nn::MLP>(sizes, activation_, 0);
    const auto dense = dense_layers(*net_);
    for (std::size_t k = 0; k < layers.size(); ++k) {
        dense[k]->weight().mutable_value() = layers[k].weight;
        dense[k]->bias().mutable_value() = layers[k].bias;
    }
    inputs_ = sizes.front();
}

MLPClassifier::MLPClassifier(std::vector<std::size_t> hidden, nn::Activation activation,
                             std::size_t classes)
    : MLPModel(std::move(hidden), activation), requested_classes_(classes), classes_(classes) {
    if (classes == 1) throw std::invalid_argument("MLPClassifier: a classifier needs 2 classes");
}

std::size_t MLPClassifier::outputs(const array& y) const {
    classes_ = class_count(y, requested_classes_, "MLPClassifier.fit", communicator_);
    return classes_;
}

void MLPClassifier::check_targets(const array& y) const {
    // With a group a rank may hold one class only: outputs() counts the classes of all ranks.
    if (communicator_ != nullptr) {
        check_class_labels(y, requested_classes_, "MLPClassifier.fit");
    } else {
        class_count(y, requested_classes_, "MLPClassifier.fit");
    }
}

Var MLPClassifier::loss(const Var& z, const Var& y) const {
    return cross_entropy(z, y);
}

array MLPClassifier::predict_proba(const array& X) const {
    const array z = decision_function(X);
    no_grad scope;
    return softmax(constant(z)).value();
}

array MLPClassifier::predict(const array& X) const {
    // of the probabilities, not the logits: two logits a rounding apart can give one
    // probability, and then the first class wins, as the model file and the command line have it
    return argmax(constant(predict_proba(X)), 1);
}

MLPRegressor::MLPRegressor(std::vector<std::size_t> hidden, nn::Activation activation)
    : MLPModel(std::move(hidden), activation) {}

void MLPRegressor::check_targets(const array& y) const {
    for (double v : y) {
        if (!std::isfinite(v))
            throw std::invalid_argument("MLPRegressor.fit: the targets hold a non-finite value");
    }
}

Var MLPRegressor::loss(const Var& z, const Var& y) const {
    return mse(z, y);
}

}  // namespace xgrad::models
