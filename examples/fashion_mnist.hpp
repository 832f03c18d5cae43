/***************************************************************************
 * xgrad examples: Fashion-MNIST with an MLP or a CNN (the training run of  *
 * examples/fashion_mnist.cpp, also run by tests/examples on the sample)    *
 ***************************************************************************/
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "xgrad/data/idx.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/data/loader.hpp"
#include "xgrad/models/metrics.hpp"
#include "xgrad/nn/activations.hpp"
#include "xgrad/nn/conv.hpp"
#include "xgrad/nn/layers.hpp"
#include "xgrad/nn/normalization.hpp"
#include "xgrad/nn/sequential.hpp"
#include "xgrad/nn/serialize.hpp"
#include "xgrad/ops.hpp"
#include "xgrad/ops/losses.hpp"
#include "xgrad/optim/adam.hpp"
#include "xgrad/optim/schedules.hpp"
#include "xgrad/plot/svg_plot.hpp"

namespace xgrad::examples::fashion {

/// @brief What to train and where: the example's command-line options.
struct Options {
    std::string model = "cnn";                       ///< "mlp" or "cnn"
    std::size_t epochs = 0;                          ///< 0: the model's default (mlp 20, cnn 12)
    std::string data_dir = data::fashion_mnist_dir;  ///< the folder of the four IDX files
    std::string out_dir = ".";     ///< where the model and the SVGs go (must exist)
    std::size_t batch_size = 128;  ///< images per training step
    double max_rate = 0.0;   ///< Adam's peak rate of the one-cycle schedule; 0: the model's default
    std::uint64_t seed = 1;  ///< seeds the weights, the dropout masks and the shuffling
    std::size_t train_limit = 0;  ///< use only the first n training images (0: all)
    bool quiet = false;           ///< no progress bar (tests)
};

/// @brief What a run measured.
struct Result {
    std::vector<double> train_loss;     ///< mean training loss of each epoch
    std::vector<double> test_accuracy;  ///< test accuracy after each epoch
    double reloaded_accuracy = 0.0;     ///< the saved and reloaded model's test accuracy
    std::size_t parameters = 0;         ///< trained numbers in the model
    double seconds = 0.0;               ///< training time (all epochs, without evaluation)
    std::vector<std::string> files;     ///< what was written
};

/// @brief The model of `kind`, its weights drawn from `seed`:
///  - "mlp": flatten, 784-256-128-10 with batch norm, ReLU and dropout 0.2 between the layers;
///  - "cnn": two 3×3 convolutions (1→16, 16→32, padding 1), each with batch norm, ReLU and 2×2
///    max pooling (28 → 14 → 7), then dropout 0.25 and a linear layer 1 568 → 10 (≈ 21 000
///    parameters, the benchmark table's "2 Conv < 100K parameters" class).
/// @throw std::invalid_argument for another kind.
inline std::shared_ptr<nn::Sequential> make_model(const std::string& kind, std::uint64_t seed) {
    auto net = std::make_shared<nn::Sequential>();
    if (kind == "mlp") {
        net->add<nn::Flatten>();
        net->add<nn::Linear>(784, 256, seed, nn::Init::he_uniform);
        net->add<nn::BatchNorm1d>(256);
        net->add<nn::ReLU>();
        net->add<nn::Dropout>(0.2, seed + 1);
        net->add<nn::Linear>(256, 128, seed + 2, nn::Init::he_uniform);
        net->add<nn::BatchNorm1d>(128);
        net->add<nn::ReLU>();
        net->add<nn::Dropout>(0.2, seed + 3);
        net->add<nn::Linear>(128, 10, seed + 4);
    } else if (kind == "cnn") {
        net->add<nn::Conv2d>(1, 16, 3, seed, 1, 1);
        net->add<nn::BatchNorm2d>(16);
        net->add<nn::ReLU>();
        net->add<nn::MaxPool2d>(2);
        net->add<nn::Conv2d>(16, 32, 3, seed + 1, 1, 1);
        net->add<nn::BatchNorm2d>(32);
        net->add<nn::ReLU>();
        net->add<nn::MaxPool2d>(2);
        net->add<nn::Flatten>();
        net->add<nn::Dropout>(0.25, seed + 2);
        net->add<nn::Linear>(32 * 7 * 7, 10, seed + 3);
    } else {
        throw std::invalid_argument("--model must be mlp or cnn, got '" + kind + "'");
    }
    return net;
}

/// @brief The class each image is given (argmax of the logits), in evaluation mode, in batches
/// of 1 000 without recording a graph.
inline std::vector<std::size_t> predict(nn::Module& model, const array& images) {
    model.eval();
    const no_grad scope;
    const std::size_t n = images.shape()[0];
    const std::size_t per_image = n == 0 ? 0 : images.size() / n;
    std::vector<std::size_t> classes;
    classes.reserve(n);
    for (std::size_t start = 0; start < n; start += 1000) {
        const std::size_t count = std::min<std::size_t>(1000, n - start);
        shape_type shape = images.shape();
        shape[0] = count;
        array batch = array::from_shape(shape);
        std::copy(images.data() + start * per_image, images.data() + (start + count) * per_image,
                  batch.data());
        const array best = argmax(model(constant(std::move(batch))), 1);
        for (double c : best) classes.push_back(static_cast<std::size_t>(c));
    }
    return classes;
}

/// @brief The fraction of `predicted` equal to `labels`.
/// @throw std::invalid_argument for no labels (an accuracy of nothing is not 0).
inline double accuracy_of(const std::vector<std::size_t>& predicted,
                          const std::vector<std::size_t>& labels) {
    if (labels.empty()) throw std::invalid_argument("no test images to score");
    std::size_t right = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) right += predicted[i] == labels[i] ? 1 : 0;
    return static_cast<double>(right) / static_cast<double>(labels.size());
}

/// @brief Checks that files can be created in `dir` (before minutes of training are spent): a
/// temporary file made there and removed.
/// @throw std::runtime_error naming the folder and the system's reason.
inline void check_writable(const std::string& dir) {
    std::string name = dir + "/.fashion_mnist_XXXXXX";
    const int fd = ::mkstemp(name.data());
    if (fd < 0) {
        throw std::runtime_error("cannot write in '" + dir + "': " + std::strerror(errno));
    }
    ::close(fd);
    ::unlink(name.c_str());
}

/// @brief m:ss
inline std::string clock_text(double seconds) {
    const long s = std::lround(std::max(seconds, 0.0));
    char text[32];
    std::snprintf(text, sizeof text, "%ld:%02ld", s / 60, s % 60);
    return text;
}

/// @brief A progress line on stderr, redrawn in place on a terminal (at most 10 times a second),
/// else nothing until the epoch's summary.
class ProgressLine {
  public:
    /// @brief A bar drawn on stderr only if it is a terminal and not `quiet`.
    explicit ProgressLine(bool quiet) : live_(!quiet && isatty(2)) {}
    /// @brief The bar for batch `done` of `total` in epoch `epoch` of `epochs`.
    void show(std::size_t epoch, std::size_t epochs, std::size_t done, std::size_t total,
              double loss, double images_per_second, double eta_seconds) {
        const auto now = std::chrono::steady_clock::now();
        if (!live_ || (done < total && now - last_ < std::chrono::milliseconds(100))) return;
        last_ = now;
        const std::size_t width = 24;
        const std::size_t filled = total == 0 ? width : width * done / total;
        std::fprintf(stderr, "\r[%s%s] epoch %zu/%zu  loss %.4f  %.0f images/s  ETA %s   ",
                     std::string(filled, '=').c_str(), std::string(width - filled, ' ').c_str(),
                     epoch, epochs, loss, images_per_second, clock_text(eta_seconds).c_str());
        std::fflush(stderr);
    }
    /// @brief Clears the bar before a line of output.
    void clear() {
        if (live_) std::fprintf(stderr, "\r%*s\r", 90, "");
    }

  private:
    bool live_;
    std::chrono::steady_clock::time_point last_{};
};

/// @brief Trains the model of `options` on Fashion-MNIST (or a folder of the same four files),
/// prints each epoch's loss and test accuracy and a final `test accuracy 0.XXXX` line to `out`,
/// saves the model (out_dir/fashion_mnist_<model>.npz), reloads it into a fresh model and checks
/// that its test predictions are identical, and writes four SVGs: the loss and accuracy curves,
/// the confusion matrix and a grid of test images with their predicted and true classes.
/// Adam with a one-cycle schedule per step, softmax cross-entropy, mini-batches reshuffled every
/// epoch from the seed.
/// @throw data::idx_error for missing or bad data files; std::runtime_error if the reloaded
/// model predicts differently; what save/load and the layers throw.
inline Result run(const Options& options, std::FILE* out) {
    const bool cnn = options.model == "cnn";
    std::shared_ptr<nn::Sequential> model = make_model(options.model, options.seed);
    const std::size_t epochs = options.epochs > 0 ? options.epochs : (cnn ? 12 : 20);
    if (!(std::isfinite(options.max_rate) && options.max_rate >= 0.0)) {
        throw std::invalid_argument("--rate must be a positive number, got " +
                                    std::to_string(options.max_rate));
    }
    const double max_rate = options.max_rate > 0.0 ? options.max_rate : (cnn ? 0.01 : 0.003);
    check_writable(options.out_dir);

    data::ImageDataset train = data::load_fashion_mnist(options.data_dir, true);
    const data::ImageDataset test = data::load_fashion_mnist(options.data_dir, false);
    if (options.train_limit > 0 && options.train_limit < train.labels.size()) {
        const std::size_t n = options.train_limit;
        array images = array::from_shape({n, 1, 28, 28});
        std::copy(train.images.data(), train.images.data() + n * 784, images.data());
        train.images = std::move(images);
        train.labels.resize(n);
    }
    const std::size_t train_count = train.labels.size();
    // batch norm needs two values per channel in training: a last batch of one image is dropped
    // (each epoch reshuffles, so it is another image every time)
    const bool drop_last = options.batch_size > 0 && train_count % options.batch_size == 1 &&
                           train_count > options.batch_size;
    data::BatchLoader loader(std::move(train.images), std::move(train.labels), options.batch_size,
                             true, options.seed, drop_last);

    Result result;
    for (const Var& p : model->parameters()) result.parameters += p.value().size();
    std::fprintf(out,
                 "Fashion-MNIST, %s (%zu parameters): %zu training and %zu test images, %zu "
                 "epoch%s, batch %zu, Adam one-cycle to %g\n",
                 options.model.c_str(), result.parameters, train_count, test.labels.size(), epochs,
                 epochs == 1 ? "" : "s", options.batch_size, max_rate);
    std::fflush(out);

    optim::Adam adam(model->parameters(), max_rate);
    const std::size_t steps = epochs * loader.batches();
    const optim::Schedule rate = optim::one_cycle(max_rate, steps);
    ProgressLine progress(options.quiet);
    std::size_t step = 0;
    for (std::size_t epoch = 0; epoch < epochs; ++epoch) {
        model->train();
        loader.start_epoch(epoch);
        const auto start = std::chrono::steady_clock::now();
        double loss_sum = 0.0;
        std::size_t seen = 0;
        for (std::size_t i = 0; i < loader.batches(); ++i) {
            const data::Batch& batch = loader.batch(i);
            array labels = array::from_shape({batch.size()});
            for (std::size_t k = 0; k < batch.size(); ++k) {
                labels(k) = static_cast<double>(batch.labels[k]);
            }
            const Var loss =
                cross_entropy((*model)(constant(batch.inputs)), constant(std::move(labels)));
            if (!std::isfinite(loss.item())) {
                throw std::runtime_error("training diverged: loss " + std::to_string(loss.item()) +
                                         " at epoch " + std::to_string(epoch + 1) + ", batch " +
                                         std::to_string(i + 1) + " (is the rate " +
                                         std::to_string(max_rate) + " too large?)");
            }
            adam.zero_grad();
            loss.backward();
            adam.set_learning_rate(rate(step++));
            adam.step();
            loss_sum += loss.item() * static_cast<double>(batch.size());
            seen += batch.size();
            const double elapsed =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            const double per_second = static_cast<double>(seen) / std::max(elapsed, 1e-9);
            const double left = static_cast<double>((epochs - epoch) * train_count - seen);
            progress.show(epoch + 1, epochs, i + 1, loader.batches(), loss_sum / seen, per_second,
                          left / per_second);
        }
        result.seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        result.train_loss.push_back(loss_sum / static_cast<double>(seen));
        result.test_accuracy.push_back(accuracy_of(predict(*model, test.images), test.labels));
        progress.clear();
        std::fprintf(out, "epoch %2zu/%zu  loss %.4f  test accuracy %.4f  (%.0f images/s)\n",
                     epoch + 1, epochs, result.train_loss.back(), result.test_accuracy.back(),
                     static_cast<double>(seen) / std::max(result.seconds / (epoch + 1), 1e-9));
        std::fflush(out);
    }
    const std::vector<std::size_t> predicted = predict(*model, test.images);
    const double final_accuracy = accuracy_of(predicted, test.labels);
    std::fprintf(out, "test accuracy %.4f\n", final_accuracy);

    // the plots
    const std::string prefix = options.out_dir + "/fashion_mnist_" + options.model;
    std::vector<double> epoch_axis(epochs);
    for (std::size_t e = 0; e < epochs; ++e) epoch_axis[e] = static_cast<double>(e + 1);
    plot::PlotOptions loss_plot;
    loss_plot.title = "Fashion-MNIST " + options.model + ": training loss";
    loss_plot.x_label = "epoch";
    loss_plot.y_label = "mean cross-entropy";
    plot::PlotOptions accuracy_plot;
    accuracy_plot.title = "Fashion-MNIST " + options.model + ": test accuracy";
    accuracy_plot.x_label = "epoch";
    accuracy_plot.y_label =
        "accuracy on the " + std::to_string(test.labels.size()) + " test images";
    const std::vector<std::string>& names = data::fashion_mnist_classes();
    array predicted_array = array::from_shape({predicted.size()});
    array expected_array = array::from_shape({predicted.size()});
    for (std::size_t i = 0; i < predicted.size(); ++i) {
        predicted_array(i) = static_cast<double>(predicted[i]);
        expected_array(i) = static_cast<double>(test.labels[i]);
    }
    plot::ConfusionMatrixOptions confusion;
    confusion.title = "Fashion-MNIST " + options.model + ": test confusion matrix";
    const std::size_t shown = std::min<std::size_t>(40, predicted.size());
    array images = array::from_shape({shown, 1, 28, 28});
    std::copy(test.images.data(), test.images.data() + shown * 784, images.data());
    std::vector<plot::ImageCaption> captions;
    for (std::size_t i = 0; i < shown; ++i) {
        const bool right = predicted[i] == test.labels[i];
        captions.push_back({names[predicted[i]] + (right ? "" : " (" + names[test.labels[i]] + ")"),
                            right ? "#1b5e20" : "#c62828"});
    }
    plot::ImageGridOptions grid;
    grid.title = "Fashion-MNIST " + options.model +
                 ": the first test images, predicted (true class if wrong)";
    // every file rendered before any is written: an error on the way leaves nothing behind
    std::vector<OutputFile> files = {
        {prefix + "_loss.svg",
         plot::line_plot_svg({{"training loss", epoch_axis, result.train_loss, true}}, loss_plot)},
        {prefix + "_accuracy.svg",
         plot::line_plot_svg({{"test accuracy", epoch_axis, result.test_accuracy, true}},
                             accuracy_plot)},
        {prefix + "_confusion.svg",
         plot::confusion_matrix_svg(metrics::confusion_matrix(predicted_array, expected_array, 10),
                                    names, confusion)},
        {prefix + "_predictions.svg", plot::image_grid_svg(images, captions, grid)},
    };
    // the model and the plots written together (each file atomically, all renamed into place
    // only once every one is on disk); then the model reloaded from the file into a model drawn
    // from another seed, and every prediction compared
    files.insert(files.begin(), OutputFile{prefix + ".npz", nn::npz_bytes(nn::state_dict(*model))});
    write_files_atomically(files);
    for (const OutputFile& file : files) result.files.push_back(file.path);
    std::shared_ptr<nn::Sequential> reloaded = make_model(options.model, options.seed + 1000);
    nn::load(*reloaded, prefix + ".npz");
    const std::vector<std::size_t> again = predict(*reloaded, test.images);
    result.reloaded_accuracy = accuracy_of(again, test.labels);
    if (again != predicted) {
        throw std::runtime_error("the model reloaded from " + prefix +
                                 ".npz predicts differently (test accuracy " +
                                 std::to_string(result.reloaded_accuracy) + ")");
    }
    std::fprintf(out, "saved %s.npz; reloaded: test accuracy %.4f (identical predictions)\n",
                 prefix.c_str(), result.reloaded_accuracy);
    std::fprintf(out, "wrote %s_{loss,accuracy,confusion,predictions}.svg\n", prefix.c_str());

    return result;
}

}  // namespace xgrad::examples::fashion
