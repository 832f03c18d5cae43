/***************************************************************************
 * xgrad: classification metrics against scikit-learn's values             *
 ***************************************************************************/
#include "reference/metrics_sklearn.hpp"
#include "support.hpp"
#include "xgrad/models/metrics.hpp"

namespace xgrad {
namespace {

namespace ref = reference::metrics_sklearn;

array vec(const std::vector<double>& v) {
    array a = array::from_shape({v.size()});
    std::copy(v.begin(), v.end(), a.begin());
    return a;
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
    EXPECT_NEAR(metrics::log_loss(array{0.0}, array{1.0}), -std::log(1e-15), 1e-9);  // clipped
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

}  // namespace
}  // namespace xgrad
