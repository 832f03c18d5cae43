/***************************************************************************
 * xgrad: IDX files (plain and gzip), the Fashion-MNIST sample and the full *
 * data set, and the mini-batch loader.                                     *
 ***************************************************************************/
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>

#include <xtensor/xio.hpp>
#include <xtensor/xview.hpp>

#include "support.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/data/loader.hpp"

namespace xgrad {
namespace {

using data::BatchLoader;
using data::idx_error;
using data::ImageDataset;
using data::read_idx;
using data::read_idx_images;

const std::string sample_dir = XGRAD_DATA_DIR "/fashion-mnist-sample";

/// @brief A fresh directory for one test, removed (with its files) at scope exit.
class TempDir {
  public:
    TempDir() {
        std::string pattern = ::testing::TempDir() + "xgrad_idx_XXXXXX";
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() {
        DIR* dir = ::opendir(path_.c_str());
        std::vector<std::string> names;
        while (const dirent* e = ::readdir(dir)) {
            const std::string name = e->d_name;
            if (name != "." && name != "..") names.push_back(name);
        }
        ::closedir(dir);
        for (const auto& name : names) {
            const std::string path = path_ + "/" + name;
            if (::rmdir(path.c_str()) != 0) std::remove(path.c_str());
        }
        ::rmdir(path_.c_str());
    }
    /// @brief The path of `name` in the directory.
    std::string operator/(const std::string& name) const { return path_ + "/" + name; }
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}
using xgrad::testing::slurp;

/// @brief `bytes` bytes of `value`, most significant first.
std::string big_endian(std::uint64_t value, int bytes) {
    std::string out;
    for (int i = bytes - 1; i >= 0; --i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
    return out;
}

std::string little_endian(std::uint64_t value, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xFF);
    return out;
}

/// @brief An IDX header: 0x0000, the type code, the rank, the dimensions.
std::string idx_header(unsigned type, const std::vector<std::uint32_t>& dims) {
    std::string out =
        std::string(2, '\0') + static_cast<char>(type) + static_cast<char>(dims.size());
    for (const std::uint32_t d : dims) out += big_endian(d, 4);
    return out;
}

std::uint32_t crc32(const std::string& bytes) {
    std::uint32_t crc = 0xFFFFFFFFu;
    for (const unsigned char byte : bytes) {
        crc ^= byte;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/// @brief `content` as one gzip member (RFC 1952) of stored (uncompressed) deflate blocks
/// (RFC 1951, 3.2.4): written here by hand, so the tests need no zlib of their own.
std::string gzip_stored(const std::string& content) {
    std::string out = "\x1f\x8b\x08";
    out += std::string(6, '\0') + "\xff";  // flags, mtime, extra flags; OS unknown
    std::size_t pos = 0;
    do {
        const std::size_t n = std::min<std::size_t>(content.size() - pos, 65535);
        const bool final = pos + n == content.size();
        out += static_cast<char>(final ? 1 : 0);
        out += little_endian(n, 2) + little_endian(~n & 0xFFFF, 2) + content.substr(pos, n);
        pos += n;
    } while (pos < content.size());
    return out + little_endian(crc32(content), 4) + little_endian(content.size(), 4);
}

/// @brief The sum of the pixels (0..255) of image i of a data set scaled by 1/255.
std::int64_t pixel_sum(const array& images, std::size_t i) {
    const std::size_t size = images.size() / images.shape()[0];
    std::int64_t sum = 0;
    for (std::size_t k = 0; k < size; ++k) sum += std::llround(images.data()[i * size + k] * 255);
    return sum;
}

std::int64_t pixel_sum(const array& images) {
    std::int64_t sum = 0;
    for (const double v : images) sum += std::llround(v * 255);
    return sum;
}

std::vector<std::size_t> class_counts(const std::vector<std::size_t>& labels) {
    std::vector<std::size_t> counts(10, 0);
    for (const std::size_t label : labels) ++counts.at(label);
    return counts;
}

bool all_in_unit_interval(const array& a) {
    return std::all_of(a.begin(), a.end(), [](double v) { return v >= 0.0 && v <= 1.0; });
}

// The sample's numbers are those scripts/make-fashion-mnist-sample.py prints.

TEST(FashionMnistSample, TrainSplit) {
    const ImageDataset d = data::load_fashion_mnist(sample_dir, true);
    EXPECT_EQ(d.images.shape(), (shape_type{2000, 1, 28, 28}));
    ASSERT_EQ(d.labels.size(), 2000u);
    EXPECT_EQ(d.classes, 10u);
    EXPECT_EQ(std::vector<std::size_t>(d.labels.begin(), d.labels.begin() + 10),
              (std::vector<std::size_t>{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}));
    EXPECT_EQ(class_counts(d.labels),
              (std::vector<std::size_t>{194, 216, 202, 195, 186, 200, 194, 215, 198, 200}));
    EXPECT_EQ(pixel_sum(d.images, 0), 76247);
    EXPECT_EQ(pixel_sum(d.images, 1), 84598);
    EXPECT_EQ(pixel_sum(d.images, 2), 28662);
    EXPECT_EQ(pixel_sum(d.images, 1999), 49119);
    EXPECT_EQ(pixel_sum(d.images), 113529887);
    EXPECT_EQ(d.images(0, 0, 14, 14), 217 / 255.0);
    EXPECT_EQ(d.images(0, 0, 3, 12), 1 / 255.0);  // image 0's first nonzero pixel
    EXPECT_EQ(d.images(0, 0, 3, 11), 0.0);
    EXPECT_EQ(d.images(1, 0, 10, 20), 201 / 255.0);
    EXPECT_EQ(d.images(1999, 0, 20, 9), 1.0);
    EXPECT_TRUE(all_in_unit_interval(d.images));
}

TEST(FashionMnistSample, TestSplit) {
    const ImageDataset d = data::load_fashion_mnist(sample_dir, false);
    EXPECT_EQ(d.images.shape(), (shape_type{1000, 1, 28, 28}));
    ASSERT_EQ(d.labels.size(), 1000u);
    EXPECT_EQ(d.classes, 10u);
    EXPECT_EQ(std::vector<std::size_t>(d.labels.begin(), d.labels.begin() + 10),
              (std::vector<std::size_t>{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}));
    EXPECT_EQ(class_counts(d.labels),
              (std::vector<std::size_t>{107, 105, 111, 93, 115, 87, 97, 95, 95, 95}));
    EXPECT_EQ(pixel_sum(d.images, 0), 33456);
    EXPECT_EQ(pixel_sum(d.images, 1), 100994);
    EXPECT_EQ(pixel_sum(d.images, 2), 51520);
    EXPECT_EQ(pixel_sum(d.images, 999), 28316);
    EXPECT_EQ(pixel_sum(d.images), 58034149);
    EXPECT_EQ(d.images(0, 0, 14, 14), 110 / 255.0);
    EXPECT_EQ(d.images(0, 0, 7, 19), 3 / 255.0);  // image 0's first nonzero pixel
    EXPECT_EQ(d.images(0, 0, 7, 18), 0.0);
    EXPECT_EQ(d.images(1, 0, 10, 20), 1.0);
    EXPECT_EQ(d.images(999, 0, 20, 9), 35 / 255.0);
    EXPECT_TRUE(all_in_unit_interval(d.images));
}

TEST(FashionMnistSample, ReadIdxGivesUnscaledValuesInTheFilesShape) {
    const array images = read_idx(sample_dir + "/train-images-idx3-ubyte.gz");
    EXPECT_EQ(images.shape(), (shape_type{2000, 28, 28}));
    EXPECT_EQ(images(0, 14, 14), 217.0);
    EXPECT_EQ(images(1999, 20, 9), 255.0);
    const array labels = read_idx(sample_dir + "/t10k-labels-idx1-ubyte.gz");
    EXPECT_EQ(labels.shape(), (shape_type{1000}));
    EXPECT_EQ(labels(0), 9.0);
    EXPECT_EQ(labels(4), 6.0);
}

TEST(FashionMnistSample, ClassNames) {
    EXPECT_EQ(data::fashion_mnist_classes(),
              (std::vector<std::string>{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}));
    EXPECT_STREQ(data::fashion_mnist_dir, "/usr/share/datasets/fashion-mnist");
}

/// @brief The full data set from Debian's package, when it is installed.
bool have_full_data_set() {
    struct stat info {};
    return ::stat((std::string(data::fashion_mnist_dir) + "/train-images-idx3-ubyte.gz").c_str(),
                  &info) == 0;
}

TEST(FashionMnistFull, TrainSplit) {
    if (!have_full_data_set()) {
        GTEST_SKIP() << "Fashion-MNIST is not installed in " << data::fashion_mnist_dir
                     << ": apt-get install dataset-fashion-mnist";
    }
    const ImageDataset d = data::load_fashion_mnist(data::fashion_mnist_dir, true);
    EXPECT_EQ(d.images.shape(), (shape_type{60000, 1, 28, 28}));
    ASSERT_EQ(d.labels.size(), 60000u);
    EXPECT_EQ(d.classes, 10u);
    EXPECT_EQ(class_counts(d.labels), std::vector<std::size_t>(10, 6000));
    EXPECT_EQ(pixel_sum(d.images), 3431114169);  // from Python's gzip module
    EXPECT_EQ(pixel_sum(d.images, 59999), 16684);
    EXPECT_EQ(d.labels.back(), 5u);
    // The bundled sample is the first 2000 images and labels.
    const ImageDataset sample = data::load_fashion_mnist(sample_dir, true);
    EXPECT_TRUE(std::equal(sample.images.begin(), sample.images.end(), d.images.begin()));
    EXPECT_TRUE(std::equal(sample.labels.begin(), sample.labels.end(), d.labels.begin()));
}

TEST(FashionMnistFull, TestSplit) {
    if (!have_full_data_set()) {
        GTEST_SKIP() << "Fashion-MNIST is not installed in " << data::fashion_mnist_dir
                     << ": apt-get install dataset-fashion-mnist";
    }
    const ImageDataset d = data::load_fashion_mnist(data::fashion_mnist_dir, false);
    EXPECT_EQ(d.images.shape(), (shape_type{10000, 1, 28, 28}));
    ASSERT_EQ(d.labels.size(), 10000u);
    EXPECT_EQ(class_counts(d.labels), std::vector<std::size_t>(10, 1000));
    EXPECT_EQ(pixel_sum(d.images), 573469082);
    EXPECT_EQ(pixel_sum(d.images, 9999), 24390);
    const ImageDataset sample = data::load_fashion_mnist(sample_dir, false);
    EXPECT_TRUE(std::equal(sample.images.begin(), sample.images.end(), d.images.begin()));
    EXPECT_TRUE(std::equal(sample.labels.begin(), sample.labels.end(), d.labels.begin()));
}

TEST(FashionMnist, MissingFolderSaysWhichPackageToInstall) {
    XGRAD_EXPECT_THROW_WITH(data::load_fashion_mnist("/nonexistent/fashion", true), idx_error,
                            "/nonexistent/fashion/train-images-idx3-ubyte.gz: cannot open file: "
                            "No such file or directory (Fashion-MNIST: install Debian's package "
                            "dataset-fashion-mnist");
}

TEST(FashionMnist, LabelAboveNineIsAnError) {
    TempDir dir;
    write_file(dir / "t10k-images-idx3-ubyte.gz",
               gzip_stored(idx_header(0x08, {2, 28, 28}) + std::string(2 * 28 * 28, '\x07')));
    write_file(dir / "t10k-labels-idx1-ubyte.gz",
               gzip_stored(idx_header(0x08, {2}) + std::string("\x03\x0a", 2)));
    XGRAD_EXPECT_THROW_WITH(data::load_fashion_mnist(dir.path(), false), idx_error,
                            "t10k-labels-idx1-ubyte.gz: label 10 is out of range: Fashion-MNIST "
                            "has 10 classes, 0 to 9");
}

TEST(FashionMnist, ImagesMustBe28By28) {
    TempDir dir;
    write_file(dir / "t10k-images-idx3-ubyte.gz",
               gzip_stored(idx_header(0x08, {2, 32, 32}) + std::string(2 * 32 * 32, '\x07')));
    write_file(dir / "t10k-labels-idx1-ubyte.gz",
               gzip_stored(idx_header(0x08, {2}) + std::string("\x03\x04", 2)));
    XGRAD_EXPECT_THROW_WITH(
        data::load_fashion_mnist(dir.path(), false), idx_error,
        dir / "t10k-images-idx3-ubyte.gz" + ": Fashion-MNIST images are 28x28, found 32x32");
    write_file(dir / "t10k-images-idx3-ubyte.gz",
               gzip_stored(idx_header(0x08, {2, 28, 27}) + std::string(2 * 28 * 27, '\x07')));
    XGRAD_EXPECT_THROW_WITH(data::load_fashion_mnist(dir.path(), false), idx_error,
                            "Fashion-MNIST images are 28x28, found 28x27");
    // 28x28 loads
    write_file(dir / "t10k-images-idx3-ubyte.gz",
               gzip_stored(idx_header(0x08, {2, 28, 28}) + std::string(2 * 28 * 28, '\x07')));
    const ImageDataset d = data::load_fashion_mnist(dir.path(), false);
    EXPECT_EQ(d.images.shape(), (shape_type{2, 1, 28, 28}));
    EXPECT_EQ(d.labels, (std::vector<std::size_t>{3, 4}));
    EXPECT_EQ(d.classes, 10u);
}

TEST(FashionMnist, ASplitWithoutImagesIsAnError) {
    TempDir dir;
    write_file(dir / "train-images-idx3-ubyte.gz", gzip_stored(idx_header(0x08, {0, 28, 28})));
    write_file(dir / "train-labels-idx1-ubyte.gz", gzip_stored(idx_header(0x08, {0})));
    XGRAD_EXPECT_THROW_WITH(data::load_fashion_mnist(dir.path(), true), idx_error,
                            dir / "train-images-idx3-ubyte.gz" + ": holds no images");
}

// ---------------------------------------------------------------------------------------------
// Every type code, plain and gzip-compressed.

struct Typed {
    unsigned type;
    std::vector<std::uint32_t> dims;
    std::string bytes;           // the data as stored, big-endian
    std::vector<double> values;  // what they mean
};

std::vector<Typed> every_type() {
    std::vector<Typed> out;
    {
        Typed t{0x08, {5}, "", {0, 1, 127, 128, 255}};
        for (const double v : t.values) t.bytes += static_cast<char>(v);
        out.push_back(t);
    }
    {
        Typed t{0x09, {5}, "", {-128, -1, 0, 1, 127}};
        for (const double v : t.values) t.bytes += static_cast<char>(static_cast<std::int8_t>(v));
        out.push_back(t);
    }
    {
        Typed t{0x0B, {7}, "", {-32768, -300, -2, -1, 0, 1, 32767}};
        for (const double v : t.values) {
            t.bytes += big_endian(static_cast<std::uint16_t>(static_cast<std::int16_t>(v)), 2);
        }
        out.push_back(t);
    }
    {
        Typed t{0x0C, {2, 3}, "", {-2147483648.0, -70000, -1, 0, 70000, 2147483647}};
        for (const double v : t.values) {
            t.bytes += big_endian(static_cast<std::uint32_t>(static_cast<std::int32_t>(v)), 4);
        }
        out.push_back(t);
    }
    {
        const std::vector<float> f = {-1.5f, 0.1f,   3.4e38f,
                                      -0.0f, 1e-45f, std::numeric_limits<float>::infinity()};
        Typed t{0x0D, {2, 1, 3}, "", {}};
        for (const float v : f) {
            std::uint32_t bits;
            std::memcpy(&bits, &v, 4);
            t.bytes += big_endian(bits, 4);
            t.values.push_back(v);
        }
        out.push_back(t);
    }
    {
        Typed t{0x0E, {3, 2}, "", {-2.5, 0.1, 1e308, -1e-310, M_PI, -0.0}};
        for (const double v : t.values) {
            std::uint64_t bits;
            std::memcpy(&bits, &v, 8);
            t.bytes += big_endian(bits, 8);
        }
        out.push_back(t);
    }
    {
        Typed t{0x08, {1, 2, 1, 2}, "\x07\x00\xff\x10", {7, 0, 255, 16}};
        t.bytes = std::string("\x07\x00\xff\x10", 4);
        out.push_back(t);
    }
    return out;
}

void expect_values(const array& a, const Typed& t) {
    EXPECT_EQ(a.shape(), shape_type(t.dims.begin(), t.dims.end())) << "type " << t.type;
    ASSERT_EQ(a.size(), t.values.size());
    for (std::size_t i = 0; i < a.size(); ++i) {
        EXPECT_EQ(a.data()[i], t.values[i]) << "type " << t.type << " element " << i;
        EXPECT_EQ(std::signbit(a.data()[i]), std::signbit(t.values[i])) << "type " << t.type;
    }
}

TEST(ReadIdx, EveryTypeCodePlainRoundTripsExactly) {
    TempDir dir;
    for (const Typed& t : every_type()) {
        const std::string path = dir / "plain.idx";
        write_file(path, idx_header(t.type, t.dims) + t.bytes);
        expect_values(read_idx(path), t);
    }
}

TEST(ReadIdx, EveryTypeCodeGzipRoundTripsExactly) {
    TempDir dir;
    for (const Typed& t : every_type()) {
        const std::string path = dir / "plain.idx";  // the name does not matter: the bytes do
        write_file(path, gzip_stored(idx_header(t.type, t.dims) + t.bytes));
        expect_values(read_idx(path), t);
    }
}

TEST(ReadIdx, ConcatenatedGzipMembersAreOneStream) {
    TempDir dir;
    const Typed t = every_type()[3];
    const std::string content = idx_header(t.type, t.dims) + t.bytes;
    write_file(dir / "a.gz", gzip_stored(content.substr(0, 7)) + gzip_stored(content.substr(7)));
    expect_values(read_idx(dir / "a.gz"), t);
}

TEST(ReadIdx, LargeGzipInManyBlocks) {
    // 200000 int16 values (400 KB, several stored blocks and several reads of the file).
    TempDir dir;
    std::string bytes;
    for (std::uint32_t i = 0; i < 200000; ++i) bytes += big_endian((i * 7919u) & 0xFFFF, 2);
    write_file(dir / "big.gz", gzip_stored(idx_header(0x0B, {400, 500}) + bytes));
    const array a = read_idx(dir / "big.gz");
    ASSERT_EQ(a.shape(), (shape_type{400, 500}));
    for (std::uint32_t i : {0u, 1u, 12345u, 199999u}) {
        const std::uint32_t bits = (i * 7919u) & 0xFFFF;
        EXPECT_EQ(a.data()[i], bits >= 0x8000 ? static_cast<double>(bits) - 65536.0 : bits);
    }
}

TEST(ReadIdx, ZeroExtentGivesAnEmptyArray) {
    TempDir dir;
    write_file(dir / "empty.idx", idx_header(0x0D, {3, 0}));
    const array a = read_idx(dir / "empty.idx");
    EXPECT_EQ(a.shape(), (shape_type{3, 0}));
    EXPECT_EQ(a.size(), 0u);
}

// ---------------------------------------------------------------------------------------------
// Errors, each naming the file.

TEST(ReadIdxErrors, MissingFileAndDirectory) {
    TempDir dir;
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "nope.gz"), idx_error,
                            dir / "nope.gz: cannot open file: No such file or directory");
    XGRAD_EXPECT_THROW_WITH(read_idx(dir.path()), idx_error, ": is a directory, not a file");
}

TEST(ReadIdxErrors, EmptyAndTooShort) {
    TempDir dir;
    write_file(dir / "empty", "");
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "empty"), idx_error,
                            dir / "empty: empty file: expected an IDX header");
    write_file(dir / "three", std::string(3, '\0'));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "three"), idx_error,
                            "too short for an IDX header: 3 bytes, the magic number alone takes 4");
    write_file(dir / "empty.gz", gzip_stored(""));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "empty.gz"), idx_error,
                            "the gzip stream holds no data: expected an IDX header");
}

TEST(ReadIdxErrors, NeitherGzipNorIdx) {
    TempDir dir;
    write_file(dir / "text", "hello, world");
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "text"), idx_error,
                            dir /
                                "text: wrong magic number 0x68656c6c: expected 0x0000 then a "
                                "type code; the file is not gzip-compressed either");
    write_file(dir / "text.gz", gzip_stored("hello, world"));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "text.gz"), idx_error,
                            "wrong magic number 0x68656c6c: expected 0x0000 then a type code "
                            "(after decompression)");
}

TEST(ReadIdxErrors, UnsupportedTypeCode) {
    TempDir dir;
    write_file(dir / "a.idx", idx_header(0x0A, {1}) + "x");
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "a.idx"), idx_error,
                            "unsupported type code 0x0a (magic number 0x00000a01): expected 0x08 "
                            "ubyte, 0x09 sbyte, 0x0b int16, 0x0c int32, 0x0d float32 or 0x0e "
                            "float64");
}

TEST(ReadIdxErrors, RankZero) {
    TempDir dir;
    write_file(dir / "a.idx", idx_header(0x08, {}) + "x");
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "a.idx"), idx_error,
                            "rank 0 (magic number 0x00000800): an IDX file has at least one "
                            "dimension");
}

TEST(ReadIdxErrors, HeaderCutInTheDimensions) {
    TempDir dir;
    write_file(dir / "a.idx", idx_header(0x08, {60000, 28, 28}).substr(0, 9));
    XGRAD_EXPECT_THROW_WITH(
        read_idx(dir / "a.idx"), idx_error,
        "the header is cut short: rank 3 needs 12 bytes of dimensions, found 5");
}

TEST(ReadIdxErrors, TooManyElements) {
    TempDir dir;
    write_file(dir / "a.idx", idx_header(0x08, {65536, 32769}));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "a.idx"), idx_error,
                            "dimensions (65536,32769) hold more than 2^31 elements");
    // Each dimension alone is near 2^32: the product is checked before it could overflow.
    write_file(dir / "b.idx", idx_header(0x0E, {0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "b.idx"), idx_error,
                            "dimensions (4294967295,4294967295,4294967295) hold more than 2^31");
    // 2^31 elements exactly are allowed; this header then promises 16 GiB it does not have, and
    // the reader finds that out without allocating them.
    write_file(dir / "c.idx", idx_header(0x0E, {65536, 32768}) + "12345678");
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "c.idx"), idx_error,
                            "expected 17179869184 bytes of data after the header, found 8");
    // A zero extent beside huge ones: no element, but the others' product is still bounded (an
    // array's strides multiply them; fuzz_idx found the overflow)
    write_file(dir / "d.idx", idx_header(0x08, {0, 0x40000000u, 0x40000000u}));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "d.idx"), idx_error,
                            "dimensions (0,1073741824,1073741824) hold more than 2^31 elements "
                            "(not counting the zero extent)");
    write_file(dir / "e.idx", idx_header(0x08, {3, 0, 65536}));
    EXPECT_EQ(read_idx(dir / "e.idx").shape(), (xgrad::shape_type{3, 0, 65536}));
}

TEST(ReadIdxErrors, HeaderPromisesMoreThanTheFileHas) {
    TempDir dir;
    write_file(dir / "train-images-idx3-ubyte",
               idx_header(0x08, {60000, 28, 28}) + std::string(1000, '\x05'));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "train-images-idx3-ubyte"), idx_error,
                            dir /
                                "train-images-idx3-ubyte: expected 47040000 bytes of data after "
                                "the header, found 1000 (rank 3 ubyte, shape (60000,28,28))");
    write_file(dir / "a.gz", gzip_stored(idx_header(0x0C, {2, 3}) + std::string(20, '\0')));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "a.gz"), idx_error,
                            "expected 24 bytes of data after the header, found 20");
}

TEST(ReadIdxErrors, TrailingBytesAfterTheData) {
    TempDir dir;
    write_file(dir / "a.idx", idx_header(0x08, {2, 3}) + "abcdefgh");
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "a.idx"), idx_error,
                            "2 trailing bytes after the data (rank 2 ubyte, shape (2,3) takes 6 "
                            "bytes after the header)");
    write_file(dir / "a.gz", gzip_stored(idx_header(0x0B, {3}) + "abcdefg"));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "a.gz"), idx_error,
                            "1 trailing bytes after the data (rank 1 int16, shape (3,)");
}

TEST(ReadIdxErrors, GzipCutInTheMiddle) {
    TempDir dir;
    for (const char* name : {"/t10k-labels-idx1-ubyte.gz", "/train-images-idx3-ubyte.gz"}) {
        const std::string whole = slurp(sample_dir + name);
        ASSERT_GT(whole.size(), 500u);
        write_file(dir / "cut.gz", whole.substr(0, whole.size() / 2));
        XGRAD_EXPECT_THROW_WITH(read_idx(dir / "cut.gz"), idx_error,
                                dir /
                                    "cut.gz: gzip stream cut short: the file ends inside the "
                                    "compressed data, after ");
    }
    // The data complete, the trailer (CRC and size) missing.
    const std::string member = gzip_stored(idx_header(0x08, {2}) + "ab");
    write_file(dir / "trailer.gz", member.substr(0, member.size() - 8));
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "trailer.gz"), idx_error,
                            "gzip stream cut short: the file ends inside the compressed data, "
                            "after 10 bytes of decompressed data");
    write_file(dir / "magic.gz", "\x1f\x8b");
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "magic.gz"), idx_error,
                            "gzip stream cut short: the file ends inside the compressed data, "
                            "after 0 bytes");
}

TEST(ReadIdxErrors, CorruptGzipGivesZlibsMessage) {
    TempDir dir;
    std::string member = gzip_stored(idx_header(0x08, {2}) + "ab");
    std::string bad_crc = member;
    bad_crc[bad_crc.size() - 8] ^= 0x01;
    write_file(dir / "crc.gz", bad_crc);
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "crc.gz"), idx_error,
                            dir / "crc.gz: corrupt gzip stream: incorrect data check");
    std::string bad_length = member;
    bad_length[bad_length.size() - 4] ^= 0x01;  // ISIZE
    write_file(dir / "size.gz", bad_length);
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "size.gz"), idx_error,
                            "corrupt gzip stream: incorrect length check");
    std::string bad_block = member;
    bad_block[13] ^= 0x01;  // NLEN no longer the complement of LEN
    write_file(dir / "block.gz", bad_block);
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "block.gz"), idx_error,
                            "corrupt gzip stream: invalid stored block lengths");
    std::string bad_method = member;
    bad_method[2] = 0x07;
    write_file(dir / "method.gz", bad_method);
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "method.gz"), idx_error,
                            "corrupt gzip stream: unknown compression method");
}

TEST(ReadIdxErrors, BytesAfterTheGzipStream) {
    TempDir dir;
    write_file(dir / "a.gz", gzip_stored(idx_header(0x08, {2}) + "ab") + "xyz");
    XGRAD_EXPECT_THROW_WITH(read_idx(dir / "a.gz"), idx_error,
                            "3 bytes after the end of the gzip stream are not gzip data");
}

std::size_t open_files() {
    std::size_t count = 0;
    DIR* dir = ::opendir("/proc/self/fd");
    while (::readdir(dir) != nullptr) ++count;
    ::closedir(dir);
    return count;
}

TEST(ReadIdxErrors, EveryFailureClosesTheFile) {
    TempDir dir;
    write_file(dir / "text", "hello, world");
    std::string crc = gzip_stored(idx_header(0x08, {2}) + "ab");
    crc[crc.size() - 8] ^= 0x01;
    write_file(dir / "crc.gz", crc);
    write_file(dir / "short.idx", idx_header(0x08, {2, 3}) + "ab");
    const std::size_t before = open_files();
    for (int i = 0; i < 10; ++i) {
        for (const std::string& path :
             {dir.path(), dir / "text", dir / "crc.gz", dir / "short.idx"}) {
            EXPECT_THROW(read_idx(path), idx_error) << path;
        }
    }
    EXPECT_EQ(open_files(), before);
}

// ---------------------------------------------------------------------------------------------
// read_idx_images

TEST(ReadIdxImages, ScalesPixelsAndReadsLabels) {
    TempDir dir;
    write_file(dir / "images", idx_header(0x08, {2, 2, 3}) + std::string("\x00\x01\x02\x80\xfe\xff"
                                                                         "\x10\x20\x30\x40\x50\x60",
                                                                         12));
    write_file(dir / "labels.gz", gzip_stored(idx_header(0x08, {2}) + "\x04\x01"));
    const ImageDataset d = read_idx_images(dir / "images", dir / "labels.gz");
    EXPECT_EQ(d.images.shape(), (shape_type{2, 1, 2, 3}));
    EXPECT_EQ(d.images(0, 0, 0, 0), 0.0);
    EXPECT_EQ(d.images(0, 0, 0, 2), 2 / 255.0);
    EXPECT_EQ(d.images(0, 0, 1, 0), 128 / 255.0);
    EXPECT_EQ(d.images(0, 0, 1, 2), 1.0);
    EXPECT_EQ(d.images(1, 0, 1, 2), 0x60 / 255.0);
    EXPECT_EQ(d.labels, (std::vector<std::size_t>{4, 1}));
    EXPECT_EQ(d.classes, 5u);
}

TEST(ReadIdxImages, NoImages) {
    TempDir dir;
    write_file(dir / "images", idx_header(0x08, {0, 28, 28}));
    write_file(dir / "labels", idx_header(0x08, {0}));
    const ImageDataset d = read_idx_images(dir / "images", dir / "labels");
    EXPECT_EQ(d.images.shape(), (shape_type{0, 1, 28, 28}));
    EXPECT_TRUE(d.labels.empty());
    EXPECT_EQ(d.classes, 0u);
}

TEST(ReadIdxImages, CountMismatch) {
    TempDir dir;
    write_file(dir / "train-images-idx3-ubyte.gz",
               gzip_stored(idx_header(0x08, {3, 1, 2}) + "abcdef"));
    write_file(dir / "train-labels-idx1-ubyte.gz", gzip_stored(idx_header(0x08, {2}) + "\x01\x02"));
    XGRAD_EXPECT_THROW_WITH(
        read_idx_images(dir / "train-images-idx3-ubyte.gz", dir / "train-labels-idx1-ubyte.gz"),
        idx_error,
        dir / "train-images-idx3-ubyte.gz has 3 images but " + dir.path() +
            "/train-labels-idx1-ubyte.gz has 2 labels");
}

TEST(ReadIdxImages, WrongRankOrType) {
    TempDir dir;
    write_file(dir / "labels", idx_header(0x08, {3}) + "abc");
    write_file(dir / "flat", idx_header(0x08, {3, 4}) + std::string(12, 'x'));
    XGRAD_EXPECT_THROW_WITH(read_idx_images(dir / "flat", dir / "labels"), idx_error,
                            dir /
                                "flat: expected a rank-3 ubyte IDX file of images (count, rows, "
                                "cols), found rank 2 ubyte, shape (3,4)");
    write_file(dir / "int32", idx_header(0x0C, {3, 1, 1}) + std::string(12, 'x'));
    XGRAD_EXPECT_THROW_WITH(read_idx_images(dir / "int32", dir / "labels"), idx_error,
                            "found rank 3 int32, shape (3,1,1)");
    write_file(dir / "images", idx_header(0x08, {3, 1, 1}) + "abc");
    write_file(dir / "labels2", idx_header(0x08, {3, 1}) + "abc");
    XGRAD_EXPECT_THROW_WITH(read_idx_images(dir / "images", dir / "labels2"), idx_error,
                            dir /
                                "labels2: expected a rank-1 ubyte IDX file of labels (count,), "
                                "found rank 2 ubyte, shape (3,1)");
    write_file(dir / "labels16", idx_header(0x0B, {3}) + "abcdef");
    XGRAD_EXPECT_THROW_WITH(read_idx_images(dir / "images", dir / "labels16"), idx_error,
                            "found rank 1 int16, shape (3,)");
    // Errors of read_idx pass through, naming the file.
    XGRAD_EXPECT_THROW_WITH(read_idx_images(dir / "images", dir / "none"), idx_error,
                            dir / "none: cannot open file");
}

// ---------------------------------------------------------------------------------------------
// BatchLoader

/// @brief (n, k) inputs whose row i is 1000·i + 0, 1, ..., k-1, and labels i mod 10.
std::pair<array, std::vector<std::size_t>> numbered(std::size_t n, std::size_t k) {
    array x = array::from_shape({n, k});
    std::vector<std::size_t> y(n);
    for (std::size_t i = 0; i < n; ++i) {
        y[i] = i % 10;
        for (std::size_t j = 0; j < k; ++j) x(i, j) = 1000.0 * i + j;
    }
    return {x, y};
}

/// @brief Every sample index of an epoch, batch after batch.
std::vector<std::size_t> epoch_indices(BatchLoader& loader, std::size_t epoch) {
    loader.start_epoch(epoch);
    std::vector<std::size_t> all;
    for (std::size_t i = 0; i < loader.batches(); ++i) {
        const data::Batch& b = loader.batch(i);
        all.insert(all.end(), b.indices.begin(), b.indices.end());
    }
    return all;
}

std::vector<std::size_t> iota(std::size_t n) {
    std::vector<std::size_t> out(n);
    std::iota(out.begin(), out.end(), std::size_t{0});
    return out;
}

TEST(BatchLoader, EverySampleExactlyOncePerEpoch) {
    auto [x, y] = numbered(103, 2);
    BatchLoader loader(x, y, 10, true, 7);
    EXPECT_EQ(loader.samples(), 103u);
    EXPECT_EQ(loader.batches(), 11u);
    for (std::size_t epoch = 0; epoch < 5; ++epoch) {
        std::vector<std::size_t> all = epoch_indices(loader, epoch);
        EXPECT_EQ(all, loader.order());
        EXPECT_NE(all, iota(103)) << "epoch " << epoch << " is not shuffled";
        std::sort(all.begin(), all.end());
        EXPECT_EQ(all, iota(103)) << "epoch " << epoch;
    }
}

TEST(BatchLoader, SameSeedSameOrderOtherSeedOtherOrder) {
    auto [x, y] = numbered(50, 1);
    BatchLoader a(x, y, 8, true, 42), b(x, y, 8, true, 42), c(x, y, 8, true, 43);
    for (std::size_t epoch = 0; epoch < 4; ++epoch) {
        EXPECT_EQ(epoch_indices(a, epoch), epoch_indices(b, epoch));
        EXPECT_NE(epoch_indices(a, epoch), epoch_indices(c, epoch));
    }
}

TEST(BatchLoader, EachEpochHasItsOwnOrderThatDependsOnlyOnSeedAndEpoch) {
    auto [x, y] = numbered(50, 1);
    BatchLoader loader(x, y, 8, true, 5);
    std::set<std::vector<std::size_t>> orders;
    std::vector<std::vector<std::size_t>> by_epoch;
    for (std::size_t epoch = 0; epoch < 6; ++epoch) {
        by_epoch.push_back(epoch_indices(loader, epoch));
        orders.insert(by_epoch.back());
    }
    EXPECT_EQ(orders.size(), 6u);
    // Going back to an epoch, or starting at it in a fresh loader, gives the same order.
    EXPECT_EQ(epoch_indices(loader, 2), by_epoch[2]);
    BatchLoader fresh(x, y, 8, true, 5);
    EXPECT_EQ(epoch_indices(fresh, 4), by_epoch[4]);
    EXPECT_EQ(loader.epoch(), 2u);
}

TEST(BatchLoader, OrderIsTheDocumentedPermutation) {
    // splitmix64(splitmix64(seed) + epoch) seeds xgrad::Random, whose Fisher-Yates shuffle of
    // 0..n-1 is the epoch's order: pinned so that a run stays reproducible across versions.
    const auto splitmix64 = [](std::uint64_t v) {
        v += 0x9e3779b97f4a7c15ULL;
        v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9ULL;
        v = (v ^ (v >> 27)) * 0x94d049bb133111ebULL;
        return v ^ (v >> 31);
    };
    auto [x, y] = numbered(37, 1);
    BatchLoader loader(x, y, 5, true, 123);
    for (std::size_t epoch : {0u, 1u, 9u}) {
        loader.start_epoch(epoch);
        EXPECT_EQ(loader.order(), Random(splitmix64(splitmix64(123) + epoch)).permutation(37));
    }
}

TEST(BatchLoader, WithoutShuffleInOrder) {
    auto [x, y] = numbered(10, 3);
    BatchLoader loader(x, y, 4, false);
    for (std::size_t epoch = 0; epoch < 3; ++epoch) {
        EXPECT_EQ(epoch_indices(loader, epoch), iota(10));
    }
    const data::Batch& b = loader.batch(1);
    EXPECT_EQ(b.indices, (std::vector<std::size_t>{4, 5, 6, 7}));
    EXPECT_EQ(b.labels, (std::vector<std::size_t>{4, 5, 6, 7}));
    EXPECT_EQ(b.inputs, xt::view(x, xt::range(4, 8), xt::all()));
}

TEST(BatchLoader, LastPartialBatchAndDropLast) {
    auto [x, y] = numbered(10, 2);
    BatchLoader keep(x, y, 4, true, 1);
    ASSERT_EQ(keep.batches(), 3u);
    EXPECT_EQ(keep.batch(0).size(), 4u);
    EXPECT_EQ(keep.batch(1).size(), 4u);
    EXPECT_EQ(keep.batch(2).size(), 2u);
    EXPECT_EQ(keep.batch(2).inputs.shape(), (shape_type{2, 2}));
    XGRAD_EXPECT_THROW_WITH(keep.batch(3), std::out_of_range,
                            "BatchLoader::batch: batch 3 is out of range for the 3 batches of an "
                            "epoch");

    BatchLoader drop(x, y, 4, true, 1, true);
    ASSERT_EQ(drop.batches(), 2u);
    std::vector<std::size_t> seen;
    for (std::size_t i = 0; i < drop.batches(); ++i) {
        EXPECT_EQ(drop.batch(i).size(), 4u);
        seen.insert(seen.end(), drop.batch(i).indices.begin(), drop.batch(i).indices.end());
    }
    // The first 8 of the same order as without drop_last; the other two are skipped.
    EXPECT_EQ(seen, std::vector<std::size_t>(keep.order().begin(), keep.order().begin() + 8));

    BatchLoader exact(x, y, 5, true, 1, true);
    EXPECT_EQ(exact.batches(), 2u);
    BatchLoader too_few(x, y, 11, true, 1, true);
    EXPECT_EQ(too_few.batches(), 0u);
    XGRAD_EXPECT_THROW_WITH(too_few.batch(0), std::out_of_range, "for the 0 batches");
    BatchLoader one(x, y, 11);
    ASSERT_EQ(one.batches(), 1u);
    EXPECT_EQ(one.batch(0).size(), 10u);
}

TEST(BatchLoader, ABatchSizeNearSizeMaxGivesOneBatchOfEverything) {
    // ceil(n / b) as (n + b - 1) / b wrapped for b near SIZE_MAX: 0 batches for n > 0
    const std::size_t huge = std::numeric_limits<std::size_t>::max();
    for (const std::size_t b : {huge, huge - 1, huge / 2 + 1}) {
        SCOPED_TRACE(b);
        BatchLoader loader(xt::arange<double>(5.0), {0, 1, 2, 3, 4}, b, false);
        ASSERT_EQ(loader.batches(), 1u);
        const data::Batch& batch = loader.batch(0);
        EXPECT_EQ(batch.indices, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
        EXPECT_EQ(batch.inputs, xt::arange<double>(5.0));
        BatchLoader dropping(xt::arange<double>(5.0), {0, 1, 2, 3, 4}, b, false, 0, true);
        EXPECT_EQ(dropping.batches(), 0u);
    }
    BatchLoader empty(xt::zeros<double>({0}), {}, huge, false);
    EXPECT_EQ(empty.batches(), 0u);
}

TEST(BatchLoader, BatchesAreTheSelectedRowsRank2) {
    auto [x, y] = numbered(23, 4);
    BatchLoader loader(x, y, 6, true, 11);
    for (std::size_t epoch = 0; epoch < 2; ++epoch) {
        loader.start_epoch(epoch);
        for (std::size_t i = 0; i < loader.batches(); ++i) {
            const data::Batch& b = loader.batch(i);
            ASSERT_EQ(b.inputs.shape(), (shape_type{b.size(), 4}));
            for (std::size_t k = 0; k < b.size(); ++k) {
                EXPECT_EQ(b.indices[k], loader.order()[i * 6 + k]);
                EXPECT_EQ(b.labels[k], y[b.indices[k]]);
                EXPECT_EQ(xt::view(b.inputs, k, xt::all()), xt::view(x, b.indices[k], xt::all()));
            }
        }
    }
}

TEST(BatchLoader, BatchesAreTheSelectedImagesRank4) {
    std::mt19937_64 rng(3);
    const array x = testing::random_array(rng, {9, 1, 2, 3});
    std::vector<std::size_t> y = {3, 1, 4, 1, 5, 9, 2, 6, 5};
    BatchLoader loader(x, y, 4, true, 2);
    ASSERT_EQ(loader.batches(), 3u);
    for (std::size_t i = 0; i < loader.batches(); ++i) {
        const data::Batch& b = loader.batch(i);
        ASSERT_EQ(b.inputs.shape(), (shape_type{b.size(), 1, 2, 3}));
        for (std::size_t k = 0; k < b.size(); ++k) {
            EXPECT_EQ(b.labels[k], y[b.indices[k]]);
            EXPECT_EQ(xt::view(b.inputs, k), xt::view(x, b.indices[k]));
        }
    }
}

TEST(BatchLoader, Rank1InputsAndEmptyDataSet) {
    array x = {10.0, 11.0, 12.0};
    BatchLoader loader(x, {0, 1, 2}, 2, false);
    EXPECT_EQ(loader.batch(0).inputs, (array{10.0, 11.0}));
    EXPECT_EQ(loader.batch(1).inputs, (array{12.0}));

    BatchLoader empty(array::from_shape({0, 5}), {}, 3);
    EXPECT_EQ(empty.batches(), 0u);
    EXPECT_TRUE(epoch_indices(empty, 1).empty());
}

TEST(BatchLoader, BuffersAreReused) {
    auto [x, y] = numbered(10, 3);
    BatchLoader loader(x, y, 4, true, 9);
    const double* full = loader.batch(0).inputs.data();
    EXPECT_EQ(loader.batch(1).inputs.data(), full);
    const double* last = loader.batch(2).inputs.data();
    for (std::size_t epoch = 1; epoch < 4; ++epoch) {
        loader.start_epoch(epoch);
        EXPECT_EQ(loader.batch(0).inputs.data(), full);
        EXPECT_EQ(loader.batch(1).inputs.data(), full);
        EXPECT_EQ(loader.batch(2).inputs.data(), last);
    }
}

TEST(BatchLoader, Errors) {
    auto [x, y] = numbered(5, 3);
    XGRAD_EXPECT_THROW_WITH(BatchLoader(x, y, 0), std::invalid_argument,
                            "BatchLoader: batch_size must be at least 1, got 0");
    y.pop_back();
    XGRAD_EXPECT_THROW_WITH(BatchLoader(x, y, 2), shape_error,
                            "BatchLoader: inputs of shape (5,3) hold 5 samples but there are 4 "
                            "labels");
    XGRAD_EXPECT_THROW_WITH(BatchLoader(array(1.0), {0}, 2), shape_error,
                            "BatchLoader: inputs of shape () have no sample axis");
}

}  // namespace
}  // namespace xgrad
