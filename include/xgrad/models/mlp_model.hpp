// MLPClassifier and MLPRegressor: nn::MLP trained by xgrad::train_minibatches.
#pragma once

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "xgrad/models/linear_model.hpp"
#include "xgrad/models/train_options.hpp"
#include "xgrad/nn/sequential.hpp"

namespace xgrad::models {

/// @brief "relu", "leaky_relu", "tanh" or "sigmoid" → nn::Activation; std::invalid_argument
/// "MLP: unknown activation 'x' (relu, leaky_relu, tanh or sigmoid)" otherwise.
nn::Activation parse_activation(const std::string& name);
/// @brief The name parse_activation reads.
const char* activation_name(nn::Activation activation);

/// @brief The weights of one dense layer: W (in, out) and b (out,), as nn::Linear holds them.
struct LayerParameters {
    array weight;
    array bias;
};

/// @brief A multi-layer perceptron (nn::MLP: dense layers with the activation between them,
/// none after the last) trained on a mean loss plus weight decay (λ₂/2m)·Σ‖Wₗ‖² over the layers'
/// weight matrices (biases are not penalised; λ₂ = TrainOptions.l2, m the training rows, as the
/// linear models' L2 term), by a step-by-step optimizer of TrainOptions (sgd, momentum,
/// nesterov, adagrad, rmsprop, adam; lbfgs and newton are refused: the objective is not convex)
/// through xgrad::train_minibatches (seeded mini-batches, the epochs, the schedule). Validation
/// rows give a validation loss per epoch and, with patience, early stopping that keeps the best
/// epoch's parameters. Layer k starts from seed + k (TrainOptions.seed).
class MLPModel {
  public:
    virtual ~MLPModel() = default;

    /// @brief Trains a fresh network on X (m, n), y (m,). Throws shape_error "<name>.fit:
    /// expects X of shape (rows, features) and y of shape (rows,), got ...",
    /// std::invalid_argument for a solver optimizer, an unknown one, a learning rate ≤ 0, L1 > 0
    /// (not supported), non-finite X ("X holds a non-finite value at row i, column j"), or
    /// targets the model refuses. With options.communicator, collective: X, y and the
    /// validation rows are this rank's (at least one training row per rank), and every rank
    /// trains the single-process network on all ranks' rows (global m of the weight decay,
    /// global class count, the single-process mini-batches, the validation loss over all ranks'
    /// validation rows, so early stopping is the same everywhere; see
    /// TrainOptions::communicator); input errors are then distributed::distributed_error on
    /// every rank ("rank R: ...").
    void fit(const array& X, const array& y, const TrainOptions& options = {});

    /// @brief The network's outputs for X: logits (m, K) for a classifier, (m,) for a regressor.
    /// Throws graph_error "<name>: call fit() first" before fit and shape_error for X of another
    /// width.
    array decision_function(const array& X) const;

    /// @brief The mean training objective of each epoch (loss + weight decay, before its steps).
    const std::vector<double>& loss_history() const { return loss_history_; }
    /// @brief The mean loss on the validation rows after each epoch (none without them).
    const std::vector<double>& validation_loss_history() const { return validation_history_; }
    /// @brief How the last fit ended (converged is always false: no tolerance is used).
    const LinearModel::FitSummary& fit_summary() const { return summary_; }

    /// @brief The hidden layer sizes and activation given to the constructor.
    const std::vector<std::size_t>& hidden() const { return hidden_; }
    nn::Activation activation() const { return activation_; }
    /// @brief The layers' parameters, input layer first (empty before fit).
    std::vector<LayerParameters> layers() const;
    /// @brief Sets trained parameters (e.g. from a model file): the layer sizes must chain
    /// (each weight (in, out), bias (out,), the next layer's in = out) and match hidden() and
    /// the model's outputs; shape_error naming the layer otherwise.
    void set_layers(const std::vector<LayerParameters>& layers);

  protected:
    MLPModel(std::vector<std::size_t> hidden, nn::Activation activation);
    /// @brief The outputs of the last layer: K for a classifier, 1 for a regressor.
    virtual std::size_t outputs(const array& y) const = 0;
    /// @brief The mean loss of outputs z against targets y.
    virtual Var loss(const Var& z, const Var& y) const = 0;
    /// @brief Throws std::invalid_argument for targets the model cannot train on.
    virtual void check_targets(const array& y) const = 0;
    /// @brief The class name, for messages.
    virtual const char* name() const = 0;
    /// @brief Throws graph_error before fit() and shape_error for X not (rows, features).
    void check_fitted(const array& X) const;
    /// @brief The group of the fit in progress (null: one process), for outputs() and
    /// check_targets() to count the classes of all ranks.
    distributed::Communicator* communicator_ = nullptr;

  private:
    /// @brief The training objective on a batch: loss(net(X), y) + (l2_per_row/2)·Σ‖W‖² over
    /// the weight matrices (biases not penalised); a scalar graph the optimiser differentiates.
    Var objective(const Var& X, const Var& y, double l2_per_row) const;

    std::vector<std::size_t> hidden_;
    nn::Activation activation_;
    std::shared_ptr<nn::MLP> net_;
    std::size_t inputs_ = 0;
    std::vector<double> loss_history_;
    std::vector<double> validation_history_;
    LinearModel::FitSummary summary_;
};

/// @brief An MLP classifier: K outputs (logits), trained on the mean softmax cross-entropy
/// against class indices 0..K−1 (cross_entropy); K from the constructor or the largest label + 1
/// (at least two classes must occur, as class_count). Two classes use two outputs and softmax,
/// which is the same model as one logistic output.
class MLPClassifier : public MLPModel {
  public:
    /// @brief hidden: the hidden layers' sizes (each > 0; may be empty: softmax regression);
    /// classes K (0: from the labels). std::invalid_argument for a size 0 or classes == 1.
    MLPClassifier(std::vector<std::size_t> hidden, nn::Activation activation,
                  std::size_t classes = 0);
    /// @brief P(class k | row), (m, K), rows summing to 1.
    array predict_proba(const array& X) const;
    /// @brief The most probable class of each row (the first on a tie), (m,).
    array predict(const array& X) const;
    std::size_t classes() const { return classes_; }

  protected:
    std::size_t outputs(const array& y) const override;
    /// @brief Mean softmax cross-entropy of logits z (m, K) against class indices y (m,); a
    /// scalar. Derivative (softmax(z) − onehot(y))/m, as cross_entropy.
    Var loss(const Var& z, const Var& y) const override;
    /// @brief Throws as class_count does unless every label is a class index 0..K−1 (and, for K
    /// from the labels, at least two classes occur).
    void check_targets(const array& y) const override;
    const char* name() const override { return "MLPClassifier"; }

  private:
    std::size_t requested_classes_;
    mutable std::size_t classes_;
};

/// @brief An MLP regressor: one output, trained on the mean squared error.
class MLPRegressor : public MLPModel {
  public:
    MLPRegressor(std::vector<std::size_t> hidden, nn::Activation activation);
    /// @brief The predictions, (m,).
    array predict(const array& X) const { return decision_function(X); }

  protected:
    std::size_t outputs(const array&) const override { return 1; }
    /// @brief Mean squared error of the outputs z (m, 1) against y (m,), as mse; a scalar.
    /// Derivative 2(z − y)/m.
    Var loss(const Var& z, const Var& y) const override;
    /// @brief Throws std::invalid_argument if a target is not finite.
    void check_targets(const array& y) const override;
    const char* name() const override { return "MLPRegressor"; }
};

}  // namespace xgrad::models
