#!/usr/bin/python3
"""Reference values of the classification and regression metrics, from scikit-learn, on fixed
inputs with tied scores. Writes tests/reference/metrics_sklearn.hpp.

Binary case: labels/scores with ties. Multiclass cases (labels are class indices 0..K-1):
  mc3    K = 3, 30 rows; class 2 occurs but is never predicted (precision's zero_division), rows
         of probabilities with a 0 and a 1 (log_loss's clipping), tied scores (ROC).
  mc4    K = 4, 30 rows; class 3 occurs but is never predicted, a class name longer than
         "weighted avg" and one with non-ASCII letters (the report's column width).
  absent K = 4, 12 rows; class 3 occurs in neither labels nor predictions: the report shows
         "micro avg" instead of "accuracy", as scikit-learn does when given labels=range(K).
Regression case: 30 random targets and predictions, plus constant targets.

Run with Debian's interpreter: /usr/bin/python3 scripts/reference/metrics_sklearn.py
"""
import os

import numpy as np
import sklearn
from sklearn import metrics

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
labels = np.array([1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1], dtype=float)
scores = np.array([0.9, 0.8, 0.7, 0.7, 0.6, 0.55, 0.5, 0.5, 0.45, 0.4,
                   0.4, 0.35, 0.3, 0.3, 0.3, 0.2, 0.1, 0.95, 0.05, 1.0])
predicted = (scores >= 0.5).astype(float)
fpr, tpr, thresholds = metrics.roc_curve(labels, scores, drop_intermediate=False)
multi_true = np.array([0, 1, 2, 2, 1, 0, 2, 1, 0, 2], dtype=float)
multi_pred = np.array([0, 2, 2, 1, 1, 0, 2, 1, 1, 2], dtype=float)


def fmt(values):
    return ", ".join(f"{v:.17g}" for v in np.asarray(values, dtype=float).ravel())


def probabilities(rng, m, alpha):
    """Rows from a Dirichlet distribution, normalised so that each sums to 1 in float64."""
    p = rng.dirichlet(alpha, size=m)
    return p / p.sum(axis=1, keepdims=True)


def multiclass_case(name, y_true, y_pred, p, names, roc=True):
    k = len(names)
    classes = list(range(k))
    report = metrics.classification_report(y_true, y_pred, labels=classes, output_dict=True,
                                           zero_division="warn")
    text2 = metrics.classification_report(y_true, y_pred, labels=classes, target_names=names)
    text4 = metrics.classification_report(y_true, y_pred, labels=classes, target_names=names,
                                          digits=4)
    per = [report[str(c)] for c in classes]
    # precision_recall_fscore_support gives the same numbers by another route: check both agree.
    prfs = metrics.precision_recall_fscore_support(y_true, y_pred, labels=classes)
    assert np.array_equal(prfs[0], [r["precision"] for r in per])
    assert np.array_equal(prfs[2], [r["f1-score"] for r in per])
    average = "accuracy" if "accuracy" in report else "micro avg"
    accuracy = report["accuracy"] if "accuracy" in report else report["micro avg"]["f1-score"]
    assert accuracy == metrics.accuracy_score(y_true, y_pred)
    out = f"""
namespace {name} {{

constexpr std::size_t classes = {k};
const std::vector<double> labels = {{{fmt(y_true)}}};
const std::vector<double> predicted = {{{fmt(y_pred)}}};
const std::vector<std::string> names = {{{", ".join('"' + n + '"' for n in names)}}};
// classification_report(labels=range(K), output_dict=True), zero_division="warn" (gives 0).
const std::vector<double> precision = {{{fmt([r["precision"] for r in per])}}};
const std::vector<double> recall = {{{fmt([r["recall"] for r in per])}}};
const std::vector<double> f1 = {{{fmt([r["f1-score"] for r in per])}}};
const std::vector<double> support = {{{fmt([r["support"] for r in per])}}};
const std::vector<double> macro = {{{fmt([report["macro avg"][s] for s in ("precision", "recall", "f1-score", "support")])}}};
const std::vector<double> weighted = {{{fmt([report["weighted avg"][s] for s in ("precision", "recall", "f1-score", "support")])}}};
constexpr double accuracy = {accuracy:.17g};  // the report's "{average}" row
const std::vector<double> confusion = {{{fmt(metrics.confusion_matrix(y_true, y_pred, labels=classes))}}};
// classification_report(target_names=names), digits 2 and 4.
const char* const report_text = R"REPORT({text2})REPORT";
const char* const report_text_4 = R"REPORT({text4})REPORT";
"""
    if roc:
        curves = [metrics.roc_curve(y_true == c, p[:, c], drop_intermediate=False)
                  for c in classes]
        out += f"""// (m, K) probabilities, row-major; each row sums to 1 (within 1e-15) or holds a 0 and a 1.
const std::vector<double> probabilities = {{{fmt(p)}}};
constexpr double log_loss = {metrics.log_loss(y_true, p, labels=classes):.17g};  // eps "auto": float64's epsilon
constexpr double log_loss_eps_1e15 = {metrics.log_loss(y_true, p, labels=classes, eps=1e-15):.17g};
constexpr double roc_auc_macro = {metrics.roc_auc_score(y_true, p, multi_class="ovr", average="macro"):.17g};
constexpr double roc_auc_weighted = {metrics.roc_auc_score(y_true, p, multi_class="ovr", average="weighted"):.17g};
// roc_auc_score(labels == k, probabilities[:, k]) for each class k.
const std::vector<double> roc_auc_per_class = {{{fmt([metrics.roc_auc_score(y_true == c, p[:, c]) for c in classes])}}};
// roc_curve(labels == k, probabilities[:, k], drop_intermediate=False) for each class k; the
// first threshold (scikit-learn's max + 1) stands for +infinity and is left out.
const std::vector<std::vector<double>> roc_fpr = {{{", ".join("{" + fmt(c[0]) + "}" for c in curves)}}};
const std::vector<std::vector<double>> roc_tpr = {{{", ".join("{" + fmt(c[1]) + "}" for c in curves)}}};
const std::vector<std::vector<double>> roc_thresholds = {{{", ".join("{" + fmt(c[2][1:]) + "}" for c in curves)}}};
"""
    return out + f"\n}}  // namespace {name}\n"


rng = np.random.default_rng(14)

# mc3: class 2 is never predicted.
m = 30
mc3_true = np.array([0, 1, 2] * 10, dtype=float)
rng.shuffle(mc3_true)
mc3_p = probabilities(rng, m, [2.0, 2.0, 1.0])
mc3_p[3] = [0.0, 1.0, 0.0]  # a 0 at the true class and a 1: clipping in log_loss
mc3_p[7] = [1.0, 0.0, 0.0]
mc3_p[11] = mc3_p[12]  # tied scores in every column
mc3_p[20] = [0.5, 0.25, 0.25]
mc3_pred = np.argmax(mc3_p[:, :2], axis=1).astype(float)
mc3_pred[5] = mc3_true[5] if mc3_true[5] != 2 else 0.0

# mc4: class 3 is never predicted; predictions mostly right.
mc4_true = np.array([0] * 10 + [1] * 8 + [2] * 7 + [3] * 5, dtype=float)
rng.shuffle(mc4_true)
mc4_p = probabilities(rng, m, [1.0, 1.0, 1.0, 1.0])
for i in range(m):  # lean towards the true class
    mc4_p[i, int(mc4_true[i])] += 0.6
mc4_p /= mc4_p.sum(axis=1, keepdims=True)
mc4_p[2] = [0.0, 0.0, 0.0, 1.0]
mc4_p[9] = [0.25, 0.25, 0.25, 0.25]
mc4_p[10] = [0.25, 0.25, 0.25, 0.25]
mc4_pred = np.argmax(mc4_p[:, :3], axis=1).astype(float)

# absent: class 3 in neither.
absent_true = np.array([0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 0, 1], dtype=float)
absent_pred = np.array([0, 1, 1, 0, 2, 2, 0, 0, 2, 1, 0, 1], dtype=float)

regression_targets = rng.normal(2.0, 3.0, size=m)
regression_predictions = regression_targets + rng.normal(0.0, 1.0, size=m)

out = os.path.join(root, "tests", "reference", "metrics_sklearn.hpp")
with open(out + ".tmp", "w") as f:
    f.write(f"""// Generated by scripts/reference/metrics_sklearn.py (scikit-learn {sklearn.__version__}, NumPy {np.__version__}). Do not edit.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace xgrad::reference::metrics_sklearn {{

const std::vector<double> labels = {{{fmt(labels)}}};
const std::vector<double> scores = {{{fmt(scores)}}};
const std::vector<double> predicted = {{{fmt(predicted)}}};  // scores >= 0.5
constexpr double accuracy = {metrics.accuracy_score(labels, predicted):.17g};
constexpr double precision = {metrics.precision_score(labels, predicted):.17g};
constexpr double recall = {metrics.recall_score(labels, predicted):.17g};
constexpr double f1 = {metrics.f1_score(labels, predicted):.17g};
const std::vector<double> confusion = {{{fmt(metrics.confusion_matrix(labels, predicted))}}};
constexpr double roc_auc = {metrics.roc_auc_score(labels, scores):.17g};
// roc_curve(drop_intermediate=False); its first threshold stands for +infinity.
const std::vector<double> roc_fpr = {{{fmt(fpr)}}};
const std::vector<double> roc_tpr = {{{fmt(tpr)}}};
const std::vector<double> roc_thresholds = {{{fmt(thresholds[1:])}}};
constexpr double log_loss = {metrics.log_loss(labels, scores):.17g};
constexpr double brier = {metrics.brier_score_loss(labels, scores):.17g};
const std::vector<double> multi_true = {{{fmt(multi_true)}}};
const std::vector<double> multi_predicted = {{{fmt(multi_pred)}}};
const std::vector<double> multi_confusion = {{{fmt(metrics.confusion_matrix(multi_true, multi_pred))}}};
""")
    f.write(multiclass_case("mc3", mc3_true, mc3_pred, mc3_p, ["setosa", "versicolor", "virginica"]))
    f.write(multiclass_case("mc4", mc4_true, mc4_pred, mc4_p,
                            ["cat", "dog", "long-eared owl", "\u00fcn\u00efcode"]))
    f.write(multiclass_case("absent", absent_true, absent_pred, None, ["a", "b", "c", "d"],
                            roc=False))
    f.write(f"""
namespace regression {{

const std::vector<double> targets = {{{fmt(regression_targets)}}};
const std::vector<double> predictions = {{{fmt(regression_predictions)}}};
constexpr double mse = {metrics.mean_squared_error(regression_targets, regression_predictions):.17g};
constexpr double rmse = {metrics.mean_squared_error(regression_targets, regression_predictions, squared=False):.17g};
constexpr double mae = {metrics.mean_absolute_error(regression_targets, regression_predictions):.17g};
constexpr double r2 = {metrics.r2_score(regression_targets, regression_predictions):.17g};
// Constant targets: r2_score is 1 for perfect predictions, else 0.
constexpr double r2_constant_perfect = {metrics.r2_score([1.5, 1.5, 1.5], [1.5, 1.5, 1.5]):.17g};
constexpr double r2_constant_off = {metrics.r2_score([1.5, 1.5, 1.5], [1.5, 1.0, 1.5]):.17g};

}}  // namespace regression

}}  // namespace xgrad::reference::metrics_sklearn
""")
os.replace(out + ".tmp", out)
print("wrote", out)
