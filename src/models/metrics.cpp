// Classification and regression metrics, each checked against scikit-learn.
#include "xgrad/models/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <stdexcept>

#include <xtensor/xmath.hpp>

namespace xgrad::metrics {

namespace {

void require_pair(const char* who, const array& a, const array& b) {
    if (a.shape() != b.shape() || a.dimension() != 1 || a.size() == 0) {
        throw shape_error(std::string(who) + ": expects two non-empty vectors of one length, got " +
                          format_shape(a.shape()) + " and " + format_shape(b.shape()));
    }
}

void require_binary(const char* who, const array& labels) {
    require_binary_labels(who, labels);
}

struct Counts {
    double tp = 0.0, fp = 0.0, fn = 0.0, tn = 0.0;
};

Counts count(const char* who, const array& predicted, const array& expected) {
    require_pair(who, predicted, expected);
    require_binary(who, expected);
    require_binary(who, predicted);
    Counts c;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const bool p = predicted(i) == 1.0;
        const bool e = expected(i) == 1.0;
        c.tp += p && e;
        c.fp += p && !e;
        c.fn += !p && e;
        c.tn += !p && !e;
    }
    return c;
}

double ratio(double a, double b) {
    return b > 0.0 ? a / b : 0.0;
}

std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%g", v);
    return text;
}

void require_classes(const char* who, std::size_t classes) {
    if (classes < 2) {
        throw std::invalid_argument(std::string(who) + ": needs at least 2 classes, got " +
                                    std::to_string(classes));
    }
}

/// @brief The class index at `row` of `labels`, or std::invalid_argument naming `who`, the row
/// and `what` ("expected", "predicted") unless it is one of 0..classes−1.
std::size_t class_at(const char* who, const char* what, const array& labels, std::size_t row,
                     std::size_t classes) {
    const double v = labels.data()[row];
    if (!(v >= 0.0 && v < static_cast<double>(classes) && v == std::floor(v))) {
        throw std::invalid_argument(std::string(who) + ": row " + std::to_string(row) + " has " +
                                    what + " label " + number(v) + ", not a class index in 0.." +
                                    std::to_string(classes - 1));
    }
    return static_cast<std::size_t>(v);
}

/// @brief Checks an (m, K) probability matrix, K ≥ 2, m ≥ 1, finite, against labels of shape
/// (m) holding class indices; returns K.
std::size_t require_probability_matrix(const char* who, const array& probabilities,
                                       const array& labels) {
    if (probabilities.dimension() != 2 || labels.dimension() != 1 ||
        probabilities.shape()[0] != labels.size() || labels.size() == 0) {
        throw shape_error(
            std::string(who) + ": expects probabilities (m, K) and labels (m) with m >= 1, got " +
            format_shape(probabilities.shape()) + " and " + format_shape(labels.shape()));
    }
    const std::size_t classes = probabilities.shape()[1];
    if (classes < 2) {
        throw shape_error(std::string(who) + ": needs K >= 2 columns of probabilities, got " +
                          format_shape(probabilities.shape()));
    }
    for (std::size_t i = 0; i < labels.size(); ++i) {
        class_at(who, "expected", labels, i, classes);
        for (std::size_t k = 0; k < classes; ++k) {
            if (!std::isfinite(probabilities(i, k))) {
                throw std::invalid_argument(std::string(who) + ": probability at row " +
                                            std::to_string(i) + ", column " + std::to_string(k) +
                                            " is " + number(probabilities(i, k)));
            }
        }
    }
    return classes;
}

/// @brief ROC points for scores against labels in {0, 1}, both present (checked by callers).
RocCurve curve_of(const array& scores, const array& labels) {
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return scores(a) > scores(b); });
    const double positives = xt::sum(labels)();
    const double negatives = static_cast<double>(labels.size()) - positives;
    RocCurve curve{{0.0}, {0.0}, {INFINITY}};
    double tp = 0.0;
    double fp = 0.0;
    for (std::size_t k = 0; k < order.size(); ++k) {
        const std::size_t i = order[k];
        tp += labels(i);
        fp += 1.0 - labels(i);
        // A point only after the last of a run of tied scores: ties move together.
        if (k + 1 == order.size() || scores(order[k + 1]) != scores(i)) {
            curve.false_positive_rate.push_back(fp / negatives);
            curve.true_positive_rate.push_back(tp / positives);
            curve.thresholds.push_back(scores(i));
        }
    }
    return curve;
}

/// @brief The trapezoid area under a curve's points, as numpy.trapz.
double area_under(const RocCurve& c) {
    double area = 0.0;
    for (std::size_t k = 1; k < c.thresholds.size(); ++k) {
        area += (c.false_positive_rate[k] - c.false_positive_rate[k - 1]) *
                (c.true_positive_rate[k] + c.true_positive_rate[k - 1]) / 2.0;
    }
    return area;
}

/// @brief Characters (UTF-8 lead bytes) in `text`, as Python's len() counts a decoded string.
std::size_t characters(const std::string& text) {
    std::size_t n = 0;
    for (char c : text) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    return n;
}

std::string pad_left(const std::string& text, std::size_t width) {
    const std::size_t n = characters(text);
    return n >= width ? text : std::string(width - n, ' ') + text;
}

std::string fixed(double v, int digits) {
    char text[64];
    std::snprintf(text, sizeof text, " %9.*f", digits, v);
    return text;
}

}  // namespace

double accuracy(const array& predicted, const array& expected) {
    if (predicted.shape() != expected.shape() || expected.size() == 0) {
        throw shape_error("accuracy: predictions " + format_shape(predicted.shape()) +
                          " and labels " + format_shape(expected.shape()) +
                          " must have the same, non-empty shape");
    }
    std::size_t right = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        right += predicted.data()[i] == expected.data()[i] ? 1 : 0;
    }
    return static_cast<double>(right) / static_cast<double>(expected.size());
}

double precision(const array& predicted, const array& expected) {
    const Counts c = count("precision", predicted, expected);
    return ratio(c.tp, c.tp + c.fp);
}

double recall(const array& predicted, const array& expected) {
    const Counts c = count("recall", predicted, expected);
    return ratio(c.tp, c.tp + c.fn);
}

double f1_score(const array& predicted, const array& expected) {
    const Counts c = count("f1_score", predicted, expected);
    return ratio(2.0 * c.tp, 2.0 * c.tp + c.fp + c.fn);
}

array confusion_matrix(const array& predicted, const array& expected, std::size_t classes) {
    require_pair("confusion_matrix", predicted, expected);
    require_classes("confusion_matrix", classes);
    array counts = xt::zeros<double>({classes, classes});
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const std::size_t e = class_at("confusion_matrix", "expected", expected, i, classes);
        const std::size_t p = class_at("confusion_matrix", "predicted", predicted, i, classes);
        counts(e, p) += 1.0;
    }
    return counts;
}

RocCurve roc_curve(const array& scores, const array& labels) {
    require_pair("roc_curve", scores, labels);
    require_binary("roc_curve", labels);
    const double positives = xt::sum(labels)();
    if (positives == 0.0 || positives == static_cast<double>(labels.size())) {
        throw std::invalid_argument("roc_curve: needs both classes among the labels");
    }
    return curve_of(scores, labels);
}

double roc_auc(const array& scores, const array& labels) {
    return area_under(roc_curve(scores, labels));
}

double log_loss(const array& probabilities, const array& labels, double eps) {
    if (!(eps >= 0.0 && eps < 0.5)) {
        throw std::invalid_argument("log_loss: eps " + number(eps) + " is outside [0, 0.5)");
    }
    double total = 0.0;
    if (probabilities.dimension() == 1) {
        require_pair("log_loss", probabilities, labels);
        require_binary("log_loss", labels);
        for (std::size_t i = 0; i < labels.size(); ++i) {
            if (!std::isfinite(probabilities(i))) {
                throw std::invalid_argument("log_loss: probability at row " + std::to_string(i) +
                                            " is " + number(probabilities(i)));
            }
            // scikit-learn: clip, make the two columns (1 − p, p), divide by their sum.
            const double p = std::clamp(probabilities(i), eps, 1.0 - eps);
            const double q = 1.0 - p;
            total -= std::log((labels(i) == 1.0 ? p : q) / (q + p));
        }
    } else {
        const std::size_t classes = require_probability_matrix("log_loss", probabilities, labels);
        for (std::size_t i = 0; i < labels.size(); ++i) {
            double sum = 0.0;
            for (std::size_t k = 0; k < classes; ++k) {
                sum += std::clamp(probabilities(i, k), eps, 1.0 - eps);
            }
            const auto y = static_cast<std::size_t>(labels(i));
            total -= std::log(std::clamp(probabilities(i, y), eps, 1.0 - eps) / sum);
        }
    }
    return total / static_cast<double>(labels.size());
}

ClassificationReport classification_report(const array& predicted, const array& expected,
                                           std::size_t classes, double zero_division) {
    const char* who = "classification_report";
    require_pair(who, predicted, expected);
    require_classes(who, classes);
    if (zero_division != 0.0 && zero_division != 1.0) {
        throw std::invalid_argument("classification_report: zero_division must be 0 or 1, got " +
                                    number(zero_division));
    }
    std::vector<std::size_t> tp(classes, 0);
    ClassificationReport report;
    report.classes.resize(classes);
    report.predicted_counts.assign(classes, 0);
    report.total = expected.size();
    std::size_t right = 0;
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const std::size_t e = class_at(who, "expected", expected, i, classes);
        const std::size_t p = class_at(who, "predicted", predicted, i, classes);
        ++report.classes[e].support;
        ++report.predicted_counts[p];
        if (e == p) {
            ++tp[e];
            ++right;
        }
    }
    const auto divide = [&](std::size_t a, std::size_t b) {
        return b == 0 ? zero_division : static_cast<double>(a) / static_cast<double>(b);
    };
    // Sums in class order and divisions as numpy.average does: macro Σx/K, weighted Σ(x·n)/Σn.
    double weighted_p = 0.0, weighted_r = 0.0, weighted_f = 0.0;
    for (std::size_t k = 0; k < classes; ++k) {
        ClassScores& c = report.classes[k];
        c.precision = divide(tp[k], report.predicted_counts[k]);
        c.recall = divide(tp[k], c.support);
        const double denominator = c.precision + c.recall;
        c.f1 = 2.0 * c.precision * c.recall / (denominator == 0.0 ? 1.0 : denominator);
        report.macro.precision += c.precision;
        report.macro.recall += c.recall;
        report.macro.f1 += c.f1;
        const auto n = static_cast<double>(c.support);
        weighted_p += c.precision * n;
        weighted_r += c.recall * n;
        weighted_f += c.f1 * n;
    }
    const auto k = static_cast<double>(classes);
    const auto m = static_cast<double>(report.total);
    report.macro = {report.macro.precision / k, report.macro.recall / k, report.macro.f1 / k,
                    report.total};
    report.weighted = {weighted_p / m, weighted_r / m, weighted_f / m, report.total};
    report.accuracy = static_cast<double>(right) / m;
    return report;
}

std::string ClassificationReport::to_string(const std::vector<std::string>& class_names,
                                            int digits) const {
    if (!class_names.empty() && class_names.size() != classes.size()) {
        throw std::invalid_argument(
            "ClassificationReport::to_string: " + std::to_string(class_names.size()) +
            " class names for " + std::to_string(classes.size()) + " classes");
    }
    if (digits < 0 || digits > 17) {
        throw std::invalid_argument("ClassificationReport::to_string: digits " +
                                    std::to_string(digits) + " is outside 0..17");
    }
    std::vector<std::string> names = class_names;
    for (std::size_t k = names.size(); k < classes.size(); ++k) names.push_back(std::to_string(k));
    // As scikit-learn: the name column is as wide as the longest name, "weighted avg" or digits.
    std::size_t width = std::max<std::size_t>(12, static_cast<std::size_t>(digits));
    for (const std::string& n : names) width = std::max(width, characters(n));
    const auto row = [&](const std::string& name, const ClassScores& s) {
        char support[32];
        std::snprintf(support, sizeof support, " %9zu\n", s.support);
        return pad_left(name, width) + " " + fixed(s.precision, digits) + fixed(s.recall, digits) +
               fixed(s.f1, digits) + support;
    };
    std::string out = std::string(width, ' ') + " " + " precision" + "    recall" + "  f1-score" +
                      "   support" + "\n\n";
    for (std::size_t k = 0; k < classes.size(); ++k) out += row(names[k], classes[k]);
    out += "\n";
    // scikit-learn names the micro average "accuracy" only when every listed class occurs among
    // the labels or the predictions; the numbers are the same either way.
    bool every_class_seen = true;
    for (std::size_t k = 0; k < classes.size(); ++k) {
        every_class_seen = every_class_seen && (classes[k].support > 0 || predicted_counts[k] > 0);
    }
    if (every_class_seen) {
        char tail[64];
        std::snprintf(tail, sizeof tail, " %9zu\n", total);
        out += pad_left("accuracy", width) + " " + std::string(20, ' ') + fixed(accuracy, digits) +
               tail;
    } else {
        out += row("micro avg", {accuracy, accuracy, accuracy, total});
    }
    out += row("macro avg", macro);
    out += row("weighted avg", weighted);
    return out;
}

namespace {

/// @brief The one-vs-rest curves of roc_curves_ovr and roc_auc_ovr (inputs already checked).
std::vector<RocCurve> ovr_curves(const char* who, const array& probabilities, const array& labels) {
    const std::size_t classes = probabilities.shape()[1];
    std::vector<RocCurve> curves;
    for (std::size_t k = 0; k < classes; ++k) {
        array positive = array::from_shape({labels.size()});
        array column = array::from_shape({labels.size()});
        for (std::size_t i = 0; i < labels.size(); ++i) {
            positive(i) = labels(i) == static_cast<double>(k) ? 1.0 : 0.0;
            column(i) = probabilities(i, k);
        }
        if (xt::sum(positive)() == 0.0) {
            throw std::invalid_argument(
                std::string(who) + ": class " + std::to_string(k) + " never occurs among the " +
                std::to_string(labels.size()) +
                " labels, so its one-vs-rest ROC is undefined (scikit-learn raises too)");
        }
        curves.push_back(curve_of(column, positive));
    }
    return curves;
}

}  // namespace

std::vector<RocCurve> roc_curves_ovr(const array& probabilities, const array& labels) {
    require_probability_matrix("roc_curves_ovr", probabilities, labels);
    return ovr_curves("roc_curves_ovr", probabilities, labels);
}

RocAucOvr roc_auc_ovr(const array& probabilities, const array& labels) {
    const char* who = "roc_auc_ovr";
    const std::size_t classes = require_probability_matrix(who, probabilities, labels);
    for (std::size_t i = 0; i < labels.size(); ++i) {
        double sum = 0.0;
        for (std::size_t k = 0; k < classes; ++k) sum += probabilities(i, k);
        if (!(std::abs(sum - 1.0) <= 1e-8 + 1e-5 * std::abs(sum))) {
            char text[64];
            std::snprintf(text, sizeof text, "%.17g", sum);
            throw std::invalid_argument(std::string(who) + ": row " + std::to_string(i) +
                                        " of probabilities sums to " + text +
                                        ", not 1 (scikit-learn requires probabilities here)");
        }
    }
    const std::vector<RocCurve> curves = ovr_curves(who, probabilities, labels);
    std::vector<double> support(classes, 0.0);
    for (std::size_t i = 0; i < labels.size(); ++i)
        support[static_cast<std::size_t>(labels(i))] += 1;
    RocAucOvr result;
    double weighted = 0.0;
    for (std::size_t k = 0; k < classes; ++k) {
        const double area = area_under(curves[k]);
        result.per_class.push_back(area);
        result.macro += area;
        weighted += area * support[k];
    }
    result.macro /= static_cast<double>(classes);
    result.weighted = weighted / static_cast<double>(labels.size());
    return result;
}

double brier_score(const array& probabilities, const array& labels) {
    require_pair("brier_score", probabilities, labels);
    require_binary("brier_score", labels);
    double total = 0.0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        total += (probabilities(i) - labels(i)) * (probabilities(i) - labels(i));
    }
    return total / static_cast<double>(labels.size());
}

array threshold_labels(const array& probabilities, double threshold) {
    array labels = array::from_shape(probabilities.shape());
    for (std::size_t i = 0; i < probabilities.size(); ++i) {
        const double p = probabilities.data()[i];
        if (!(p >= 0.0 && p <= 1.0)) {
            throw std::invalid_argument("threshold_labels: probability " + std::to_string(p) +
                                        " at position " + std::to_string(i) + " is outside [0, 1]");
        }
        labels.data()[i] = p >= threshold ? 1.0 : 0.0;
    }
    return labels;
}

void require_binary_labels(const char* who, const array& labels) {
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const double v = labels.data()[i];
        if (v != 0.0 && v != 1.0) {
            throw std::invalid_argument(std::string(who) + ": labels must be 0 or 1; position " +
                                        std::to_string(i) + " has " + std::to_string(v));
        }
    }
}

double mean_squared_error(const array& predictions, const array& targets) {
    require_pair("mean_squared_error", predictions, targets);
    double total = 0.0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        total += (predictions(i) - targets(i)) * (predictions(i) - targets(i));
    }
    return total / static_cast<double>(targets.size());
}

double root_mean_squared_error(const array& predictions, const array& targets) {
    require_pair("root_mean_squared_error", predictions, targets);
    return std::sqrt(mean_squared_error(predictions, targets));
}

double mean_absolute_error(const array& predictions, const array& targets) {
    require_pair("mean_absolute_error", predictions, targets);
    double total = 0.0;
    for (std::size_t i = 0; i < targets.size(); ++i) total += std::abs(predictions(i) - targets(i));
    return total / static_cast<double>(targets.size());
}

double r2_score(const array& predictions, const array& targets) {
    require_pair("r2_score", predictions, targets);
    double mean = 0.0;
    for (std::size_t i = 0; i < targets.size(); ++i) mean += targets(i);
    mean /= static_cast<double>(targets.size());
    double residual = 0.0;
    double spread = 0.0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        residual += (targets(i) - predictions(i)) * (targets(i) - predictions(i));
        spread += (targets(i) - mean) * (targets(i) - mean);
    }
    if (spread == 0.0) return residual == 0.0 ? 1.0 : 0.0;
    return 1.0 - residual / spread;
}

}  // namespace xgrad::metrics
