/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <vector>

#include "xgrad/models/train_options.hpp"
#include "xgrad/var.hpp"

namespace xgrad::models {

/// @brief z = X w + b trained by gradient descent on a replayed graph (or L-BFGS, Newton); the
/// subclass picks the loss on z. Shared by LogisticRegression and LinearRegression (w of shape
/// (features,), b one number) and SoftmaxRegression (W (features, classes), b (classes,)).
class LinearModel {
  public:
    /// @brief Fits from zero weights. X is (rows, features), y is (rows,). With
    /// options.communicator, collective: X, y and the validation rows are this rank's, and every
    /// rank reaches the single-process fit on all ranks' rows (see TrainOptions::communicator);
    /// input errors are then distributed::distributed_error on every rank ("rank R: ...").
    void fit(const array& X, const array& y, const TrainOptions& options = {});
    /// @brief The linear score X w + b for each row.
    array decision_function(const array& X) const;

    /// @brief The mean training objective of each epoch (averaged over its steps, before each
    /// update; with L-BFGS or Newton, the objective at each iterate).
    const std::vector<double>& loss_history() const { return loss_history_; }
    /// @brief How the last fit ended.
    struct FitSummary {
        std::size_t steps = 0;       ///< epochs run (iterations for lbfgs and newton)
        std::size_t budget = 0;      ///< the epochs (iterations) allowed
        bool converged = false;      ///< a solver reached its gradient tolerance
        bool stopped_early = false;  ///< early stopping on the validation loss ended it
    };
    const FitSummary& fit_summary() const { return summary_; }
    /// @brief The validation loss after each epoch, when validation rows were given.
    const std::vector<double>& validation_loss_history() const { return validation_history_; }
    /// @brief The mean loss (no penalty) on X, y.
    double loss_on(const array& X, const array& y) const;
    /// @brief Sets fitted parameters directly (e.g. from a model file).
    void set_parameters(const array& weights, double bias);
    const Var& weights() const { return weights_; }
    const Var& bias() const { return bias_; }
    /// @brief Whether the model has a bias term (the constructor's choice).
    bool fit_intercept() const { return fit_intercept_; }

    virtual ~LinearModel() = default;

  protected:
    explicit LinearModel(bool fit_intercept) : fit_intercept_(fit_intercept) {}
    LinearModel(const LinearModel&) = default;
    LinearModel& operator=(const LinearModel&) = default;

    /// @brief The loss node of a batch, from its scores z and targets y.
    virtual Var loss(const Var& z, const Var& y) const = 0;
    /// @brief The loss of a batch from its features: loss(X w + b, y) unless a model has a fused
    /// op for the whole expression.
    virtual Var batch_loss(const Var& features, const Var& targets) const;
    /// @brief Throws if the targets do not suit the model.
    virtual void check_targets(const array& y) const = 0;
    /// @brief Settles, before fit() makes the parameters, what the training targets decide (after
    /// check_targets(y) and the checks of X): here the class weights when
    /// options.balanced_class_weights. SoftmaxRegression also fixes its class count here. With
    /// options.communicator it is collective and counts the labels of all ranks.
    virtual void prepare_fit(const array& y, const TrainOptions& options);
    /// @brief The shape of the weights for X of `features` columns: (features,) here.
    virtual shape_type weight_shape(std::size_t features) const { return {features}; }
    /// @brief The shape of the bias: () here, one number.
    virtual shape_type bias_shape() const { return {}; }
    /// @brief The class name, for error messages.
    virtual const char* name() const = 0;

  private:
    bool fit_intercept_;
    Var weights_;
    Var bias_;
    std::vector<double> loss_history_;
    std::vector<double> validation_history_;
    FitSummary summary_;

  protected:
    /// @brief Throws graph_error before fit() and shape_error if X (rows, features) has
    /// another number of features than the model.
    void check_fitted(const array& X) const;
    /// @brief Puts fitted parameters in place, unchecked (set_parameters checks the shapes); an
    /// undefined bias Var without an intercept.
    void assign_parameters(const array& weights, const array& bias);

    /// @brief Weights {w₀, w₁} of the two classes in the loss; {1, 1} unless balanced.
    std::pair<double, double> class_weights_{1.0, 1.0};
};

}  // namespace xgrad::models
