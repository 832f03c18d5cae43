// SoftmaxRegression: multinomial logistic regression on the graph; its fused loss; class labels.
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>
#include <vector>

#include "xgrad/models/linear_model.hpp"

namespace xgrad {

/// @brief Mean softmax cross-entropy of the logits X·W + b against class indices, fused:
/// L = (1/m)·Σᵢ cᵢ·(log Σₖ e^zᵢₖ − zᵢ,yᵢ), z = X·W + b, cᵢ = class_weights[yᵢ] (all 1 when
/// empty). The same value as cross_entropy(matmul(X, W) + b, y) (weighted per row), computed in
/// one pass over X per forward that also makes the gradients for W and b:
///   dL/dW = Xᵀ R,  dL/db = Σᵢ Rᵢ,  dL/dX = R Wᵀ,  R = (softmax(z) − onehot(y))·cᵢ/m;
/// y gets no gradient (class indices). It has second-order and tangent rules (the plain ops'
/// derivative as a graph), so grad, hessian and jvp work through it.
/// @param X (m, n), m > 0; W (n, K), K > 0; b (K,), or an undefined Var for no bias; y (m,).
/// @param class_weights empty, or K weights.
/// @throw shape_error "linear_softmax_cross_entropy: ..." naming the shapes when they do not fit.
/// @throw std::invalid_argument "linear_softmax_cross_entropy: class index v at position i is not
/// a whole number in [0, K)" (checked on every forward pass, also in a replay).
Var linear_softmax_cross_entropy(const Var& X, const Var& W, const Var& b, const Var& y,
                                 const std::vector<double>& class_weights = {});

}  // namespace xgrad

namespace xgrad::models {

/// @brief Throws std::invalid_argument "<who>: label at row i is v, not a whole number in
/// [0, classes)" (with classes = 0: "... not a whole number >= 0") for the first label that is
/// not a class index. labels is (rows,).
void check_class_labels(const array& labels, std::size_t classes, const std::string& who);

/// @brief The class count K of class-index labels: `classes` when given (> 0), else the largest
/// label + 1. Checks the labels as check_class_labels, and throws std::invalid_argument
/// "<who>: the labels hold only one class (c); at least two are needed" when fewer than two
/// distinct classes occur (or "<who>: no labels"). With a communicator, collective: `labels` are
/// this rank's and K, the classes that occur, "no labels" are of all ranks' labels (the same
/// result, or the same exception, on every rank); a bad label on one rank throws
/// distributed::distributed_error "rank R: <who>: label at row i ..." on every rank.
std::size_t class_count(const array& labels, std::size_t classes, const std::string& who,
                        distributed::Communicator* communicator = nullptr);

/// @brief Multinomial logistic regression: P(y = k | x) = softmax(x W + b)ₖ over K classes,
/// W (features, K), b (K,), trained on the mean cross-entropy plus the TrainOptions penalties:
///   (1/m)·Σᵢ cᵢ·CEᵢ + (λ₂/2m)·‖W‖² + (λ₁/m)·‖W‖₁   (b never penalised),
/// which is scikit-learn's LogisticRegression(C = 1/λ₂, multi_class="multinomial") objective
/// divided by m (the same minimiser and coefficients: both softmax over all K classes).
///
/// Classes are 0 … K−1, given as doubles in y (a command line maps string labels to these). K is
/// the constructor's `classes` when given, else the largest training label + 1; at least two
/// distinct classes must occur in y. With TrainOptions.balanced_class_weights each row is weighted
/// cᵢ = m / (P·count of its class), P the number of classes that occur (scikit-learn's
/// class_weight="balanced"); otherwise cᵢ = 1.
///
/// Every optimizer of TrainOptions works (sgd, momentum, nesterov, adagrad, rmsprop, adam with
/// mini-batches, the seeded shuffle, schedules, validation and early stopping; lbfgs and newton
/// on the whole objective). **L-BFGS is the recommended optimizer** for this model
/// (options.optimizer = "lbfgs", options.epochs = its iteration budget, e.g. 500): the objective
/// is smooth and convex (strictly with an L2 term), and L-BFGS reaches ‖∇‖ < 1e-10 in tens of
/// iterations where step-by-step descent needs thousands of epochs. Newton uses the full
/// (K·n + K)² Hessian from the graph: for a few hundred parameters at most. Softmax is unchanged
/// by adding one number to every bₖ (or one vector to every column of W), which makes that
/// Hessian singular; Newton therefore minimises the objective plus ½·((Σₖ bₖ)² + ‖Σₖ W₍:,ₖ₎‖²),
/// a term that stays zero (to rounding) at every iterate from the zero start and at the optimum,
/// so the solution and the objective are the same (the one with Σₖ bₖ = 0, which every other
/// optimizer, and scikit-learn, reach from zero too). TrainOptions' default is "sgd", as for
/// every model: set the optimizer explicitly.
///
/// Training runs through linear_softmax_cross_entropy (one pass over X per step for the logits,
/// log-softmax, residuals and gradients); loss_on() and the validation loss use the plain graph.
class SoftmaxRegression : public LinearModel {
  public:
    /// @brief A model with a bias per class unless fit_intercept is false; `classes` K fixes the
    /// class count (0: from the training labels, the largest + 1).
    /// @throw std::invalid_argument for classes == 1.
    explicit SoftmaxRegression(bool fit_intercept = true, std::size_t classes = 0);
    /// @brief Not a class count: SoftmaxRegression(3) would mean fit_intercept = true. Write
    /// SoftmaxRegression(true, 3).
    template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
    explicit SoftmaxRegression(T) = delete;

    // Inherited from LinearModel: fit(X (m, n), y (m,), options) (throws shape_error for shapes,
    // std::invalid_argument for non-finite X, labels (see class_count), a learning rate ≤ 0, an
    // unknown optimizer), decision_function(X) → logits (m, K), loss_history(), fit_summary(),
    // validation_loss_history(), loss_on(X, y) → mean weighted cross-entropy (no penalty),
    // weights() → Var (n, K), bias() → Var (K,) (undefined without an intercept),
    // fit_intercept(). Before a fit, prediction throws graph_error "SoftmaxRegression: call
    // fit() first"; X with another feature count throws shape_error "SoftmaxRegression: expects
    // X of shape (rows, n), got (...)".

    /// @brief P(class k | row) for each row: (m, K), rows summing to 1 (a stable softmax).
    array predict_proba(const array& X) const;
    /// @brief The most probable class of each row (the first on a tie): (m,), as doubles.
    array predict(const array& X) const;
    /// @brief Sets fitted parameters (e.g. from a model file): W (n, K) with K ≥ 2 and, with an
    /// intercept, b (K,) (ignored without). Throws shape_error naming the shapes otherwise, or if
    /// the constructor fixed another K.
    void set_parameters(const array& weights, const array& bias);
    /// @brief K: the class count of the last fit or set_parameters (the constructor's, before).
    std::size_t classes() const { return classes_; }
    /// @brief The per-class weights cₖ of the last fit (empty when unweighted).
    const std::vector<double>& class_weights() const { return per_class_weights_; }

  protected:
    /// @brief The (weighted) mean cross-entropy of logits z (m, K), on the plain graph.
    Var loss(const Var& z, const Var& y) const override;
    /// @brief linear_softmax_cross_entropy: the fused pass.
    Var batch_loss(const Var& features, const Var& targets) const override;
    /// @brief check_class_labels(y, the constructor's class count, ...): std::invalid_argument
    /// naming the first label of y (m,) that is not a class index.
    void check_targets(const array& y) const override;
    /// @brief Fixes K (class_count over every rank of options.communicator), checks the
    /// validation labels against it, chooses Newton's gauge fixing, and sets the per-class weights
    /// m / (classes present · count) of balanced_class_weights from global counts.
    void prepare_fit(const array& y, const TrainOptions& options) override;
    shape_type weight_shape(std::size_t features) const override { return {features, classes_}; }
    shape_type bias_shape() const override { return {classes_}; }
    const char* name() const override { return "SoftmaxRegression"; }

  private:
    std::size_t requested_classes_;
    std::size_t classes_;
    std::vector<double> per_class_weights_;
    bool fix_gauge_ = false;  // newton: see batch_loss
};

}  // namespace xgrad::models
