/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
// IDX files (the MNIST format), gzip-compressed or plain, and the Fashion-MNIST image sets.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "xgrad/core/types.hpp"

namespace xgrad::data {

/// @brief Thrown for an IDX file that cannot be read or is malformed. The message is one line
/// that starts with the file's path and says what is wrong: "cannot open file: No such file or
/// directory", "wrong magic number 0x89504e47: expected 0x0000 then a type code", "unsupported
/// type code 0x0a", "rank 0", "dimensions (...) hold more than 2^31 elements", "expected 47040000
/// bytes of data after the header, found 1000", "12 trailing bytes after the data", "corrupt gzip
/// stream: incorrect data check", "gzip stream cut short", ...
class idx_error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// @brief Reads an IDX file: two zero bytes, a type code (0x08 unsigned byte, 0x09 signed byte,
/// 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the rank (≥ 1), one big-endian uint32
/// per dimension, then the values, big-endian, row-major: the format of LeCun's MNIST page. The
/// file may be gzip-compressed (recognised by its first two bytes 1f 8b, whatever its name; one
/// or more concatenated gzip members) or plain.
/// @return the values as doubles, unscaled, in the file's shape (d1, ..., dr).
/// @throws idx_error naming the file and the problem: a missing or unreadable file, neither gzip
/// nor IDX (wrong magic number), an unsupported type code, rank 0, more than 2^31 elements,
/// a header or data shorter than the header promises, bytes after the data or after the gzip
/// stream, a corrupt or cut gzip stream (zlib's message). Nothing is returned half-filled, and
/// memory grows with the data actually read, not with what a header claims.
array read_idx(const std::string& path);

/// @brief Gray-scale images with one class label each, as the MNIST-style data sets have them.
struct ImageDataset {
    array images;                     ///< (n, 1, rows, cols), pixel / 255, in [0, 1]
    std::vector<std::size_t> labels;  ///< n labels, each in [0, classes)
    std::size_t classes = 0;          ///< the largest label + 1 (0 when there are no images)
};

/// @brief Reads images and their labels from two IDX files (gzip or plain, as read_idx): the
/// images file must be rank 3 unsigned byte (n, rows, cols), the labels file rank 1 unsigned
/// byte (n,), with the same n.
/// @return images of shape (n, 1, rows, cols) scaled by 1/255, the labels, classes = max label
/// + 1.
/// @throws idx_error for anything read_idx rejects, another rank or type ("expected a rank-3
/// ubyte IDX file of images (count, rows, cols), found rank 2 int32"), or different counts
/// ("train-images-idx3-ubyte.gz has 60000 images but train-labels-idx1-ubyte.gz has 59999
/// labels", with the paths as given).
ImageDataset read_idx_images(const std::string& images_path, const std::string& labels_path);

/// @brief Where Debian's package dataset-fashion-mnist puts the four files.
constexpr const char* fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

/// @brief The ten Fashion-MNIST class names by label: T-shirt/top, Trouser, Pullover, Dress,
/// Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot.
const std::vector<std::string>& fashion_mnist_classes();

/// @brief Reads one split of Fashion-MNIST from `dir`, which holds the files under the names the
/// authors and Debian's package use: `train-images-idx3-ubyte.gz` and
/// `train-labels-idx1-ubyte.gz` (train = true, 60000 images), `t10k-images-idx3-ubyte.gz` and
/// `t10k-labels-idx1-ubyte.gz` (train = false, 10000 images). `fashion_mnist_dir` is the
/// package's folder; data/fashion-mnist-sample/ in the repository holds a 2000 + 1000 image
/// slice under the same names.
/// @return as read_idx_images, images (n, 1, 28, 28) in [0, 1] with n ≥ 1; classes is always 10.
/// @throws idx_error as read_idx_images; a missing file's message says which package to install;
/// images of another size ("t10k-images-idx3-ubyte.gz: Fashion-MNIST images are 28x28, found
/// 32x32"), a split without images ("train-images-idx3-ubyte.gz: holds no images") and a label
/// above 9 are errors, each naming the file.
ImageDataset load_fashion_mnist(const std::string& dir, bool train);

}  // namespace xgrad::data
