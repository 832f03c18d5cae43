// Metrics: classification (accuracy, precision, recall, F1, ROC, AUC, log loss, Brier), binary
// and multiclass (classification report, one-vs-rest ROC), and regression (MSE, RMSE, MAE, R²),
// with scikit-learn's definitions.
#pragma once

#include <cstddef>
#include <limits>
#include <string>
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
/// @brief Counts, shape (classes, classes): row = true class, column = predicted class, as
/// scikit-learn's confusion_matrix(expected, predicted, labels=range(classes)). predicted and
/// expected are vectors of one length m ≥ 1 holding class indices 0..classes−1 (as doubles).
/// Throws shape_error for other shapes, std::invalid_argument for classes < 2 or a label that is
/// not such an index, naming the row (scikit-learn would silently drop an unknown predicted label).
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

/// @brief Log loss (cross-entropy), as scikit-learn 1.2's log_loss, whose default eps ("auto") is
/// float64's machine epsilon 2.22e-16 (before 1.2 it was 1e-15: pass eps = 1e-15 to match those).
/// - probabilities of shape (m): P(class 1) per row, labels 0 or 1: mean −log q[y] with
///   q = (1 − p̃, p̃), p̃ = p clipped to [eps, 1 − eps], q divided by its sum.
/// - probabilities of shape (m, K), K ≥ 2: labels are class indices 0..K−1 and the loss is the
///   mean over rows of −log(p̃[i, y_i] / Σ_k p̃[i, k]), p̃ = p clipped to [eps, 1 − eps]: every row
///   is clipped and then renormalised, as scikit-learn does, so rows need not sum to 1.
/// Throws shape_error (naming both shapes) unless labels has shape (m), m ≥ 1;
/// std::invalid_argument for a label that is not 0/1 (binary) or a class index (naming the row),
/// a non-finite probability (naming row and column), or eps outside [0, 0.5).
double log_loss(const array& probabilities, const array& labels,
                double eps = std::numeric_limits<double>::epsilon());
/// @brief Mean (p − y)².
double brier_score(const array& probabilities, const array& labels);

/// @brief Class labels from probabilities of the positive class: 1 where p ≥ threshold, else 0;
/// same shape. Throws std::invalid_argument for a probability outside [0, 1] (or NaN), naming
/// its position.
array threshold_labels(const array& probabilities, double threshold = 0.5);
/// @brief Throws std::invalid_argument naming `who` and the first position whose label is not 0
/// or 1.
void require_binary_labels(const char* who, const array& labels);

// Multiclass metrics take labels as class indices 0..K−1 (stored as doubles: 0.0, 1.0, ...),
// e.g. the codes of a label encoding, and probabilities as an (m, K) matrix whose column k is
// P(class k), e.g. a softmax's output.

/// @brief Precision, recall, F1 and support of one class (or an average of them).
struct ClassScores {
    double precision = 0.0;
    double recall = 0.0;
    double f1 = 0.0;
    std::size_t support = 0;  ///< rows whose true class this is (for an average: all rows)
};

/// @brief scikit-learn's classification_report(expected, predicted, labels=range(K)).
struct ClassificationReport {
    std::vector<ClassScores> classes;  ///< one per class 0..K−1
    /// @brief How many rows were predicted as each class.
    std::vector<std::size_t> predicted_counts;
    ClassScores macro;     ///< unweighted mean over the K classes
    ClassScores weighted;  ///< mean weighted by each class's support
    double accuracy = 0.0;
    std::size_t total = 0;  ///< rows, m

    /// @brief The table scikit-learn's classification_report prints, character for character:
    /// names right-aligned to the longest (at least "weighted avg"; widths count UTF-8
    /// characters), precision/recall/F1 with `digits` decimals, support; then accuracy and the
    /// macro and weighted averages. As scikit-learn with explicit labels, the accuracy row reads
    /// "micro avg" (with micro precision = recall = F1 = accuracy) when a class occurs neither
    /// among the labels nor among the predictions. class_names: one per class (e.g. the original
    /// string labels), or empty for "0", "1", ...; throws std::invalid_argument for another
    /// count or digits outside 0..17.
    std::string to_string(const std::vector<std::string>& class_names = {}, int digits = 2) const;
};

/// @brief Per-class precision TP/(TP+FP), recall TP/(TP+FN), F1 = 2PR/(P+R) and support, their
/// macro and support-weighted averages, and accuracy, exactly as scikit-learn's
/// precision_recall_fscore_support / classification_report with labels=range(classes).
/// A ratio with an empty denominator (a class never predicted: precision; never occurring:
/// recall) is `zero_division`, 0 or 1: 0 is what scikit-learn's default "warn" returns. F1 is 0
/// where P + R = 0. Note the argument order (predicted, expected), as the binary metrics above,
/// the reverse of scikit-learn's (y_true, y_pred). predicted and expected: vectors of one length
/// m ≥ 1 of class indices. Throws shape_error for other shapes, std::invalid_argument for
/// classes < 2, a label that is not a class index (naming the row), or zero_division not 0 or 1.
ClassificationReport classification_report(const array& predicted, const array& expected,
                                           std::size_t classes, double zero_division = 0.0);

/// @brief One-vs-rest ROC curves, one per class k: roc_curve(probabilities[:, k], labels == k),
/// as scikit-learn's roc_curve(labels == k, probabilities[:, k], drop_intermediate=False).
/// probabilities: (m, K), K ≥ 2, finite (any scores; rows need not sum to 1 here); labels: (m)
/// class indices. Throws shape_error naming both shapes; std::invalid_argument for a bad label
/// or probability (naming the row) or a class that never occurs among the labels (its curve has
/// no positives: scikit-learn's roc_auc_score raises too).
std::vector<RocCurve> roc_curves_ovr(const array& probabilities, const array& labels);

/// @brief One-vs-rest areas under the ROC curves.
struct RocAucOvr {
    std::vector<double> per_class;  ///< roc_auc(probabilities[:, k], labels == k)
    double macro = 0.0;             ///< their mean
    double weighted = 0.0;          ///< their mean weighted by class support
};

/// @brief scikit-learn's roc_auc_score(labels, probabilities, multi_class="ovr") with
/// average="macro" and "weighted", and the per-class areas. As scikit-learn, every row of
/// probabilities must sum to 1 (|Σ − 1| ≤ 1e-8 + 1e-5·|Σ|, numpy.allclose's tolerance) and every
/// class must occur among the labels. For K = 2 both averages equal roc_auc(probabilities[:, 1],
/// labels). Throws as roc_curves_ovr, and std::invalid_argument naming the first row that does
/// not sum to 1.
RocAucOvr roc_auc_ovr(const array& probabilities, const array& labels);

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
