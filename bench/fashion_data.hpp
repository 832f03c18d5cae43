// Where the Fashion-MNIST benchmarks read their images (bench_fashion, bench_distributed).
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "xgrad/data/idx.hpp"

namespace xgrad::bench {

/// @brief The folder the data comes from: `given` if not empty, else Debian's full data set if
/// its training images are there, else the repository's sample (`sample_dir`).
inline std::string fashion_data_folder(const std::string& given, const std::string& sample_dir) {
    if (!given.empty()) return given;
    std::error_code ignored;
    const std::filesystem::path full =
        std::filesystem::path(xgrad::data::fashion_mnist_dir) / "train-images-idx3-ubyte.gz";
    if (std::filesystem::exists(full, ignored)) return xgrad::data::fashion_mnist_dir;
    return sample_dir;
}

}  // namespace xgrad::bench
