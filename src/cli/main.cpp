/***************************************************************************
 * xgrad: the command-line trainer.                                        *
 *                                                                         *
 *   xgrad train    [--data FILE] [--label COLUMN]                         *
 *                  [--model logistic|linear|mlp] [--hidden 64,32]         *
 *                  [--activation relu|tanh] [--task regression]           *
 *                  [--multiclass multinomial|ovr] [--features a,b]        *
 *                  [--drop c,d] [--categorical e] [--impute mean|median]  *
 *                  [--optimizer ...] [--lr] [--epochs] [--batch-size]     *
 *                  [--l2] [--l1] [--standardize] [--test-split 0.2] ...   *
 *   xgrad cv       [--folds 5] [--l2 0.1,1,10] [--seed S] + train options *
 *   xgrad evaluate --model FILE --data FILE                               *
 *   xgrad predict  --model FILE --data FILE [--output FILE] [--proba]     *
 *   xgrad gradcheck [--data FILE] [--plots DIR]                           *
 *   xgrad --version                                                       *
 *                                                                         *
 * Exit codes: 0 success, 2 bad arguments or input (one line on stderr,    *
 * `xgrad: file:line:column: what`), 1 a failed gradient check. Every      *
 * output file is rendered in memory and written only when the whole run   *
 * succeeded; what can be checked is checked before training.              *
 ***************************************************************************/
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <string>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "outputs.hpp"
#include "progress.hpp"
#include "xgrad/data/columns.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/distributed/communicator.hpp"
#include "xgrad/distributed/data.hpp"
#include "xgrad/metrics.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/mlp_model.hpp"
#include "xgrad/models/model_file.hpp"
#include "xgrad/models/one_vs_rest.hpp"
#include "xgrad/models/softmax_regression.hpp"
#include "xgrad/optim/registry.hpp"
#include "xgrad/plot/svg_plot.hpp"
#include "xgrad/random.hpp"
#include "xgrad/xgrad.hpp"
#ifdef XGRAD_WITH_MPI
#include "xgrad/distributed/mpi.hpp"
#endif

#ifndef XGRAD_VERSION
#define XGRAD_VERSION "unknown"
#endif

namespace {

using xgrad::array;
using xgrad::escaped;
using xgrad::quote_text;
using xgrad::cli::usage_error;
constexpr std::size_t npos = static_cast<std::size_t>(-1);

/// @brief Beyond this magnitude a value's square overflows a double (√1.8e308 ≈ 1.3e154): the
/// losses, gradients and Hessians of training would be inf or nan.
constexpr double largest_trainable = 1e150;

struct TrainArguments {
    std::string data;  ///< empty: the bundled breast-cancer data
    std::string label;
    std::string model = "logistic";
    std::string optimizer;       ///< empty: lbfgs, or adam for --model mlp
    double learning_rate = 0.0;  ///< 0: 0.1, or 0.01 for --model mlp
    std::size_t epochs = 200;
    std::size_t batch_size = 0;
    double l2 = 0.0;
    double l1 = 0.0;
    std::string class_weight = "none";
    bool standardize = false;
    double test_split = 0.2;
    double validation_split = 0.0;
    std::size_t patience = 0;
    std::uint64_t seed = 0;
    std::string out;
    std::string plots;
    bool quiet = false;
    std::string multiclass = "multinomial";  ///< more than two classes: softmax or one-vs-rest
    std::vector<std::string> features;
    std::vector<std::string> drop;
    std::vector<std::string> categorical;
    std::string impute = "none";
    std::vector<std::size_t> hidden{64, 32};  ///< --model mlp: hidden layer sizes
    std::string activation = "relu";          ///< --model mlp
    std::string task = "classification";      ///< --model mlp: classification or regression
};

/// @brief Fills the defaults that depend on the model: lbfgs and learning rate 0.1 for the
/// linear models, adam and 0.01 for an MLP (whose objective is not convex: no solver).
TrainArguments with_model_defaults(TrainArguments a) {
    const bool mlp = a.model == "mlp";
    if (a.optimizer.empty()) a.optimizer = mlp ? "adam" : "lbfgs";
    if (a.learning_rate == 0.0) a.learning_rate = mlp ? 0.01 : 0.1;
    return a;
}

/// @brief Whether the arguments ask for a classifier (a logistic model, or an MLP for
/// classification) rather than regression.
bool wants_classifier(const TrainArguments& a) {
    return a.model == "logistic" || (a.model == "mlp" && a.task == "classification");
}

/// @brief The model kind a model file records, from the arguments and the class count.
std::string model_kind(const TrainArguments& a, std::size_t classes) {
    if (a.model == "mlp") return "mlp";
    if (a.model == "linear") return "linear";
    if (classes == 2) return "logistic";
    return a.multiclass == "ovr" ? "ovr" : "softmax";
}

/// @brief What the kind is called in messages.
std::string model_title(const std::string& kind, const TrainArguments& a, std::size_t classes) {
    if (kind == "linear") return "linear regression";
    if (kind == "logistic") return "logistic regression";
    if (kind == "softmax")
        return fmt::format("softmax (multinomial logistic) regression, {} classes", classes);
    if (kind == "ovr") return fmt::format("one-vs-rest logistic regression, {} classes", classes);
    std::string layers;
    for (std::size_t h : a.hidden) layers += (layers.empty() ? "" : ",") + std::to_string(h);
    return fmt::format("an MLP {} (hidden {}, {}){}", classes > 0 ? "classifier" : "regressor",
                       layers.empty() ? "none" : layers, a.activation,
                       classes > 0 ? fmt::format(", {} classes", classes) : "");
}

/// @brief An MLP is trained step by step: a solver optimizer or L1 is refused.
void require_mlp_options(const std::string& kind, const TrainArguments& a) {
    if (kind != "mlp") return;
    if (xgrad::optim::is_solver(*xgrad::optim::parse_optimizer(a.optimizer))) {
        throw usage_error("--optimizer " + a.optimizer +
                          " is a solver for the convex linear models; train an MLP with sgd, "
                          "momentum, nesterov, adagrad, rmsprop or adam (default adam)");
    }
    if (a.l1 > 0.0) throw usage_error("--l1 is not supported for --model mlp");
}

/// @brief A validator of a number above `low` (or at least `low`), whose message says what is
/// wrong in plain words: "'abc' is not a number", "-1 must be > 0".
CLI::Validator number_above(double low, bool strictly) {
    const std::string bound = fmt::format("{} {:g}", strictly ? ">" : ">=", low);
    return CLI::Validator(
        [low, strictly, bound](std::string& text) -> std::string {
            char* end = nullptr;
            const double v = std::strtod(text.c_str(), &end);
            if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v))
                return quote_text(text) + " is not a number";
            if (strictly ? !(v > low) : !(v >= low)) return text + " must be " + bound;
            return {};
        },
        "NUMBER " + bound);
}

/// @brief The one line an error prints: `xgrad: what`.
void print_error(const std::string& message) {
    std::fflush(stdout);
    fmt::print(stderr, "xgrad: {}\n", escaped(message));
}

void warn(const std::string& message) {
    std::fflush(stdout);
    fmt::print(stderr, "xgrad: warning: {}\n", escaped(message));
}

/// @brief --data, or the bundled file when it was not given.
std::string data_or_bundled(const std::string& data, const char* option_owner) {
    if (!data.empty()) return data;
    std::vector<std::string> looked;
    const std::string bundled = xgrad::cli::bundled_data("breast_cancer.csv", &looked);
    if (bundled.empty()) {
        std::string places;
        for (const auto& p : looked) places += (places.empty() ? "" : ", ") + escaped(p);
        throw usage_error(std::string(option_owner) +
                          ": no --data given and the bundled breast-cancer data is not installed "
                          "(looked for " +
                          places + "): pass --data FILE");
    }
    return bundled;
}

void require_binary_labels(const xgrad::data::Dataset& d) {
    for (std::size_t i = 0; i < d.labels.size(); ++i) {
        const double v = d.labels(i);
        if (v != 0.0 && v != 1.0) {
            throw usage_error(
                fmt::format("{}: label column {} must hold 0 or 1 for a logistic model, found {}",
                            d.where(i, d.label_column), quote_text(d.label_name), v));
        }
    }
}

/// @brief A logistic model needs rows of both classes (0/1 labels) in `labels`, the rows of `d`
/// called `part`; `need` says what for.
void require_both_classes(const xgrad::data::Dataset& d, const array& labels, const char* part,
                          const char* need) {
    const double ones = xt::sum(labels)();
    if (ones > 0.0 && ones < static_cast<double>(labels.size())) return;
    throw usage_error(fmt::format("{}: label column {} holds only class {} in {} ({} rows): {}",
                                  d.where(npos, d.label_column), quote_text(d.label_name),
                                  ones > 0.0 ? 1 : 0, part, labels.size(), need));
}

constexpr const char* model_needs_both = "a logistic model needs rows of both classes, 0 and 1";

/// @brief Refuses values whose squares overflow: training on them gives inf or nan.
void require_trainable_magnitudes(const xgrad::data::Dataset& d, bool features, bool labels) {
    const std::size_t width = d.features.shape()[1];
    for (std::size_t i = 0; i < d.features.shape()[0]; ++i) {
        for (std::size_t j = 0; features && j < width; ++j) {
            const double v = d.features(i, j);
            if (std::abs(v) > largest_trainable) {
                throw usage_error(fmt::format(
                    "{}: {:g} in column {} is too large to train on: beyond ±{:g} squares "
                    "overflow a double (rescale the column, or use --standardize)",
                    d.where(i, d.feature_columns[j]), v, quote_text(d.feature_names[j]),
                    largest_trainable));
            }
        }
        if (labels && std::abs(d.labels(i)) > largest_trainable) {
            throw usage_error(fmt::format(
                "{}: {:g} in label column {} is too large to train on: beyond ±{:g} squared "
                "errors overflow a double (rescale the column)",
                d.where(i, d.label_column), d.labels(i), quote_text(d.label_name),
                largest_trainable));
        }
    }
}

/// @brief Fails naming the column whose standardisation is not finite: its spread overflows, or
/// a row of another part lies too far from the training rows' mean.
void require_finite_standardization(const xgrad::data::Dataset& d, const array& mean,
                                    const array& scale, const std::vector<const array*>& parts) {
    const std::size_t width = mean.size();
    auto fail = [&](std::size_t j, const std::string& why) {
        double largest = 0.0;
        for (std::size_t i = 0; i < d.features.shape()[0]; ++i)
            largest = std::max(largest, std::abs(d.features(i, j)));
        throw usage_error(fmt::format(
            "{}: column {} cannot be standardised: {} (values up to {:g}); rescale the column",
            d.where(npos, d.feature_columns[j]), quote_text(d.feature_names[j]), why, largest));
    };
    for (std::size_t j = 0; j < width; ++j) {
        if (!std::isfinite(mean(j))) fail(j, "its mean overflows a double");
        if (!std::isfinite(scale(j))) fail(j, "its spread overflows a double");
    }
    for (const array* X : parts) {
        for (std::size_t i = 0; i < X->shape()[0]; ++i) {
            for (std::size_t j = 0; j < width; ++j) {
                if (!std::isfinite((*X)(i, j))) fail(j, "a standardised value overflows a double");
            }
        }
    }
}

/// @brief Reports a row the model cannot predict at its place in the file.
[[noreturn]] void rethrow_at(const xgrad::models::prediction_error& e,
                             const xgrad::data::Dataset& d) {
    const std::size_t column =
        e.feature < d.feature_columns.size() ? d.feature_columns[e.feature] : 0;
    throw usage_error(d.where(e.row, column) + ": cannot predict this row: " + e.reason);
}

/// @brief The model's values for the rows of `d` (what ModelFile::predict gives), a row that
/// cannot be predicted reported at its place in the file.
array predict_rows(const xgrad::models::ModelFile& model, const xgrad::data::Dataset& d) {
    try {
        return model.predict(d.features);
    } catch (const xgrad::models::prediction_error& e) {
        rethrow_at(e, d);
    }
}

/// @brief ModelFile::predict_proba for the rows of `d`, as predict_rows.
array predict_proba_rows(const xgrad::models::ModelFile& model, const xgrad::data::Dataset& d) {
    try {
        return model.predict_proba(d.features);
    } catch (const xgrad::models::prediction_error& e) {
        rethrow_at(e, d);
    }
}

/// @brief How many rows of each class index 0..classes−1 `labels` holds.
std::vector<std::size_t> class_counts(const array& labels, std::size_t classes) {
    std::vector<std::size_t> counts(classes, 0);
    for (double v : labels) ++counts[static_cast<std::size_t>(v)];
    return counts;
}

/// @brief The class names as printed in reports: invisible characters escaped.
std::vector<std::string> printable(const std::vector<std::string>& classes) {
    std::vector<std::string> out;
    for (const auto& c : classes) out.push_back(escaped(c, 40));
    return out;
}

/// @brief A classifier needs rows of at least two classes in `labels` (class indices), the rows
/// of `d` called `part`.
/// @brief A label column of numbers that are not all whole numbers is a quantity, not classes:
/// training a classifier on it would make each value a class of its own.
void require_class_like_labels(const xgrad::data::Dataset& d,
                               const xgrad::data::LabelEncoder& labels) {
    if (!labels.numeric()) return;
    for (const std::string& c : labels.classes()) {
        const double v = std::strtod(c.c_str(), nullptr);
        if (v == std::floor(v)) continue;
        throw usage_error(fmt::format(
            "{}: label column {} holds numbers that are not whole ({} and {} distinct values "
            "in all): a classifier takes classes; to predict the number use --model linear or "
            "--model mlp --task regression",
            d.where(npos, d.label_column), quote_text(d.label_name), quote_text(c),
            labels.classes().size()));
    }
}

void require_two_classes(const xgrad::data::Dataset& d, const std::vector<std::size_t>& counts,
                         const std::vector<std::string>& classes, const char* part) {
    std::size_t present = 0;
    std::size_t which = 0;
    std::size_t rows = 0;
    for (std::size_t k = 0; k < counts.size(); ++k) {
        rows += counts[k];
        if (counts[k] > 0) {
            ++present;
            which = k;
        }
    }
    if (present >= 2) return;
    throw usage_error(fmt::format(
        "{}: label column {} holds only one class, {}, in {} ({} rows): a classifier needs rows "
        "of at least two classes{}",
        d.where(npos, d.label_column), quote_text(d.label_name), quote_text(classes[which]), part,
        rows,
        std::string(part) == "the file" ? ""
                                        : " (change --test-split, --validation-split or --seed)"));
}

/// @brief The ROC plot needs rows of every class among the rows shown (called `part`), whose
/// class counts are `counts`.
void require_every_class(const xgrad::data::Dataset& d, const std::vector<std::size_t>& counts,
                         const std::vector<std::string>& classes, const char* part) {
    std::size_t rows = 0;
    for (std::size_t c : counts) rows += c;
    for (std::size_t k = 0; k < counts.size(); ++k) {
        if (counts[k] > 0) continue;
        throw usage_error(fmt::format(
            "{}: class {} of label column {} has no rows in {} ({} rows): the ROC plot needs "
            "every class there (drop --plots, or change --test-split or --seed)",
            d.where(npos, d.label_column), quote_text(classes[k]), quote_text(d.label_name), part,
            rows));
    }
}

/// @brief The binary report: P(y = 1) per row, labels 0/1 (classes[1] is the positive class).
void print_classification_report(const char* title, const array& probabilities, const array& labels,
                                 const std::vector<std::string>& classes) {
    const array predicted = xgrad::metrics::threshold_labels(probabilities);
    const array confusion = xgrad::metrics::confusion_matrix(predicted, labels);
    fmt::print("{} ({} rows): accuracy {:.4f}  precision {:.4f}  recall {:.4f}  F1 {:.4f}\n", title,
               labels.size(), xgrad::metrics::accuracy(predicted, labels),
               xgrad::metrics::precision(predicted, labels),
               xgrad::metrics::recall(predicted, labels),
               xgrad::metrics::f1_score(predicted, labels));
    const bool both_classes =
        xt::sum(labels)() > 0.0 && xt::sum(labels)() < static_cast<double>(labels.size());
    fmt::print(
        "  ROC-AUC {}  log loss {:.6f}  Brier {:.6f}  confusion [[TN {} FP {}] [FN {} TP {}]]\n",
        both_classes ? fmt::format("{:.4f}", xgrad::metrics::roc_auc(probabilities, labels))
                     : "n/a",
        xgrad::metrics::log_loss(probabilities, labels),
        xgrad::metrics::brier_score(probabilities, labels), confusion(0, 0), confusion(0, 1),
        confusion(1, 0), confusion(1, 1));
    if (classes.size() == 2 && (classes[0] != "0" || classes[1] != "1"))
        fmt::print("  positive class {} (negative {})\n", quote_text(classes[1]),
                   quote_text(classes[0]));
}

/// @brief The confusion matrix with class names: rows the true class, columns the predicted.
std::string confusion_table(const array& counts, const std::vector<std::string>& names) {
    std::size_t width = 4;
    for (const auto& n : names) width = std::max(width, n.size());
    for (double v : counts) width = std::max(width, fmt::format("{}", v).size());
    std::string text = fmt::format("  {:>{}}", "true \\ predicted", width);
    const std::size_t first = std::max<std::size_t>(width, 16);
    text = fmt::format("  {:>{}}", "true \\ predicted", first);
    for (const auto& n : names) text += fmt::format("  {:>{}}", n, width);
    text += "\n";
    for (std::size_t r = 0; r < names.size(); ++r) {
        text += fmt::format("  {:>{}}", names[r], first);
        for (std::size_t c = 0; c < names.size(); ++c)
            text += fmt::format("  {:>{}}", counts(r, c), width);
        text += "\n";
    }
    return text;
}

/// @brief The multiclass report: probabilities (m, K), labels class indices: accuracy, log loss,
/// one-vs-rest ROC-AUC, the per-class table of scikit-learn's classification_report and the
/// confusion matrix.
void print_multiclass_report(const char* title, const array& probabilities, const array& labels,
                             const std::vector<std::string>& classes) {
    const std::size_t k = classes.size();
    const array predicted = xgrad::argmax(xgrad::constant(probabilities), 1);
    const auto report = xgrad::metrics::classification_report(predicted, labels, k);
    const auto counts = class_counts(labels, k);
    const bool every_class =
        std::find(counts.begin(), counts.end(), std::size_t{0}) == counts.end();
    fmt::print("{} ({} rows): accuracy {:.4f}  macro F1 {:.4f}  log loss {:.6f}  ROC-AUC {}\n",
               title, labels.size(), report.accuracy, report.macro.f1,
               xgrad::metrics::log_loss(probabilities, labels),
               every_class ? fmt::format("{:.4f} (one-vs-rest, macro)",
                                         xgrad::metrics::roc_auc_ovr(probabilities, labels).macro)
                           : std::string("n/a (a class has no rows)"));
    const std::vector<std::string> names = printable(classes);
    std::string table = report.to_string(names, 4);
    std::string indented;
    for (std::size_t at = 0; at < table.size();) {
        const std::size_t end = std::min(table.find('\n', at), table.size());
        const std::string line = table.substr(at, end - at);
        indented += line.empty() ? "\n" : "  " + line + "\n";
        at = end + 1;
    }
    fmt::print("{}", indented);
    fmt::print("\n{}",
               confusion_table(xgrad::metrics::confusion_matrix(predicted, labels, k), names));
}

void print_regression_report(const char* title, const array& predictions, const array& targets) {
    fmt::print("{} ({} rows): MSE {:.6g}  RMSE {:.6g}  MAE {:.6g}  R² {:.6f}\n", title,
               targets.size(), xgrad::metrics::mean_squared_error(predictions, targets),
               xgrad::metrics::root_mean_squared_error(predictions, targets),
               xgrad::metrics::mean_absolute_error(predictions, targets),
               xgrad::metrics::r2_score(predictions, targets));
}

/// @brief A model's outputs for some rows, with their labels: what the reports and plots read.
struct Scored {
    array
        scores;  ///< predict(): (rows,) for regression and binary models; predict_proba() (rows, K)
    array labels;  ///< (rows,)
};

/// @brief The outputs of `file` for rows X (raw features, missing values filled), labels y.
Scored score_rows(const xgrad::models::ModelFile& file, const array& X, const array& y) {
    return {file.classifier() && file.multiclass() ? file.predict_proba(X) : file.predict(X), y};
}

/// @brief The report of a model on scored rows.
void print_report(const char* title, const xgrad::models::ModelFile& file, const Scored& s) {
    if (!file.classifier()) {
        print_regression_report(title, s.scores, s.labels);
    } else if (!file.multiclass()) {
        print_classification_report(title, s.scores, s.labels, file.class_names());
    } else {
        print_multiclass_report(title, s.scores, s.labels, file.class_names());
    }
}

/// @brief The classes ModelFile::predict_classes gives, from the scores of score_rows.
array predicted_classes(const xgrad::models::ModelFile& file, const array& scores) {
    if (!file.multiclass()) {
        array out = scores;
        for (double& v : out) v = v >= 0.5 ? 1.0 : 0.0;
        return out;
    }
    return xgrad::argmax(xgrad::constant(scores), 1);  // the first class on a tie
}

std::string plot_path(const std::string& dir, const char* name) {
    return dir + (dir.back() == '/' ? "" : "/") + name;
}

/// @brief What a fit left for the reports and plots: each model's objective per epoch (one for
/// a single model; one per class for one-vs-rest) and validation losses, and how it ended.
struct FitRecord {
    std::vector<std::string> names;  ///< of each history
    std::vector<std::vector<double>> losses;
    std::vector<std::vector<double>> validation_losses;
    std::vector<const xgrad::models::LinearModel*> models;  ///< linear models (not an MLP)
    std::vector<xgrad::models::LinearModel::FitSummary> summaries;
};

/// @brief The plot files a training run writes, planned before training.
std::vector<const char*> planned_plots(bool classifier, bool binary, std::size_t features) {
    std::vector<const char*> names{"loss.svg"};
    if (!classifier) return names;
    names.push_back("roc.svg");
    names.push_back("confusion_matrix.svg");
    if (binary && features == 2) names.push_back("decision_boundary.svg");
    return names;
}

/// @brief The SVG plots of a trained model, rendered into `outputs` (planned before training):
/// the loss per epoch; for classifiers the ROC curve(s) and the confusion matrix of the rows
/// shown (`scored`; `shown` names the features and label, and its features are the rows' points
/// in the decision-boundary plot of two-feature binary data, in the order of `scored`).
void render_plots(xgrad::cli::Outputs& outputs, const std::string& dir, const FitRecord& fit,
                  const xgrad::models::ModelFile& file, const xgrad::data::Dataset& shown,
                  const Scored& scored, const char* shown_part) {
    std::vector<xgrad::plot::Series> losses;
    for (std::size_t h = 0; h < fit.losses.size(); ++h) {
        std::vector<double> epochs;
        for (std::size_t e = 0; e < fit.losses[h].size(); ++e)
            epochs.push_back(static_cast<double>(e + 1));
        const std::string prefix = fit.names[h].empty() ? "" : fit.names[h] + ": ";
        losses.push_back({prefix + "training objective", epochs, fit.losses[h], false});
        const auto& v = fit.validation_losses[h];
        if (!v.empty()) {
            losses.push_back({prefix + "validation loss",
                              std::vector<double>(epochs.begin(), epochs.begin() + v.size()), v,
                              false});
        }
    }
    outputs.set(plot_path(dir, "loss.svg"),
                xgrad::plot::line_plot_svg(
                    losses, {"Loss per epoch", "epoch", "loss", false, true, 760, 480}));
    if (!file.classifier()) return;
    const std::vector<std::string> names = printable(file.class_names());
    const array& labels = scored.labels;
    const array predicted = predicted_classes(file, scored.scores);
    outputs.set(
        plot_path(dir, "confusion_matrix.svg"),
        xgrad::plot::confusion_matrix_svg(
            xgrad::metrics::confusion_matrix(predicted, labels, names.size()), names,
            {fmt::format("Confusion matrix ({}, {} rows)", shown_part, labels.size()), false}));
    const array& p = scored.scores;
    if (file.multiclass()) {
        const auto curves = xgrad::metrics::roc_curves_ovr(p, labels);
        const auto auc = xgrad::metrics::roc_auc_ovr(p, labels);
        std::vector<xgrad::plot::Series> series;
        for (std::size_t k = 0; k < curves.size(); ++k) {
            series.push_back({fmt::format("{} (AUC {:.4f})", names[k], auc.per_class[k]),
                              curves[k].false_positive_rate, curves[k].true_positive_rate, false});
        }
        outputs.set(
            plot_path(dir, "roc.svg"),
            xgrad::plot::roc_curves_svg(
                series, fmt::format("One-vs-rest ROC curves (macro AUC {:.4f})", auc.macro)));
        return;
    }
    const auto curve = xgrad::metrics::roc_curve(p, labels);
    outputs.set(
        plot_path(dir, "roc.svg"),
        xgrad::plot::line_plot_svg(
            {{fmt::format("ROC (AUC {:.4f})", xgrad::metrics::roc_auc(p, labels)),
              curve.false_positive_rate, curve.true_positive_rate, false},
             {"chance", {0.0, 1.0}, {0.0, 1.0}, false}},
            {"ROC curve", "false positive rate", "true positive rate", false, false, 760, 480}));
    if (shown.features.shape()[1] != 2) return;
    xgrad::plot::DecisionPanel panel{"P(" + shown.label_name + " = " + names[1] + ")",
                                     {},
                                     {},
                                     {},
                                     [&file](double a, double b) {
                                         return file.predict(array{{a, b}})(0);
                                     },
                                     shown.feature_names[0],
                                     shown.feature_names[1]};
    for (std::size_t i = 0; i < labels.size(); ++i) {
        panel.x.push_back(shown.features(i, 0));
        panel.y.push_back(shown.features(i, 1));
        panel.labels.push_back(labels(i));
    }
    outputs.set(plot_path(dir, "decision_boundary.svg"),
                xgrad::plot::decision_regions_svg(
                    {panel}, shown.feature_names[0] + " against " + shown.feature_names[1]));
}

bool all_finite(const array& a) {
    for (double v : a) {
        if (!std::isfinite(v)) return false;
    }
    return true;
}

/// @brief Stops training whose objective or parameters (of `model`, when given) stopped being
/// finite.
void check_finite_training(const xgrad::models::LinearModel* model, double objective,
                           std::size_t step, const char* unit, const TrainArguments& a,
                           bool solver) {
    const bool weights_finite =
        model == nullptr || !model->weights().defined() || all_finite(model->weights().value());
    const bool bias_finite = model == nullptr || !model->fit_intercept() ||
                             !model->bias().defined() || all_finite(model->bias().value());
    if (std::isfinite(objective) && weights_finite && bias_finite) return;
    const std::string what =
        !std::isfinite(objective)
            ? fmt::format("the training objective became {}", objective)
            : fmt::format("the {} became non-finite", weights_finite ? "bias" : "weights");
    const std::string hint =
        solver ? "try --standardize, or --l2 to keep the weights bounded"
               : fmt::format(
                     "the learning rate {} is too large for this data: try a smaller "
                     "--lr, or --standardize",
                     a.learning_rate);
    throw usage_error(fmt::format("training diverged: {} at {} {} of {} ({}); nothing was written",
                                  what, unit, step, a.epochs, hint));
}

/// @brief Warns when the budget ran out while the objective was still falling.
void warn_if_unfinished(const xgrad::models::LinearModel::FitSummary& summary,
                        const std::vector<double>& history, const TrainArguments& a, bool solver,
                        std::size_t rows) {
    if (summary.converged || summary.stopped_early || summary.steps < summary.budget) return;
    if (history.size() < 2) return;
    // The mean of the last tenth of the steps against the tenth before it.
    const std::size_t k = std::max<std::size_t>(1, history.size() / 10);
    const std::size_t n = history.size();
    double earlier = 0.0;
    double later = 0.0;
    for (std::size_t i = 0; i < k; ++i) {
        later += history[n - 1 - i];
        earlier += history[n - 1 - i - std::min(k, n - 1 - i)];
    }
    earlier /= static_cast<double>(k);
    later /= static_cast<double>(k);
    // Mini-batches make each epoch's mean noisy: ask for a clearer fall there.
    const bool noisy = !solver && a.batch_size > 0 && a.batch_size < rows;
    const double tolerance = noisy ? 1e-3 : 1e-6;
    if (!(earlier - later > tolerance * std::max(std::abs(later), 1e-300))) return;
    const char* unit = solver ? "iterations" : "epochs";
    warn(fmt::format(
        "training used all {} {} and the objective was still falling ({:.6g} to "
        "{:.6g} over the last {}): more --epochs{} may help",
        summary.budget, unit, earlier, later, k * 2, solver ? "" : " (or a larger --lr)"));
}

/// @brief The class names as the header of a probability column: `p_<class>`.
std::string csv_field(const std::string& text) {
    if (text.find_first_of(",\"\r\n") == std::string::npos &&
        (text.empty() || (text.front() != ' ' && text.back() != ' ')))
        return text;
    std::string out = "\"";
    for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

/// @brief A table of one column whose name holds ';', tabs or '|' was most likely written with
/// another separator: " (is the file separated by ';' instead of commas?)", else empty.
std::string separator_hint(const xgrad::data::Table& table) {
    if (table.columns() != 1) return "";
    const std::string hint = xgrad::data::separator_hint(table.header()[0]);
    return hint.empty() ? "" : ": " + hint;
}

/// @brief Runs `f` (which reads `table`), adding separator_hint(table) to a column_error.
template <class F>
auto with_separator_hint(const xgrad::data::Table& table, F f) {
    try {
        return f();
    } catch (const xgrad::data::column_error& e) {
        const std::string hint = separator_hint(table);
        if (hint.empty()) throw;
        throw usage_error(e.what() + hint);
    }
}

/// @brief The columns the arguments ask for.
xgrad::data::ColumnSpec column_spec(const TrainArguments& a, bool classifier) {
    xgrad::data::ColumnSpec spec;
    spec.label = a.label;
    spec.features = a.features;
    spec.drop = a.drop;
    spec.categorical = a.categorical;
    spec.task = classifier ? xgrad::data::Task::classification : xgrad::data::Task::regression;
    spec.impute = xgrad::data::parse_impute(a.impute);
    return spec;
}

/// @brief The processes a run is spread over: this one alone, or the ranks of an MPI job
/// (`train --distributed`), each holding a contiguous block of the file's rows. In a job, rank 0
/// prints and writes; every check that reads one rank's rows runs in agree(), so that bad input on
/// any rank stops every rank with that one message.
struct Job {
    xgrad::distributed::Communicator* comm = nullptr;  ///< null: one process
    /// @brief Set once no collective is left: an error after it is rank 0's alone (the files).
    mutable bool collectives_done = false;

    bool distributed() const { return comm != nullptr; }
    /// @brief Rank 0, or the one process: prints, and writes the output files.
    bool leader() const { return comm == nullptr || comm->rank() == 0; }
    /// @brief Runs `body`; in a job, when it throws on any rank every rank throws the same
    /// distributed_error ("rank R: what"). `body` must not call collectives.
    void agree(const std::function<void()>& body) const { xgrad::distributed::agree(comm, body); }
    /// @brief Σ over the ranks, element by element.
    void sum(std::vector<double>& values) const {
        if (comm != nullptr) comm->allreduce_sum(values.data(), values.size());
    }
    /// @brief The rows of `a` on every rank, in rank order (the same trailing shape everywhere).
    array gather_rows(const array& a) const {
        if (comm == nullptr) return a;
        const std::vector<double> all =
            xgrad::distributed::allgather_values(*comm, std::vector<double>(a.begin(), a.end()));
        xgrad::shape_type shape = a.shape();
        std::size_t width = 1;
        for (std::size_t d = 1; d < shape.size(); ++d) width *= shape[d];
        shape[0] = width == 0 ? 0 : all.size() / width;
        array out = array::from_shape(shape);
        std::copy(all.begin(), all.end(), out.begin());
        return out;
    }
};

/// @brief How many rows of each class index 0..classes−1 `labels` holds on every rank together.
std::vector<std::size_t> class_counts(const Job& job, const array& labels, std::size_t classes) {
    std::vector<double> counts(classes, 0.0);
    for (double v : labels) counts[static_cast<std::size_t>(v)] += 1.0;
    job.sum(counts);
    return std::vector<std::size_t>(counts.begin(), counts.end());
}

/// @brief The parts of a split: this process's rows of each (all rows, for one process), with
/// their positions in the whole part (a job's ranks) and the rows of every rank in it.
struct PartSplit {
    array X_train, y_train, X_test, y_test;
    std::vector<std::size_t> train_ids, test_ids;
    std::size_t train_total = 0;
    std::size_t test_total = 0;
};

/// @brief data::train_test_split of X, y in one process; in a job, this rank's share of the
/// split of every rank's rows, row i here being row ids[i] of the whole (distributed::split_rows:
/// the labels are gathered, not the features): every rank's rows ordered by id are the parts
/// one process gets.
PartSplit split_part(const Job& job, const array& X, const array& y,
                     const std::vector<std::size_t>& ids, double fraction, std::uint64_t seed,
                     bool stratify) {
    if (!job.distributed()) {
        const xgrad::data::Split s = xgrad::data::train_test_split(X, y, fraction, seed, stratify);
        return {s.X_train, s.y_train, s.X_test,         s.y_test,
                {},        {},        s.y_train.size(), s.y_test.size()};
    }
    const xgrad::distributed::RowSplit s =
        xgrad::distributed::split_rows(y, ids, fraction, seed, stratify, *job.comm);
    return {xgrad::data::take_rows(X, s.train_local),
            xgrad::data::take_rows(y, s.train_local),
            xgrad::data::take_rows(X, s.test_local),
            xgrad::data::take_rows(y, s.test_local),
            s.train_ids,
            s.test_ids,
            s.train_total,
            s.test_total};
}

/// @brief Fills the missing values of every part with the statistics of `fit_rows` (the
/// training split, of every rank in a job): the imputer of `fitted` is fitted there.
void impute_parts(const Job& job, xgrad::data::FittedColumns& fitted, const xgrad::data::Dataset& d,
                  const array& fit_rows, const std::vector<array*>& parts) {
    if (fitted.impute == xgrad::data::Impute::none) return;
    const std::size_t width = d.feature_names.size();
    std::vector<double> present(width + 1, 0.0);  // values per column, then the rows
    for (std::size_t i = 0; i < fit_rows.shape()[0]; ++i) {
        for (std::size_t j = 0; j < width; ++j) present[j] += std::isnan(fit_rows(i, j)) ? 0 : 1;
    }
    present[width] = static_cast<double>(fit_rows.shape()[0]);
    job.sum(present);
    job.agree([&] {
        for (std::size_t j = 0; j < width; ++j) {
            if (present[j] > 0.0) continue;
            throw usage_error(fmt::format(
                "{}: cannot impute column {}: all {} values are missing in the training rows "
                "(drop it with --drop {})",
                d.where(npos, d.feature_columns[j]), quote_text(d.feature_names[j]), present[width],
                d.feature_names[j]));
        }
    });
    if (job.distributed()) {
        fitted.imputer =
            xgrad::distributed::fit_imputer(fit_rows, d.feature_names, fitted.impute, *job.comm);
    } else {
        fitted.imputer.fit(fit_rows, d.feature_names);
    }
    for (array* part : parts) {
        // a part that is not there (no test rows) is a default, 0-d array
        if (part->dimension() == 2) *part = fitted.imputer.transform(*part);
    }
}

/// @brief `xgrad train`, in one process or (job.distributed()) as one rank of an MPI job: every
/// rank reads only its block of the file's rows, learns the columns, splits, imputer and scaler of
/// the whole file, trains on its rows with the gradients summed over the ranks (the updates one
/// process makes on all rows), and sends its rows' predictions to the reports; rank 0 prints and
/// writes the files.
int train(TrainArguments a, const Job& job) {
    a = with_model_defaults(a);
    const bool classifier = wants_classifier(a);
    job.agree([&] {
        if (a.patience > 0 && a.validation_split <= 0.0)
            throw usage_error("--patience needs --validation-split");
        a.data = data_or_bundled(a.data, "train");
        // Everything that can fail without training fails now: the output places, ...
        if (!job.leader()) return;
        if (!a.out.empty()) xgrad::cli::check_output_file("--out", a.out);
        if (!a.plots.empty()) xgrad::cli::check_output_directory("--plots", a.plots);
    });

    // ... the data (a job's rank: its block of rows), ...
    xgrad::data::Table table;
    std::size_t first_row = 0;
    std::size_t total_rows = 0;
    job.agree([&] {
        if (!job.distributed()) {
            table = xgrad::data::read_table(a.data);
            total_rows = table.rows();
            return;
        }
        xgrad::data::TableShard shard =
            xgrad::data::read_table_shard(a.data, static_cast<std::size_t>(job.comm->rank()),
                                          static_cast<std::size_t>(job.comm->size()));
        table = std::move(shard.table);
        first_row = shard.first_row;
        total_rows = shard.total_rows;
    });
    xgrad::data::PreparedData prepared = with_separator_hint(table, [&] {
        if (!job.distributed())
            return xgrad::data::encode_training_data(table, column_spec(a, classifier));
        try {
            return xgrad::distributed::encode_training_data(table, column_spec(a, classifier),
                                                            *job.comm);
        } catch (const xgrad::distributed::distributed_error& e) {
            const std::string hint = separator_hint(table);
            if (hint.empty()) throw;
            throw xgrad::distributed::distributed_error(e.what() + hint, e.failed_rank());
        }
    });
    xgrad::data::Dataset& all = prepared.data;
    xgrad::data::FittedColumns& fitted = prepared.fitted;
    const std::vector<std::string> classes =
        classifier ? fitted.labels.classes() : std::vector<std::string>{};
    const std::size_t k = classes.size();
    const std::string kind = model_kind(a, k);
    const std::vector<std::size_t> file_counts =
        classifier ? class_counts(job, all.labels, k) : std::vector<std::size_t>{};
    job.agree([&] {
        if (classifier) require_class_like_labels(all, fitted.labels);
        if (classifier) require_two_classes(all, file_counts, classes, "the file");
        require_mlp_options(kind, a);
        require_trainable_magnitudes(all, !a.standardize, !classifier);
    });

    // ... the files to write, ...
    xgrad::cli::Outputs outputs;
    if (job.leader() && !a.out.empty()) outputs.add("--out", a.out);
    if (job.leader() && !a.plots.empty()) {
        for (const char* name :
             planned_plots(classifier, kind == "logistic", all.feature_names.size()))
            outputs.add("--plots", plot_path(a.plots, name));
    }

    // ... the splits (stratified for classes), the missing values filled from the training
    // split, ...
    PartSplit split{all.features, all.labels, {}, {}, {}, {}, total_rows, 0};
    for (std::size_t i = 0; i < all.labels.size(); ++i) split.train_ids.push_back(first_row + i);
    if (a.test_split > 0.0) {
        split = split_part(job, all.features, all.labels, split.train_ids, a.test_split, a.seed,
                           classifier);
    }
    impute_parts(job, fitted, all, split.X_train, {&split.X_train, &split.X_test, &all.features});
    PartSplit fit = split;
    fit.X_test = fit.y_test = array();
    fit.test_ids.clear();
    fit.test_total = 0;
    if (a.validation_split > 0.0) {
        fit = split_part(job, split.X_train, split.y_train, split.train_ids, a.validation_split,
                         a.seed + 1, classifier);
    }
    xgrad::data::Dataset shown = all;
    shown.features = a.test_split > 0.0 ? split.X_test : split.X_train;
    shown.labels = a.test_split > 0.0 ? split.y_test : split.y_train;
    const char* shown_part = a.test_split > 0.0 ? "the test rows" : "the training rows";
    if (classifier) {
        const auto fit_counts = class_counts(job, fit.y_train, k);
        const auto shown_counts = class_counts(job, shown.labels, k);
        job.agree([&] {
            require_two_classes(all, fit_counts, classes, "the training rows");
            if (!a.plots.empty()) require_every_class(all, shown_counts, classes, shown_part);
        });
    }

    // ... and the standardisation.
    xgrad::data::Standardizer scaler;
    array X_fit = fit.X_train;
    array X_validation = fit.X_test;
    if (a.standardize) {
        array mean;
        array scale;
        if (job.distributed()) {
            std::tie(mean, scale) =
                xgrad::distributed::standardizer_statistics(fit.X_train, *job.comm);
        } else {
            scaler.fit(fit.X_train);
            mean = scaler.mean();
            scale = scaler.scale();
        }
        job.agree([&] {
            require_finite_standardization(all, mean, scale, {});
            scaler = xgrad::data::Standardizer(mean, scale);
            X_fit = scaler.transform(fit.X_train);
            std::vector<const array*> parts{&X_fit};
            if (a.validation_split > 0.0) {
                X_validation = scaler.transform(fit.X_test);
                parts.push_back(&X_validation);
            }
            const array X_all = scaler.transform(all.features);
            parts.push_back(&X_all);
            require_finite_standardization(all, mean, scale, parts);
        });
    }

    xgrad::models::TrainOptions options(a.learning_rate, a.epochs, a.batch_size, a.seed);
    options.optimizer = a.optimizer;
    options.l2 = a.l2;
    options.l1 = a.l1;
    options.balanced_class_weights = a.class_weight == "balanced";
    options.patience = a.patience;
    if (a.validation_split > 0.0) {
        options.validation_X = X_validation;
        options.validation_y = fit.y_test;
    }
    if (job.distributed()) {
        options.communicator = job.comm;
        options.row_ids = fit.train_ids;
    }
    const bool solver = xgrad::optim::is_solver(*xgrad::optim::parse_optimizer(a.optimizer));
    const char* unit = solver ? "iteration" : "epoch";
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    const bool quiet = a.quiet || !job.leader();
    // One progress display per model: one-vs-rest trains K in turn, each named by its class.
    std::unique_ptr<xgrad::cli::Progress> progress;
    std::size_t progress_model = 0;
    const auto start_progress = [&](const std::string& what) {
        progress = std::make_unique<xgrad::cli::Progress>(
            quiet, what, terminal, terminal ? xgrad::cli::terminal_columns(STDOUT_FILENO) : 80,
            stdout);
    };
    start_progress(kind == "ovr" ? quote_text(classes[0]) + " " + unit : unit);

    std::unique_ptr<xgrad::models::LinearModel> model;
    std::unique_ptr<xgrad::models::OneVsRest> ovr;
    std::unique_ptr<xgrad::models::MLPModel> mlp;
    const xgrad::nn::Activation activation = xgrad::models::parse_activation(a.activation);
    if (kind == "mlp" && classifier) {
        mlp = std::make_unique<xgrad::models::MLPClassifier>(a.hidden, activation, k);
    } else if (kind == "mlp") {
        mlp = std::make_unique<xgrad::models::MLPRegressor>(a.hidden, activation);
    } else if (kind == "linear") {
        model = std::make_unique<xgrad::models::LinearRegression>();
    } else if (kind == "logistic") {
        model = std::make_unique<xgrad::models::LogisticRegression>();
    } else if (kind == "softmax") {
        model = std::make_unique<xgrad::models::SoftmaxRegression>(true, k);
    } else {
        ovr = std::make_unique<xgrad::models::OneVsRest>(true, k);
    }
    // Its values are the same on every rank (reduced over them): so are its errors.
    options.on_epoch = [&](const xgrad::models::EpochReport& r) {
        if (kind == "ovr" && r.epoch == 0 && progress_model++ > 0) {
            progress->finish();
            start_progress(quote_text(classes[progress_model - 1]) + " " + unit);
        }
        (*progress)(r);
        check_finite_training(model.get(), r.train_loss, r.epoch + 1, unit, a, solver);
    };
    if (!quiet) {
        const std::string what = model_title(kind, a, k);
        fmt::print("training {} on {} ({} rows, {} features, label {}), optimizer {}{}\n", what,
                   escaped(a.data), total_rows, all.feature_names.size(),
                   quote_text(all.label_name), a.optimizer,
                   job.distributed() ? fmt::format(", {} processes", job.comm->size()) : "");
    }
    FitRecord record;
    if (mlp) {
        mlp->fit(X_fit, fit.y_train, options);
        record.names.push_back("");
        record.losses.push_back(mlp->loss_history());
        record.validation_losses.push_back(mlp->validation_loss_history());
        record.summaries.push_back(mlp->fit_summary());
        check_finite_training(nullptr, mlp->loss_history().back(), mlp->fit_summary().steps, unit,
                              a, solver);
    } else if (model) {
        model->fit(X_fit, fit.y_train, options);
        record.names.push_back("");
        record.models.push_back(model.get());
    } else {
        ovr->fit(X_fit, fit.y_train, options);
        for (std::size_t c = 0; c < k; ++c) {
            record.names.push_back(escaped(classes[c], 40));
            record.models.push_back(&ovr->model(c));
        }
    }
    for (const auto* m : record.models) {
        record.losses.push_back(m->loss_history());
        record.validation_losses.push_back(m->validation_loss_history());
        record.summaries.push_back(m->fit_summary());
        check_finite_training(m, m->loss_history().back(), m->fit_summary().steps, unit, a, solver);
    }
    bool converged = true;
    bool stopped_early = true;
    bool stalled = true;
    for (const auto& summary : record.summaries) {
        if (solver && summary.steps == 0 && !summary.converged) {
            throw usage_error(fmt::format(
                "training made no progress: {} found no step that lowers the objective from the "
                "start (features on very different scales? try --standardize); nothing was "
                "written",
                a.optimizer));
        }
        converged = converged && summary.converged;
        stopped_early = stopped_early && summary.stopped_early;
        stalled = stalled && summary.steps < summary.budget;
    }
    progress->finish(converged       ? "converged"
                     : stopped_early ? "stopped early"
                     : stalled       ? "no further progress"
                                     : "");

    xgrad::models::ModelFile file;
    file.kind = kind;
    file.feature_names = all.feature_names;
    file.label_name = all.label_name;
    file.classes = classes;
    file.columns = fitted;
    if (kind == "mlp") {
        file.layers = mlp->layers();
        file.activation = a.activation;
    } else if (kind == "linear" || kind == "logistic") {
        file.weights = model->weights().value();
        file.bias = model->fit_intercept() ? model->bias().value()() : 0.0;
    } else if (kind == "softmax") {
        file.weights = model->weights().value();
        file.class_bias = model->bias().value();
    } else {
        const std::size_t n = all.feature_names.size();
        file.weights = array::from_shape({n, k});
        file.class_bias = array::from_shape({k});
        for (std::size_t c = 0; c < k; ++c) {
            const auto& m = ovr->model(c);
            for (std::size_t j = 0; j < n; ++j) file.weights(j, c) = m.weights().value()(j);
            file.class_bias(c) = m.bias().value()();
        }
    }
    if (a.standardize) file.standardizer = scaler;
    file.hyperparameters = {{"optimizer", a.optimizer},
                            {"learning_rate", fmt::format("{}", a.learning_rate)},
                            {"epochs", std::to_string(a.epochs)},
                            {"batch_size", std::to_string(a.batch_size)},
                            {"l2", fmt::format("{}", a.l2)},
                            {"l1", fmt::format("{}", a.l1)},
                            {"class_weight", a.class_weight},
                            {"standardize", a.standardize ? "true" : "false"},
                            {"test_split", fmt::format("{}", a.test_split)},
                            {"seed", std::to_string(a.seed)}};
    if (k > 2 && kind != "mlp") file.hyperparameters["multiclass"] = a.multiclass;
    if (kind == "mlp") {
        std::string layers;
        for (std::size_t h : a.hidden) layers += (layers.empty() ? "" : ",") + std::to_string(h);
        file.hyperparameters["hidden"] = layers;
        file.hyperparameters["validation_split"] = fmt::format("{}", a.validation_split);
        file.hyperparameters["patience"] = std::to_string(a.patience);
    }
    if (job.distributed()) file.hyperparameters["processes"] = std::to_string(job.comm->size());
    // Rendered (and so checked) before anything is written.
    if (job.leader() && !a.out.empty())
        outputs.set(a.out, xgrad::models::model_to_json(file, a.out));
    // Each rank scores its rows; the reports and plots read every rank's, in rank order.
    Scored train_scores, test_scores, shown_scores;
    const bool report = !a.quiet;
    job.agree([&] {
        try {
            if (report) train_scores = score_rows(file, fit.X_train, fit.y_train);
            if (report && a.test_split > 0.0)
                test_scores = score_rows(file, split.X_test, split.y_test);
            if (!a.plots.empty()) shown_scores = score_rows(file, shown.features, shown.labels);
        } catch (const xgrad::models::prediction_error& e) {
            throw usage_error(std::string("the trained model cannot predict every row: ") +
                              e.what() + "; nothing was written");
        }
    });
    for (Scored* s : {&train_scores, &test_scores, &shown_scores}) {
        if (s->labels.dimension() == 0) continue;
        s->scores = job.gather_rows(s->scores);
        s->labels = job.gather_rows(s->labels);
    }
    if (!a.plots.empty() && kind == "logistic" && shown.features.shape()[1] == 2)
        shown.features = job.gather_rows(shown.features);  // the decision boundary's points
    job.collectives_done = true;
    if (job.leader()) {
        if (report) {
            // A solver's history starts with the objective at the starting point.
            if (model || mlp) {
                fmt::print("final training objective {:.12g} after {} {}s\n",
                           record.losses[0].back(), record.summaries[0].steps, unit);
            } else {
                std::string line = "final training objectives (one model per class):";
                for (std::size_t c = 0; c < k; ++c) {
                    line += fmt::format(" {} {:.6g} ({} {}s)", quote_text(classes[c]),
                                        record.losses[c].back(), record.summaries[c].steps, unit);
                }
                fmt::print("{}\n", line);
            }
            print_report("train", file, train_scores);
            if (a.test_split > 0.0) print_report("test", file, test_scores);
        }
        if (!a.plots.empty()) {
            try {
                render_plots(outputs, a.plots, record, file, shown, shown_scores, shown_part);
            } catch (const xgrad::models::prediction_error& e) {
                throw usage_error(std::string("the trained model cannot predict every row: ") +
                                  e.what() + "; nothing was written");
            }
        }
        for (std::size_t h = 0; h < record.summaries.size(); ++h) {
            warn_if_unfinished(record.summaries[h], record.losses[h], a, solver, fit.train_total);
        }
        outputs.commit();
        if (!a.quiet) {
            for (const auto& f : outputs.files())
                fmt::print("{}: {}\n", f.path == a.out ? "model" : "plot", escaped(f.path));
        }
    }
    return 0;
}

int evaluate(const std::string& model_path, const std::string& data_path) {
    const xgrad::models::ModelFile model = xgrad::models::load_model(model_path);
    const xgrad::data::Table table = xgrad::data::read_table(data_path);
    const xgrad::data::PreparedData d = with_separator_hint(table, [&] {
        return xgrad::data::prepare_prediction_data(table, model.fitted_columns(), true);
    });
    if (d.data.labels.size() == 0) {
        throw usage_error(escaped(data_path) + ": no data rows after the header");
    }
    try {
        print_report("evaluation", model, score_rows(model, d.data.features, d.data.labels));
    } catch (const xgrad::models::prediction_error& e) {
        rethrow_at(e, d.data);
    }
    return 0;
}

int predict(const std::string& model_path, const std::string& data_path, const std::string& output,
            bool proba) {
    if (!output.empty()) xgrad::cli::check_output_file("--output", output);
    const xgrad::models::ModelFile model = xgrad::models::load_model(model_path);
    const xgrad::data::Table table = xgrad::data::read_table(data_path);
    const xgrad::data::PreparedData d = with_separator_hint(table, [&] {
        return xgrad::data::prepare_prediction_data(table, model.fitted_columns(), false);
    });
    std::string text;
    if (!model.classifier()) {
        const array values = predict_rows(model, d.data);
        text = "prediction\n";
        // 17 significant digits: the file reads back to the same doubles.
        for (double v : values) text += fmt::format("{:.17g}\n", v);
    } else {
        const std::vector<std::string> classes = model.class_names();
        const array p = predict_proba_rows(model, d.data);
        // A binary model's class is 1 when P(y = 1) ≥ 0.5, as ModelFile::predict_classes.
        array predicted = xgrad::argmax(xgrad::constant(p), 1);
        if (!model.multiclass()) {
            for (std::size_t i = 0; i < predicted.size(); ++i) predicted(i) = p(i, 1) >= 0.5;
        }
        std::vector<std::string> names;
        for (const auto& c : classes) names.push_back(csv_field(c));
        if (proba) {
            text = "label";
            for (const auto& c : classes) text += "," + csv_field("p_" + c);
            text += "\n";
        } else {
            text = model.multiclass() ? "label\n" : "probability,label\n";
        }
        for (std::size_t i = 0; i < predicted.size(); ++i) {
            const std::string& label = names[static_cast<std::size_t>(predicted(i))];
            if (proba) {
                text += label;
                for (std::size_t c = 0; c < classes.size(); ++c)
                    text += fmt::format(",{:.17g}", p(i, c));
                text += "\n";
            } else if (model.multiclass()) {
                text += label + "\n";
            } else {
                text += fmt::format("{:.17g},{}\n", p(i, 1), label);
            }
        }
    }
    if (output.empty()) {
        fmt::print("{}", text);
    } else {
        xgrad::cli::Outputs outputs;
        outputs.add("--output", output, std::move(text));
        outputs.commit();
    }
    return 0;
}

/// @brief Fits a fresh model of `kind` on X, y and predicts X_held: class indices for a
/// classifier, values for linear regression.
array fit_and_predict(const std::string& kind, std::size_t classes, const array& X, const array& y,
                      const array& X_held, const xgrad::models::TrainOptions& options,
                      const TrainArguments& a) {
    if (kind == "mlp" && classes > 0) {
        xgrad::models::MLPClassifier model(a.hidden, xgrad::models::parse_activation(a.activation),
                                           classes);
        model.fit(X, y, options);
        return model.predict(X_held);
    }
    if (kind == "mlp") {
        xgrad::models::MLPRegressor model(a.hidden, xgrad::models::parse_activation(a.activation));
        model.fit(X, y, options);
        return model.predict(X_held);
    }
    if (kind == "ovr") {
        xgrad::models::OneVsRest model(true, classes);
        model.fit(X, y, options);
        return model.predict(X_held);
    }
    if (kind == "softmax") {
        xgrad::models::SoftmaxRegression model(true, classes);
        model.fit(X, y, options);
        return model.predict(X_held);
    }
    if (kind == "logistic") {
        xgrad::models::LogisticRegression model;
        model.fit(X, y, options);
        return model.predict(X_held);
    }
    xgrad::models::LinearRegression model;
    model.fit(X, y, options);
    return model.predict(X_held);
}

/// @brief `xgrad cv`: k-fold cross-validation (stratified for classifiers) of the model the
/// arguments describe, for each L2 strength: accuracy (classifiers) or R² (regression) on each
/// held-out fold, their mean ± standard deviation (ddof 0, as numpy.std), and the best setting.
/// Missing values and standardisation are fitted on each fold's training rows only.
int cross_validate(TrainArguments a, std::size_t folds, std::vector<double> l2_settings) {
    a = with_model_defaults(a);
    const bool classifier = wants_classifier(a);
    if (l2_settings.empty()) l2_settings.push_back(0.0);
    a.data = data_or_bundled(a.data, "cv");
    const xgrad::data::Table table = xgrad::data::read_table(a.data);
    const xgrad::data::PreparedData prepared = with_separator_hint(table, [&] {
        return xgrad::data::encode_training_data(table, column_spec(a, classifier));
    });
    const xgrad::data::Dataset& all = prepared.data;
    const xgrad::data::FittedColumns& fitted = prepared.fitted;
    const std::vector<std::string> classes =
        classifier ? fitted.labels.classes() : std::vector<std::string>{};
    const std::size_t k = classes.size();
    if (classifier) require_class_like_labels(all, fitted.labels);
    if (classifier) require_two_classes(all, class_counts(all.labels, k), classes, "the file");
    require_trainable_magnitudes(all, !a.standardize, !classifier);
    if (classifier) {
        const auto counts = class_counts(all.labels, k);
        const std::size_t smallest =
            std::min_element(counts.begin(), counts.end()) - counts.begin();
        if (counts[smallest] < 2) {
            throw usage_error(fmt::format(
                "{}: class {} has only 1 row in label column {}: cross-validation needs at least "
                "2 rows of every class (add rows of it, or drop them)",
                all.where(npos, all.label_column), quote_text(classes[smallest]),
                quote_text(all.label_name)));
        }
        if (counts[smallest] < folds) {
            throw usage_error(fmt::format(
                "{}: --folds {} is more than the {} rows of class {}, the smallest class in "
                "label column {}: every fold needs a row of each class (use --folds {} or fewer)",
                all.where(npos, all.label_column), folds, counts[smallest],
                quote_text(classes[smallest]), quote_text(all.label_name), counts[smallest]));
        }
    } else if (all.labels.size() < folds) {
        throw usage_error(fmt::format("{}: --folds {} is more than the {} rows of the file",
                                      escaped(a.data), folds, all.labels.size()));
    }
    const std::string kind = model_kind(a, k);
    require_mlp_options(kind, a);
    const auto fold_rows = xgrad::data::k_fold_indices(all.labels, folds, classifier, a.seed);
    const char* score_name = classifier ? "accuracy" : "R²";
    if (!a.quiet) {
        fmt::print(
            "{}-fold cross-validation{} of {} on {} ({} rows, {} features, label {}), "
            "optimizer {}, seed {}\n",
            folds, classifier ? " (stratified)" : "", model_title(kind, a, k), escaped(a.data),
            all.labels.size(), all.feature_names.size(), quote_text(all.label_name), a.optimizer,
            a.seed);
    }
    std::vector<std::string> l2_text;
    std::size_t width = 2;
    for (double l2 : l2_settings) {
        l2_text.push_back(fmt::format("{}", l2));
        width = std::max(width, l2_text.back().size());
    }
    const std::string score_header = fmt::format("{} (mean ± std)", score_name);
    // Display width: UTF-8 continuation bytes take no column.
    const auto columns = [](const std::string& text) {
        return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
            return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        }));
    };
    fmt::print("  {:>{}}  {}  per fold\n", "l2", width, score_header);
    std::size_t best = 0;
    std::vector<double> means;
    std::vector<double> deviations;
    for (std::size_t s = 0; s < l2_settings.size(); ++s) {
        std::vector<double> scores;
        for (std::size_t f = 0; f < folds; ++f) {
            std::vector<std::size_t> train_rows;
            for (std::size_t g = 0; g < folds; ++g) {
                if (g != f)
                    train_rows.insert(train_rows.end(), fold_rows[g].begin(), fold_rows[g].end());
            }
            array X_train = xgrad::data::take_rows(all.features, train_rows);
            const array y_train = xgrad::data::take_rows(all.labels, train_rows);
            array X_held = xgrad::data::take_rows(all.features, fold_rows[f]);
            const array y_held = xgrad::data::take_rows(all.labels, fold_rows[f]);
            if (fitted.impute != xgrad::data::Impute::none) {
                xgrad::data::Imputer imputer(fitted.impute);
                imputer.fit(X_train, all.feature_names);
                X_train = imputer.transform(X_train);
                X_held = imputer.transform(X_held);
            }
            if (a.standardize) {
                xgrad::data::Standardizer scaler;
                scaler.fit(X_train);
                require_finite_standardization(all, scaler.mean(), scaler.scale(), {});
                X_train = scaler.transform(X_train);
                X_held = scaler.transform(X_held);
                require_finite_standardization(all, scaler.mean(), scaler.scale(),
                                               {&X_train, &X_held});
            }
            xgrad::models::TrainOptions options(a.learning_rate, a.epochs, a.batch_size, a.seed);
            options.optimizer = a.optimizer;
            options.l2 = l2_settings[s];
            options.l1 = a.l1;
            options.balanced_class_weights = a.class_weight == "balanced";
            const array predicted = fit_and_predict(kind, k, X_train, y_train, X_held, options, a);
            if (!all_finite(predicted)) {
                throw usage_error(fmt::format(
                    "training diverged in fold {} of {} at --l2 {}: its predictions are not "
                    "finite (try --standardize, or a smaller --lr)",
                    f + 1, folds, l2_text[s]));
            }
            scores.push_back(classifier ? xgrad::metrics::accuracy(predicted, y_held)
                                        : xgrad::metrics::r2_score(predicted, y_held));
        }
        double mean = 0.0;
        for (double v : scores) mean += v;
        mean /= static_cast<double>(scores.size());
        double variance = 0.0;
        for (double v : scores) variance += (v - mean) * (v - mean);
        const double deviation = std::sqrt(variance / static_cast<double>(scores.size()));
        means.push_back(mean);
        deviations.push_back(deviation);
        std::string per_fold;
        for (double v : scores) per_fold += fmt::format(" {:.4f}", v);
        const std::string cell = fmt::format("{:.4f} ± {:.4f}", mean, deviation);
        const std::size_t pad = std::max(columns(score_header), columns(cell)) - columns(cell);
        fmt::print("  {:>{}}  {}{} {}\n", l2_text[s], width, std::string(pad, ' '), cell, per_fold);
        if (mean > means[best]) best = s;
    }
    if (l2_settings.size() > 1) {
        fmt::print("best: --l2 {} ({} {:.4f} ± {:.4f})\n", l2_text[best], score_name, means[best],
                   deviations[best]);
    }
    return 0;
}

/// @brief The gradient-check experiment on the logistic-regression graph: forward and central
/// differences against backprop for h from 1e-1 to 1e-13, then gradcheck and gradgradcheck.
int gradcheck(std::string data_path, const std::string& label, const std::string& plots,
              std::uint64_t seed) {
    data_path = data_or_bundled(data_path, "gradcheck");
    if (!plots.empty()) xgrad::cli::check_output_directory("--plots", plots);
    const xgrad::data::Dataset d = xgrad::data::read_csv(data_path, label);
    require_binary_labels(d);
    require_both_classes(d, d.labels, "the file", model_needs_both);
    xgrad::data::Standardizer scaler;
    const array X = scaler.fit_transform(d.features);
    require_finite_standardization(d, scaler.mean(), scaler.scale(), {&X});
    xgrad::Random random(seed);
    array w0 = array::from_shape({X.shape()[1]});
    for (double& v : w0) v = random.normal(0.0, 0.3);
    xgrad::Var w = xgrad::parameter(w0);
    xgrad::Var b = xgrad::parameter(0.1);
    const auto f = [&] {
        return xgrad::bce_with_logits(xgrad::matmul(xgrad::constant(X), w) + b,
                                      xgrad::constant(d.labels));
    };
    std::vector<double> steps;
    for (int e = -1; e >= -13; --e) steps.push_back(std::pow(10.0, e));
    const auto rows = xgrad::finite_difference_sweep(f, {w, b}, steps);
    fmt::print("logistic regression on {} ({} parameters): max relative error against backprop\n",
               escaped(data_path), X.shape()[1] + 1);
    fmt::print("  {:<8}  {:<12}  {:<12}\n", "h", "forward", "central");
    xgrad::plot::Series forward{"forward difference", {}, {}, true};
    xgrad::plot::Series central{"central difference", {}, {}, true};
    for (const auto& row : rows) {
        fmt::print("  {:<8.0e}  {:<12.3e}  {:<12.3e}\n", row.step, row.forward_error,
                   row.central_error);
        forward.x.push_back(row.step);
        forward.y.push_back(row.forward_error);
        central.x.push_back(row.step);
        central.y.push_back(row.central_error);
    }
    xgrad::cli::Outputs outputs;
    if (!plots.empty()) {
        outputs.add("--plots", plot_path(plots, "gradient_check.svg"),
                    xgrad::plot::line_plot_svg(
                        {forward, central}, {"Finite-difference error against backprop", "step h",
                                             "max relative error", true, true, 760, 480}));
    }
    const xgrad::GradcheckReport first = xgrad::gradcheck(f, {w, b});
    const xgrad::GradcheckReport second = xgrad::gradgradcheck(f, {w, b});
    fmt::print("gradcheck: {}\n{}gradgradcheck: {}\n{}", first.passed ? "passed" : "FAILED",
               first.to_string(), second.passed ? "passed" : "FAILED", second.to_string());
    if (!first.passed || !second.passed) return 1;  // a failed check writes nothing
    outputs.commit();
    for (const auto& f : outputs.files()) fmt::print("plot: {}\n", escaped(f.path));
    return 0;
}

}  // namespace

/// @brief The options train and cv share: the data, its columns, the model and its training.
void add_model_options(CLI::App* cmd, TrainArguments& t, const std::string& data_default) {
    cmd->add_option("--data", t.data,
                    "CSV with a header row: feature columns and a label column (class names or "
                    "numbers)")
        ->default_str(data_default);
    cmd->add_option("--label", t.label, "Label column name (default: the last column)");
    cmd->add_option("--model", t.model,
                    "logistic (a classifier: two classes or more), linear (regression) or mlp "
                    "(a neural network, see --hidden, --activation, --task)")
        ->check(CLI::IsMember({"logistic", "linear", "mlp"}))
        ->capture_default_str();
    cmd->add_option("--hidden", t.hidden, "--model mlp: hidden layer sizes, comma-separated")
        ->delimiter(',')
        ->check(number_above(0.0, true))
        ->default_str("64,32");
    cmd->add_option("--activation", t.activation, "--model mlp: relu, leaky_relu, tanh or sigmoid")
        ->check(CLI::IsMember({"relu", "leaky_relu", "tanh", "sigmoid"}))
        ->capture_default_str();
    cmd->add_option("--task", t.task,
                    "--model mlp: classification (softmax cross-entropy on the classes) or "
                    "regression (mean squared error)")
        ->check(CLI::IsMember({"classification", "regression"}))
        ->capture_default_str();
    cmd->add_option("--multiclass", t.multiclass,
                    "More than two classes: multinomial (softmax regression) or ovr (one "
                    "binary model per class)")
        ->check(CLI::IsMember({"multinomial", "ovr"}))
        ->capture_default_str();
    cmd->add_option("--features", t.features,
                    "Feature columns, comma-separated (default: every column but the label)")
        ->delimiter(',');
    cmd->add_option("--drop", t.drop, "Columns not to use, comma-separated")->delimiter(',');
    cmd->add_option("--categorical", t.categorical,
                    "Text feature columns to one-hot encode, comma-separated")
        ->delimiter(',');
    cmd->add_option("--impute", t.impute,
                    "Fill missing values (empty, NA, NaN) with the training split's column "
                    "mean or median; none: a missing value is an error")
        ->check(CLI::IsMember({"none", "mean", "median"}))
        ->capture_default_str();
    cmd->add_option("--optimizer", t.optimizer,
                    "sgd, momentum, nesterov, adagrad, rmsprop, adam, lbfgs or newton")
        ->check(CLI::IsMember(xgrad::optim::optimizer_names()))
        ->default_str("lbfgs (adam for --model mlp)");
    cmd->add_option("--lr", t.learning_rate, "Learning rate (step-by-step optimizers)")
        ->check(number_above(0.0, true))
        ->default_str("0.1 (0.01 for --model mlp)");
    cmd->add_option("--epochs", t.epochs, "Epochs (iterations for lbfgs and newton)")
        ->check(CLI::Range(1, 100000000))
        ->capture_default_str();
    cmd->add_option("--batch-size", t.batch_size, "Rows per step; 0 = full batch, 1 = stochastic")
        ->capture_default_str();
    cmd->add_option("--l1", t.l1, "L1 strength λ: adds (λ/m)·‖w‖₁")
        ->check(number_above(0.0, false))
        ->capture_default_str();
    cmd->add_option("--class-weight", t.class_weight, "none or balanced")
        ->check(CLI::IsMember({"none", "balanced"}))
        ->capture_default_str();
    cmd->add_flag("--standardize", t.standardize,
                  "Standardise features (fitted on the training rows only)");
    cmd->add_option("--seed", t.seed, "Seed of splits and shuffles")->capture_default_str();
    cmd->add_flag("--quiet", t.quiet, "Print nothing but warnings and errors");
}

/// @brief `xgrad train --distributed`: train() as one rank of the MPI job mpirun started (or
/// alone, as a job of one, without mpirun). Agreed errors are printed once, by rank 0, and every
/// rank exits with 2; an error only this rank has (the others may be waiting for it) is printed
/// with its rank and ends the whole job (MPI_Abort).
int train_distributed(const TrainArguments& t, int& argc, char**& argv) {
#ifdef XGRAD_WITH_MPI
    xgrad::distributed::MpiSession session(argc, argv);
    xgrad::distributed::Communicator& world = session.world();
    const Job job{&world};
    // The processes of this host share its cores: each takes its share of the worker threads.
    if (const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE")) {
        const long ranks_here = std::strtol(local, nullptr, 10);
        const long cores = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
        if (ranks_here > 0)
            xgrad::set_blas_threads(static_cast<int>(std::max(1L, cores / ranks_here)));
    }
    try {
        return train(t, job);
    } catch (const xgrad::distributed::distributed_error& e) {
        if (world.rank() == 0) print_error(e.what());
        return 2;
    } catch (const usage_error& e) {  // from values every rank shares: every rank throws it
        if (world.rank() == 0) print_error(e.what());
        return 2;
    } catch (const xgrad::data::column_error& e) {  // the same: the whole file's columns
        if (world.rank() == 0) print_error(e.what());
        return 2;
    } catch (const std::exception& e) {
        if (job.collectives_done) {  // rank 0 writing the files: the others have finished
            print_error(e.what());
            return 2;
        }
        print_error(fmt::format("rank {}: {}", world.rank(), e.what()));
        world.abort(2);
    }
    return 2;  // not reached: abort() ends every process of the job
#else
    (void)t;
    (void)argc;
    (void)argv;
    throw usage_error(
        "--distributed: this xgrad was built without MPI (install libopenmpi-dev and "
        "openmpi-bin, then build again)");
#endif
}

namespace {

/// @brief Whether this process is one of several that mpirun started with `--distributed` among
/// the arguments (the launchers of OpenMPI, MPICH and PMIx set these variables).
bool started_by_mpirun_distributed(int argc, char** argv) {
    bool distributed = false;
    for (int i = 1; i < argc; ++i)
        distributed = distributed || std::string(argv[i]) == "--distributed";
    return distributed &&
           (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_SIZE") != nullptr ||
            std::getenv("PMIX_RANK") != nullptr);
}

/// @brief Prints a command-line error once per run: in an MPI job of `--distributed` processes
/// (every rank parses the same arguments and fails alike) rank 0 prints it and every rank waits
/// until it has, then exits with 2. A rank that exited at once would let mpirun end the job
/// before rank 0 had printed; without the wait every rank printed the line.
int command_line_error(int& argc, char**& argv, const std::string& message) {
#ifdef XGRAD_WITH_MPI
    if (started_by_mpirun_distributed(argc, argv)) {
        xgrad::distributed::MpiSession session(argc, argv);
        if (session.world().rank() == 0) {
            std::fflush(stdout);
            fmt::print(stderr, "xgrad: {}\n", message);
            std::fflush(stderr);
        }
        session.world().barrier();
        return 2;
    }
#endif
    std::fflush(stdout);
    fmt::print(stderr, "xgrad: {}\n", message);
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"xgrad: train, evaluate and use linear models built on the xgrad autodiff engine"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Help for every subcommand");
    app.set_version_flag(
        "--version",
        [] {
            return "xgrad " XGRAD_VERSION " (elementwise kernels: " +
                   xgrad::simd_instruction_set() + ")";
        },
        "Print the version and the elementwise kernels' instruction set, and exit");
    const std::string bundled = xgrad::cli::bundled_data("breast_cancer.csv");
    const std::string data_default =
        bundled.empty() ? "none: the bundled data is not installed" : bundled;

    TrainArguments t;
    CLI::App* train_cmd = app.add_subcommand(
        "train", "Train a model on a CSV file (default: the bundled breast-cancer data)");
    add_model_options(train_cmd, t, data_default);
    train_cmd
        ->add_option(
            "--l2", t.l2,
            "L2 strength λ: adds (λ/2m)·‖w‖² (--model mlp: weight decay on every weight matrix)")
        ->check(number_above(0.0, false))
        ->capture_default_str();
    train_cmd
        ->add_option("--test-split", t.test_split,
                     "Fraction of rows held out for testing (stratified)")
        ->check(CLI::Range(0.0, 0.9))
        ->capture_default_str();
    train_cmd
        ->add_option("--validation-split", t.validation_split,
                     "Fraction of training rows for validation")
        ->check(CLI::Range(0.0, 0.9))
        ->capture_default_str();
    train_cmd
        ->add_option("--patience", t.patience,
                     "Early stopping: epochs without a better validation loss")
        ->capture_default_str();
    train_cmd->add_option("--out", t.out,
                          "Write the trained model here (JSON; missing directories are created)");
    train_cmd->add_option("--plots", t.plots,
                          "Write SVG plots into this directory (created if missing)");
    bool distributed = false;
    train_cmd->add_flag(
        "--distributed", distributed,
        "Run as one process of an MPI job (mpirun -np N xgrad train --distributed ...): each "
        "process reads its block of the rows, the gradients are summed over the processes (the "
        "updates one process makes on all rows), process 0 prints and writes the files");

    TrainArguments cv_arguments;
    std::size_t folds = 5;
    std::vector<double> l2_settings;
    CLI::App* cv_cmd = app.add_subcommand(
        "cv", "Stratified k-fold cross-validation of a model, for one or more L2 strengths");
    add_model_options(cv_cmd, cv_arguments, data_default);
    cv_cmd->add_option("--folds", folds, "Number of folds")
        ->check(CLI::Range(2, 1000000))
        ->capture_default_str();
    cv_cmd
        ->add_option("--l2", l2_settings, "L2 strengths λ to compare, comma-separated (default: 0)")
        ->delimiter(',')
        ->check(number_above(0.0, false));

    std::string model_path;
    std::string data_path;
    std::string output;
    CLI::App* evaluate_cmd =
        app.add_subcommand("evaluate", "Metrics of a saved model on a labelled CSV");
    evaluate_cmd->add_option("--model", model_path, "Model file written by train --out")
        ->required();
    evaluate_cmd->add_option("--data", data_path, "CSV with the model's features and label")
        ->required();
    CLI::App* predict_cmd = app.add_subcommand("predict", "Predictions of a saved model for a CSV");
    predict_cmd->add_option("--model", model_path, "Model file written by train --out")->required();
    predict_cmd->add_option("--data", data_path, "CSV with the model's feature columns")
        ->required();
    predict_cmd->add_option("--output", output,
                            "Write predictions here (CSV; missing directories are created) "
                            "instead of to stdout");
    bool proba = false;
    predict_cmd->add_flag("--proba", proba,
                          "A classifier's probability of every class, in columns p_<class>");

    std::string check_data;
    std::string check_label;
    std::string check_plots;
    std::uint64_t check_seed = 2026;
    CLI::App* gradcheck_cmd = app.add_subcommand(
        "gradcheck", "Numerical against automatic derivatives of the logistic-regression graph");
    gradcheck_cmd->add_option("--data", check_data, "CSV with 0/1 labels")
        ->default_str(data_default);
    gradcheck_cmd->add_option("--label", check_label,
                              "Label column name (default: the last column)");
    gradcheck_cmd->add_option("--plots", check_plots,
                              "Write gradient_check.svg into this directory (created if missing)");
    gradcheck_cmd->add_option("--seed", check_seed, "Seed of the weights the check runs at")
        ->capture_default_str();

    try {
        app.parse(argc, argv);
        if (*gradcheck_cmd) return gradcheck(check_data, check_label, check_plots, check_seed);
        if (*train_cmd) return distributed ? train_distributed(t, argc, argv) : train(t, Job{});
        if (*cv_cmd) return cross_validate(cv_arguments, folds, l2_settings);
        if (*evaluate_cmd) return evaluate(model_path, data_path);
        return predict(model_path, data_path, output, proba);
    } catch (const CLI::CallForHelp&) {
        return app.exit(CLI::CallForHelp());
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return command_line_error(argc, argv, escaped(e.what(), 400) + " (see --help)");
    } catch (const std::exception& e) {
        print_error(e.what());
        return 2;
    }
}
