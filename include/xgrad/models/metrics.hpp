// Classification metrics (accuracy, precision, recall, F1, ROC, AUC, log loss, Brier).
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

}  // namespace xgrad::metrics
