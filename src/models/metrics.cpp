// Classification metrics, each checked against scikit-learn.
#include "xgrad/models/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

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
    array counts = xt::zeros<double>({classes, classes});
    for (std::size_t i = 0; i < expected.size(); ++i) {
        const double e = expected(i);
        const double p = predicted(i);
        const auto k = static_cast<double>(classes);
        if (!(e >= 0.0 && e < k && e == std::floor(e) && p >= 0.0 && p < k && p == std::floor(p))) {
            throw std::invalid_argument("confusion_matrix: position " + std::to_string(i) +
                                        " has a class outside 0.." + std::to_string(classes - 1));
        }
        counts(static_cast<std::size_t>(e), static_cast<std::size_t>(p)) += 1.0;
    }
    return counts;
}

RocCurve roc_curve(const array& scores, const array& labels) {
    require_pair("roc_curve", scores, labels);
    require_binary("roc_curve", labels);
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return scores(a) > scores(b); });
    const double positives = xt::sum(labels)();
    const double negatives = static_cast<double>(labels.size()) - positives;
    if (positives == 0.0 || negatives == 0.0) {
        throw std::invalid_argument("roc_curve: needs both classes among the labels");
    }
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

double roc_auc(const array& scores, const array& labels) {
    const RocCurve c = roc_curve(scores, labels);
    double area = 0.0;
    for (std::size_t k = 1; k < c.thresholds.size(); ++k) {
        area += (c.false_positive_rate[k] - c.false_positive_rate[k - 1]) *
                (c.true_positive_rate[k] + c.true_positive_rate[k - 1]) / 2.0;
    }
    return area;
}

double log_loss(const array& probabilities, const array& labels) {
    require_pair("log_loss", probabilities, labels);
    require_binary("log_loss", labels);
    const double eps = 1e-15;
    double total = 0.0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
        const double p = std::clamp(probabilities(i), eps, 1.0 - eps);
        total -= labels(i) == 1.0 ? std::log(p) : std::log(1.0 - p);
    }
    return total / static_cast<double>(labels.size());
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
