// SoftmaxRegression on LinearModel's training loop, and linear_softmax_cross_entropy, the fused
// loss it trains on (the kernel is src/fusion/softmax_kernel.cpp).
#include "xgrad/models/softmax_regression.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <stdexcept>

#include "core/op.hpp"
#include "fusion/softmax_kernel.hpp"
#include "xgrad/distributed/communicator.hpp"
#include "xgrad/losses.hpp"
#include "xgrad/ops.hpp"

namespace xgrad {

namespace {

constexpr const char* fused_name = "linear_softmax_cross_entropy";

/// @brief Throws unless every class index is a whole number in [0, classes) (one_hot's message).
void require_class_indices(const array& y, std::size_t classes, const std::string& who) {
    for (std::size_t i = 0; i < y.size(); ++i) {
        const double c = y.data()[i];
        if (!(c >= 0.0 && c < static_cast<double>(classes) && c == std::floor(c))) {
            throw std::invalid_argument(
                who + ": class index " + std::to_string(c) + " at position " + std::to_string(i) +
                " is not a whole number in [0, " + std::to_string(classes) + ")");
        }
    }
}

/// @brief L = scale·Σᵢ cᵢ·(log Σₖ e^zᵢₖ − zᵢ,yᵢ), z = X W (+ b), by LinearSoftmaxKernel. Inputs:
/// X, W, y, then b if any.
class LinearSoftmaxNode final : public detail::Node {
  public:
    LinearSoftmaxNode(const Var& X, const Var& W, const Var& b, const Var& y,
                      std::vector<double> class_weights)
        : Node(fused_name, detail::any_requires_grad({&X, &W, &b})) {
        add_input(X.node_ptr());
        add_input(W.node_ptr());
        add_input(y.node_ptr());
        if (b.defined()) add_input(b.node_ptr());
        if (!class_weights.empty()) {
            class_weights_ = array::from_shape({class_weights.size()});
            std::copy(class_weights.begin(), class_weights.end(), class_weights_.begin());
        }
    }

    void forward() override {
        const array& X = input(0).value();
        const array& W = input(1).value();
        const array& y = input(2).value();
        const array* b = has_bias() ? &input(3).value() : nullptr;
        const bool fits = X.dimension() == 2 && W.dimension() == 2 && y.dimension() == 1 &&
                          X.shape()[0] > 0 && W.shape()[1] > 0 && X.shape()[1] == W.shape()[0] &&
                          y.shape()[0] == X.shape()[0] &&
                          (b == nullptr || (b->dimension() == 1 && b->size() == W.shape()[1])) &&
                          (weighted() ? class_weights_.size() == W.shape()[1] : true);
        if (!fits) {
            throw shape_error(std::string(fused_name) + ": X " + format_shape(X.shape()) + ", W " +
                              format_shape(W.shape()) + ", b " +
                              (b != nullptr ? format_shape(b->shape()) : std::string("none")) +
                              ", y " + format_shape(y.shape()) + " and " +
                              std::to_string(class_weights_.size()) +
                              " class weights do not fit (X (m,n) with m > 0, W (n,K), b (K,), y "
                              "(m,), none or K class weights)");
        }
        require_class_indices(y, W.shape()[1], fused_name);
        value_.resize(shape_type{});
        value_.data()[0] =
            kernel_.forward(X, W, b, y, weighted() ? &class_weights_ : nullptr, scale());
    }

    // dL/dW = g·Xᵀ R, dL/db = g·Σᵢ Rᵢ (both made in forward), dL/dX = g·R Wᵀ,
    // R = (softmax(z) − onehot(y))·cᵢ·scale; the class indices get none.
    void backward() override {
        const double g = grad().data()[0];
        if (input(1).requires_grad())
            detail::accumulate_grad(input(1), g * kernel_.unit_grad_weights());
        if (has_bias() && input(3).requires_grad())
            detail::accumulate_grad(input(3), g * kernel_.unit_grad_bias());
        if (input(0).requires_grad()) {
            const array R = residuals();
            const array& W = input(1).value();
            const detail::GradSink gX(input(0));
            const std::size_t m = R.shape()[0];
            const std::size_t n = W.shape()[0];
            const std::size_t K = W.shape()[1];
            for (std::size_t i = 0; i < m; ++i) {
                for (std::size_t j = 0; j < n; ++j) {
                    double total = 0.0;
                    for (std::size_t k = 0; k < K; ++k) total += R(i, k) * W(j, k);
                    gX.put(i * n + j, g * total);
                }
            }
        }
    }

    GradVars backward_as_graph(const Var& g) override {
        const Var X = input_var(0);
        const Var W = input_var(1);
        const Var y = input_var(2);
        const std::size_t K = W.shape()[1];
        Var z = matmul(X, W);
        if (has_bias()) z = z + input_var(3);
        const Var onehot = one_hot(y, K);
        Var R = softmax(z) - onehot;
        if (weighted()) {
            R = R * reshape(matmul(onehot, constant(class_weights_)), {y.shape()[0], 1});
        }
        R = (g * scale()) * R;
        GradVars out(input_count());
        if (X.requires_grad()) out[0] = matmul(R, transpose(W));
        if (W.requires_grad()) out[1] = matmul(transpose(X), R);
        if (has_bias() && input(3).requires_grad()) out[3] = sum(R, 0);
        return out;
    }

    // dL = Σᵢₖ Rᵢₖ·dzᵢₖ with dz = dX·W + X·dW + db
    array tangent(const Tangents& t) override {
        const array R = residuals();
        const array& X = input(0).value();
        const array& W = input(1).value();
        const std::size_t m = X.shape()[0];
        const std::size_t n = X.shape()[1];
        const std::size_t K = W.shape()[1];
        double total = 0.0;
        for (std::size_t i = 0; i < m; ++i) {
            for (std::size_t k = 0; k < K; ++k) {
                double dz = 0.0;
                for (std::size_t j = 0; j < n; ++j) {
                    if (t[0]) dz += (*t[0])(i, j) * W(j, k);
                    if (t[1]) dz += X(i, j) * (*t[1])(j, k);
                }
                if (has_bias() && t[3]) dz += (*t[3])(k);
                total += R(i, k) * dz;
            }
        }
        return array(total);
    }

  private:
    bool has_bias() const { return input_count() == 4; }
    bool weighted() const { return class_weights_.size() > 0; }
    double scale() { return 1.0 / static_cast<double>(input(0).value().shape()[0]); }

    /// @brief R = (softmax(z) − onehot(y))·cᵢ·scale (m, K) at the current values, recomputed
    /// (the rare gradients for X and the tangent rule).
    array residuals() {
        const array& X = input(0).value();
        const array& W = input(1).value();
        const array& y = input(2).value();
        const std::size_t m = X.shape()[0];
        const std::size_t n = X.shape()[1];
        const std::size_t K = W.shape()[1];
        array R = array::from_shape({m, K});
        for (std::size_t i = 0; i < m; ++i) {
            double top = -INFINITY;
            for (std::size_t k = 0; k < K; ++k) {
                double z = has_bias() ? input(3).value()(k) : 0.0;
                for (std::size_t j = 0; j < n; ++j) z += X(i, j) * W(j, k);
                R(i, k) = z;
                top = std::max(top, z);
            }
            double total = 0.0;
            for (std::size_t k = 0; k < K; ++k) total += (R(i, k) = std::exp(R(i, k) - top));
            const auto label = static_cast<std::size_t>(y(i));
            const double c = (weighted() ? class_weights_(label) : 1.0) * scale();
            for (std::size_t k = 0; k < K; ++k) R(i, k) *= c / total;
            R(i, label) -= c;
        }
        return R;
    }

    array class_weights_ = array::from_shape({0});
    detail::LinearSoftmaxKernel kernel_;
};

}  // namespace

Var linear_softmax_cross_entropy(const Var& X, const Var& W, const Var& b, const Var& y,
                                 const std::vector<double>& class_weights) {
    return detail::finish_op(std::make_shared<LinearSoftmaxNode>(X, W, b, y, class_weights));
}

}  // namespace xgrad

namespace xgrad::models {

void check_class_labels(const array& labels, std::size_t classes, const std::string& who) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const double c = labels.data()[i];
        const bool in_range = classes == 0 || c < static_cast<double>(classes);
        if (!(c >= 0.0 && in_range && c == std::floor(c))) {
            throw std::invalid_argument(
                who + ": label at row " + std::to_string(i) + " is " + std::to_string(c) +
                ", not a whole number " +
                (classes == 0 ? std::string(">= 0") : "in [0, " + std::to_string(classes) + ")"));
        }
    }
}

std::size_t class_count(const array& labels, std::size_t classes, const std::string& who,
                        distributed::Communicator* communicator) {
    if (communicator != nullptr) {
        distributed::agree(*communicator, [&] { check_class_labels(labels, classes, who); });
        double largest = -1.0;
        for (const double c : labels) largest = std::max(largest, c);
        communicator->allreduce_max(&largest, 1);
        if (largest < 0.0) throw std::invalid_argument(who + ": no labels");
        std::vector<double> counts(static_cast<std::size_t>(largest) + 1, 0.0);
        for (const double c : labels) counts[static_cast<std::size_t>(c)] += 1.0;
        communicator->allreduce_sum(counts.data(), counts.size());
        std::size_t present = 0;
        std::size_t one = 0;
        for (std::size_t k = 0; k < counts.size(); ++k) {
            if (counts[k] > 0.0) {
                ++present;
                one = k;
            }
        }
        if (present < 2) {
            throw std::invalid_argument(who + ": the labels hold only one class (" +
                                        std::to_string(one) + "); at least two are needed");
        }
        return classes > 0 ? classes : counts.size();
    }
    check_class_labels(labels, classes, who);
    if (labels.size() == 0) throw std::invalid_argument(who + ": no labels");
    double first = labels.data()[0];
    double largest = first;
    bool two = false;
    for (const double c : labels) {
        two = two || c != first;
        largest = std::max(largest, c);
    }
    if (!two) {
        throw std::invalid_argument(who + ": the labels hold only one class (" +
                                    std::to_string(static_cast<std::size_t>(first)) +
                                    "); at least two are needed");
    }
    return classes > 0 ? classes : static_cast<std::size_t>(largest) + 1;
}

SoftmaxRegression::SoftmaxRegression(bool fit_intercept, std::size_t classes)
    : LinearModel(fit_intercept), requested_classes_(classes), classes_(classes) {
    if (classes == 1) {
        throw std::invalid_argument(
            "SoftmaxRegression: classes must be 0 (from the labels) or at least 2, got 1");
    }
}

void SoftmaxRegression::check_targets(const array& y) const {
    check_class_labels(y, requested_classes_, std::string(name()) + ".fit");
}

void SoftmaxRegression::prepare_fit(const array& y, const TrainOptions& options) {
    const std::string who = std::string(name()) + ".fit";
    distributed::Communicator* const comm = options.communicator;
    classes_ = class_count(y, requested_classes_, who, comm);
    const auto check_validation = [&] {
        if (options.validation_y.dimension() == 1) {
            check_class_labels(options.validation_y, classes_, who + " (validation)");
        }
    };
    distributed::agree(comm, check_validation);
    fix_gauge_ = options.optimizer == "newton";
    per_class_weights_.clear();
    if (options.balanced_class_weights) {
        std::vector<double> counts(classes_ + 1, 0.0);  // per class, then the rows
        for (const double c : y) counts[static_cast<std::size_t>(c)] += 1.0;
        counts.back() = static_cast<double>(y.size());
        if (comm != nullptr) comm->allreduce_sum(counts.data(), counts.size());  // all ranks'
        const double m = counts.back();
        counts.pop_back();
        double present = 0.0;
        for (const double count : counts) present += count > 0.0 ? 1.0 : 0.0;
        // m / (classes present · count), as scikit-learn's "balanced"; an absent class's weight
        // is never used.
        for (const double count : counts)
            per_class_weights_.push_back(count > 0.0 ? m / (present * count) : 1.0);
    }
}

Var SoftmaxRegression::loss(const Var& z, const Var& y) const {
    if (per_class_weights_.empty()) return cross_entropy(z, y);
    array weights = array::from_shape({per_class_weights_.size()});
    std::copy(per_class_weights_.begin(), per_class_weights_.end(), weights.begin());
    const Var row_weights = matmul(one_hot(y, classes_), constant(weights));
    return mean(row_weights * cross_entropy(z, y, reduction::none));
}

Var SoftmaxRegression::batch_loss(const Var& features, const Var& targets) const {
    Var loss =
        linear_softmax_cross_entropy(features, weights(), bias(), targets, per_class_weights_);
    if (!fix_gauge_) return loss;
    // Softmax is unchanged by adding one number to every bₖ, or one vector to every column of
    // W: along those directions the Hessian is singular (always for b, which no penalty
    // touches), and Newton's LU solve fails. ½·((Σₖ bₖ)² + ‖Σₖ W₍:,ₖ₎‖²) removes them: its
    // gradient is zero wherever the sums are, the loss's gradient never moves them (Σₖ of every
    // row of softmax − onehot is 0), so from the zero start the term stays zero (to rounding) at
    // every iterate and at the optimum, and only makes the Hessian invertible.
    const Var column_sums = sum(weights(), 1);
    loss = loss + 0.5 * sum(column_sums * column_sums);
    if (fit_intercept()) loss = loss + 0.5 * square(sum(bias()));
    return loss;
}

array SoftmaxRegression::predict_proba(const array& X) const {
    const array z = decision_function(X);
    no_grad scope;
    return softmax(constant(z)).value();
}

array SoftmaxRegression::predict(const array& X) const {
    const array z = decision_function(X);
    return argmax(constant(z), 1);
}

void SoftmaxRegression::set_parameters(const array& weights, const array& bias) {
    const std::size_t K = weights.dimension() == 2 ? weights.shape()[1] : 0;
    const bool bias_fits = !fit_intercept() || (bias.dimension() == 1 && bias.size() == K);
    if (K < 2 || !bias_fits || (requested_classes_ > 0 && K != requested_classes_)) {
        throw shape_error(std::string(name()) +
                          ".set_parameters: expects weights (features, classes) with classes >= 2" +
                          (requested_classes_ > 0 ? " (" + std::to_string(requested_classes_) + ")"
                                                  : std::string()) +
                          (fit_intercept() ? " and bias (classes,)" : "") + ", got " +
                          format_shape(weights.shape()) +
                          (fit_intercept() ? " and " + format_shape(bias.shape()) : ""));
    }
    classes_ = K;
    assign_parameters(weights, bias);
}

}  // namespace xgrad::models
