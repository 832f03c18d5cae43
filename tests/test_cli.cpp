/***************************************************************************
 * xgrad: the `xgrad` command: exit codes and messages for bad input, no    *
 * output file on failure, train → save → load → predict bit for bit, and   *
 * the L2 optimum on breast cancer against scikit-learn's.                  *
 ***************************************************************************/
#include <sys/wait.h>

#include <cstdio>
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

std::string slurp(const std::string& path) {
    std::stringstream s;
    s << std::ifstream(path).rdbuf();
    return s.str();
}

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
         "empty_cell.csv:3:1: empty cell in column 'a'"},
        {"--data " + write_csv("ragged.csv", "a,b\n1,0\n1,1,2\n"),
         "ragged.csv:3: ragged row: 3 fields, the header has 2"},
        {"--data " + write_csv("empty.csv", ""), "empty.csv:1: empty file"},
        {"--data " + write_csv("header_only.csv", "a,b\n"), "no data rows after the header"},
        {"--data " + bundled + " --label nope", "no column named 'nope'"},
        {"--data " + write_csv("labels.csv", "a,b\n1,0\n2,2\n3,1\n4,0\n"),
         "label column 'b' must hold 0 or 1 for a logistic model; data row 2 has 2"},
        {"--data /nonexistent/x.csv", "/nonexistent/x.csv: cannot open file"},
        {"--optimizer magic", "--optimizer: magic not in {"},
        {"--lr -1", "--lr"},
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
         "no column named 'mean_texture'"},
        {"evaluate --model " + model + " --data " +
             write_csv("nolabel.csv", "mean_radius,other\n1,2\n"),
         "no column named 'benign'"},
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

}  // namespace
}  // namespace xgrad
