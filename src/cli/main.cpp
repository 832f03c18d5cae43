/***************************************************************************
 * xgrad: the command-line trainer.                                         *
 *                                                                          *
 *   xgrad train    [--data FILE] [--label COLUMN] [--model logistic|linear] *
 *                  [--optimizer ...] [--lr] [--epochs] [--batch-size]      *
 *                  [--l2] [--l1] [--standardize] [--test-split 0.2] ...    *
 *   xgrad evaluate --model FILE --data FILE                                *
 *   xgrad predict  --model FILE --data FILE [--output predictions.csv]     *
 *   xgrad gradcheck [--data FILE] [--plots DIR]                            *
 *   xgrad --version                                                        *
 *                                                                          *
 * Exit codes: 0 success, 2 bad arguments or input (one line on stderr,     *
 * `xgrad: file:line:column: what`), 1 a failed gradient check. Every       *
 * output file is rendered in memory and written only when the whole run    *
 * succeeded; what can be checked is checked before training.              *
 ***************************************************************************/
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <string>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "outputs.hpp"
#include "progress.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/metrics.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/model_file.hpp"
#include "xgrad/optim/registry.hpp"
#include "xgrad/plot/svg_plot.hpp"
#include "xgrad/random.hpp"
#include "xgrad/xgrad.hpp"

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
    std::string optimizer = "lbfgs";
    double learning_rate = 0.1;
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
};

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
constexpr const char* roc_needs_both =
    "the ROC plot needs both classes there (drop --plots, or change --test-split or --seed)";

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
void require_finite_standardization(const xgrad::data::Dataset& d,
                                    const xgrad::data::Standardizer& scaler,
                                    const std::vector<const array*>& parts) {
    const std::size_t width = scaler.mean().size();
    auto fail = [&](std::size_t j, const std::string& why) {
        double largest = 0.0;
        for (std::size_t i = 0; i < d.features.shape()[0]; ++i)
            largest = std::max(largest, std::abs(d.features(i, j)));
        throw usage_error(fmt::format(
            "{}: column {} cannot be standardised: {} (values up to {:g}); rescale the column",
            d.where(npos, d.feature_columns[j]), quote_text(d.feature_names[j]), why, largest));
    };
    for (std::size_t j = 0; j < width; ++j) {
        if (!std::isfinite(scaler.mean()(j))) fail(j, "its mean overflows a double");
        if (!std::isfinite(scaler.scale()(j))) fail(j, "its spread overflows a double");
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

array predict_rows(const xgrad::models::ModelFile& model, const xgrad::data::Dataset& d) {
    try {
        return model.predict(d.features);
    } catch (const xgrad::models::prediction_error& e) {
        rethrow_at(e, d);
    }
}

void print_classification_report(const char* title, const array& probabilities,
                                 const array& labels) {
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
}

void print_regression_report(const char* title, const array& predictions, const array& targets) {
    fmt::print("{} ({} rows): MSE {:.6g}  RMSE {:.6g}  MAE {:.6g}  R² {:.6f}\n", title,
               targets.size(), xgrad::metrics::mean_squared_error(predictions, targets),
               xgrad::metrics::root_mean_squared_error(predictions, targets),
               xgrad::metrics::mean_absolute_error(predictions, targets),
               xgrad::metrics::r2_score(predictions, targets));
}

std::string plot_path(const std::string& dir, const char* name) {
    return dir + (dir.back() == '/' ? "" : "/") + name;
}

/// @brief The SVG plots of a trained model, rendered into `outputs` (planned before training).
void render_plots(xgrad::cli::Outputs& outputs, const std::string& dir,
                  const xgrad::models::LinearModel& model, const xgrad::models::ModelFile& file,
                  const xgrad::data::Dataset& shown, bool logistic) {
    std::vector<double> epochs;
    for (std::size_t e = 0; e < model.loss_history().size(); ++e)
        epochs.push_back(static_cast<double>(e + 1));
    std::vector<xgrad::plot::Series> losses{
        {"training objective", epochs, model.loss_history(), false}};
    if (!model.validation_loss_history().empty()) {
        const auto& v = model.validation_loss_history();
        losses.push_back({"validation loss",
                          std::vector<double>(epochs.begin(), epochs.begin() + v.size()), v,
                          false});
    }
    outputs.set(plot_path(dir, "loss.svg"),
                xgrad::plot::line_plot_svg(
                    losses, {"Loss per epoch", "epoch", "loss", false, true, 760, 480}));
    if (!logistic) return;
    const array p = file.predict(shown.features);
    const auto curve = xgrad::metrics::roc_curve(p, shown.labels);
    outputs.set(
        plot_path(dir, "roc.svg"),
        xgrad::plot::line_plot_svg(
            {{fmt::format("ROC (AUC {:.4f})", xgrad::metrics::roc_auc(p, shown.labels)),
              curve.false_positive_rate, curve.true_positive_rate, false},
             {"chance", {0.0, 1.0}, {0.0, 1.0}, false}},
            {"ROC curve", "false positive rate", "true positive rate", false, false, 760, 480}));
    if (shown.features.shape()[1] != 2) return;
    xgrad::plot::DecisionPanel panel{"P(" + shown.label_name + " = 1)",
                                     {},
                                     {},
                                     {},
                                     [&file](double a, double b) {
                                         return file.predict(array{{a, b}})(0);
                                     },
                                     shown.feature_names[0],
                                     shown.feature_names[1]};
    for (std::size_t i = 0; i < shown.labels.size(); ++i) {
        panel.x.push_back(shown.features(i, 0));
        panel.y.push_back(shown.features(i, 1));
        panel.labels.push_back(shown.labels(i));
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

/// @brief Stops training whose objective or parameters stopped being finite.
void check_finite_training(const xgrad::models::LinearModel& model, double objective,
                           std::size_t step, const char* unit, const TrainArguments& a,
                           bool solver) {
    const bool weights_finite = !model.weights().defined() || all_finite(model.weights().value());
    const bool bias_finite =
        !model.fit_intercept() || !model.bias().defined() || std::isfinite(model.bias().value()());
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
void warn_if_unfinished(const xgrad::models::LinearModel& model, const TrainArguments& a,
                        bool solver, std::size_t rows) {
    const auto& summary = model.fit_summary();
    const auto& history = model.loss_history();
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

int train(TrainArguments a) {
    const bool logistic = a.model == "logistic";
    if (a.patience > 0 && a.validation_split <= 0.0)
        throw usage_error("--patience needs --validation-split");
    a.data = data_or_bundled(a.data, "train");
    // Everything that can fail without training fails now: the output places, ...
    if (!a.out.empty()) xgrad::cli::check_output_file("--out", a.out);
    if (!a.plots.empty()) xgrad::cli::check_output_directory("--plots", a.plots);

    // ... the data, ...
    xgrad::data::Dataset all = xgrad::data::read_csv(a.data, a.label);
    if (logistic) {
        require_binary_labels(all);
        require_both_classes(all, all.labels, "the file", model_needs_both);
    }
    require_trainable_magnitudes(all, !a.standardize, !logistic);

    // ... the files to write, ...
    xgrad::cli::Outputs outputs;
    if (!a.out.empty()) outputs.add("--out", a.out);
    if (!a.plots.empty()) {
        outputs.add("--plots", plot_path(a.plots, "loss.svg"));
        if (logistic) {
            outputs.add("--plots", plot_path(a.plots, "roc.svg"));
            if (all.feature_names.size() == 2)
                outputs.add("--plots", plot_path(a.plots, "decision_boundary.svg"));
        }
    }

    // ... the splits, ...
    xgrad::data::Split split{all.features, all.labels, {}, {}};
    if (a.test_split > 0.0)
        split =
            xgrad::data::train_test_split(all.features, all.labels, a.test_split, a.seed, logistic);
    xgrad::data::Split fit_split{split.X_train, split.y_train, {}, {}};
    if (a.validation_split > 0.0) {
        fit_split = xgrad::data::train_test_split(split.X_train, split.y_train, a.validation_split,
                                                  a.seed + 1, logistic);
    }
    xgrad::data::Dataset shown = all;
    shown.features = a.test_split > 0.0 ? split.X_test : split.X_train;
    shown.labels = a.test_split > 0.0 ? split.y_test : split.y_train;
    if (logistic) {
        require_both_classes(all, fit_split.y_train, "the training rows", model_needs_both);
        if (!a.plots.empty())
            require_both_classes(all, shown.labels,
                                 a.test_split > 0.0 ? "the test rows" : "the training rows",
                                 roc_needs_both);
    }

    // ... and the standardisation.
    xgrad::data::Standardizer scaler;
    array X_fit = fit_split.X_train;
    array X_validation = fit_split.X_test;
    if (a.standardize) {
        scaler.fit(fit_split.X_train);
        require_finite_standardization(all, scaler, {});
        X_fit = scaler.transform(fit_split.X_train);
        std::vector<const array*> parts{&X_fit};
        if (a.validation_split > 0.0) {
            X_validation = scaler.transform(fit_split.X_test);
            parts.push_back(&X_validation);
        }
        const array X_all = scaler.transform(all.features);
        parts.push_back(&X_all);
        require_finite_standardization(all, scaler, parts);
    }

    xgrad::models::TrainOptions options(a.learning_rate, a.epochs, a.batch_size, a.seed);
    options.optimizer = a.optimizer;
    options.l2 = a.l2;
    options.l1 = a.l1;
    options.balanced_class_weights = a.class_weight == "balanced";
    options.patience = a.patience;
    if (a.validation_split > 0.0) {
        options.validation_X = X_validation;
        options.validation_y = fit_split.y_test;
    }
    const bool solver = xgrad::optim::is_solver(*xgrad::optim::parse_optimizer(a.optimizer));
    const char* unit = solver ? "iteration" : "epoch";
    const bool terminal = ::isatty(STDOUT_FILENO) == 1;
    xgrad::cli::Progress progress(a.quiet, unit, terminal,
                                  terminal ? xgrad::cli::terminal_columns(STDOUT_FILENO) : 80,
                                  stdout);

    std::unique_ptr<xgrad::models::LinearModel> model;
    if (logistic) {
        model = std::make_unique<xgrad::models::LogisticRegression>();
    } else {
        model = std::make_unique<xgrad::models::LinearRegression>();
    }
    options.on_epoch = [&](const xgrad::models::EpochReport& r) {
        progress(r);
        check_finite_training(*model, r.train_loss, r.epoch + 1, unit, a, solver);
    };
    if (!a.quiet) {
        fmt::print("training {} regression on {} ({} rows, {} features, label {}), optimizer {}\n",
                   a.model, escaped(a.data), all.labels.size(), all.feature_names.size(),
                   quote_text(all.label_name), a.optimizer);
    }
    model->fit(X_fit, fit_split.y_train, options);
    const auto& summary = model->fit_summary();
    check_finite_training(*model, model->loss_history().back(), summary.steps, unit, a, solver);
    if (solver && summary.steps == 0 && !summary.converged) {
        throw usage_error(fmt::format(
            "training made no progress: {} found no step that lowers the objective from the "
            "start (features on very different scales? try --standardize); nothing was written",
            a.optimizer));
    }
    progress.finish(summary.converged                ? "converged"
                    : summary.stopped_early          ? "stopped early"
                    : summary.steps < summary.budget ? "no further progress"
                                                     : "");

    xgrad::models::ModelFile file;
    file.kind = a.model;
    file.feature_names = all.feature_names;
    file.label_name = all.label_name;
    file.weights = model->weights().value();
    file.bias = model->fit_intercept() ? model->bias().value()() : 0.0;
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
    // Rendered (and so checked) before anything is written.
    if (!a.out.empty()) outputs.set(a.out, xgrad::models::model_to_json(file, a.out));
    try {
        if (!a.quiet) {
            // A solver's history starts with the objective at the starting point.
            fmt::print("final training objective {:.12g} after {} {}s\n",
                       model->loss_history().back(), summary.steps, unit);
            auto report = [&](const char* title, const array& X, const array& y) {
                if (logistic) {
                    print_classification_report(title, file.predict(X), y);
                } else {
                    print_regression_report(title, file.predict(X), y);
                }
            };
            report("train", fit_split.X_train, fit_split.y_train);
            if (a.test_split > 0.0) report("test", split.X_test, split.y_test);
        }
        if (!a.plots.empty()) render_plots(outputs, a.plots, *model, file, shown, logistic);
    } catch (const xgrad::models::prediction_error& e) {
        throw usage_error(std::string("the trained model cannot predict every row: ") + e.what() +
                          "; nothing was written");
    }
    warn_if_unfinished(*model, a, solver, fit_split.y_train.size());

    outputs.commit();
    if (!a.quiet) {
        for (const auto& f : outputs.files())
            fmt::print("{}: {}\n", f.path == a.out ? "model" : "plot", escaped(f.path));
    }
    return 0;
}

int evaluate(const std::string& model_path, const std::string& data_path) {
    const xgrad::models::ModelFile model = xgrad::models::load_model(model_path);
    const xgrad::data::Dataset d =
        xgrad::data::read_csv(data_path, model.label_name, model.feature_names);
    if (model.kind == "logistic") {
        require_binary_labels(d);
        print_classification_report("evaluation", predict_rows(model, d), d.labels);
    } else {
        print_regression_report("evaluation", predict_rows(model, d), d.labels);
    }
    return 0;
}

int predict(const std::string& model_path, const std::string& data_path,
            const std::string& output) {
    if (!output.empty()) xgrad::cli::check_output_file("--output", output);
    const xgrad::models::ModelFile model = xgrad::models::load_model(model_path);
    const xgrad::data::Dataset d = xgrad::data::read_features(data_path, model.feature_names);
    const array values = predict_rows(model, d);
    const bool logistic = model.kind == "logistic";
    const array labels = logistic ? xgrad::metrics::threshold_labels(values) : array();
    std::string text = logistic ? "probability,label\n" : "prediction\n";
    for (std::size_t i = 0; i < values.size(); ++i) {
        // 17 significant digits: the file reads back to the same doubles.
        text += logistic ? fmt::format("{:.17g},{:g}\n", values(i), labels(i))
                         : fmt::format("{:.17g}\n", values(i));
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
    require_finite_standardization(d, scaler, {&X});
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

int main(int argc, char** argv) {
    CLI::App app{"xgrad: train, evaluate and use linear models built on the xgrad autodiff engine"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Help for every subcommand");
    app.set_version_flag("--version", "xgrad " XGRAD_VERSION, "Print the version and exit");
    const std::string bundled = xgrad::cli::bundled_data("breast_cancer.csv");
    const std::string data_default =
        bundled.empty() ? "none: the bundled data is not installed" : bundled;

    TrainArguments t;
    CLI::App* train_cmd = app.add_subcommand(
        "train", "Train a model on a CSV file (default: the bundled breast-cancer data)");
    train_cmd
        ->add_option("--data", t.data, "CSV with a header row; numeric features and a label column")
        ->default_str(data_default);
    train_cmd->add_option("--label", t.label, "Label column name (default: the last column)");
    train_cmd->add_option("--model", t.model, "logistic or linear")
        ->check(CLI::IsMember({"logistic", "linear"}))
        ->capture_default_str();
    train_cmd
        ->add_option("--optimizer", t.optimizer,
                     "sgd, momentum, nesterov, adagrad, rmsprop, adam, lbfgs or newton")
        ->check(CLI::IsMember(xgrad::optim::optimizer_names()))
        ->capture_default_str();
    train_cmd->add_option("--lr", t.learning_rate, "Learning rate (step-by-step optimizers)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    train_cmd->add_option("--epochs", t.epochs, "Epochs (iterations for lbfgs and newton)")
        ->check(CLI::Range(1, 100000000))
        ->capture_default_str();
    train_cmd
        ->add_option("--batch-size", t.batch_size, "Rows per step; 0 = full batch, 1 = stochastic")
        ->capture_default_str();
    train_cmd->add_option("--l2", t.l2, "L2 strength λ: adds (λ/2m)·‖w‖²")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    train_cmd->add_option("--l1", t.l1, "L1 strength λ: adds (λ/m)·‖w‖₁")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    train_cmd->add_option("--class-weight", t.class_weight, "none or balanced")
        ->check(CLI::IsMember({"none", "balanced"}))
        ->capture_default_str();
    train_cmd->add_flag("--standardize", t.standardize,
                        "Standardise features (fitted on the training rows only)");
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
    train_cmd->add_option("--seed", t.seed, "Seed of splits and shuffles")->capture_default_str();
    train_cmd->add_option("--out", t.out,
                          "Write the trained model here (JSON; missing directories are created)");
    train_cmd->add_option("--plots", t.plots,
                          "Write SVG plots into this directory (created if missing)");
    train_cmd->add_flag("--quiet", t.quiet, "Print nothing but warnings and errors");

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
        if (*train_cmd) return train(t);
        if (*evaluate_cmd) return evaluate(model_path, data_path);
        return predict(model_path, data_path, output);
    } catch (const CLI::CallForHelp&) {
        return app.exit(CLI::CallForHelp());
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fflush(stdout);
        fmt::print(stderr, "xgrad: {} (see --help)\n", escaped(e.what(), 400));
        return 2;
    } catch (const std::exception& e) {
        std::fflush(stdout);
        fmt::print(stderr, "xgrad: {}\n", escaped(e.what()));
        return 2;
    }
}
