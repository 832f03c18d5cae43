// Metrics: classification (accuracy, precision, recall, F1, ROC, AUC, log loss, Brier) and
// regression (MSE, RMSE, MAE, R²), with scikit-learn's definitions.
#pragma once

#include <cstddef>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad::metrics {

// Binary metrics take labels in {0, 1} with 1 the positive class; inputs are 1-D and of one
// length. Where a ratio has an empty denominator it is 0, as scikit-learn's zero_division=0.

/// @brief The fraction of positions where predicted equals expected (same shape, one or more).
double accuracy(const array& predicted, const array& expected);
/// @brief TP / (TP + FP).
double precision(const array& predicted, const array& expected);
/// @brief TP / (TP + FN).
double recall(const array& predicted, const array& expected);
/// @brief The harmonic mean of precision and recall, 2TP / (2TP + FP + FN).
double f1_score(const array& predicted, const array& expected);
/// @brief Counts (classes, classes): row = true class, column = predicted class.
array confusion_matrix(const array& predicted, const array& expected, std::size_t classes = 2);

/// @brief The ROC curve: one point per distinct score used as threshold (score ≥ threshold is
/// positive), from (0, 0) at threshold +∞ to (1, 1). Tied scores move both rates at once.
struct RocCurve {
    std::vector<double> false_positive_rate;
    std::vector<double> true_positive_rate;
    std::vector<double> thresholds;
};
RocCurve roc_curve(const array& scores, const array& labels);
/// @brief The area under the ROC curve (trapezoids): the chance a random positive scores above a
/// random negative, ties counting one half. Needs both classes.
double roc_auc(const array& scores, const array& labels);

/// @brief Mean −[y log p + (1 − y) log(1 − p)], p clipped to [1e-15, 1 − 1e-15] as scikit-learn.
double log_loss(const array& probabilities, const array& labels);
/// @brief Mean (p − y)².
double brier_score(const array& probabilities, const array& labels);

/// @brief Class labels from probabilities of the positive class: 1 where p ≥ threshold, else 0;
/// same shape. Throws std::invalid_argument for a probability outside [0, 1] (or NaN), naming
/// its position.
array threshold_labels(const array& probabilities, double threshold = 0.5);
/// @brief Throws std::invalid_argument naming `who` and the first position whose label is not 0
/// or 1.
void require_binary_labels(const char* who, const array& labels);

// Regression metrics take predictions and targets of one length (1-D, non-empty); a shape_error
// names both shapes otherwise.

/// @brief Mean (ŷ − y)².
double mean_squared_error(const array& predictions, const array& targets);
/// @brief √MSE, in the targets' units.
double root_mean_squared_error(const array& predictions, const array& targets);
/// @brief Mean |ŷ − y|.
double mean_absolute_error(const array& predictions, const array& targets);
/// @brief The coefficient of determination 1 − Σ(y − ŷ)² / Σ(y − ȳ)². As scikit-learn's r2_score:
/// 1 for perfect predictions, and for constant targets (a zero denominator) 1 if the predictions
/// are perfect, else 0.
double r2_score(const array& predictions, const array& targets);

}  // namespace xgrad::metrics
