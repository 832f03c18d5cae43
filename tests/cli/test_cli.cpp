/***************************************************************************
 * xgrad: the `xgrad` command: exit codes and messages for bad input, no    *
 * output file on failure, train → save → load → predict bit for bit, and   *
 * the L2 optimum on breast cancer against scikit-learn's.                  *
 ***************************************************************************/
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "reference/breast_cancer_l2.hpp"
#include "support.hpp"
#include "xgrad/data/csv.hpp"
#include "xgrad/models/model_file.hpp"

namespace xgrad {
namespace {

struct CliRun {
    int exit_code;
    std::string out;
    std::string err;
};
using xgrad::testing::slurp;

bool exists(const std::string& path) {
    return std::ifstream(path).good();
}

std::string temp(const std::string& name) {
    return ::testing::TempDir() + "xgrad_cli_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name;
}

/// @brief Runs the xgrad binary with `arguments`, capturing exit code, stdout and stderr.
CliRun xgrad_cli(const std::string& arguments) {
    const std::string out = temp("stdout.txt");
    const std::string err = temp("stderr.txt");
    const int status = std::system(
        (std::string(XGRAD_CLI) + " " + arguments + " > " + out + " 2> " + err).c_str());
    CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err)};
    std::remove(out.c_str());
    std::remove(err.c_str());
    return r;
}

/// @brief A number as the CSV cell that reads back to the same double.
std::string fmt_median(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    return text;
}

std::string write_csv(const std::string& name, const std::string& text) {
    const std::string path = temp(name);
    std::ofstream(path) << text;
    return path;
}

const std::string bundled = XGRAD_DATA_DIR "/breast_cancer.csv";

TEST(Cli, BadInputExitsTwoWithOneLineAndWritesNothing) {
    const std::string model = temp("model.json");
    const std::pair<std::string, std::string> cases[] = {
        {"--data " + write_csv("text.csv", "a,b\n1,0\nx,1\n"),
         "text.csv:3:1: 'x' in column 'a' is not a number"},
        {"--data " + write_csv("empty_cell.csv", "a,b\n1,0\n,1\n"),
         "empty_cell.csv:3:1: missing value (empty cell) in column 'a': fill it with --impute "
         "mean or --impute median, or delete the row"},
        {"--data " + write_csv("ragged.csv", "a,b\n1,0\n1,1,2\n"),
         "ragged.csv:3: ragged row: 3 fields, the header has 2"},
        {"--data " + write_csv("empty.csv", ""), "empty.csv:1: empty file"},
        {"--data " + write_csv("header_only.csv", "a,b\n"), "no data rows after the header"},
        {"--data " + bundled + " --label nope",
         "breast_cancer.csv:1: --label names 'nope', but there is no such column (columns: "
         "'mean_radius', "},
        {"--data " + write_csv("one_class.csv", "a,b\n1,x\n2,x\n3,x\n"),
         "one_class.csv:1:2: label column 'b' holds only one class, 'x', in the file (3 rows): a "
         "classifier needs rows of at least two classes"},
        {"--data " + write_csv("no_labels.csv", "a,b\n1,\n2,\n3,\n"),
         "no_labels.csv:1:2: label column 'b' is empty in every row"},
        {"--data " + write_csv("text_feature.csv", "a,color,y\n1,red,0\n2,blue,1\n"),
         "text_feature.csv:2:2: 'red' in column 'color' is not a number: drop the column (--drop "
         "color) or one-hot encode it (--categorical color)"},
        {"--data " + bundled + " --features mean_radius,nope",
         "breast_cancer.csv:1: --features names 'nope', but there is no such column"},
        {"--data " + bundled + " --features mean_radius --drop mean_area",
         "--features and --drop cannot be used together"},
        {"--data " + bundled + " --impute mode", "--impute: mode not in {"},
        {"--data " + bundled + " --multiclass both", "--multiclass: both not in {"},
        {"--data /nonexistent/x.csv", "/nonexistent/x.csv: cannot open file"},
        {"--optimizer magic", "--optimizer: magic not in {"},
        {"--lr -1", "xgrad: --lr: -1 must be > 0 (see --help)"},
        {"--lr 0", "xgrad: --lr: 0 must be > 0 (see --help)"},
        {"--l2 abc", "xgrad: --l2: 'abc' is not a number (see --help)"},
        {"--l2 -0.5", "xgrad: --l2: -0.5 must be >= 0 (see --help)"},
        {"--l1 nan", "xgrad: --l1: 'nan' is not a number (see --help)"},
        {"--bogus", "--bogus"},
        {"--patience 3", "--patience needs --validation-split"},
        {"--data " + write_csv("tiny.csv", "a,b\n1,0\n2,1\n"), "leaves the test part empty"},
    };
    for (const auto& [arguments, message] : cases) {
        SCOPED_TRACE(arguments);
        const CliRun r = xgrad_cli("train --quiet " + arguments + " --out " + model);
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_FALSE(exists(model));
    }
}

TEST(Cli, BadModelFilesAndMissingColumns) {
    const std::string model = temp("model.json");
    ASSERT_EQ(xgrad_cli("train --quiet --standardize --out " + model).exit_code, 0);
    const std::string text = slurp(model);
    const std::string output = temp("predictions.csv");
    const std::string truncated = write_csv("truncated.json", text.substr(0, text.size() / 2));
    std::string edited_text = text;
    edited_text.replace(edited_text.find("\"weights\": ["), 12, "\"weights\": [1.5, ");
    const std::string edited = write_csv("edited.json", edited_text);
    const std::pair<std::string, std::string> cases[] = {
        {"predict --model " + truncated + " --data " + bundled,
         "not valid JSON (truncated or edited?)"},
        {"evaluate --model " + truncated + " --data " + bundled, "not valid JSON"},
        {"predict --model " + edited + " --data " + bundled,
         "'weights' has 31 values but 'features' names 30"},
        {"predict --model " + write_csv("other.json", "{\"a\": 1}") + " --data " + bundled,
         "not an xgrad model file"},
        {"predict --model /nonexistent.json --data " + bundled,
         "/nonexistent.json: cannot open file"},
        {"predict --model " + model + " --data " + write_csv("few.csv", "mean_radius,x\n1,2\n"),
         "few.csv:1: the model's columns 'mean_texture', 'mean_perimeter', "},
        {"evaluate --model " + model + " --data " +
             write_csv("nolabel.csv", "mean_radius,other\n1,2\n"),
         "nolabel.csv:1: the model's columns 'mean_texture', "},
    };
    for (const auto& [arguments, message] : cases) {
        SCOPED_TRACE(arguments);
        const bool predicting = arguments.rfind("predict", 0) == 0;
        const CliRun r = xgrad_cli(arguments + (predicting ? " --output " + output : ""));
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
        EXPECT_FALSE(exists(output));
    }
}

TEST(Cli, TrainSaveLoadPredictIsBitForBit) {
    const std::string model_path = temp("model.json");
    const std::string output = temp("predictions.csv");
    ASSERT_EQ(xgrad_cli("train --quiet --standardize --l2 1 --out " + model_path).exit_code, 0);
    ASSERT_EQ(
        xgrad_cli("predict --model " + model_path + " --data " + bundled + " --output " + output)
            .exit_code,
        0);
    const models::ModelFile model = models::load_model(model_path);
    const array expected = model.predict(data::read_csv(bundled, "benign").features);
    std::istringstream lines(slurp(output));
    std::string line;
    std::getline(lines, line);
    EXPECT_EQ(line, "probability,label");
    std::size_t row = 0;
    while (std::getline(lines, line)) {
        ASSERT_LT(row, expected.size());
        EXPECT_EQ(std::strtod(line.c_str(), nullptr), expected(row)) << row;  // exact
        ++row;
    }
    EXPECT_EQ(row, expected.size());
    const CliRun evaluation = xgrad_cli("evaluate --model " + model_path + " --data " + bundled);
    EXPECT_EQ(evaluation.exit_code, 0);
    EXPECT_NE(evaluation.out.find("ROC-AUC"), std::string::npos);
}

TEST(Cli, GradcheckSweepsTheStep) {
    const CliRun r = xgrad_cli("gradcheck");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("1e-13"), std::string::npos);
    EXPECT_NE(r.out.find("gradcheck: passed"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("gradgradcheck: passed"), std::string::npos) << r.out;
}

TEST(ModelFile, SaveLoadKeepsEveryBit) {
    models::ModelFile file;
    file.feature_names = {"a", "b", "c"};
    file.label_name = "y";
    file.weights = array{0.1, -1.0 / 3.0, 2.718281828459045e-300};
    file.bias = std::nextafter(0.5, 1.0);
    file.standardizer =
        data::Standardizer(array{1.0 / 7.0, 0.0, -2.5}, array{3.0, 1e-3, 1.0 / 9.0});
    file.hyperparameters = {{"optimizer", "adam"}};
    const array X = {{1.0, 2.0, 3.0}, {-0.1, 5e-4, 1e6}};
    const array before = file.predict(X);
    const std::string path = temp("model.json");
    models::save_model(path, file);
    const models::ModelFile loaded = models::load_model(path);
    EXPECT_EQ(loaded.weights, file.weights);
    EXPECT_EQ(loaded.bias, file.bias);
    EXPECT_EQ(loaded.standardizer.scale(), file.standardizer.scale());
    EXPECT_EQ(loaded.predict(X), before);
    EXPECT_EQ(loaded.hyperparameters.at("optimizer"), "adam");
    std::remove(path.c_str());
}

/// @brief (1/m)·Σ BCE + (1/2m)·‖w‖² of a saved model on the data it was trained on.
double l2_objective(const models::ModelFile& model, const data::Dataset& d) {
    const array z = model.decision_function(d.features);
    const double m = static_cast<double>(d.labels.size());
    double total = 0.0;
    for (std::size_t i = 0; i < d.labels.size(); ++i) {
        total += std::max(z(i), 0.0) - z(i) * d.labels(i) + std::log1p(std::exp(-std::abs(z(i))));
    }
    return total / m + 0.5 * xt::sum(model.weights * model.weights)() / m;
}

TEST(Cli, L2OptimumOnBreastCancerMatchesScikitLearn) {
    const data::Dataset d = data::read_csv(bundled, "benign");
    for (const char* optimizer : {"lbfgs", "newton"}) {
        SCOPED_TRACE(optimizer);
        const std::string model_path = temp(std::string(optimizer) + ".json");
        ASSERT_EQ(xgrad_cli(std::string(
                                "train --quiet --standardize --l2 1 --test-split 0 --optimizer ") +
                            optimizer + " --out " + model_path)
                      .exit_code,
                  0);
        const double objective = l2_objective(models::load_model(model_path), d);
        EXPECT_LE(testing::relative_error(objective, reference::breast_cancer_l2::objective), 1e-6);
        std::remove(model_path.c_str());
    }
}

/// @brief A fresh empty directory for one test.
std::string fresh_dir(const std::string& name) {
    const std::string dir = temp(name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

bool is_empty_dir(const std::string& dir) {
    return std::filesystem::is_empty(dir);
}

TEST(Cli, Version) {
    const CliRun r = xgrad_cli("--version");
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.out, "xgrad " XGRAD_VERSION " (elementwise kernels: " +
                         xgrad::simd_instruction_set() + ")\n");
}

TEST(Cli, CreatesOutputDirectories) {
    // The README's main command on a checkout without out/.
    const std::string dir = fresh_dir("fresh");
    const CliRun r = xgrad_cli("train --standardize --l2 1 --out " + dir +
                               "/out/model.json --plots " + dir + "/out");
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_TRUE(exists(dir + "/out/model.json"));
    EXPECT_TRUE(exists(dir + "/out/loss.svg"));
    EXPECT_TRUE(exists(dir + "/out/roc.svg"));
    EXPECT_NE(r.out.find("model: " + dir + "/out/model.json\n"), std::string::npos) << r.out;
    // Deeper, and for predictions.
    const CliRun p = xgrad_cli("predict --model " + dir + "/out/model.json --data " + bundled +
                               " --output " + dir + "/a/b/c/predictions.csv");
    EXPECT_EQ(p.exit_code, 0) << p.err;
    EXPECT_TRUE(exists(dir + "/a/b/c/predictions.csv"));
    std::filesystem::remove_all(dir);
}

TEST(Cli, OutputPlacesAreCheckedBeforeTraining) {
    const std::string dir = fresh_dir("places");
    std::ofstream(dir + "/file") << "not a directory";
    const std::pair<std::string, std::string> cases[] = {
        {"--out " + dir + "/file/model.json", dir + "/file/model.json: cannot write there: '" +
                                                  dir +
                                                  "/file' is a file, not a directory (--out)"},
        {"--out " + dir + "/m.json --plots " + dir + "/file/plots",
         dir + "/file/plots: cannot write there: '" + dir +
             "/file' is a file, not a directory (--plots)"},
        {"--out " + dir, dir + ": is a directory; --out needs a file name"},
        {"--out " + dir + "/p/loss.svg --plots " + dir + "/p",
         dir + "/p/loss.svg: written twice, by --out and by --plots"},
    };
    for (const auto& [arguments, message] : cases) {
        SCOPED_TRACE(arguments);
        const CliRun r = xgrad_cli("train --quiet " + arguments);
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(r.err, "xgrad: " + message + "\n");
    }
    EXPECT_EQ(std::filesystem::remove(dir + "/file"), true);
    EXPECT_TRUE(is_empty_dir(dir));
    if (::geteuid() != 0) {  // root writes anywhere: no permission to take away
        const std::string locked = dir + "/locked";
        std::filesystem::create_directories(locked);
        std::filesystem::permissions(
            locked, std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
        const CliRun r = xgrad_cli("train --quiet --out " + locked + "/sub/model.json");
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_EQ(r.err, "xgrad: " + locked + "/sub/model.json: cannot write into '" + locked +
                             "': Permission denied (--out)\n");
        std::filesystem::permissions(locked, std::filesystem::perms::owner_all);
    }
    std::filesystem::remove_all(dir);
}

TEST(Cli, NothingIsWrittenWhenALaterStepFails) {
    // One class among the test rows: the ROC plot cannot be drawn, so neither the model nor
    // loss.svg may appear (they were written before the failure in the past).
    const std::string dir = fresh_dir("late");
    std::string text = "a,b,y\n";
    for (int i = 0; i < 12; ++i)
        text += std::to_string(i) + "," + std::to_string(i % 3) + "," +
                (i == 4 || i == 9 ? "1\n" : "0\n");
    const std::string data = write_csv("rare.csv", text);
    const CliRun r = xgrad_cli("train --quiet --data " + data + " --out " + dir +
                               "/m/model.json --plots " + dir + "/plots");
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(":1:3: class '1' of label column 'y' has no rows in the test rows (2 "
                         "rows): the ROC plot needs every class there"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(is_empty_dir(dir));  // not even the directories
    // Without plots it trains.
    EXPECT_EQ(xgrad_cli("train --quiet --l2 1 --data " + data + " --out " + dir + "/model.json")
                  .exit_code,
              0);
    std::filesystem::remove_all(dir);
}

TEST(Cli, TrainingThatGoesWrongStopsAndWritesNothing) {
    const std::string dir = fresh_dir("diverge");
    const std::string model = dir + "/m.json";
    // The command: 32 null weights were saved with exit 0.
    CliRun r = xgrad_cli(
        "train --model linear --optimizer sgd --lr 10 --epochs 200 --quiet --out " + model);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_EQ(
        r.err.rfind("xgrad: training diverged: the training objective became inf at epoch ", 0), 0u)
        << r.err;
    EXPECT_NE(r.err.find("(the learning rate 10 is too large for this data: try a smaller --lr, or "
                         "--standardize); nothing was written\n"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(is_empty_dir(dir));
    // Features near ±1e300: refused naming the cell, with or without standardisation.
    std::string text = "a,b,y\n";
    for (int i = 0; i < 20; ++i)
        text += (i % 2 ? "-" : "") + std::to_string(i + 1) + "e300," + std::to_string(i % 3) + "," +
                std::to_string(i % 2) + "\n";
    const std::string huge = write_csv("huge.csv", text);
    r = xgrad_cli("train --quiet --data " + huge + " --out " + model);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("huge.csv:2:1: 1e+300 in column 'a' is too large to train on"),
              std::string::npos)
        << r.err;
    r = xgrad_cli("train --quiet --standardize --data " + huge + " --out " + model);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("huge.csv:1:1: column 'a' cannot be standardised: its spread overflows a "
                         "double (values up to 2e+301); rescale the column"),
              std::string::npos)
        << r.err;
    // Linear regression: a huge target too.
    const std::string target = write_csv("target.csv", "a,y\n1,2\n2,3e200\n3,4\n4,5\n5,6\n");
    r = xgrad_cli("train --quiet --model linear --data " + target + " --out " + model);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("target.csv:3:2: 3e+200 in label column 'y' is too large to train on"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(is_empty_dir(dir));
    std::filesystem::remove_all(dir);
}

TEST(Cli, WarnsWhenTheBudgetRunsOutWhileTheLossStillFalls) {
    const std::string model = temp("model.json");
    CliRun r = xgrad_cli("train --quiet --standardize --optimizer sgd --epochs 5 --out " + model);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err.rfind("xgrad: warning: training used all 5 epochs and the objective was still "
                          "falling (",
                          0),
              0u)
        << r.err;
    EXPECT_NE(r.err.find("): more --epochs (or a larger --lr) may help\n"), std::string::npos)
        << r.err;
    EXPECT_TRUE(exists(model));
    // L-BFGS that converges: no warning.
    r = xgrad_cli("train --quiet --standardize --l2 1 --out " + model);
    EXPECT_EQ(r.exit_code, 0);
    EXPECT_EQ(r.err, "");
    std::remove(model.c_str());
}

TEST(Cli, SavesCleanUpTemporariesOfInterruptedRuns) {
    const std::string dir = fresh_dir("stale");
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    const std::string stale = dir + "/model.json.tmp." + std::to_string(child);
    std::ofstream(stale) << "{\"half";
    ASSERT_EQ(
        xgrad_cli("train --quiet --standardize --l2 1 --out " + dir + "/model.json").exit_code, 0);
    EXPECT_FALSE(exists(stale));
    EXPECT_TRUE(exists(dir + "/model.json"));
    std::filesystem::remove_all(dir);
}

TEST(Cli, AnInstalledBinaryFindsItsBundledData) {
    // The layout `cmake --install` makes: bin/xgrad and share/xgrad/breast_cancer.csv.
    const std::string prefix = fresh_dir("prefix");
    std::filesystem::create_directories(prefix + "/bin");
    std::filesystem::create_directories(prefix + "/share/xgrad");
    std::filesystem::copy_file(XGRAD_CLI, prefix + "/bin/xgrad");
    std::string text = "a,b,label\n";
    for (int i = 0; i < 20; ++i)
        text += std::to_string(i) + "," + std::to_string((i * 7) % 5) + "," +
                std::to_string(i % 2) + "\n";
    std::ofstream(prefix + "/share/xgrad/breast_cancer.csv") << text;
    const std::string out = temp("stdout.txt");
    const int status = std::system((prefix + "/bin/xgrad train --l2 1 > " + out + " 2>&1").c_str());
    EXPECT_EQ(WEXITSTATUS(status), 0) << slurp(out);
    EXPECT_NE(slurp(out).find("on " + prefix +
                              "/share/xgrad/breast_cancer.csv (20 rows, 2 "
                              "features, label 'label')"),
              std::string::npos)
        << slurp(out);
    std::filesystem::remove_all(prefix);
    std::remove(out.c_str());
}

TEST(Cli, ProgressBarFitsAnEightyColumnTerminal) {
    if (std::system("command -v script > /dev/null 2>&1") != 0) GTEST_SKIP() << "no script(1)";
    // script(1) gives the command a terminal; without a size of its own it reads $COLUMNS.
    const std::string out = temp("pty.txt");
    const std::string command =
        "COLUMNS=80 script -qec '" + std::string(XGRAD_CLI) +
        " train --standardize --validation-split 0.2 --optimizer sgd --epochs 3000' /dev/null > " +
        out;
    ASSERT_EQ(std::system(command.c_str()), 0);
    std::string text = slurp(out);
    std::remove(out.c_str());
    std::size_t bars = 0;
    std::string line;
    std::size_t redraws = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        const char c = i < text.size() ? text[i] : '\n';
        if (c == '\r' || c == '\n') {
            const auto erase = line.find("\x1b[K");
            if (erase != std::string::npos) line.erase(erase, 3);
            if (line.rfind("[", 0) == 0 && line.find("] epoch ") != std::string::npos) {
                ++bars;
                EXPECT_LE(line.size(), 79u) << line;
                EXPECT_NE(line.find("val "), std::string::npos) << line;
            }
            if (c == '\r' && i + 1 < text.size() && text[i + 1] != '\n') ++redraws;
            line.clear();
        } else {
            line += c;
        }
    }
    EXPECT_GE(bars, 2u);
    EXPECT_LT(redraws, 100u) << "3000 epochs, at most five redraws a second";
    EXPECT_NE(text.find("done in"), std::string::npos);
}

/// @brief True if `text` is UTF-8 and holds no byte XML 1.0 forbids (controls but \t \n \r).
bool well_formed_xml_text(const std::string& text) {
    for (std::size_t i = 0; i < text.size();) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') return false;
        const std::size_t length = c < 0x80             ? 1
                                   : (c & 0xE0) == 0xC0 ? 2
                                   : (c & 0xF0) == 0xE0 ? 3
                                   : (c & 0xF8) == 0xF0 ? 4
                                                        : 0;
        if (length == 0 || i + length > text.size()) return false;
        for (std::size_t k = 1; k < length; ++k) {
            if ((static_cast<unsigned char>(text[i + k]) & 0xC0) != 0x80) return false;
        }
        i += length;
    }
    return true;
}

TEST(Cli, PlotsStayWellFormedWhateverTheNames) {
    // Names from a CSV may hold control bytes and broken UTF-8; the SVG files must still parse.
    const std::string dir = fresh_dir("names");
    std::string text = std::string("\"a\x01<b>\",\"\xff\xfe & c\",\"y\x1b[0m\"\n");
    for (int i = 0; i < 20; ++i)
        text += std::to_string(i) + "," + std::to_string((i * 7) % 5) + "," +
                std::to_string(i % 2) + "\n";
    const std::string data = write_csv("names.csv", text);
    const CliRun r = xgrad_cli("train --quiet --l2 1 --data " + data + " --plots " + dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    for (const char* name : {"/loss.svg", "/roc.svg", "/decision_boundary.svg"}) {
        SCOPED_TRACE(name);
        const std::string svg = slurp(dir + name);
        EXPECT_TRUE(well_formed_xml_text(svg));
        EXPECT_EQ(svg.find("<b>"), std::string::npos);
    }
    EXPECT_NE(slurp(dir + "/decision_boundary.svg").find("a\xEF\xBF\xBD&lt;b&gt;"),
              std::string::npos);
    std::filesystem::remove_all(dir);
}

const std::string iris = XGRAD_DATA_DIR "/iris.csv";

/// @brief The lines of `text`.
std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

/// @brief The cells of a CSV line without quotes.
std::vector<std::string> cells_of(const std::string& line) {
    std::vector<std::string> cells;
    std::istringstream in(line);
    for (std::string cell; std::getline(in, cell, ',');) cells.push_back(cell);
    return cells;
}

/// @brief data/iris.csv with the species as names (setosa, versicolor, virginica), and rows
/// given by `extra` appended.
std::string iris_with_names(const std::string& name, const std::string& extra = "") {
    const char* names[] = {"setosa", "versicolor", "virginica"};
    const std::vector<std::string> lines = lines_of(slurp(iris));
    std::string text = lines[0] + "\n";
    for (std::size_t i = 1; i < lines.size(); ++i) {
        const auto comma = lines[i].rfind(',');
        text += lines[i].substr(0, comma + 1) + names[std::stoi(lines[i].substr(comma + 1))] + "\n";
    }
    return write_csv(name, text + extra);
}

TEST(Cli, IrisTrainsWithNoOtherFlagAndReportsEveryClass) {
    const CliRun r = xgrad_cli("train --data " + iris + " --label species");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("training softmax (multinomial logistic) regression, 3 classes"),
              std::string::npos)
        << r.out;
    EXPECT_NE(r.out.find("test (30 rows): accuracy "), std::string::npos) << r.out;
    // scikit-learn's classification_report layout, one row per class, both averages.
    for (const char* row : {"             0     1.0000    1.0000    1.0000        10",
                            "             1 ", "             2 ", "     macro avg ",
                            "  weighted avg ", "  true \\ predicted", "log loss "}) {
        EXPECT_NE(r.out.find(row), std::string::npos) << row << "\n" << r.out;
    }
    // The stratified split keeps 10 test rows of each class: the test confusion matrix (the
    // last one printed) has rows summing to 10.
    const std::vector<std::string> lines = lines_of(r.out);
    std::size_t matrix_rows = 0;
    std::size_t header = lines.size();
    for (std::size_t i = 0; i < lines.size(); ++i) {
        if (lines[i].find("true \\ predicted") != std::string::npos) header = i;
    }
    ASSERT_LT(header + 3, lines.size()) << r.out;
    for (std::size_t k = 1; k <= 3; ++k) {
        std::istringstream row(lines[header + k]);
        double name = -1, a = 0, b = 0, c = 0;
        row >> name >> a >> b >> c;
        EXPECT_EQ(name, static_cast<double>(k - 1));
        EXPECT_EQ(a + b + c, 10.0) << lines[header + k];
        ++matrix_rows;
    }
    EXPECT_EQ(matrix_rows, 3u) << r.out;
}

TEST(Cli, StringLabelsRoundTripThroughTrainPredictEvaluate) {
    const std::string data = iris_with_names("names.csv");
    for (const char* multiclass : {"multinomial", "ovr"}) {
        SCOPED_TRACE(multiclass);
        const std::string model_path = temp(std::string(multiclass) + ".json");
        const CliRun trained = xgrad_cli("train --quiet --standardize --l2 1 --data " + data +
                                         " --multiclass " + multiclass + " --out " + model_path);
        ASSERT_EQ(trained.exit_code, 0) << trained.err;
        const models::ModelFile model = models::load_model(model_path);
        EXPECT_EQ(model.kind, std::string(multiclass) == "ovr" ? "ovr" : "softmax");
        EXPECT_EQ(model.classes, (std::vector<std::string>{"setosa", "versicolor", "virginica"}));

        const CliRun predicted = xgrad_cli("predict --model " + model_path + " --data " + data);
        ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
        const std::vector<std::string> labels = lines_of(predicted.out);
        ASSERT_EQ(labels.size(), 151u);
        EXPECT_EQ(labels[0], "label");
        EXPECT_EQ(labels[1], "setosa");
        EXPECT_EQ(labels[150], "virginica");

        const std::string output = temp("proba.csv");
        ASSERT_EQ(xgrad_cli("predict --proba --model " + model_path + " --data " + data +
                            " --output " + output)
                      .exit_code,
                  0);
        const std::vector<std::string> rows = lines_of(slurp(output));
        ASSERT_EQ(rows.size(), 151u);
        EXPECT_EQ(rows[0], "label,p_setosa,p_versicolor,p_virginica");
        const std::vector<std::string> names{"setosa", "versicolor", "virginica"};
        std::size_t correct = 0;
        for (std::size_t i = 1; i < rows.size(); ++i) {
            const std::vector<std::string> cells = cells_of(rows[i]);
            ASSERT_EQ(cells.size(), 4u) << rows[i];
            EXPECT_EQ(cells[0], labels[i]);
            double total = 0.0;
            std::size_t best = 0;
            for (std::size_t k = 0; k < 3; ++k) {
                total += std::stod(cells[k + 1]);
                if (std::stod(cells[k + 1]) > std::stod(cells[best + 1])) best = k;
            }
            EXPECT_NEAR(total, 1.0, 1e-12) << rows[i];
            EXPECT_EQ(cells[0], names[best]);
            correct += cells[0] == names[(i - 1) / 50];
        }
        EXPECT_GE(correct, 135u);

        const CliRun evaluated = xgrad_cli("evaluate --model " + model_path + " --data " + data);
        ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
        for (const char* row : {"evaluation (150 rows): accuracy ", "        setosa ",
                                "    versicolor ", "     virginica ", "  weighted avg "}) {
            EXPECT_NE(evaluated.out.find(row), std::string::npos) << row << "\n" << evaluated.out;
        }
    }
}

TEST(Cli, MulticlassPlotsAreAConfusionMatrixAndOneRocCurvePerClass) {
    const std::string dir = fresh_dir("plots");
    const CliRun r = xgrad_cli("train --quiet --standardize --data " +
                               iris_with_names("names.csv") + " --plots " + dir);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::string matrix = slurp(dir + "/confusion_matrix.svg");
    const std::string roc = slurp(dir + "/roc.svg");
    for (const char* name : {"setosa", "versicolor", "virginica"}) {
        EXPECT_NE(matrix.find(name), std::string::npos) << name;
        EXPECT_NE(roc.find(std::string(name) + " (AUC "), std::string::npos) << name;
    }
    EXPECT_NE(matrix.find("Confusion matrix (the test rows, 30 rows)"), std::string::npos);
    EXPECT_NE(roc.find("One-vs-rest ROC curves (macro AUC "), std::string::npos);
    EXPECT_TRUE(exists(dir + "/loss.svg"));
    EXPECT_FALSE(exists(dir + "/decision_boundary.svg"));
    std::filesystem::remove_all(dir);
}

TEST(Cli, OneVsRestShowsEachClassModelsProgress) {
    const CliRun r = xgrad_cli("train --multiclass ovr --standardize --l2 1 --data " +
                               iris_with_names("names.csv"));
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("training one-vs-rest logistic regression, 3 classes"), std::string::npos);
    std::size_t at = 0;
    for (const char* name :
         {"'setosa' iteration 1/200", "'versicolor' iteration 1/200", "'virginica' iteration 1/200",
          "final training objectives (one model per class): 'setosa' "}) {
        const std::size_t next = r.out.find(name, at);
        EXPECT_NE(next, std::string::npos) << name << "\n" << r.out;
        at = next == std::string::npos ? at : next;
    }
}

TEST(Cli, BinaryStringLabelsKeepTheirNames) {
    std::string text = "x,answer\n";
    for (int i = 0; i < 20; ++i) text += std::to_string(i) + "," + (i % 2 == 0 ? "no\n" : "yes\n");
    const std::string data = write_csv("yes_no.csv", text);
    const std::string model_path = temp("model.json");
    const CliRun trained = xgrad_cli("train --data " + data + " --features x --out " + model_path);
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    EXPECT_NE(trained.out.find("positive class 'yes' (negative 'no')"), std::string::npos)
        << trained.out;
    EXPECT_EQ(models::load_model(model_path).kind, "logistic");
    const CliRun predicted = xgrad_cli("predict --proba --model " + model_path + " --data " + data);
    ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
    EXPECT_EQ(lines_of(predicted.out)[0], "label,p_no,p_yes");
    const std::string second = cells_of(lines_of(predicted.out)[1])[0];
    EXPECT_TRUE(second == "no" || second == "yes") << predicted.out;
}

TEST(Cli, MulticlassBadInputExitsTwoAndWritesNothing) {
    const std::string data = iris_with_names("names.csv");
    const std::string model_path = temp("model.json");
    ASSERT_EQ(xgrad_cli("train --quiet --data " + data + " --out " + model_path).exit_code, 0);
    const std::string output = temp("out.csv");
    std::remove(output.c_str());
    const std::string unseen = iris_with_names("unseen.csv", "5.0,3.0,1.5,0.2,daisy\n");
    const std::pair<std::string, std::string> cases[] = {
        {"evaluate --model " + model_path + " --data " + unseen,
         "unseen.csv:152:5: label 'daisy' in column 'species' was not seen in training (classes: "
         "'setosa', 'versicolor', 'virginica')"},
        {"predict --model " + model_path + " --output " + output + " --data " +
             write_csv("missing.csv", "sepal_length,sepal_width,petal_length\n1,2,3\n"),
         "missing.csv:1: the model's column 'petal_width' is missing"},
        {"train --data " + data + " --out " + output + " --features sepal_length,petal_size",
         "names.csv:1: --features names 'petal_size', but there is no such column"},

    };
    for (const auto& [arguments, message] : cases) {
        SCOPED_TRACE(arguments);
        const CliRun r = xgrad_cli(arguments);
        EXPECT_EQ(r.exit_code, 2);
        EXPECT_NE(r.err.find(message), std::string::npos) << r.err;
        EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
        EXPECT_FALSE(exists(output));
    }
}

TEST(Cli, CrossValidationRefusesAClassOfOneRowAndBadSettingsPlainly) {
    const std::string data = write_csv("one_b.csv", "x,y\n1,a\n2,a\n3,b\n4,a\n5,a\n");
    const CliRun one = xgrad_cli("cv --data " + data + " --folds 2");
    EXPECT_EQ(one.exit_code, 2);
    EXPECT_NE(one.err.find("one_b.csv:1:2: class 'b' has only 1 row in label column 'y': "
                           "cross-validation needs at least 2 rows of every class"),
              std::string::npos)
        << one.err;
    const CliRun bad = xgrad_cli("cv --data " + data + " --l2 1,abc");
    EXPECT_EQ(bad.exit_code, 2);
    EXPECT_EQ(bad.err, "xgrad: --l2: 'abc' is not a number (see --help)\n");
}

TEST(Cli, AClassifierRefusesALabelThatIsAQuantity) {
    // Numbers that are not whole are a quantity to regress on, not 126 classes of one row each.
    for (const char* command : {"train --quiet", "cv"}) {
        const CliRun r = xgrad_cli(std::string(command) + " --data " + std::string(XGRAD_DATA_DIR) +
                                   "/wine.csv --label alcohol --drop cultivar");
        EXPECT_EQ(r.exit_code, 2) << command;
        EXPECT_NE(r.err.find("wine.csv:1:1: label column 'alcohol' holds numbers that are not "
                             "whole ('11.03' and 126 distinct values in all): a classifier takes "
                             "classes; to predict the number use --model linear or --model mlp "
                             "--task regression"),
                  std::string::npos)
            << r.err;
    }
    const CliRun linear = xgrad_cli("train --quiet --data " + std::string(XGRAD_DATA_DIR) +
                                    "/wine.csv --label alcohol --drop cultivar --model linear "
                                    "--standardize");
    EXPECT_EQ(linear.exit_code, 0) << linear.err;
}

TEST(Cli, MissingValuesAreImputedFromTheTrainingSplitAndStored) {
    std::string text = "id,size,color,y\n";
    for (int i = 0; i < 40; ++i) {
        const bool missing = i % 7 == 3;
        text += std::to_string(1000 + i) + "," + (missing ? "NA" : std::to_string(i % 10)) + "," +
                (i % 3 == 0   ? "red"
                 : i % 3 == 1 ? "green"
                              : "blue") +
                "," + (i % 10 >= 5 ? "big\n" : "small\n");
    }
    const std::string data = write_csv("missing.csv", text);
    const std::string model_path = temp("model.json");
    std::remove(model_path.c_str());
    const CliRun refused =
        xgrad_cli("train --quiet --data " + data + " --drop id,color --out " + model_path);
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("missing.csv:5:2: missing value ('NA') in column 'size': fill it "
                               "with --impute mean or --impute median, or delete the row"),
              std::string::npos)
        << refused.err;
    const CliRun text_column = xgrad_cli("train --quiet --data " + data + " --drop id");
    EXPECT_EQ(text_column.exit_code, 2);
    EXPECT_NE(text_column.err.find("missing.csv:2:3: 'red' in column 'color' is not a number: "
                                   "drop the column (--drop color) or one-hot encode it "
                                   "(--categorical color)"),
              std::string::npos)
        << text_column.err;
    EXPECT_FALSE(exists(model_path));

    const CliRun r =
        xgrad_cli("train --quiet --data " + data +
                  " --drop id --categorical color --impute median --out " + model_path);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const models::ModelFile model = models::load_model(model_path);
    EXPECT_EQ(model.feature_names,
              (std::vector<std::string>{"size", "color=blue", "color=green", "color=red"}));
    ASSERT_TRUE(model.columns.has_value());
    EXPECT_EQ(model.columns->impute, data::Impute::median);
    ASSERT_TRUE(model.columns->imputer.fitted());
    // Predicting a row with a missing size fills it with the stored median.
    const std::string rows = write_csv(
        "rows.csv", "size,color\nNA,red\n" + fmt_median(model.columns->imputer.statistics()(0)) +
                        ",red\n9,blue\n");
    const CliRun predicted = xgrad_cli("predict --proba --model " + model_path + " --data " + rows);
    ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
    const std::vector<std::string> lines = lines_of(predicted.out);
    ASSERT_EQ(lines.size(), 4u);
    EXPECT_EQ(lines[0], "label,p_big,p_small");
    EXPECT_EQ(lines[1], lines[2]);  // the NA row is the row with the median
    // Without test rows too (every row trains and fits the imputer), for every model kind.
    for (const char* model : {"", " --multiclass ovr", " --model mlp --hidden 4 --epochs 5"}) {
        std::remove(model_path.c_str());
        const CliRun all_rows =
            xgrad_cli("train --quiet --data " + data + " --drop id --categorical color" + model +
                      " --impute mean --test-split 0 --out " + model_path);
        EXPECT_EQ(all_rows.exit_code, 0) << model << ": " << all_rows.err;
        EXPECT_TRUE(exists(model_path)) << model;
    }
    // A column missing in every training row cannot be imputed: named, with the way out.
    const CliRun empty_column =
        xgrad_cli("train --quiet --data " +
                  write_csv("no_size.csv", "size,x,y\nNA,1,a\nNA,2,b\nNA,3,a\nNA,4,b\nNA,5,a\n") +
                  " --impute mean --test-split 0");
    EXPECT_EQ(empty_column.exit_code, 2);
    EXPECT_NE(empty_column.err.find("no_size.csv:1:1: cannot impute column 'size': all 5 values "
                                    "are missing in the training rows (drop it with --drop size)"),
              std::string::npos)
        << empty_column.err;
    const CliRun unseen = xgrad_cli("predict --model " + model_path + " --data " +
                                    write_csv("purple.csv", "size,color\n1,purple\n"));
    EXPECT_EQ(unseen.exit_code, 2);
    EXPECT_NE(unseen.err.find("purple.csv:2:2: category 'purple' in column 'color' was not seen "
                              "in training (categories: 'blue', 'green', 'red')"),
              std::string::npos)
        << unseen.err;
}

TEST(Cli, CrossValidationTablesEverySettingAndNamesTheBest) {
    const std::string arguments =
        "cv --quiet --data " + iris + " --standardize --folds 5 --l2 0.01,1,100 --seed 3";
    const CliRun r = xgrad_cli(arguments);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const std::vector<std::string> lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 5u) << r.out;
    EXPECT_EQ(lines[0], "    l2  accuracy (mean ± std)  per fold");
    std::vector<double> means;
    for (std::size_t s = 1; s <= 3; ++s) {
        std::istringstream row(lines[s]);
        std::string l2, plus_minus;
        double mean = 0.0, deviation = 0.0;
        row >> l2 >> mean >> plus_minus >> deviation;
        std::vector<double> folds;
        for (double v; row >> v;) folds.push_back(v);
        ASSERT_EQ(folds.size(), 5u) << lines[s];
        double total = 0.0, squares = 0.0;
        for (double v : folds) total += v;
        for (double v : folds) squares += (v - total / 5) * (v - total / 5);
        EXPECT_NEAR(mean, total / 5, 1e-4) << lines[s];
        EXPECT_NEAR(deviation, std::sqrt(squares / 5), 1e-4) << lines[s];
        for (double v : folds) EXPECT_NEAR(v * 30, std::round(v * 30), 2e-3);  // 30 rows a fold
        means.push_back(mean);
    }
    const std::size_t best = std::max_element(means.begin(), means.end()) - means.begin();
    const char* names[] = {"0.01", "1", "100"};
    EXPECT_EQ(lines[4].rfind(std::string("best: --l2 ") + names[best] + " (accuracy ", 0), 0u)
        << r.out;
    EXPECT_GT(means[0], means[2]);               // λ = 100 underfits
    EXPECT_EQ(xgrad_cli(arguments).out, r.out);  // the seed fixes every split

    const CliRun regression = xgrad_cli("cv --quiet --model linear --folds 3 --standardize");
    ASSERT_EQ(regression.exit_code, 0) << regression.err;
    EXPECT_EQ(lines_of(regression.out)[0], "  l2  R² (mean ± std)  per fold");

    const CliRun refused = xgrad_cli("cv --data " + iris_with_names("names.csv") + " --folds 51");
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_EQ(refused.out, "");
    EXPECT_NE(refused.err.find("names.csv:1:5: --folds 51 is more than the 50 rows of class "
                               "'setosa', the smallest class in label column 'species': every "
                               "fold needs a row of each class (use --folds 50 or fewer)\n"),
              std::string::npos)
        << refused.err;
}

TEST(Cli, MlpTrainsPredictsAndCrossValidates) {
    const std::string data = iris_with_names("names.csv");
    const std::string model_path = temp("mlp.json");
    const CliRun trained =
        xgrad_cli("train --data " + data + " --model mlp --hidden 16 --activation tanh --epochs " +
                  "60 --batch-size 16 --standardize --seed 4 --out " + model_path);
    ASSERT_EQ(trained.exit_code, 0) << trained.err;
    EXPECT_NE(trained.out.find("training an MLP classifier (hidden 16, tanh), 3 classes"),
              std::string::npos)
        << trained.out;
    EXPECT_NE(trained.out.find("optimizer adam"), std::string::npos);
    const models::ModelFile model = models::load_model(model_path);
    EXPECT_EQ(model.kind, "mlp");
    ASSERT_EQ(model.layers.size(), 2u);
    EXPECT_EQ(model.layers[0].weight.shape(), (std::vector<std::size_t>{4, 16}));
    EXPECT_EQ(model.layers[1].weight.shape(), (std::vector<std::size_t>{16, 3}));
    const CliRun predicted = xgrad_cli("predict --proba --model " + model_path + " --data " + data);
    ASSERT_EQ(predicted.exit_code, 0) << predicted.err;
    const std::vector<std::string> rows = lines_of(predicted.out);
    ASSERT_EQ(rows.size(), 151u);
    const std::vector<std::string> names{"setosa", "versicolor", "virginica"};
    std::size_t correct = 0;
    for (std::size_t i = 1; i < rows.size(); ++i) {
        const auto cells = cells_of(rows[i]);
        EXPECT_NEAR(std::stod(cells[1]) + std::stod(cells[2]) + std::stod(cells[3]), 1.0, 1e-12);
        correct += cells[0] == names[(i - 1) / 50];
    }
    EXPECT_GE(correct, 135u);

    const std::string regression = temp("mlp_regression.json");
    const CliRun fitted = xgrad_cli(
        "train --quiet --model mlp --task regression --hidden 8 --epochs 200 --batch-size 32 "
        "--lr 0.01 --standardize --data " +
        iris + " --label petal_width --drop species --out " + regression);
    ASSERT_EQ(fitted.exit_code, 0) << fitted.err;
    EXPECT_FALSE(models::load_model(regression).classifier());
    const CliRun evaluated = xgrad_cli("evaluate --model " + regression + " --data " + iris);
    ASSERT_EQ(evaluated.exit_code, 0) << evaluated.err;
    const auto r2 = evaluated.out.find("R² ");
    ASSERT_NE(r2, std::string::npos) << evaluated.out;
    EXPECT_GT(std::stod(evaluated.out.substr(r2 + 4)), 0.8) << evaluated.out;

    const CliRun cv = xgrad_cli(
        "cv --quiet --model mlp --hidden 8 --epochs 40 --batch-size 16 "
        "--standardize --folds 3 --data " +
        data);
    ASSERT_EQ(cv.exit_code, 0) << cv.err;
    EXPECT_EQ(lines_of(cv.out).size(), 2u) << cv.out;

    const CliRun refused = xgrad_cli("train --model mlp --optimizer lbfgs --data " + data);
    EXPECT_EQ(refused.exit_code, 2);
    EXPECT_NE(refused.err.find("--optimizer lbfgs is a solver for the convex linear models; train "
                               "an MLP with sgd, momentum, nesterov, adagrad, rmsprop or adam"),
              std::string::npos)
        << refused.err;
}

}  // namespace
}  // namespace xgrad
