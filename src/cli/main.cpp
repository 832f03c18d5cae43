/***************************************************************************
 * xgrad: the command-line trainer.                                         *
 *                                                                          *
 *   xgrad train    [--data FILE] [--label COLUMN] [--model logistic|linear] *
 *                  [--optimizer ...] [--lr] [--epochs] [--batch-size]      *
 *                  [--l2] [--l1] [--standardize] [--test-split 0.2] ...    *
 *   xgrad evaluate --model FILE --data FILE                                *
 *   xgrad predict  --model FILE --data FILE [--output predictions.csv]     *
 *   xgrad gradcheck [--data FILE] [--plots DIR]                            *
 *                                                                          *
 * Exit codes: 0 success, 2 bad arguments or input (one line on stderr).    *
 ***************************************************************************/
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

#include <fmt/core.h>
#include <CLI/CLI.hpp>

#include "xgrad/data/csv.hpp"
#include "xgrad/data/split.hpp"
#include "xgrad/data/standardize.hpp"
#include "xgrad/io.hpp"
#include "xgrad/metrics.hpp"
#include "xgrad/models/linear_regression.hpp"
#include "xgrad/models/logistic_regression.hpp"
#include "xgrad/models/model_file.hpp"
#include "xgrad/plot/svg_plot.hpp"
#include "xgrad/random.hpp"
#include "xgrad/xgrad.hpp"

#ifndef XGRAD_DATA_DIR
#define XGRAD_DATA_DIR "data"
#endif

namespace {

using xgrad::array;

/// @brief Bad input or arguments: reported on one line, exit code 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct TrainArguments {
    std::string data = XGRAD_DATA_DIR "/breast_cancer.csv";
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

/// @brief Epoch (or solver iteration) progress: a redrawn bar on a terminal, a few plain lines
/// otherwise.
class Progress {
  public:
    Progress(bool quiet, std::string unit)
        : quiet_(quiet), terminal_(::isatty(STDOUT_FILENO) == 1), unit_(std::move(unit)) {}

    void operator()(const xgrad::models::EpochReport& r) {
        if (quiet_) return;
        const double elapsed = std::chrono::duration<double>(clock::now() - start_).count();
        const double eta = elapsed / static_cast<double>(r.epoch + 1) *
                           static_cast<double>(r.epochs - r.epoch - 1);
        const std::string validation =
            std::isnan(r.validation_loss) ? "" : fmt::format("  val {:.6f}", r.validation_loss);
        if (terminal_) {
            const int width = 30;
            const int done = static_cast<int>(width * static_cast<double>(r.epoch + 1) /
                                              static_cast<double>(r.epochs));
            fmt::print("\r[{}{}] {} {}/{}  loss {:.6f}{}  ETA {:.1f}s   ", std::string(done, '='),
                       std::string(width - done, ' '), unit_, r.epoch + 1, r.epochs, r.train_loss,
                       validation, eta);
            std::fflush(stdout);
            drew_ = true;
        } else {
            const std::size_t every = std::max<std::size_t>(1, r.epochs / 10);
            if ((r.epoch + 1) % every == 0 || r.epoch == 0) {
                fmt::print("{} {}/{} loss {:.6f}{}\n", unit_, r.epoch + 1, r.epochs, r.train_loss,
                           validation);
            }
        }
    }

    void finish() {
        if (drew_) fmt::print("\n");
    }

  private:
    using clock = std::chrono::steady_clock;
    bool quiet_;
    bool terminal_;
    std::string unit_;
    bool drew_ = false;
    clock::time_point start_ = clock::now();
};

void require_binary_labels(const std::string& path, const xgrad::data::Dataset& d) {
    for (std::size_t i = 0; i < d.labels.size(); ++i) {
        const double v = d.labels(i);
        if (v != 0.0 && v != 1.0) {
            throw usage_error(fmt::format(
                "{}: label column '{}' must hold 0 or 1 for a logistic model; data row {} has {}",
                path, d.label_name, i + 1, v));
        }
    }
}

/// @brief Class 1 where P ≥ 1/2.
array threshold(const array& probabilities) {
    array labels = probabilities;
    for (double& v : labels) v = v >= 0.5 ? 1.0 : 0.0;
    return labels;
}

void print_classification_report(const char* title, const array& probabilities,
                                 const array& labels) {
    const array predicted = threshold(probabilities);
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
    double squared = 0.0;
    double absolute = 0.0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        squared += (predictions(i) - targets(i)) * (predictions(i) - targets(i));
        absolute += std::abs(predictions(i) - targets(i));
    }
    const auto m = static_cast<double>(targets.size());
    fmt::print("{} ({} rows): MSE {:.6g}  MAE {:.6g}\n", title, targets.size(), squared / m,
               absolute / m);
}

void write_plots(const std::string& dir, const xgrad::models::LinearModel& model,
                 const xgrad::models::ModelFile& file, const xgrad::data::Dataset& shown,
                 bool logistic) {
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
    xgrad::write_file_atomically(
        dir + "/loss.svg", xgrad::plot::line_plot_svg(
                               losses, {"Loss per epoch", "epoch", "loss", false, true, 760, 480}));
    std::vector<std::string> written{dir + "/loss.svg"};
    if (logistic) {
        const array p = file.predict(shown.features);
        const auto curve = xgrad::metrics::roc_curve(p, shown.labels);
        xgrad::write_file_atomically(
            dir + "/roc.svg",
            xgrad::plot::line_plot_svg(
                {{fmt::format("ROC (AUC {:.4f})", xgrad::metrics::roc_auc(p, shown.labels)),
                  curve.false_positive_rate, curve.true_positive_rate, false},
                 {"chance", {0.0, 1.0}, {0.0, 1.0}, false}},
                {"ROC curve", "false positive rate", "true positive rate", false, false, 760,
                 480}));
        written.push_back(dir + "/roc.svg");
        if (shown.features.shape()[1] == 2) {
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
            xgrad::write_file_atomically(
                dir + "/decision_boundary.svg",
                xgrad::plot::decision_regions_svg(
                    {panel}, shown.feature_names[0] + " against " + shown.feature_names[1]));
            written.push_back(dir + "/decision_boundary.svg");
        }
    }
    for (const auto& path : written) fmt::print("plot: {}\n", path);
}

int train(const TrainArguments& a) {
    const bool logistic = a.model == "logistic";
    xgrad::data::Dataset all = xgrad::data::read_csv(a.data, a.label);
    if (logistic) require_binary_labels(a.data, all);
    if (a.patience > 0 && a.validation_split <= 0.0)
        throw usage_error("--patience needs --validation-split");

    xgrad::data::Split split{all.features, all.labels, {}, {}};
    if (a.test_split > 0.0)
        split =
            xgrad::data::train_test_split(all.features, all.labels, a.test_split, a.seed, logistic);
    xgrad::data::Split fit_split{split.X_train, split.y_train, {}, {}};
    if (a.validation_split > 0.0) {
        fit_split = xgrad::data::train_test_split(split.X_train, split.y_train, a.validation_split,
                                                  a.seed + 1, logistic);
    }
    xgrad::data::Standardizer scaler;
    auto prepare = [&](const array& X) { return a.standardize ? scaler.transform(X) : X; };
    if (a.standardize) scaler.fit(fit_split.X_train);

    xgrad::models::TrainOptions options(a.learning_rate, a.epochs, a.batch_size, a.seed);
    options.optimizer = a.optimizer;
    options.l2 = a.l2;
    options.l1 = a.l1;
    options.balanced_class_weights = a.class_weight == "balanced";
    options.patience = a.patience;
    if (a.validation_split > 0.0) {
        options.validation_X = prepare(fit_split.X_test);
        options.validation_y = fit_split.y_test;
    }
    const bool solver = a.optimizer == "lbfgs" || a.optimizer == "newton";
    Progress progress(a.quiet, solver ? "iteration" : "epoch");
    options.on_epoch = [&progress](const xgrad::models::EpochReport& r) { progress(r); };

    std::unique_ptr<xgrad::models::LinearModel> model;
    if (logistic) {
        model = std::make_unique<xgrad::models::LogisticRegression>();
    } else {
        model = std::make_unique<xgrad::models::LinearRegression>();
    }
    if (!a.quiet) {
        fmt::print(
            "training {} regression on {} ({} rows, {} features, label '{}'), optimizer {}\n",
            a.model, a.data, all.labels.size(), all.feature_names.size(), all.label_name,
            a.optimizer);
    }
    model->fit(prepare(fit_split.X_train), fit_split.y_train, options);
    progress.finish();

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

    if (!a.quiet) {
        // A solver's history starts with the objective at the starting point.
        const std::size_t steps = model->loss_history().size() - (solver ? 1 : 0);
        fmt::print("final training objective {:.12g} after {} {}s\n", model->loss_history().back(),
                   steps, solver ? "iteration" : "epoch");
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
    if (!a.out.empty()) {
        xgrad::models::save_model(a.out, file);
        if (!a.quiet) fmt::print("model: {}\n", a.out);
    }
    if (!a.plots.empty()) {
        xgrad::data::Dataset shown = all;
        shown.features = a.test_split > 0.0 ? split.X_test : split.X_train;
        shown.labels = a.test_split > 0.0 ? split.y_test : split.y_train;
        write_plots(a.plots, *model, file, shown, logistic);
    }
    return 0;
}

int evaluate(const std::string& model_path, const std::string& data_path) {
    const xgrad::models::ModelFile model = xgrad::models::load_model(model_path);
    const xgrad::data::Dataset d =
        xgrad::data::read_csv(data_path, model.label_name, model.feature_names);
    if (model.kind == "logistic") {
        require_binary_labels(data_path, d);
        print_classification_report("evaluation", model.predict(d.features), d.labels);
    } else {
        print_regression_report("evaluation", model.predict(d.features), d.labels);
    }
    return 0;
}

int predict(const std::string& model_path, const std::string& data_path,
            const std::string& output) {
    const xgrad::models::ModelFile model = xgrad::models::load_model(model_path);
    const xgrad::data::Dataset d = xgrad::data::read_features(data_path, model.feature_names);
    const array values = model.predict(d.features);
    const bool logistic = model.kind == "logistic";
    std::string text = logistic ? "probability,label\n" : "prediction\n";
    for (double v : values) {
        // 17 significant digits: the file reads back to the same doubles.
        text += logistic ? fmt::format("{:.17g},{}\n", v, v >= 0.5 ? 1 : 0)
                         : fmt::format("{:.17g}\n", v);
    }
    if (output.empty()) {
        fmt::print("{}", text);
    } else {
        xgrad::write_file_atomically(output, text);
    }
    return 0;
}

/// @brief The gradient-check experiment on the logistic-regression graph: forward and central
/// differences against backprop for h from 1e-1 to 1e-13, then gradcheck and gradgradcheck.
int gradcheck(const std::string& data_path, const std::string& label, const std::string& plots,
              std::uint64_t seed) {
    const xgrad::data::Dataset d = xgrad::data::read_csv(data_path, label);
    require_binary_labels(data_path, d);
    const array X = xgrad::data::Standardizer().fit_transform(d.features);
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
               data_path, X.shape()[1] + 1);
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
    if (!plots.empty()) {
        xgrad::write_file_atomically(
            plots + "/gradient_check.svg",
            xgrad::plot::line_plot_svg({forward, central},
                                       {"Finite-difference error against backprop", "step h",
                                        "max relative error", true, true, 760, 480}));
        fmt::print("plot: {}/gradient_check.svg\n", plots);
    }
    const xgrad::GradcheckReport first = xgrad::gradcheck(f, {w, b});
    const xgrad::GradcheckReport second = xgrad::gradgradcheck(f, {w, b});
    fmt::print("gradcheck: {}\n{}gradgradcheck: {}\n{}", first.passed ? "passed" : "FAILED",
               first.to_string(), second.passed ? "passed" : "FAILED", second.to_string());
    return first.passed && second.passed ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"xgrad: train, evaluate and use linear models built on the xgrad autodiff engine"};
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Help for every subcommand");

    TrainArguments t;
    CLI::App* train_cmd = app.add_subcommand(
        "train", "Train a model on a CSV file (default: the bundled breast-cancer data)");
    train_cmd
        ->add_option("--data", t.data, "CSV with a header row; numeric features and a label column")
        ->capture_default_str();
    train_cmd->add_option("--label", t.label, "Label column name (default: the last column)");
    train_cmd->add_option("--model", t.model, "logistic or linear")
        ->check(CLI::IsMember({"logistic", "linear"}))
        ->capture_default_str();
    train_cmd
        ->add_option("--optimizer", t.optimizer,
                     "sgd, momentum, nesterov, adagrad, rmsprop, adam, lbfgs or newton")
        ->check(CLI::IsMember(
            {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "lbfgs", "newton"}))
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
    train_cmd->add_option("--out", t.out, "Write the trained model here (JSON)");
    train_cmd->add_option("--plots", t.plots, "Write SVG plots into this existing directory")
        ->check(CLI::ExistingDirectory);
    train_cmd->add_flag("--quiet", t.quiet, "Print nothing but errors");

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
                            "Write predictions here (CSV) instead of to stdout");

    std::string check_data = XGRAD_DATA_DIR "/breast_cancer.csv";
    std::string check_label;
    std::string check_plots;
    std::uint64_t check_seed = 2026;
    CLI::App* gradcheck_cmd = app.add_subcommand(
        "gradcheck", "Numerical against automatic derivatives of the logistic-regression graph");
    gradcheck_cmd->add_option("--data", check_data, "CSV with 0/1 labels")->capture_default_str();
    gradcheck_cmd->add_option("--label", check_label,
                              "Label column name (default: the last column)");
    gradcheck_cmd
        ->add_option("--plots", check_plots,
                     "Write gradient_check.svg into this existing directory")
        ->check(CLI::ExistingDirectory);
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
    } catch (const CLI::ParseError& e) {
        std::string message = e.what();
        fmt::print(stderr, "xgrad: {} (see --help)\n", message);
        return 2;
    } catch (const std::exception& e) {
        fmt::print(stderr, "xgrad: {}\n", e.what());
        return 2;
    }
}
