/***************************************************************************
 * xgrad benchmarks: one logistic-regression training step (forward, loss,  *
 * backward, SGD update), by a replayed graph and by hand.                  *
 ***************************************************************************/
#pragma once

#include <cblas.h>

#include <cmath>
#include <cstdlib>
#include <functional>
#include <vector>

#include "xgrad/core/random.hpp"
#include "xgrad/xgrad.hpp"

namespace xgrad::bench {

constexpr double learning_rate = 0.1;

struct LogisticProblem {
    array X;
    array y;
};

/// @brief Seeded standard-normal features and balanced 0/1 labels.
inline LogisticProblem make_logistic_problem(std::size_t m, std::size_t n) {
    Random random(1);
    LogisticProblem p{array::from_shape({m, n}), array::from_shape({m})};
    for (double& v : p.X) v = random.normal();
    for (double& v : p.y) v = random.normal() > 0.0 ? 1.0 : 0.0;
    return p;
}

/// @brief The loss graph from X, w, b and y; an intermediate the caller must keep alive goes into
/// `held` (a Var the user holds is never fused away by the tape).
using LossBuilder =
    std::function<Var(const Var& X, const Var& w, const Var& b, const Var& y, Var& held)>;

/// @brief bce_with_logits(matmul(X, w) + b, y): the separate ops, which the tape fuses.
inline Var separate_ops_loss(const Var& X, const Var& w, const Var& b, const Var& y, Var&) {
    return bce_with_logits(matmul(X, w) + b, y);
}
/// @brief The same with the logits held, as a user who reads them would: no fusion.
inline Var held_logits_loss(const Var& X, const Var& w, const Var& b, const Var& y, Var& held) {
    held = matmul(X, w) + b;
    return bce_with_logits(held, y);
}
/// @brief linear_bce_with_logits: the fused op, one pass over X.
inline Var fused_loss(const Var& X, const Var& w, const Var& b, const Var& y, Var&) {
    return linear_bce_with_logits(X, w, b, y);
}
/// @brief The written-out BCE on sigmoid probabilities.
inline Var sigmoid_bce_loss(const Var& X, const Var& w, const Var& b, const Var& y, Var&) {
    return binary_cross_entropy(sigmoid(matmul(X, w) + b), y);
}

/// @brief The graph recorded once and replayed: forward, zero_grad, backward, update.
class GraphStep {
  public:
    GraphStep(const LogisticProblem& data, const LossBuilder& loss)
        : X_(constant(data.X)),
          y_(constant(data.y)),
          w_(parameter(xt::zeros<double>({data.X.shape()[1]}))),
          b_(parameter(0.0)),
          tape_(loss(X_, w_, b_, y_, held_)) {}

    double operator()() {
        tape_.forward();
        w_.zero_grad();
        b_.zero_grad();
        tape_.backward();
        xt::noalias(w_.mutable_value()) -= learning_rate * w_.grad();
        b_.mutable_value()() -= learning_rate * b_.grad()();
        return tape_.output().item();
    }

  private:
    Var X_, y_, w_, b_, held_;
    Tape tape_;
};

/// @brief The same step by hand with the same BLAS calls: gemv, one pass for the loss and the
/// residual (σ(z) − y)/m, transposed gemv, update. The zero-overhead reference.
class HandWrittenStep {
  public:
    explicit HandWrittenStep(const LogisticProblem& data)
        : data_(data),
          m_(data.X.shape()[0]),
          n_(data.X.shape()[1]),
          w_(n_, 0.0),
          grad_w_(n_),
          z_(m_),
          residual_(m_) {}

    double operator()() {
        const auto mi = static_cast<int>(m_);
        const auto ni = static_cast<int>(n_);
        const double inv_m = 1.0 / static_cast<double>(m_);
        cblas_dgemv(CblasRowMajor, CblasNoTrans, mi, ni, 1.0, data_.X.data(), ni, w_.data(), 1, 0.0,
                    z_.data(), 1);
        double loss = 0.0;
        double grad_b = 0.0;
        for (std::size_t i = 0; i < m_; ++i) {
            const double zi = z_[i] + b_;
            const double e = std::exp(-std::abs(zi));
            loss += std::max(zi, 0.0) - zi * data_.y(i) + std::log1p(e);
            residual_[i] = ((zi >= 0.0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) - data_.y(i)) * inv_m;
            grad_b += residual_[i];
        }
        cblas_dgemv(CblasRowMajor, CblasTrans, mi, ni, 1.0, data_.X.data(), ni, residual_.data(), 1,
                    0.0, grad_w_.data(), 1);
        for (std::size_t j = 0; j < n_; ++j) w_[j] -= learning_rate * grad_w_[j];
        b_ -= learning_rate * grad_b;
        return loss * inv_m;
    }

  private:
    const LogisticProblem& data_;
    std::size_t m_;
    std::size_t n_;
    std::vector<double> w_, grad_w_, z_, residual_;
    double b_ = 0.0;
};

}  // namespace xgrad::bench
