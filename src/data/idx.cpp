// IDX files (the MNIST format), gzip-compressed or plain, and the Fashion-MNIST image sets.
#include "xgrad/data/idx.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>

#include "xgrad/data/io.hpp"

namespace xgrad::data {
namespace {

/// @brief The most elements an IDX file may hold (a header above it is taken as corrupt).
constexpr std::size_t max_elements = std::size_t{1} << 31;

/// @brief Raw bytes read from the file at a time.
constexpr std::size_t chunk_bytes = std::size_t{1} << 18;

std::string hex(std::uint32_t value, int digits) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%0*x", digits, static_cast<unsigned>(value));
    return text;
}

/// @brief The content of a file, inflated on the fly when the file is gzip-compressed (one or
/// more concatenated members), read in order. Every failure throws idx_error naming the file.
class ByteSource {
  public:
    explicit ByteSource(const std::string& path) : name_(escaped(path)), in_(chunk_bytes) {
        file_.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (file_.fd < 0) fail(std::string("cannot open file: ") + std::strerror(errno));
        struct stat info {};
        if (::fstat(file_.fd, &info) == 0 && S_ISDIR(info.st_mode)) {
            fail("is a directory, not a file");
        }
        while (in_end_ < 2 && fill()) {
        }
        gzip_ = in_end_ >= 2 && in_[0] == 0x1f && in_[1] == 0x8b;
        if (gzip_) {
            const int status = inflateInit2(&zs_, 16 + MAX_WBITS);  // 16: a gzip wrapper
            if (status == Z_MEM_ERROR) throw std::bad_alloc();
            if (status != Z_OK) fail("cannot start zlib: " + zlib_message(status));
            stream_open_ = true;
        }
    }
    ~ByteSource() {
        if (stream_open_) inflateEnd(&zs_);
    }
    ByteSource(const ByteSource&) = delete;
    ByteSource& operator=(const ByteSource&) = delete;

    bool gzip() const { return gzip_; }

    /// @brief Reads up to `n` bytes of content into `out`; fewer only at the end of the content.
    std::size_t read(unsigned char* out, std::size_t n) {
        return gzip_ ? read_gzip(out, n) : read_plain(out, n);
    }

    [[noreturn]] void fail(const std::string& problem) const {
        throw idx_error(name_ + ": " + problem);
    }

  private:
    std::string zlib_message(int status) const {
        if (zs_.msg != nullptr) return zs_.msg;
        return "zlib error " + std::to_string(status);
    }

    /// @brief Reads from the file into `out`; 0 at the end of the file.
    std::size_t raw_read(unsigned char* out, std::size_t n) {
        for (;;) {
            const ssize_t got =
                ::read(file_.fd, out, std::min<std::size_t>(n, std::size_t{1} << 30));
            if (got >= 0) return static_cast<std::size_t>(got);
            if (errno != EINTR) fail(std::string("cannot read: ") + std::strerror(errno));
        }
    }

    /// @brief Moves the unread raw bytes to the front of the buffer and reads more after them;
    /// false at the end of the file.
    bool fill() {
        if (eof_) return false;
        if (in_begin_ > 0) {
            std::memmove(in_.data(), in_.data() + in_begin_, in_end_ - in_begin_);
            in_end_ -= in_begin_;
            in_begin_ = 0;
        }
        const std::size_t got = raw_read(in_.data() + in_end_, in_.size() - in_end_);
        if (got == 0) eof_ = true;
        in_end_ += got;
        return got > 0;
    }

    std::size_t read_plain(unsigned char* out, std::size_t n) {
        std::size_t done = std::min(n, in_end_ - in_begin_);
        std::memcpy(out, in_.data() + in_begin_, done);
        in_begin_ += done;
        while (done < n && !eof_) {
            const std::size_t got = raw_read(out + done, n - done);
            if (got == 0) eof_ = true;
            done += got;
        }
        return done;
    }

    std::size_t read_gzip(unsigned char* out, std::size_t n) {
        std::size_t done = 0;
        while (done < n && !finished_) {
            if (in_begin_ == in_end_) fill();
            const std::size_t room = std::min<std::size_t>(n - done, UINT_MAX);
            zs_.next_in = in_.data() + in_begin_;
            zs_.avail_in = static_cast<uInt>(in_end_ - in_begin_);
            zs_.next_out = out + done;
            zs_.avail_out = static_cast<uInt>(room);
            const int status = inflate(&zs_, Z_NO_FLUSH);
            const std::size_t got = room - zs_.avail_out;
            done += got;
            produced_ += got;
            in_begin_ = in_end_ - zs_.avail_in;
            switch (status) {
                case Z_OK:
                    break;
                case Z_STREAM_END:
                    next_member();
                    break;
                case Z_BUF_ERROR:  // no progress: the input is used up (there is room for output)
                    if (in_begin_ == in_end_ && eof_) {
                        fail(
                            "gzip stream cut short: the file ends inside the compressed data, "
                            "after " +
                            std::to_string(produced_) + " bytes of decompressed data");
                    }
                    break;
                case Z_MEM_ERROR:
                    throw std::bad_alloc();
                default:  // Z_DATA_ERROR (Z_NEED_DICT and Z_STREAM_ERROR cannot occur for gzip)
                    fail("corrupt gzip stream: " + zlib_message(status));
            }
        }
        return done;
    }

    /// @brief After a gzip member's end: the end of the content at the end of the file, the
    /// next member if one follows; anything else is an error.
    void next_member() {
        while (in_end_ - in_begin_ < 2 && fill()) {
        }
        if (in_begin_ == in_end_) {
            finished_ = true;
            return;
        }
        if (in_end_ - in_begin_ >= 2 && in_[in_begin_] == 0x1f && in_[in_begin_ + 1] == 0x8b) {
            inflateReset(&zs_);
            return;
        }
        std::uint64_t extra = in_end_ - in_begin_;
        in_begin_ = in_end_ = 0;
        while (fill()) {
            extra += in_end_;
            in_end_ = 0;
        }
        fail(std::to_string(extra) + " bytes after the end of the gzip stream are not gzip data");
    }

    /// @brief Closes the file however the reader is left, a throwing constructor included.
    struct FileDescriptor {
        int fd = -1;
        FileDescriptor() = default;
        FileDescriptor(const FileDescriptor&) = delete;
        FileDescriptor& operator=(const FileDescriptor&) = delete;
        ~FileDescriptor() {
            if (fd >= 0) ::close(fd);
        }
    };

    std::string name_;  ///< the path, escaped for messages
    FileDescriptor file_;
    std::vector<unsigned char> in_;  ///< raw bytes from the file
    std::size_t in_begin_ = 0;       ///< the unread raw bytes are in_[in_begin_, in_end_)
    std::size_t in_end_ = 0;
    bool eof_ = false;
    bool gzip_ = false;
    bool stream_open_ = false;
    bool finished_ = false;  ///< gzip: the last member ended at the end of the file
    std::uint64_t produced_ = 0;
    z_stream zs_{};
};

/// @brief Bytes per element of an IDX type code, 0 for an unknown code.
std::size_t type_width(unsigned type) {
    switch (type) {
        case 0x08:
        case 0x09:
            return 1;
        case 0x0B:
            return 2;
        case 0x0C:
        case 0x0D:
            return 4;
        case 0x0E:
            return 8;
        default:
            return 0;
    }
}

const char* type_name(unsigned type) {
    switch (type) {
        case 0x08:
            return "ubyte";
        case 0x09:
            return "sbyte";
        case 0x0B:
            return "int16";
        case 0x0C:
            return "int32";
        case 0x0D:
            return "float32";
        default:
            return "float64";
    }
}

std::string format_dims(const std::vector<std::size_t>& dims) {
    std::string out = "(";
    for (std::size_t i = 0; i < dims.size(); ++i) {
        if (i > 0) out += ",";
        out += std::to_string(dims[i]);
    }
    return out + (dims.size() == 1 ? ",)" : ")");
}

/// @brief An IDX file's header and its data bytes as stored (big-endian).
struct RawIdx {
    unsigned type = 0;
    std::vector<std::size_t> dims;
    std::size_t elements = 0;
    std::vector<unsigned char> bytes;

    std::string describe() const {
        return "rank " + std::to_string(dims.size()) + " " + type_name(type) + ", shape " +
               format_dims(dims);
    }
};

std::uint32_t big_endian32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

RawIdx read_raw(const std::string& path) {
    ByteSource source(path);
    RawIdx idx;
    unsigned char magic[4];
    const std::size_t magic_bytes = source.read(magic, 4);
    if (magic_bytes == 0) {
        source.fail(source.gzip() ? "the gzip stream holds no data: expected an IDX header"
                                  : "empty file: expected an IDX header");
    }
    if (magic_bytes < 4) {
        source.fail("too short for an IDX header: " + std::to_string(magic_bytes) +
                    " bytes, the magic number alone takes 4");
    }
    const std::uint32_t number = big_endian32(magic);
    if (magic[0] != 0 || magic[1] != 0) {
        source.fail("wrong magic number " + hex(number, 8) + ": expected 0x0000 then a type code" +
                    (source.gzip() ? " (after decompression)"
                                   : "; the file is not gzip-compressed either"));
    }
    idx.type = magic[2];
    const std::size_t width = type_width(idx.type);
    if (width == 0) {
        source.fail("unsupported type code " + hex(idx.type, 2) + " (magic number " +
                    hex(number, 8) +
                    "): expected 0x08 ubyte, 0x09 sbyte, 0x0b int16, 0x0c int32, 0x0d float32 "
                    "or 0x0e float64");
    }
    const std::size_t rank = magic[3];
    if (rank == 0) {
        source.fail("rank 0 (magic number " + hex(number, 8) +
                    "): an IDX file has at least one dimension");
    }
    unsigned char dims[4 * 255];
    const std::size_t dim_bytes = source.read(dims, 4 * rank);
    if (dim_bytes < 4 * rank) {
        source.fail("the header is cut short: rank " + std::to_string(rank) + " needs " +
                    std::to_string(4 * rank) + " bytes of dimensions, found " +
                    std::to_string(dim_bytes));
    }
    bool empty = false;
    for (std::size_t i = 0; i < rank; ++i) {
        idx.dims.push_back(big_endian32(dims + 4 * i));
        empty = empty || idx.dims.back() == 0;
    }
    // The product of the non-zero extents is bounded even when another extent is 0: an array's
    // strides are products of its extents, and (0, 2^30, 2^30, 2^30) would overflow them (found
    // by fuzz/fuzz_idx.cpp).
    std::size_t product = 1;
    for (std::size_t i = 0; i < rank; ++i) {
        if (idx.dims[i] == 0) continue;
        // Both factors are at most 2^32, so the product fits in 64 bits before the check.
        product *= idx.dims[i];
        if (product > max_elements) {
            source.fail("dimensions " + format_dims(idx.dims) + " hold more than 2^31 elements" +
                        (empty ? " (not counting the zero extent)" : "") +
                        ": the header is corrupt");
        }
    }
    idx.elements = empty ? 0 : product;
    // The buffer grows with the data actually read, so a header that promises more than the
    // file holds costs no more memory than the file's content.
    const std::size_t expected = idx.elements * width;
    std::size_t filled = 0;
    while (filled < expected) {
        if (filled == idx.bytes.size()) {
            idx.bytes.resize(std::min(
                expected, std::max<std::size_t>(std::size_t{1} << 20, 2 * idx.bytes.size())));
        }
        const std::size_t wanted = idx.bytes.size() - filled;
        const std::size_t got = source.read(idx.bytes.data() + filled, wanted);
        filled += got;
        if (got < wanted) break;
    }
    if (filled < expected) {
        source.fail("expected " + std::to_string(expected) +
                    " bytes of data after the header, found " + std::to_string(filled) + " (" +
                    idx.describe() + ")");
    }
    std::uint64_t extra = 0;
    unsigned char scratch[1 << 12];
    for (std::size_t got; (got = source.read(scratch, sizeof scratch)) > 0;) extra += got;
    if (extra > 0) {
        source.fail(std::to_string(extra) + " trailing bytes after the data (" + idx.describe() +
                    " takes " + std::to_string(expected) + " bytes after the header)");
    }
    return idx;
}

/// @brief The values of `idx` as doubles, each divided by `divisor`, into `out`.
void decode(const RawIdx& idx, double* out, double divisor = 1.0) {
    const unsigned char* p = idx.bytes.data();
    const std::size_t n = idx.elements;
    switch (idx.type) {
        case 0x08:
            for (std::size_t i = 0; i < n; ++i) out[i] = p[i] / divisor;
            break;
        case 0x09:
            for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::int8_t>(p[i]) / divisor;
            break;
        case 0x0B:
            for (std::size_t i = 0; i < n; ++i) {
                const unsigned bits = (unsigned{p[2 * i]} << 8) | p[2 * i + 1];
                out[i] = (bits >= 0x8000u ? static_cast<double>(bits) - 65536.0 : bits) / divisor;
            }
            break;
        case 0x0C:
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint32_t bits = big_endian32(p + 4 * i);
                out[i] = (bits >= 0x80000000u ? static_cast<double>(bits) - 4294967296.0 : bits) /
                         divisor;
            }
            break;
        case 0x0D:
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint32_t bits = big_endian32(p + 4 * i);
                float value;
                std::memcpy(&value, &bits, sizeof value);
                out[i] = value / divisor;
            }
            break;
        default:  // 0x0E
            for (std::size_t i = 0; i < n; ++i) {
                const std::uint64_t bits =
                    (std::uint64_t{big_endian32(p + 8 * i)} << 32) | big_endian32(p + 8 * i + 4);
                double value;
                std::memcpy(&value, &bits, sizeof value);
                out[i] = value / divisor;
            }
            break;
    }
}

}  // namespace

array read_idx(const std::string& path) {
    const RawIdx idx = read_raw(path);
    array out = array::from_shape(shape_type(idx.dims.begin(), idx.dims.end()));
    decode(idx, out.data());
    return out;
}

ImageDataset read_idx_images(const std::string& images_path, const std::string& labels_path) {
    const RawIdx images = read_raw(images_path);
    if (images.type != 0x08 || images.dims.size() != 3) {
        throw idx_error(escaped(images_path) +
                        ": expected a rank-3 ubyte IDX file of images (count, rows, cols), found " +
                        images.describe());
    }
    RawIdx labels = read_raw(labels_path);
    if (labels.type != 0x08 || labels.dims.size() != 1) {
        throw idx_error(escaped(labels_path) +
                        ": expected a rank-1 ubyte IDX file of labels (count,), found " +
                        labels.describe());
    }
    const std::size_t n = images.dims[0];
    if (labels.dims[0] != n) {
        throw idx_error(escaped(images_path) + " has " + std::to_string(n) + " images but " +
                        escaped(labels_path) + " has " + std::to_string(labels.dims[0]) +
                        " labels");
    }
    ImageDataset out;
    out.images = array::from_shape({n, std::size_t{1}, images.dims[1], images.dims[2]});
    decode(images, out.images.data(), 255.0);
    out.labels.assign(labels.bytes.begin(), labels.bytes.end());
    for (const std::size_t label : out.labels) out.classes = std::max(out.classes, label + 1);
    return out;
}

const std::vector<std::string>& fashion_mnist_classes() {
    static const std::vector<std::string> names = {
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    return names;
}

ImageDataset load_fashion_mnist(const std::string& dir, bool train) {
    const std::string split = train ? "train" : "t10k";
    const std::string images =
        (std::filesystem::path(dir) / (split + "-images-idx3-ubyte.gz")).string();
    const std::string labels =
        (std::filesystem::path(dir) / (split + "-labels-idx1-ubyte.gz")).string();
    ImageDataset out;
    try {
        out = read_idx_images(images, labels);
    } catch (const idx_error& e) {
        std::error_code ignored;
        if (!std::filesystem::exists(images, ignored) ||
            !std::filesystem::exists(labels, ignored)) {
            throw idx_error(std::string(e.what()) +
                            " (Fashion-MNIST: install Debian's package dataset-fashion-mnist, "
                            "which puts its four files in " +
                            fashion_mnist_dir + ", or pass the folder that holds them)");
        }
        throw;
    }
    // what the docstring promises: (n, 1, 28, 28) with n >= 1
    const shape_type& shape = out.images.shape();
    if (shape[2] != 28 || shape[3] != 28) {
        throw idx_error(escaped(images) + ": Fashion-MNIST images are 28x28, found " +
                        std::to_string(shape[2]) + "x" + std::to_string(shape[3]));
    }
    if (shape[0] == 0) throw idx_error(escaped(images) + ": holds no images");
    const std::size_t names = fashion_mnist_classes().size();
    if (out.classes > names) {
        throw idx_error(escaped(labels) + ": label " + std::to_string(out.classes - 1) +
                        " is out of range: Fashion-MNIST has " + std::to_string(names) +
                        " classes, 0 to " + std::to_string(names - 1));
    }
    out.classes = names;
    return out;
}

}  // namespace xgrad::data
