/***************************************************************************
 * xgrad: `mpirun -np N xgrad train --distributed` against `xgrad train`:   *
 * the same model (to 1e-12 relative for gradient steps, 1e-8 for the      *
 * solvers' optima) for N = 2, 3, 4 and every kind of model and data        *
 * preparation; one message and exit code 2 for bad input on any rank.     *
 ***************************************************************************/
#include <sys/wait.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "support.hpp"
#include "xgrad/models/model_file.hpp"

namespace xgrad {
namespace {

struct CliRun {
    int exit_code;
    std::string out;
    std::string err;
    double seconds;
};
using xgrad::testing::slurp;

std::string temp(const std::string& name) {
    return ::testing::TempDir() + "xgrad_dist_" +
           ::testing::UnitTest::GetInstance()->current_test_info()->name() + "_" + name;
}

/// @brief `xgrad <arguments>` as one process (ranks 0) or under mpirun with `ranks` processes
/// (`--distributed` added), capturing exit code, stdout and stderr.
CliRun run(int ranks, const std::string& arguments) {
    const std::string out = temp("stdout.txt");
    const std::string err = temp("stderr.txt");
    // No leak check in processes that start MPI under ASan: OpenMPI never frees some of its
    // memory (the single-process runs keep theirs).
    const bool mpi = ranks > 0 || arguments.find("--distributed") != std::string::npos;
    const std::string command =
        std::string(mpi ? "ASAN_OPTIONS=\"$ASAN_OPTIONS:detect_leaks=0\" " : "") +
        (ranks == 0
             ? std::string(XGRAD_CLI) + " " + arguments
             : "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " XGRAD_MPIEXEC
               " -q --oversubscribe -np " +
                   std::to_string(ranks) + " " + XGRAD_CLI + " " + arguments + " --distributed");
    const auto start = std::chrono::steady_clock::now();
    const int status = std::system((command + " > " + out + " 2> " + err).c_str());
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    CliRun r{WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out), slurp(err), seconds};
    std::remove(out.c_str());
    std::remove(err.c_str());
    return r;
}

std::string write_csv(const std::string& name, const std::string& text) {
    const std::string path = temp(name);
    std::ofstream(path) << text;
    return path;
}

/// @brief max |a − b| / max |b| over every number of two model files' parameters.
double model_difference(const models::ModelFile& a, const models::ModelFile& b) {
    std::vector<std::pair<const array*, const array*>> pairs;
    EXPECT_EQ(a.kind, b.kind);
    EXPECT_EQ(a.classes, b.classes);
    EXPECT_EQ(a.feature_names, b.feature_names);
    if (a.kind == "mlp") {
        EXPECT_EQ(a.layers.size(), b.layers.size());
        for (std::size_t l = 0; l < std::min(a.layers.size(), b.layers.size()); ++l) {
            pairs.push_back({&a.layers[l].weight, &b.layers[l].weight});
            pairs.push_back({&a.layers[l].bias, &b.layers[l].bias});
        }
    } else {
        pairs.push_back({&a.weights, &b.weights});
        if (a.class_bias.dimension() > 0) pairs.push_back({&a.class_bias, &b.class_bias});
    }
    const array a_bias = {a.bias};
    const array b_bias = {b.bias};
    pairs.push_back({&a_bias, &b_bias});
    if (a.standardizer.fitted()) {
        pairs.push_back({&a.standardizer.mean(), &b.standardizer.mean()});
        pairs.push_back({&a.standardizer.scale(), &b.standardizer.scale()});
    }
    double worst = 0.0;
    double largest = 0.0;
    for (const auto& [x, y] : pairs) {
        EXPECT_EQ(x->shape(), y->shape());
        if (x->shape() != y->shape()) return INFINITY;
        for (std::size_t i = 0; i < x->size(); ++i) {
            worst = std::max(worst, std::abs(x->data()[i] - y->data()[i]));
            largest = std::max(largest, std::abs(y->data()[i]));
        }
    }
    return largest > 0.0 ? worst / largest : worst;
}

/// @brief The line of stdout that starts with `prefix` (empty if none).
std::string line_starting(const std::string& text, const std::string& prefix) {
    for (std::size_t at = 0; at < text.size();) {
        const std::size_t end = std::min(text.find('\n', at), text.size());
        if (text.compare(at, prefix.size(), prefix) == 0) return text.substr(at, end - at);
        at = end + 1;
    }
    return "";
}

/// @brief Trains with `arguments` in one process and with 2, 3 and 4; the models must agree to
/// `tolerance` and the reports' accuracy (or R²) lines must be the same.
void expect_same_model(const std::string& arguments, double tolerance,
                       const std::string& report_prefix = "test (") {
    const std::string single = temp("single.json");
    const CliRun one = run(0, arguments + " --out " + single);
    ASSERT_EQ(one.exit_code, 0) << one.err;
    const models::ModelFile reference = models::load_model(single);
    for (int ranks : {2, 3, 4}) {
        const std::string path = temp("ranks" + std::to_string(ranks) + ".json");
        const CliRun many = run(ranks, arguments + " --out " + path);
        ASSERT_EQ(many.exit_code, 0) << ranks << " ranks: " << many.err << many.out;
        const double difference = model_difference(models::load_model(path), reference);
        EXPECT_LE(difference, tolerance) << ranks << " ranks: " << arguments;
        std::printf("  %d ranks: %-70.70s max relative difference %.3g\n", ranks, arguments.c_str(),
                    difference);
        if (report_prefix.empty()) continue;  // --quiet
        // one report, printed by rank 0, saying what one process says
        const std::string line = line_starting(one.out, report_prefix);
        EXPECT_FALSE(line.empty()) << one.out;
        EXPECT_EQ(line_starting(many.out, report_prefix), line) << many.out;
        EXPECT_EQ(many.out.find("model: "), many.out.rfind("model: ")) << many.out;
        EXPECT_NE(many.out.find(std::to_string(ranks) + " processes"), std::string::npos);
        std::remove(path.c_str());
    }
    std::remove(single.c_str());
}

const std::string breast_cancer = XGRAD_DATA_DIR "/breast_cancer.csv";
const std::string iris = XGRAD_DATA_DIR "/iris.csv";

TEST(CliDistributed, GradientDescentGivesTheOneProcessWeightsToOnePartIn1e12) {
    expect_same_model("train --quiet --data " + breast_cancer +
                          " --standardize --optimizer sgd --epochs 50 --batch-size 0 --lr 0.5",
                      1e-12, "");
    expect_same_model("train --data " + breast_cancer +
                          " --standardize --optimizer sgd --epochs 50 --lr 0.5 --l2 0.3",
                      1e-12);
}

TEST(CliDistributed, LbfgsAndNewtonReachTheOneProcessOptimum) {
    expect_same_model("train --data " + breast_cancer + " --standardize --l2 1", 1e-8);
    expect_same_model("train --data " + breast_cancer + " --standardize --l2 1 --optimizer newton",
                      1e-8);
    expect_same_model("train --data " + iris + " --standardize --l2 0.5", 1e-8);  // softmax
    expect_same_model("train --data " + iris + " --standardize --l2 0.5 --multiclass ovr", 1e-8);
}

TEST(CliDistributed, MiniBatchesValidationAndEarlyStoppingFollowTheOneProcessRun) {
    // the same global batches: batch 32 of 364 fit rows leaves a short last batch
    expect_same_model("train --data " + breast_cancer +
                          " --standardize --optimizer adam --lr 0.01 --epochs 20 --batch-size 32 "
                          "--validation-split 0.2 --patience 3 --class-weight balanced --seed 7",
                      1e-12);
    expect_same_model("train --data " + iris +
                          " --model mlp --hidden 8 --epochs 30 --batch-size 16 --standardize "
                          "--seed 3",
                      1e-12);
    expect_same_model("train --data " + breast_cancer +
                          " --model linear --label mean_radius --drop benign --standardize "
                          "--optimizer momentum --lr 0.05 --epochs 40 --batch-size 50",
                      1e-12, "test (");
}

TEST(CliDistributed, ColumnsCategoriesAndImputationAreLearntFromEveryRank) {
    // a category and a class that only the last rows have, missing values everywhere
    std::string text = "size,colour,weight,label\n";
    for (int i = 0; i < 60; ++i) {
        const char* colour = i < 50 ? (i % 2 ? "red" : "blue") : "green";
        const std::string size = i % 7 == 3 ? "NA" : std::to_string(1.0 + 0.1 * i);
        const std::string weight = i % 5 == 1 ? "" : std::to_string(10.0 - 0.05 * i * (i % 3));
        const char* label = i >= 54 ? "c" : (i % 3 == 0 ? "a" : "b");
        text += size + "," + colour + "," + weight + "," + label + "\n";
    }
    const std::string data = write_csv("mixed.csv", text);
    expect_same_model("train --data " + data +
                          " --categorical colour --impute median --standardize --l2 1 "
                          "--test-split 0.25",
                      1e-8);
    expect_same_model("train --data " + data +
                          " --categorical colour --impute mean --optimizer sgd --epochs 50 "
                          "--standardize --test-split 0.25",
                      1e-12);
}

TEST(CliDistributed, OnlyRankZeroWritesAndTheFilesAreTheOneProcessFiles) {
    const std::string plots = temp("plots");
    const CliRun many =
        run(3, "train --data " + breast_cancer + " --standardize --l2 1 --plots " + plots);
    ASSERT_EQ(many.exit_code, 0) << many.err;
    for (const char* name : {"loss.svg", "roc.svg", "confusion_matrix.svg"}) {
        EXPECT_TRUE(std::ifstream(plots + "/" + name).good()) << name;
        std::remove((plots + "/" + name).c_str());
    }
    EXPECT_EQ(many.out.find("plot: "), many.out.find("plot: " + plots + "/loss.svg"));
}

TEST(CliDistributed, BadInputOnOneRankStopsEveryRankWithOneMessage) {
    std::string text = "a,b,label\n";
    for (int i = 0; i < 30; ++i)
        text +=
            std::to_string(i) + "," + std::to_string(i % 4) + "," + std::to_string(i % 2) + "\n";
    text += "31,oops,1\n";  // line 32: in the last rank's rows
    const std::string data = write_csv("bad.csv", text);
    for (int ranks : {2, 3}) {
        const CliRun r = run(ranks, "train --data " + data);
        EXPECT_EQ(r.exit_code, 2) << r.out;
        EXPECT_LT(r.seconds, 60.0);
        const std::string expected =
            "xgrad: rank " + std::to_string(ranks - 1) + ": " + data +
            ":32:2: 'oops' in column 'b' is not a number: drop the column (--drop b) "
            "or one-hot encode it (--categorical b)\n";
        EXPECT_EQ(r.err, expected);  // mpirun -q: nothing but xgrad's one line
    }
    const CliRun too_many =
        run(4, "train --data " + write_csv("three.csv", "a,label\n1,0\n2,1\n3,0\n"));
    EXPECT_EQ(too_many.exit_code, 2);
    EXPECT_EQ(too_many.err, "xgrad: " + temp("three.csv") +
                                ": 3 data rows cannot be shared by 4 ranks (each "
                                "needs at least one row)\n");
    // found by rank 0 alone, after training: no other rank waits for it
    const CliRun unwritable =
        run(2, "train --quiet --standardize --data " + breast_cancer + " --out /proc/x/model.json");
    EXPECT_EQ(unwritable.exit_code, 2);
    EXPECT_EQ(unwritable.err,
              "xgrad: /proc/x/model.json: cannot create the directory '/proc/x': No such file or "
              "directory\n")
        << unwritable.err;
}

TEST(CliDistributed, CommandLineErrorsArePrintedOnceWithExitCodeTwo) {
    // Every rank parses the same arguments: rank 0 prints the error, the others wait for it
    // (one exiting at once let mpirun end the job before rank 0 had printed: 0 to N lines).
    for (int ranks : {2, 4}) {
        const CliRun bogus = run(ranks, "train --bogus");
        EXPECT_EQ(bogus.exit_code, 2);
        EXPECT_EQ(bogus.err,
                  "xgrad: The following argument was not expected: --bogus (see --help)\n");
        const CliRun range = run(ranks, "train --epochs 0");
        EXPECT_EQ(range.exit_code, 2);
        EXPECT_EQ(range.err, "xgrad: --epochs: Value 0 not in range 1 to 100000000 (see --help)\n");
        EXPECT_EQ(bogus.out + range.out, "");
    }
    // without mpirun: the same line
    const CliRun alone = run(0, "train --distributed --bogus");
    EXPECT_EQ(alone.exit_code, 2);
    EXPECT_EQ(alone.err, "xgrad: The following argument was not expected: --bogus (see --help)\n");
}

TEST(CliDistributed, WithoutMpirunItIsAJobOfOneProcess) {
    const std::string single = temp("single.json");
    const std::string alone = temp("alone.json");
    ASSERT_EQ(run(0, "train --quiet --data " + breast_cancer + " --out " + single).exit_code, 0);
    const CliRun r =
        run(0, "train --quiet --data " + breast_cancer + " --distributed --out " + alone);
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_LE(model_difference(models::load_model(alone), models::load_model(single)), 1e-8);
}

}  // namespace
}  // namespace xgrad
