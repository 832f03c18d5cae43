/***************************************************************************
 * xgrad example: Fashion-MNIST with an MLP or a CNN                        *
 *                                                                          *
 *   build/examples/fashion_mnist [--model mlp|cnn] [--epochs N]            *
 *       [--threads T] [--data DIR] [--out DIR] [--batch B] [--rate R]      *
 *       [--seed S] [--train-limit N]                                       *
 *                                                                          *
 * Trains on the 60 000 training images of the Debian package               *
 * dataset-fashion-mnist (scripts/install-deps.sh installs it; --data       *
 * names another folder of the same four IDX files, e.g. the sample in      *
 * data/fashion-mnist-sample), prints the test accuracy after every epoch   *
 * and a final `test accuracy 0.XXXX`, saves the model, reloads it and      *
 * checks its predictions are identical, and writes SVGs of the loss and    *
 * accuracy curves, the confusion matrix and some test images with their    *
 * predicted classes. The work is in examples/fashion_mnist.hpp.            *
 ***************************************************************************/
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "fashion_mnist.hpp"
#include "xgrad/backend/blas.hpp"

int main(int argc, char** argv) {
    xgrad::examples::fashion::Options options;
    int threads = 2;
    CLI::App app{"Fashion-MNIST with an MLP or a CNN on xgrad", "fashion_mnist"};
    // CLI11 reads "-1" into an unsigned option as 2^64 − 1: refuse a sign before it does
    const CLI::Validator non_negative(
        [](std::string& text) {
            return text.find('-') == std::string::npos
                       ? std::string()
                       : "Value " + text + " is negative (needs a whole number >= 0)";
        },
        "NUMBER >= 0");
    app.add_option("--model", options.model, "mlp or cnn")
        ->check(CLI::IsMember({"mlp", "cnn"}))
        ->capture_default_str();
    app.add_option("--epochs", options.epochs, "epochs (default: mlp 20, cnn 12)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
    app.add_option("--threads", threads, "threads for the products and elementwise kernels")
        ->check(CLI::Range(1, 256))
        ->capture_default_str();
    app.add_option("--data", options.data_dir, "folder of the four (gzip) IDX files")
        ->capture_default_str();
    app.add_option("--out", options.out_dir, "folder for the model and the SVGs")
        ->check(CLI::ExistingDirectory)
        ->capture_default_str();
    app.add_option("--batch", options.batch_size, "mini-batch size")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}))
        ->capture_default_str();
    app.add_option("--rate", options.max_rate, "Adam's peak rate (default: mlp 0.003, cnn 0.01)")
        ->check(CLI::Range(1e-12, 1e3));  // also refuses nan and inf
    app.add_option("--seed", options.seed, "seed of the weights, dropout and shuffling")
        ->check(non_negative)
        ->capture_default_str();
    app.add_option("--train-limit", options.train_limit,
                   "train on the first N images only (0: all)")
        ->check(non_negative);
    CLI11_PARSE(app, argc, argv);
    try {
        xgrad::set_blas_threads(threads);
        xgrad::examples::fashion::run(options, stdout);
    } catch (const std::exception& e) {
        std::fflush(stdout);
        std::fprintf(stderr, "fashion_mnist: %s\n", e.what());
        return 1;
    }
    return 0;
}
