// The Fashion-MNIST example (examples/fashion_mnist.hpp) on the sample in data/: both models
// train, learn (test accuracy far above chance after two epochs on 2 000 images), save, reload
// to identical predictions and write their SVGs; bad options and data are refused.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "../../examples/fashion_mnist.hpp"
#include "support.hpp"

namespace {

namespace fashion = xgrad::examples::fashion;

/// @brief A fresh folder under /tmp, removed with its files at the end.
struct TempDir {
    std::string path;
    TempDir() {
        char name[] = "/tmp/xgrad_fashion_XXXXXX";
        const char* made = ::mkdtemp(name);
        if (made == nullptr) throw std::runtime_error("mkdtemp failed");
        path = made;
    }
    ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
};
using xgrad::testing::slurp;

fashion::Result run_on_sample(const std::string& model, const TempDir& dir, std::string& log) {
    fashion::Options options;
    options.model = model;
    options.epochs = 2;
    options.data_dir = XGRAD_DATA_DIR "/fashion-mnist-sample";
    options.out_dir = dir.path;
    options.quiet = true;
    char* text = nullptr;
    std::size_t size = 0;
    std::FILE* out = open_memstream(&text, &size);
    const fashion::Result result = fashion::run(options, out);
    std::fclose(out);
    log.assign(text, size);
    std::free(text);
    return result;
}

void expect_a_whole_run(const std::string& model, double least_accuracy) {
    const TempDir dir;
    std::string log;
    const fashion::Result r = run_on_sample(model, dir, log);
    ASSERT_EQ(r.train_loss.size(), 2u);
    ASSERT_EQ(r.test_accuracy.size(), 2u);
    // 10 classes: chance is 0.1; the first epoch's loss starts near ln 10 and falls
    EXPECT_LT(r.train_loss[1], r.train_loss[0]) << log;
    EXPECT_GE(r.test_accuracy.back(), least_accuracy) << log;
    EXPECT_EQ(r.reloaded_accuracy, r.test_accuracy.back());
    char line[64];
    std::snprintf(line, sizeof line, "test accuracy %.4f\n", r.test_accuracy.back());
    EXPECT_NE(log.find(line), std::string::npos) << log;
    EXPECT_NE(log.find("(identical predictions)"), std::string::npos) << log;
    ASSERT_EQ(r.files.size(), 5u);
    for (const std::string& file : r.files) {
        const std::string content = slurp(file);
        EXPECT_FALSE(content.empty()) << file;
        if (file.size() > 4 && file.compare(file.size() - 4, 4, ".svg") == 0) {
            EXPECT_EQ(content.rfind("<svg", 0), 0u) << file;
            EXPECT_NE(content.find("</svg>"), std::string::npos) << file;
        }
    }
    EXPECT_NE(slurp(dir.path + "/fashion_mnist_" + model + "_confusion.svg").find("Ankle boot"),
              std::string::npos);
}

TEST(FashionMnistExample, TheMlpLearnsSavesAndReloadsToTheSamePredictions) {
    expect_a_whole_run("mlp", 0.65);
}

TEST(FashionMnistExample, TheCnnLearnsSavesAndReloadsToTheSamePredictions) {
    expect_a_whole_run("cnn", 0.65);
}

TEST(FashionMnistExample, TheCnnHasUnderOneHundredThousandParameters) {
    std::size_t count = 0;
    for (const xgrad::Var& p : fashion::make_model("cnn", 1)->parameters()) {
        count += p.value().size();
    }
    EXPECT_LT(count, 100000u);
    EXPECT_EQ(count, 16u * 9 + 16 + 2 * 16 + 32 * 16 * 9 + 32 + 2 * 32 + 1568 * 10 + 10);
}

TEST(FashionMnistExample, RefusesABadRateAndAnUnwritableOutputBeforeTraining) {
    fashion::Options options;
    options.data_dir = XGRAD_DATA_DIR "/fashion-mnist-sample";
    options.quiet = true;
    options.max_rate = std::nan("");
    XGRAD_EXPECT_THROW_WITH(fashion::run(options, stdout), std::invalid_argument,
                            "--rate must be a positive number, got nan");
    options.max_rate = 0.0;
    options.out_dir = "/proc";  // not even root may create files there
    XGRAD_EXPECT_THROW_WITH(fashion::run(options, stdout), std::runtime_error,
                            "cannot write in '/proc'");
}

TEST(FashionMnistExample, RefusesAnUnknownModelAndMissingData) {
    XGRAD_EXPECT_THROW_WITH(fashion::make_model("rnn", 1), std::invalid_argument,
                            "--model must be mlp or cnn, got 'rnn'");
    const TempDir dir;
    fashion::Options options;
    options.data_dir = dir.path;  // empty
    options.out_dir = dir.path;
    options.quiet = true;
    XGRAD_EXPECT_THROW_WITH(fashion::run(options, stdout), xgrad::data::idx_error,
                            "train-images-idx3-ubyte.gz");
}

}  // namespace
