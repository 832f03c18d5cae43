/***************************************************************************
 * xgrad: classification, multiclass and regression metrics against         *
 * scikit-learn's values; the confusion-matrix and ROC plots                *
 ***************************************************************************/
#include <filesystem>
#include <fstream>
#include <sstream>

#include <xtensor/xview.hpp>

#include "reference/metrics_sklearn.hpp"
#include "support.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/models/metrics.hpp"
#include "xgrad/plot/svg_plot.hpp"

namespace xgrad {
namespace {

namespace ref = reference::metrics_sklearn;

array vec(const std::vector<double>& v) {
    array a = array::from_shape({v.size()});
    std::copy(v.begin(), v.end(), a.begin());
    return a;
}

/// @brief (m, 2) probabilities (1 − s, s) from P(class 1) = s.
array two_columns(const array& s) {
    array p = array::from_shape({s.size(), 2});
    for (std::size_t i = 0; i < s.size(); ++i) {
        p(i, 0) = 1.0 - s(i);
        p(i, 1) = s(i);
    }
    return p;
}

TEST(Metrics, MatchScikitLearn) {
    const array y = vec(ref::labels);
    const array scores = vec(ref::scores);
    const array predicted = vec(ref::predicted);
    EXPECT_DOUBLE_EQ(metrics::accuracy(predicted, y), ref::accuracy);
    EXPECT_DOUBLE_EQ(metrics::precision(predicted, y), ref::precision);
    EXPECT_DOUBLE_EQ(metrics::recall(predicted, y), ref::recall);
    EXPECT_DOUBLE_EQ(metrics::f1_score(predicted, y), ref::f1);
    const array confusion = metrics::confusion_matrix(predicted, y);
    EXPECT_EQ(std::vector<double>(confusion.begin(), confusion.end()), ref::confusion);
    EXPECT_DOUBLE_EQ(metrics::roc_auc(scores, y), ref::roc_auc);
    EXPECT_NEAR(metrics::log_loss(scores, y), ref::log_loss, 1e-15);
    EXPECT_NEAR(metrics::brier_score(scores, y), ref::brier, 1e-16);
    const array multi =
        metrics::confusion_matrix(vec(ref::multi_predicted), vec(ref::multi_true), 3);
    EXPECT_EQ(std::vector<double>(multi.begin(), multi.end()), ref::multi_confusion);
}

TEST(Metrics, RocCurveGroupsTiesLikeScikitLearn) {
    const metrics::RocCurve c = metrics::roc_curve(vec(ref::scores), vec(ref::labels));
    ASSERT_EQ(c.false_positive_rate.size(), ref::roc_fpr.size());
    for (std::size_t k = 0; k < ref::roc_fpr.size(); ++k) {
        EXPECT_DOUBLE_EQ(c.false_positive_rate[k], ref::roc_fpr[k]) << k;
        EXPECT_DOUBLE_EQ(c.true_positive_rate[k], ref::roc_tpr[k]) << k;
    }
    EXPECT_TRUE(std::isinf(c.thresholds.front()));
    EXPECT_EQ(std::vector<double>(c.thresholds.begin() + 1, c.thresholds.end()),
              ref::roc_thresholds);
}

TEST(Metrics, EdgeCasesAndErrors) {
    EXPECT_EQ(metrics::precision(array{0.0, 0.0}, array{1.0, 0.0}),
              0.0);                                                      // no positive predictions
    EXPECT_EQ(metrics::roc_auc(array{0.5, 0.5}, array{0.0, 1.0}), 0.5);  // a tie is half right
    EXPECT_EQ(metrics::roc_auc(array{0.1, 0.9}, array{0.0, 1.0}), 1.0);
    // Clipped to [eps, 1 − eps]: eps is float64's epsilon by default (scikit-learn 1.2's "auto"),
    // 1e-15 on request (scikit-learn before 1.2).
    EXPECT_NEAR(metrics::log_loss(array{0.0}, array{1.0}),
                -std::log(std::numeric_limits<double>::epsilon()), 1e-12);
    EXPECT_NEAR(metrics::log_loss(array{0.0}, array{1.0}, 1e-15), -std::log(1e-15), 1e-12);
    EXPECT_NEAR(metrics::log_loss(array{1.0}, array{1.0}), 0.0, 1e-15);
    XGRAD_EXPECT_THROW_WITH(metrics::roc_auc(array{0.1, 0.2}, array{1.0, 1.0}),
                            std::invalid_argument, "needs both classes");
    XGRAD_EXPECT_THROW_WITH(metrics::f1_score(array{1.0}, array{2.0}), std::invalid_argument,
                            "labels must be 0 or 1; position 0 has 2");
    XGRAD_EXPECT_THROW_WITH(metrics::brier_score(array{0.5}, array{1.0, 0.0}), shape_error,
                            "brier_score: expects two non-empty vectors of one length");
}

TEST(Metrics, RegressionMetricsMatchScikitLearn) {
    // scikit-learn's documented example: y_true = [3, -0.5, 2, 7], y_pred = [2.5, 0.0, 2, 8].
    const array targets = {3.0, -0.5, 2.0, 7.0};
    const array predictions = {2.5, 0.0, 2.0, 8.0};
    EXPECT_DOUBLE_EQ(metrics::mean_squared_error(predictions, targets), 0.375);
    EXPECT_DOUBLE_EQ(metrics::root_mean_squared_error(predictions, targets), std::sqrt(0.375));
    EXPECT_DOUBLE_EQ(metrics::mean_absolute_error(predictions, targets), 0.5);
    EXPECT_NEAR(metrics::r2_score(predictions, targets), 0.9486081370449679, 1e-15);
    // Constant targets: 1 for perfect predictions, else 0 (scikit-learn's convention).
    EXPECT_EQ(metrics::r2_score(array{1.0, 1.0}, array{1.0, 1.0}), 1.0);
    EXPECT_EQ(metrics::r2_score(array{1.0, 2.0}, array{1.0, 1.0}), 0.0);
    XGRAD_EXPECT_THROW_WITH(metrics::mean_squared_error(array{1.0}, array{1.0, 2.0}), shape_error,
                            "mean_squared_error: expects two non-empty vectors of one length");
}

TEST(Metrics, ThresholdLabelsAndBinaryLabelChecks) {
    EXPECT_EQ(metrics::threshold_labels(array{0.2, 0.5, 0.9}), (array{0.0, 1.0, 1.0}));
    EXPECT_EQ(metrics::threshold_labels(array{0.2, 0.5, 0.9}, 0.8), (array{0.0, 0.0, 1.0}));
    XGRAD_EXPECT_THROW_WITH(metrics::threshold_labels(array{0.2, 1.5}), std::invalid_argument,
                            "probability 1.500000 at position 1 is outside [0, 1]");
    EXPECT_NO_THROW(metrics::require_binary_labels("check", array{0.0, 1.0, 1.0}));
    XGRAD_EXPECT_THROW_WITH(metrics::require_binary_labels("check", array{0.0, 2.0}),
                            std::invalid_argument, "check: labels must be 0 or 1; position 1");
}

TEST(Metrics, RegressionMetricsMatchScikitLearnOnRandomData) {
    namespace r = ref::regression;
    const array targets = vec(r::targets);
    const array predictions = vec(r::predictions);
    EXPECT_NEAR(metrics::mean_squared_error(predictions, targets), r::mse, 1e-12);
    EXPECT_NEAR(metrics::root_mean_squared_error(predictions, targets), r::rmse, 1e-12);
    EXPECT_NEAR(metrics::mean_absolute_error(predictions, targets), r::mae, 1e-12);
    EXPECT_NEAR(metrics::r2_score(predictions, targets), r::r2, 1e-12);
    EXPECT_EQ(metrics::r2_score(array{1.5, 1.5, 1.5}, array{1.5, 1.5, 1.5}),
              r::r2_constant_perfect);
    EXPECT_EQ(metrics::r2_score(array{1.5, 1.0, 1.5}, array{1.5, 1.5, 1.5}), r::r2_constant_off);
}

// One multiclass reference case of metrics_sklearn.hpp.
struct MulticlassCase {
    std::string name;
    std::size_t classes;
    const std::vector<double>& labels;
    const std::vector<double>& predicted;
    const std::vector<std::string>& names;
    const std::vector<double>& precision;
    const std::vector<double>& recall;
    const std::vector<double>& f1;
    const std::vector<double>& support;
    const std::vector<double>& macro;
    const std::vector<double>& weighted;
    double accuracy;
    const std::vector<double>& confusion;
    const char* report_text;
    const char* report_text_4;
};

#define XGRAD_METRICS_CASE(ns)                                                                  \
    MulticlassCase {                                                                            \
#ns, ref::ns::classes, ref::ns::labels, ref::ns::predicted, ref::ns::names,             \
            ref::ns::precision, ref::ns::recall, ref::ns::f1, ref::ns::support, ref::ns::macro, \
            ref::ns::weighted, ref::ns::accuracy, ref::ns::confusion, ref::ns::report_text,     \
            ref::ns::report_text_4                                                              \
    }

void expect_scores(const metrics::ClassScores& s, const std::vector<double>& p,
                   const std::vector<double>& r, const std::vector<double>& f,
                   const std::vector<double>& n, std::size_t k, const std::string& what) {
    EXPECT_NEAR(s.precision, p[k], 1e-12) << what;
    EXPECT_NEAR(s.recall, r[k], 1e-12) << what;
    EXPECT_NEAR(s.f1, f[k], 1e-12) << what;
    EXPECT_EQ(static_cast<double>(s.support), n[k]) << what;
}

TEST(MulticlassMetrics, ClassificationReportMatchesScikitLearn) {
    // mc3 and mc4 have a class that occurs but is never predicted (precision 0 by
    // zero_division); "absent" has a class in neither (the "micro avg" row).
    for (const MulticlassCase& c :
         {XGRAD_METRICS_CASE(mc3), XGRAD_METRICS_CASE(mc4), XGRAD_METRICS_CASE(absent)}) {
        SCOPED_TRACE(c.name);
        const array y = vec(c.labels);
        const array predicted = vec(c.predicted);
        const metrics::ClassificationReport report =
            metrics::classification_report(predicted, y, c.classes);
        ASSERT_EQ(report.classes.size(), c.classes);
        for (std::size_t k = 0; k < c.classes; ++k) {
            expect_scores(report.classes[k], c.precision, c.recall, c.f1, c.support, k,
                          "class " + std::to_string(k));
        }
        const std::vector<double>& m = c.macro;
        const std::vector<double>& w = c.weighted;
        expect_scores(report.macro, {m[0]}, {m[1]}, {m[2]}, {m[3]}, 0, "macro");
        expect_scores(report.weighted, {w[0]}, {w[1]}, {w[2]}, {w[3]}, 0, "weighted");
        EXPECT_NEAR(report.accuracy, c.accuracy, 1e-12);
        EXPECT_NEAR(metrics::accuracy(predicted, y), c.accuracy, 1e-12);
        EXPECT_EQ(report.total, c.labels.size());
        EXPECT_EQ(report.to_string(c.names), c.report_text);
        EXPECT_EQ(report.to_string(c.names, 4), c.report_text_4);
        const array confusion = metrics::confusion_matrix(predicted, y, c.classes);
        ASSERT_EQ(confusion.shape(), (shape_type{c.classes, c.classes}));
        EXPECT_EQ(std::vector<double>(confusion.begin(), confusion.end()), c.confusion);
        for (std::size_t k = 0; k < c.classes; ++k) {  // row sums are supports
            EXPECT_EQ(xt::sum(xt::view(confusion, k, xt::all()))(), c.support[k]);
        }
    }
}

TEST(MulticlassMetrics, ReportZeroDivisionOneAndDefaultNames) {
    namespace r = ref::mc3;  // class 2 occurs 10 times and is never predicted
    const metrics::ClassificationReport zero =
        metrics::classification_report(vec(r::predicted), vec(r::labels), 3);
    const metrics::ClassificationReport one =
        metrics::classification_report(vec(r::predicted), vec(r::labels), 3, 1.0);
    EXPECT_EQ(zero.classes[2].precision, 0.0);
    EXPECT_EQ(one.classes[2].precision, 1.0);  // TP / (TP + FP) with nothing predicted
    EXPECT_EQ(one.classes[2].recall, 0.0);     // 0 / 10, well defined
    EXPECT_EQ(one.classes[2].f1, 0.0);         // 2·1·0 / (1 + 0)
    EXPECT_NEAR(one.macro.precision, (r::precision[0] + r::precision[1] + 1.0) / 3.0, 1e-15);
    EXPECT_EQ(one.predicted_counts, (std::vector<std::size_t>{14, 16, 0}));
    // Without names the classes are called by their indices.
    const std::string text = zero.to_string();
    EXPECT_NE(text.find("\n           2       0.00      0.00      0.00        10\n"),
              std::string::npos)
        << text;
    // A class absent from labels and predictions: recall is zero_division too.
    const metrics::ClassificationReport absent =
        metrics::classification_report(array{0.0, 1.0}, array{0.0, 1.0}, 3, 1.0);
    EXPECT_EQ(absent.classes[2].precision, 1.0);
    EXPECT_EQ(absent.classes[2].recall, 1.0);
    EXPECT_EQ(absent.classes[2].f1, 1.0);
    EXPECT_EQ(absent.weighted.precision, 1.0);
    EXPECT_EQ(absent.accuracy, 1.0);
}

TEST(MulticlassMetrics, LogLossMatchesScikitLearnWithClipping) {
    // Rows with a 0 at the true class and a 1 elsewhere are clipped, then renormalised.
    for (const auto& [name, classes, labels, p, loss, loss_1e15] :
         {std::make_tuple("mc3", ref::mc3::classes, ref::mc3::labels, ref::mc3::probabilities,
                          ref::mc3::log_loss, ref::mc3::log_loss_eps_1e15),
          std::make_tuple("mc4", ref::mc4::classes, ref::mc4::labels, ref::mc4::probabilities,
                          ref::mc4::log_loss, ref::mc4::log_loss_eps_1e15)}) {
        SCOPED_TRACE(name);
        const array y = vec(labels);
        const array probabilities = xt::reshape_view(vec(p), {labels.size(), classes});
        EXPECT_NEAR(metrics::log_loss(probabilities, y), loss, 1e-12);
        EXPECT_NEAR(metrics::log_loss(probabilities, y, 1e-15), loss_1e15, 1e-12);
    }
    // One clipped row by hand: p̃ = (eps, 1 − eps, eps), true class 0.
    const double eps = std::numeric_limits<double>::epsilon();
    EXPECT_NEAR(metrics::log_loss(array{{0.0, 1.0, 0.0}}, array{0.0}),
                -std::log(eps / (eps + (1.0 - eps) + eps)), 1e-12);
    // Rows are clipped, then renormalised: (0.2, 0.6) is (0.25, 0.75), and (2, 6) is (1, 1) after
    // clipping (scikit-learn 1.2 says nothing either way), so (0.5, 0.5).
    EXPECT_NEAR(metrics::log_loss(array{{0.2, 0.6}}, array{1.0}), -std::log(0.75), 1e-15);
    EXPECT_NEAR(metrics::log_loss(array{{2.0, 6.0}}, array{1.0}), std::log(2.0), 1e-15);
    // K = 2 as a matrix gives the binary loss of its second column.
    const array s = vec(ref::scores);
    const array two = two_columns(s);
    EXPECT_NEAR(metrics::log_loss(two, vec(ref::labels)), metrics::log_loss(s, vec(ref::labels)),
                1e-15);
    EXPECT_NEAR(metrics::log_loss(s, vec(ref::labels)), ref::log_loss, 1e-15);
}

TEST(MulticlassMetrics, OneVsRestRocMatchesScikitLearn) {
    for (const auto& [name, classes, labels, p, macro, weighted, per_class, fpr, tpr, thresholds] :
         {std::make_tuple("mc3", ref::mc3::classes, ref::mc3::labels, ref::mc3::probabilities,
                          ref::mc3::roc_auc_macro, ref::mc3::roc_auc_weighted,
                          ref::mc3::roc_auc_per_class, ref::mc3::roc_fpr, ref::mc3::roc_tpr,
                          ref::mc3::roc_thresholds),
          std::make_tuple("mc4", ref::mc4::classes, ref::mc4::labels, ref::mc4::probabilities,
                          ref::mc4::roc_auc_macro, ref::mc4::roc_auc_weighted,
                          ref::mc4::roc_auc_per_class, ref::mc4::roc_fpr, ref::mc4::roc_tpr,
                          ref::mc4::roc_thresholds)}) {
        SCOPED_TRACE(name);
        const array y = vec(labels);
        const array probabilities = xt::reshape_view(vec(p), {labels.size(), classes});
        const metrics::RocAucOvr auc = metrics::roc_auc_ovr(probabilities, y);
        EXPECT_NEAR(auc.macro, macro, 1e-12);
        EXPECT_NEAR(auc.weighted, weighted, 1e-12);
        ASSERT_EQ(auc.per_class.size(), classes);
        const std::vector<metrics::RocCurve> curves = metrics::roc_curves_ovr(probabilities, y);
        ASSERT_EQ(curves.size(), classes);
        for (std::size_t k = 0; k < classes; ++k) {
            SCOPED_TRACE("class " + std::to_string(k));
            EXPECT_NEAR(auc.per_class[k], per_class[k], 1e-12);
            const metrics::RocCurve& c = curves[k];
            ASSERT_EQ(c.false_positive_rate.size(), fpr[k].size());
            ASSERT_EQ(c.true_positive_rate.size(), tpr[k].size());
            ASSERT_EQ(c.thresholds.size(), thresholds[k].size() + 1);
            EXPECT_TRUE(std::isinf(c.thresholds.front()));
            for (std::size_t i = 0; i < fpr[k].size(); ++i) {
                EXPECT_NEAR(c.false_positive_rate[i], fpr[k][i], 1e-12) << i;
                EXPECT_NEAR(c.true_positive_rate[i], tpr[k][i], 1e-12) << i;
                if (i > 0) {
                    EXPECT_EQ(c.thresholds[i], thresholds[k][i - 1]) << i;
                }
            }
        }
    }
    // K = 2: both averages are the binary AUC of the second column.
    const array s = vec(ref::scores);
    const metrics::RocAucOvr two = metrics::roc_auc_ovr(two_columns(s), vec(ref::labels));
    EXPECT_NEAR(two.macro, ref::roc_auc, 1e-12);
    EXPECT_NEAR(two.weighted, ref::roc_auc, 1e-12);
}

TEST(MulticlassMetrics, ErrorsNameTheFunctionTheShapesAndTheRow) {
    XGRAD_EXPECT_THROW_WITH(metrics::confusion_matrix(array{0.0, 3.0}, array{0.0, 1.0}, 3),
                            std::invalid_argument,
                            "confusion_matrix: row 1 has predicted label 3, not a class index "
                            "in 0..2");
    XGRAD_EXPECT_THROW_WITH(metrics::confusion_matrix(array{0.0, 1.0}, array{1.5, 1.0}, 3),
                            std::invalid_argument,
                            "confusion_matrix: row 0 has expected label 1.5");
    XGRAD_EXPECT_THROW_WITH(metrics::confusion_matrix(array{0.0, 1.0}, array{-1.0, 1.0}, 3),
                            std::invalid_argument, "row 0 has expected label -1");
    XGRAD_EXPECT_THROW_WITH(metrics::confusion_matrix(array{0.0}, array{0.0}, 1),
                            std::invalid_argument, "confusion_matrix: needs at least 2 classes");
    XGRAD_EXPECT_THROW_WITH(metrics::confusion_matrix(array{0.0}, array{0.0, 1.0}, 3), shape_error,
                            "confusion_matrix: expects two non-empty vectors of one length, got "
                            "(1,) and (2,)");
    XGRAD_EXPECT_THROW_WITH(metrics::classification_report(array{0.0, 4.0}, array{0.0, 1.0}, 4),
                            std::invalid_argument,
                            "classification_report: row 1 has predicted label 4");
    XGRAD_EXPECT_THROW_WITH(metrics::classification_report(array{0.0}, array{0.0}, 2, 0.5),
                            std::invalid_argument, "zero_division must be 0 or 1, got 0.5");
    const metrics::ClassificationReport report =
        metrics::classification_report(array{0.0}, array{0.0}, 2);
    XGRAD_EXPECT_THROW_WITH(report.to_string({"only one"}), std::invalid_argument,
                            "ClassificationReport::to_string: 1 class names for 2 classes");
    XGRAD_EXPECT_THROW_WITH(report.to_string({}, 18), std::invalid_argument,
                            "digits 18 is outside 0..17");

    const array p = {{0.2, 0.8}, {0.6, 0.4}, {0.5, 0.5}};
    XGRAD_EXPECT_THROW_WITH(metrics::log_loss(p, array{0.0, 1.0}), shape_error,
                            "log_loss: expects probabilities (m, K) and labels (m) with m >= 1, "
                            "got (3,2) and (2,)");
    XGRAD_EXPECT_THROW_WITH(metrics::log_loss(xt::ones<double>({2, 1}), array{0.0, 0.0}),
                            shape_error,
                            "log_loss: needs K >= 2 columns of probabilities, got (2,1)");
    XGRAD_EXPECT_THROW_WITH(metrics::log_loss(p, array{0.0, 2.0, 1.0}), std::invalid_argument,
                            "log_loss: row 1 has expected label 2, not a class index in 0..1");
    XGRAD_EXPECT_THROW_WITH(metrics::log_loss(array{{0.5, 0.5}, {NAN, 0.5}}, array{0.0, 1.0}),
                            std::invalid_argument,
                            "log_loss: probability at row 1, column 0 is nan");
    XGRAD_EXPECT_THROW_WITH(metrics::log_loss(p, array{0.0, 1.0, 1.0}, 0.5), std::invalid_argument,
                            "log_loss: eps 0.5 is outside [0, 0.5)");
    XGRAD_EXPECT_THROW_WITH(metrics::roc_auc_ovr(p, array{0.0, 0.0, 0.0}), std::invalid_argument,
                            "roc_auc_ovr: class 1 never occurs among the 3 labels");
    XGRAD_EXPECT_THROW_WITH(
        metrics::roc_curves_ovr(array{{0.2, 0.3, 0.5}, {0.1, 0.1, 0.8}}, array{0.0, 1.0}),
        std::invalid_argument, "roc_curves_ovr: class 2 never occurs among the 2 labels");
    XGRAD_EXPECT_THROW_WITH(metrics::roc_auc_ovr(array{{0.2, 0.8}, {0.6, 0.5}}, array{0.0, 1.0}),
                            std::invalid_argument,
                            "roc_auc_ovr: row 1 of probabilities sums to 1.1");
    XGRAD_EXPECT_THROW_WITH(metrics::roc_auc_ovr(array{0.2, 0.8}, array{0.0, 1.0}), shape_error,
                            "roc_auc_ovr: expects probabilities (m, K) and labels (m)");
    // A row summing to 1 within numpy.allclose's tolerance is accepted.
    EXPECT_NO_THROW(metrics::roc_auc_ovr(array{{0.2, 0.8 + 5e-9}, {0.6, 0.4}}, array{0.0, 1.0}));
}

/// @brief A small check that `svg` is well-formed XML as far as tags go: every element closes in
/// order, attributes are quoted, and no stray '<' or '&' sits in text.
bool tags_balance(const std::string& svg, std::string& why) {
    std::vector<std::string> open;
    for (std::size_t i = 0; i < svg.size(); ++i) {
        if (svg[i] == '&') {
            const std::size_t end = svg.find(';', i);
            const std::string entity = svg.substr(i, end == std::string::npos ? 8 : end - i + 1);
            if (entity != "&lt;" && entity != "&gt;" && entity != "&amp;" && entity != "&quot;") {
                why = "bad entity " + entity;
                return false;
            }
            continue;
        }
        if (svg[i] != '<') continue;
        std::size_t end = i + 1;
        bool quoted = false;
        while (end < svg.size() && (quoted || svg[end] != '>')) {
            if (svg[end] == '"') quoted = !quoted;
            if (!quoted && svg[end] == '<') {
                why = "'<' inside a tag at " + std::to_string(end);
                return false;
            }
            ++end;
        }
        if (end == svg.size()) {
            why = "unterminated tag at " + std::to_string(i);
            return false;
        }
        const std::string tag = svg.substr(i + 1, end - i - 1);
        if (tag[0] == '/') {
            if (open.empty() || open.back() != tag.substr(1)) {
                why = "</" + tag.substr(1) + "> closes " + (open.empty() ? "nothing" : open.back());
                return false;
            }
            open.pop_back();
        } else if (tag.back() != '/') {
            open.push_back(tag.substr(0, tag.find_first_of(" \n")));
        }
        i = end;
    }
    why = open.empty() ? "" : "<" + open.back() + "> is never closed";
    return open.empty();
}

std::size_t occurrences(const std::string& text, const std::string& part) {
    std::size_t n = 0;
    for (std::size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) {
        ++n;
    }
    return n;
}

TEST(MetricsPlots, ConfusionMatrixHeatmap) {
    namespace r = ref::mc4;  // counts {10,0,0,0 / 1,6,1,0 / 0,0,7,0 / 2,2,1,0}
    const array counts = metrics::confusion_matrix(vec(r::predicted), vec(r::labels), r::classes);
    plot::ConfusionMatrixOptions options;
    options.title = "Owls & cats <test>";
    const std::string svg = plot::confusion_matrix_svg(counts, r::names, options);
    std::string why;
    EXPECT_TRUE(tags_balance(svg, why)) << why;
    EXPECT_EQ(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0), 0U);
    EXPECT_EQ(svg.substr(svg.size() - 7), "</svg>\n");
    EXPECT_EQ(occurrences(svg, "<rect class=\"cell\""), 16U);  // K² cells
    EXPECT_NE(svg.find(">Owls &amp; cats &lt;test&gt;</text>"), std::string::npos);
    for (const std::string& name : r::names) {  // on both axes
        EXPECT_EQ(occurrences(svg, ">" + name + "</text>"), 2U) << name;
    }
    // The counts, one text per cell: 10 once, 0 eight times, 1 three times, 2 twice.
    EXPECT_EQ(occurrences(svg, "\">10</text>"), 2U);  // the cell and the colour bar's top
    EXPECT_EQ(occurrences(svg, "\">7</text>"), 1U);
    EXPECT_EQ(occurrences(svg, "\">6</text>"), 1U);
    EXPECT_EQ(occurrences(svg, "\">2</text>"), 2U);
    EXPECT_EQ(occurrences(svg, "\">1</text>"), 3U);
    EXPECT_EQ(occurrences(svg, "\">0</text>"), 9U);  // 8 cells and the colour bar's bottom
    EXPECT_NE(svg.find("fill=\"#08306b\""), std::string::npos);  // the largest count, darkest
    EXPECT_NE(svg.find(">Predicted class</text>"), std::string::npos);
    EXPECT_NE(svg.find(">True class</text>"), std::string::npos);

    // Row-normalised: colour by rate, the rate under each count (row 1: 1/8, 6/8, 1/8, 0).
    options.normalize_rows = true;
    const std::string rates = plot::confusion_matrix_svg(counts, r::names, options);
    EXPECT_TRUE(tags_balance(rates, why)) << why;
    EXPECT_EQ(occurrences(rates, "<rect class=\"cell\""), 16U);
    EXPECT_EQ(occurrences(rates, ">0.75</text>"), 1U);
    EXPECT_EQ(occurrences(rates, ">0.12</text>"), 2U);
    EXPECT_EQ(occurrences(rates, ">1.00</text>"), 2U);  // rows 0 and 2 are all right
    EXPECT_EQ(occurrences(rates, "fill=\"#08306b\""), 2U);
    EXPECT_EQ(occurrences(rates, "\">6</text>"), 1U);  // the counts are still written

    // Names that need escaping, and a large count written whole.
    const array big = {{1234567.0, 0.0}, {3.0, 4.0}};
    const std::string escaped = plot::confusion_matrix_svg(big, {"a<b", "\"q\"&"});
    EXPECT_TRUE(tags_balance(escaped, why)) << why;
    EXPECT_NE(escaped.find(">a&lt;b</text>"), std::string::npos);
    EXPECT_NE(escaped.find(">\"q\"&amp;</text>"), std::string::npos);
    EXPECT_NE(escaped.find(">1234567</text>"), std::string::npos);

    XGRAD_EXPECT_THROW_WITH(
        plot::confusion_matrix_svg(array{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, {"a", "b"}),
        shape_error, "confusion_matrix_svg: expects counts (K, K) with K >= 2, got (2,3)");
    XGRAD_EXPECT_THROW_WITH(plot::confusion_matrix_svg(xt::ones<double>({1, 1}), {"a"}),
                            shape_error, "got (1,1)");
    XGRAD_EXPECT_THROW_WITH(plot::confusion_matrix_svg(big, {"a"}), std::invalid_argument,
                            "confusion_matrix_svg: 1 class names for counts (2,2)");
    XGRAD_EXPECT_THROW_WITH(plot::confusion_matrix_svg(array{{1.0, -1.0}, {0.0, 1.0}}, {"a", "b"}),
                            std::invalid_argument,
                            "confusion_matrix_svg: count at row 0, column 1 is -1");
}

TEST(MetricsPlots, HeatmapIsWrittenAtomically) {
    const array counts = {{3.0, 1.0}, {0.0, 4.0}};
    const std::string svg = plot::confusion_matrix_svg(counts, {"no", "yes"});
    const std::filesystem::path dir = ::testing::TempDir() + "xgrad_metrics_plot";
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir / "taken.svg");  // a directory where the file goes
    const std::string path = (dir / "confusion.svg").string();
    write_file_atomically(path, svg);
    std::stringstream read;
    read << std::ifstream(path).rdbuf();
    EXPECT_EQ(read.str(), svg);
    // A path whose directory does not exist, and one that names a directory: the error names the
    // path and nothing (no half-written file, no temporary) is left behind.
    const std::string missing = (dir / "missing" / "confusion.svg").string();
    XGRAD_EXPECT_THROW_WITH(write_file_atomically(missing, svg), std::runtime_error, missing);
    EXPECT_FALSE(std::filesystem::exists(missing));
    const std::string taken = (dir / "taken.svg").string();
    XGRAD_EXPECT_THROW_WITH(write_file_atomically(taken, svg), std::runtime_error, taken);
    EXPECT_TRUE(std::filesystem::is_directory(taken));
    std::vector<std::string> left;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        left.push_back(entry.path().filename().string());
    }
    std::sort(left.begin(), left.end());
    EXPECT_EQ(left, (std::vector<std::string>{"confusion.svg", "taken.svg"}));
    std::filesystem::remove_all(dir);
}

TEST(MetricsPlots, OneVsRestRocCurves) {
    namespace r = ref::mc4;
    const array probabilities =
        xt::reshape_view(vec(r::probabilities), {r::labels.size(), r::classes});
    const array y = vec(r::labels);
    const std::vector<metrics::RocCurve> curves = metrics::roc_curves_ovr(probabilities, y);
    const metrics::RocAucOvr auc = metrics::roc_auc_ovr(probabilities, y);
    std::vector<plot::Series> series;
    for (std::size_t k = 0; k < r::classes; ++k) {
        char label[64];
        std::snprintf(label, sizeof label, " (AUC %.3f)", auc.per_class[k]);
        series.push_back(
            {r::names[k] + label, curves[k].false_positive_rate, curves[k].true_positive_rate});
    }
    const std::string svg = plot::roc_curves_svg(series, "One-vs-rest ROC");
    std::string why;
    EXPECT_TRUE(tags_balance(svg, why)) << why;
    EXPECT_EQ(svg.rfind("<svg", 0), 0U);
    EXPECT_EQ(occurrences(svg, "<polyline"), 5U);         // four classes and the chance line
    EXPECT_EQ(occurrences(svg, "stroke-dasharray"), 2U);  // the chance line and its legend key
    EXPECT_NE(svg.find(">long-eared owl (AUC 0.981)</text>"), std::string::npos);
    EXPECT_NE(svg.find(">chance</text>"), std::string::npos);
    EXPECT_NE(svg.find(">False positive rate</text>"), std::string::npos);
    EXPECT_NE(svg.find(">True positive rate</text>"), std::string::npos);
    XGRAD_EXPECT_THROW_WITH(plot::roc_curves_svg({{"bad", {0.0, 1.5}, {0.0, 1.0}}}, "t"),
                            std::invalid_argument,
                            "roc_curves_svg: curve 'bad' point 1 (1.5, 1) is outside [0, 1]^2");
    XGRAD_EXPECT_THROW_WITH(plot::roc_curves_svg({{"short", {0.0, 1.0}, {0.0}}}, "t"),
                            std::invalid_argument, "roc_curves_svg: curve 'short' has 2 x values");
}

}  // namespace
}  // namespace xgrad
