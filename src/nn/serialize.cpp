// .npz archives: NPY entries in a zip (stored on write; stored or deflated on read, CRC-32 from
// zlib), rendered into bytes and written with xgrad::write_file_atomically; save/load of a
// module's named parameters and buffers.
#include "xgrad/nn/serialize.hpp"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xmanipulation.hpp>

#include "xgrad/data/io.hpp"

namespace xgrad::nn {

namespace {

using Bytes = std::vector<unsigned char>;

constexpr std::uint32_t local_signature = 0x04034b50;
constexpr std::uint32_t central_signature = 0x02014b50;
constexpr std::uint32_t end_signature = 0x06054b50;
constexpr std::uint32_t zip64_locator_signature = 0x07064b50;
constexpr std::uint32_t max32 = 0xFFFFFFFFu;
constexpr std::uint16_t dos_date_1980_01_01 = (0 << 9) | (1 << 5) | 1;  // (year − 1980, month, day)

// ---- little-endian bytes ------------------------------------------------------------------

void put16(std::string& out, std::uint16_t v) {
    out.push_back(static_cast<char>(v & 0xFF));
    out.push_back(static_cast<char>(v >> 8));
}

void put32(std::string& out, std::uint32_t v) {
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
}

std::uint64_t get(const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int k = bytes - 1; k >= 0; --k) v = (v << 8) | p[k];
    return v;
}

std::uint16_t get16(const unsigned char* p) {
    return static_cast<std::uint16_t>(get(p, 2));
}

std::uint32_t get32(const unsigned char* p) {
    return static_cast<std::uint32_t>(get(p, 4));
}

std::uint32_t crc_of(const unsigned char* data, std::size_t size) {
    return static_cast<std::uint32_t>(crc32_z(crc32_z(0L, Z_NULL, 0), data, size));
}

std::string hex(std::uint32_t v) {
    char text[16];
    std::snprintf(text, sizeof text, "0x%08x", v);
    return text;
}

std::string system_error_text(int error) {
    return std::strerror(error);
}

// ---- writing ------------------------------------------------------------------------------

/// @brief An NPY file of `a`: version 1.0 ('<f8', C order), the header padded with spaces to a
/// multiple of 64 bytes and ended by '\n' (as numpy writes it); version 2.0 if the header needs
/// more than 65 535 bytes.
std::string npy_bytes(const array& a) {
    std::string shape = "(";
    const std::size_t rank = a.dimension();
    for (std::size_t k = 0; k < rank; ++k) {
        shape += std::to_string(a.shape()[k]);
        if (rank == 1) shape += ",";
        if (k + 1 < rank) shape += ", ";
    }
    shape += ")";
    std::string header = "{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + ", }";
    const bool version2 = header.size() + 1 + 10 + 63 > 0xFFFF;
    const std::size_t prefix = version2 ? 12 : 10;
    const std::size_t unpadded = prefix + header.size() + 1;
    header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
    std::string out = "\x93NUMPY";
    out.push_back(version2 ? 2 : 1);
    out.push_back(0);
    if (version2) {
        put32(out, static_cast<std::uint32_t>(header.size()));
    } else {
        put16(out, static_cast<std::uint16_t>(header.size()));
    }
    out += header;
    out.reserve(out.size() + 8 * a.size());
    for (double v : a) {
        std::uint64_t bits;
        std::memcpy(&bits, &v, sizeof bits);
        for (int k = 0; k < 8; ++k) out.push_back(static_cast<char>((bits >> (8 * k)) & 0xFF));
    }
    return out;
}

/// @brief The whole archive: local header + data per entry, the central directory, the end
/// record. Stored entries, version 2.0 needed, the date 1980-01-01 (so that equal states give
/// equal files), names flagged UTF-8 when not ASCII.
/// `who` starts the messages ("save: 'x.npz'", "npz_bytes").
std::string zip_bytes(const std::string& who, const NamedArrays& arrays) {
    std::map<std::string, int> seen;
    for (const auto& entry : arrays) {
        if (entry.first.empty()) throw std::invalid_argument(who + ": an array has an empty key");
        if (seen[entry.first]++ != 0) {
            throw std::invalid_argument(who + ": key " + quote_text(entry.first, 200) +
                                        " is given twice");
        }
    }
    if (arrays.size() > 0xFFFF) {
        throw std::runtime_error(who + ": " + std::to_string(arrays.size()) +
                                 " arrays exceed the zip limit of 65535 entries (no Zip64)");
    }
    auto too_large = [&who]() {
        return std::runtime_error(who + ": the archive exceeds the zip limit of 4 GiB (no Zip64)");
    };
    std::string out, directory;
    for (const auto& [key, value] : arrays) {
        const std::string name = key + ".npy";
        const std::string data = npy_bytes(value);
        const std::uint32_t crc =
            crc_of(reinterpret_cast<const unsigned char*>(data.data()), data.size());
        if (data.size() >= max32 || out.size() >= max32 || name.size() > 0xFFFF) throw too_large();
        bool ascii = true;
        for (unsigned char ch : name) ascii = ascii && ch < 0x80;
        const std::uint16_t flags = ascii ? 0 : (1u << 11);
        const auto offset = static_cast<std::uint32_t>(out.size());
        const auto size = static_cast<std::uint32_t>(data.size());
        const auto name_length = static_cast<std::uint16_t>(name.size());

        put32(out, local_signature);
        put16(out, 20);  // version needed: 2.0
        put16(out, flags);
        put16(out, 0);  // stored
        put16(out, 0);  // time 00:00
        put16(out, dos_date_1980_01_01);
        put32(out, crc);
        put32(out, size);  // compressed
        put32(out, size);  // uncompressed
        put16(out, name_length);
        put16(out, 0);  // extra field
        out += name;
        out += data;

        put32(directory, central_signature);
        put16(directory, (3 << 8) | 20);  // made by: Unix, 2.0
        put16(directory, 20);
        put16(directory, flags);
        put16(directory, 0);
        put16(directory, 0);
        put16(directory, dos_date_1980_01_01);
        put32(directory, crc);
        put32(directory, size);
        put32(directory, size);
        put16(directory, name_length);
        put16(directory, 0);               // extra
        put16(directory, 0);               // comment
        put16(directory, 0);               // disk
        put16(directory, 0);               // internal attributes
        put32(directory, 0100644u << 16);  // external: a regular file, rw-r--r--
        put32(directory, offset);
        directory += name;
    }
    if (out.size() >= max32 || directory.size() >= max32 ||
        out.size() + directory.size() >= max32) {
        throw too_large();
    }
    const auto directory_offset = static_cast<std::uint32_t>(out.size());
    const auto directory_size = static_cast<std::uint32_t>(directory.size());
    out += directory;
    put32(out, end_signature);
    put16(out, 0);  // this disk
    put16(out, 0);  // the directory's disk
    put16(out, static_cast<std::uint16_t>(arrays.size()));
    put16(out, static_cast<std::uint16_t>(arrays.size()));
    put32(out, directory_size);
    put32(out, directory_offset);
    put16(out, 0);  // comment
    return out;
}

// ---- reading ------------------------------------------------------------------------------

Bytes read_file(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        throw std::runtime_error("load: cannot open '" + escaped(path) +
                                 "': " + system_error_text(errno));
    }
    Bytes data;
    unsigned char chunk[1 << 16];
    for (;;) {
        const ssize_t got = ::read(fd, chunk, sizeof chunk);
        if (got < 0) {
            if (errno == EINTR) continue;
            const int error = errno;
            ::close(fd);
            throw std::runtime_error("load: cannot read '" + escaped(path) +
                                     "': " + system_error_text(error));
        }
        if (got == 0) break;
        data.insert(data.end(), chunk, chunk + got);
    }
    ::close(fd);
    return data;
}

/// @brief Throws the archive-level error for `path`.
[[noreturn]] void archive_error(const std::string& path, const std::string& what) {
    throw std::runtime_error("load: '" + escaped(path) + "': " + what);
}

/// @brief Throws the error of one entry of `path`.
[[noreturn]] void entry_error(const std::string& path, const std::string& entry,
                              const std::string& what) {
    // names from the file may hold any byte: quote_text escapes what would break the line
    throw std::runtime_error("load: '" + escaped(path) + "', entry " + quote_text(entry, 200) +
                             ": " + what);
}

/// @brief A Python literal of an NPY header: a string, True/False, or a tuple of integers.
struct Literal {
    enum Kind { text, boolean, tuple } kind = text;
    std::string string;
    bool flag = false;
    std::vector<std::size_t> numbers;
};

/// @brief The NPY header dictionary, {'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }
/// (strings in single or double quotes, a trailing comma allowed); false if it is not one.
bool parse_header(const std::string& h, std::map<std::string, Literal>& out) {
    std::size_t i = 0;
    auto skip = [&] {
        while (i < h.size() && (h[i] == ' ' || h[i] == '\n' || h[i] == '\t' || h[i] == '\r')) ++i;
    };
    auto parse_string = [&](std::string& s) {
        if (i >= h.size() || (h[i] != '\'' && h[i] != '"')) return false;
        const char quote = h[i++];
        const std::size_t end = h.find(quote, i);
        if (end == std::string::npos) return false;
        s = h.substr(i, end - i);
        i = end + 1;
        return true;
    };
    auto parse_number = [&](std::size_t& n) {
        if (i >= h.size() || h[i] < '0' || h[i] > '9') return false;
        n = 0;
        while (i < h.size() && h[i] >= '0' && h[i] <= '9') {
            const auto digit = static_cast<std::size_t>(h[i] - '0');
            if (n > (std::numeric_limits<std::size_t>::max() - digit) / 10) return false;
            n = n * 10 + digit;
            ++i;
        }
        if (i < h.size() && h[i] == 'L') ++i;  // Python 2's long suffix
        return true;
    };
    auto parse_value = [&](Literal& v) {
        skip();
        if (i < h.size() && (h[i] == '\'' || h[i] == '"')) {
            v.kind = Literal::text;
            return parse_string(v.string);
        }
        for (const char* word : {"True", "False"}) {
            const std::size_t n = std::strlen(word);
            if (h.compare(i, n, word) == 0) {
                v.kind = Literal::boolean;
                v.flag = word[0] == 'T';
                i += n;
                return true;
            }
        }
        if (i >= h.size() || h[i] != '(') return false;
        ++i;
        v.kind = Literal::tuple;
        for (;;) {
            skip();
            if (i < h.size() && h[i] == ')') {
                ++i;
                return true;
            }
            std::size_t n = 0;
            if (!parse_number(n)) return false;
            v.numbers.push_back(n);
            skip();
            if (i < h.size() && h[i] == ',') {
                ++i;
            } else if (i >= h.size() || h[i] != ')') {
                return false;
            }
        }
    };
    skip();
    if (i >= h.size() || h[i++] != '{') return false;
    for (;;) {
        skip();
        if (i < h.size() && h[i] == '}') {
            ++i;
            skip();
            return i == h.size();
        }
        std::string key;
        if (!parse_string(key)) return false;
        skip();
        if (i >= h.size() || h[i++] != ':') return false;
        Literal value;
        if (!parse_value(value) || out.count(key) != 0) return false;
        out[key] = std::move(value);
        skip();
        if (i < h.size() && h[i] == ',') {
            ++i;
        } else if (i >= h.size() || h[i] != '}') {
            return false;
        }
    }
}

/// @brief The array of one NPY entry; throws entry_error for anything but float64.
array parse_npy(const std::string& path, const std::string& entry, const unsigned char* p,
                std::size_t size) {
    if (size < 10 || std::memcmp(p, "\x93NUMPY", 6) != 0) {
        entry_error(path, entry, "not an NPY array (no \\x93NUMPY magic)");
    }
    const unsigned major = p[6];
    std::size_t start = 0, length = 0;
    if (major == 1) {
        start = 10;
        length = get16(p + 8);
    } else if (major == 2 || major == 3) {
        if (size < 12) entry_error(path, entry, "truncated NPY header");
        start = 12;
        length = get32(p + 8);
    } else {
        entry_error(path, entry,
                    "NPY format version " + std::to_string(major) + " is not supported (1 to 3)");
    }
    if (length > size - start) entry_error(path, entry, "truncated NPY header");
    const std::string header(reinterpret_cast<const char*>(p + start), length);
    std::map<std::string, Literal> fields;
    if (!parse_header(header, fields) || fields.count("descr") == 0 ||
        fields.count("fortran_order") == 0 || fields.count("shape") == 0 ||
        fields["fortran_order"].kind != Literal::boolean ||
        fields["shape"].kind != Literal::tuple) {
        entry_error(path, entry, "not an NPY header: " + header.substr(0, 120));
    }
    const Literal& descr = fields["descr"];
    if (descr.kind != Literal::text || (descr.string != "<f8" && descr.string != ">f8")) {
        const std::string name = descr.kind == Literal::text ? descr.string : "(a structured type)";
        entry_error(path, entry, "dtype " + quote_text(name, 200) + " is not float64 ('<f8')");
    }
    const bool big_endian = descr.string == ">f8";
    const bool fortran = fields["fortran_order"].flag;
    shape_type shape(fields["shape"].numbers.begin(), fields["shape"].numbers.end());
    std::size_t count = 1;
    for (std::size_t e : shape) {
        if (e != 0 && count > std::numeric_limits<std::size_t>::max() / 8 / e) {
            entry_error(path, entry, "shape " + format_shape(shape) + " is too large");
        }
        count *= e;
    }
    const std::size_t data_size = size - start - length;
    if (data_size != count * 8) {
        entry_error(path, entry,
                    "holds " + std::to_string(data_size) + " bytes of data, shape " +
                        format_shape(shape) + " needs " + std::to_string(count * 8));
    }
    shape_type stored = shape;
    if (fortran) std::reverse(stored.begin(), stored.end());
    array a = array::from_shape(stored);
    const unsigned char* data = p + start + length;
    for (std::size_t k = 0; k < count; ++k) {
        std::uint64_t bits = 0;
        for (int b = 0; b < 8; ++b) {
            const unsigned char byte = data[8 * k + static_cast<std::size_t>(b)];
            bits |= static_cast<std::uint64_t>(byte) << (8 * (big_endian ? 7 - b : b));
        }
        std::memcpy(a.data() + k, &bits, sizeof bits);
    }
    if (!fortran || shape.size() < 2) return a;
    return xt::transpose(a);
}

/// @brief A deflated entry inflated to exactly `size` bytes.
Bytes inflate_entry(const std::string& path, const std::string& entry, const unsigned char* in,
                    std::size_t in_size, std::size_t size) {
    // deflate expands at most 1032-fold: a larger stated size is corrupt, refused before it is
    // allocated (fuzz/fuzz_npz.cpp made a 600-byte file claim 2 GiB)
    if (size / 1032 > in_size + 1) {
        entry_error(path, entry,
                    "stated size " + std::to_string(size) + " is more than deflate can expand " +
                        std::to_string(in_size) + " compressed bytes to");
    }
    Bytes out(size);
    z_stream zs{};
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) entry_error(path, entry, "zlib failed to start");
    zs.next_in = const_cast<unsigned char*>(in);
    zs.avail_in = static_cast<uInt>(in_size);
    zs.next_out = out.data();
    zs.avail_out = static_cast<uInt>(size);
    const int status = inflate(&zs, Z_FINISH);
    const std::size_t produced = zs.total_out;
    inflateEnd(&zs);
    if (status != Z_STREAM_END || produced != size) {
        entry_error(
            path, entry,
            "the deflated data is corrupt or not of the stated size " + std::to_string(size));
    }
    return out;
}

/// @brief One central-directory entry's fields, Zip64 extra sizes applied.
struct EntryInfo {
    std::string name;
    std::uint16_t flags = 0, method = 0;
    std::uint32_t crc = 0;
    std::uint64_t compressed = 0, size = 0, offset = 0;
};

}  // namespace

std::string npz_bytes(const NamedArrays& arrays) {
    return zip_bytes("npz_bytes", arrays);
}

void save_npz(const std::string& path, const NamedArrays& arrays) {
    const std::string who = "save: '" + escaped(path) + "'";
    const std::string bytes = zip_bytes(who, arrays);
    try {
        write_file_atomically(path, bytes);
    } catch (const std::runtime_error& e) {
        // "<escaped path>: cannot write: File too large" as "save: '<path>': cannot write: ..."
        const std::string what = e.what(), prefix = escaped(path) + ": ";
        if (what.compare(0, prefix.size(), prefix) == 0) {
            throw std::runtime_error(who + ": " + what.substr(prefix.size()));
        }
        throw std::runtime_error("save: " + what);
    }
}

NamedArrays load_npz(const std::string& path) {
    const Bytes file = read_file(path);
    const std::size_t n = file.size();
    const unsigned char* base = file.data();
    // The end record: 22 bytes and a comment of up to 65 535, at the very end.
    std::size_t end = std::string::npos;
    if (n >= 22) {
        const std::size_t lowest = n - 22 > 0xFFFF ? n - 22 - 0xFFFF : 0;
        for (std::size_t pos = n - 22 + 1; pos-- > lowest;) {
            if (get32(base + pos) == end_signature && get16(base + pos + 20) <= n - pos - 22) {
                end = pos;
                break;
            }
        }
    }
    if (end == std::string::npos) {
        // a file that starts as a zip archive (a local header) but lost its end: cut short
        const bool zip_start = n >= 4 && get32(base) == local_signature;
        archive_error(path, std::string(zip_start ? "truncated zip archive" : "not a zip archive") +
                                " (no end-of-central-directory record)");
    }
    const unsigned char* e = base + end;
    const std::uint16_t entries = get16(e + 10);
    const std::uint32_t directory_size = get32(e + 12);
    const std::uint32_t directory_offset = get32(e + 16);
    if (get16(e + 4) != 0 || get16(e + 6) != 0 || get16(e + 8) != entries) {
        archive_error(path, "multi-disk zip archives are not supported");
    }
    if (entries == 0xFFFF || directory_size == max32 || directory_offset == max32 ||
        (end >= 20 && get32(base + end - 20) == zip64_locator_signature)) {
        archive_error(path, "Zip64 archives (over 65535 entries or 4 GiB) are not supported");
    }
    if (directory_size > end || directory_offset > end - directory_size) {
        archive_error(path,
                      "truncated or inconsistent zip archive (the central directory lies "
                      "outside the file)");
    }

    std::vector<EntryInfo> infos;
    std::size_t at = directory_offset;
    const std::size_t directory_end = static_cast<std::size_t>(directory_offset) + directory_size;
    for (std::size_t k = 0; k < entries; ++k) {
        if (directory_end - at < 46 || get32(base + at) != central_signature) {
            archive_error(path, "truncated or inconsistent zip archive (central directory entry " +
                                    std::to_string(k) + ")");
        }
        const unsigned char* c = base + at;
        EntryInfo info;
        info.flags = get16(c + 8);
        info.method = get16(c + 10);
        info.crc = get32(c + 16);
        info.compressed = get32(c + 20);
        info.size = get32(c + 24);
        info.offset = get32(c + 42);
        const std::size_t name_length = get16(c + 28), extra_length = get16(c + 30),
                          comment_length = get16(c + 32);
        if (name_length + extra_length + comment_length > directory_end - at - 46) {
            archive_error(path, "truncated or inconsistent zip archive (central directory entry " +
                                    std::to_string(k) + ")");
        }
        info.name.assign(reinterpret_cast<const char*>(c + 46), name_length);
        // Zip64 extra field (id 1): the 64-bit values of the fields that read 0xFFFFFFFF.
        const unsigned char* x = c + 46 + name_length;
        for (std::size_t pos = 0; extra_length - pos >= 4;) {
            const std::uint16_t id = get16(x + pos), length = get16(x + pos + 2);
            if (length > extra_length - pos - 4) break;
            if (id == 1) {
                std::size_t field = pos + 4;
                for (std::uint64_t* value : {&info.size, &info.compressed, &info.offset}) {
                    if (*value != max32) continue;
                    if (pos + 4 + length - field < 8) {
                        entry_error(path, info.name, "truncated Zip64 extra field");
                    }
                    *value = get(x + field, 8);
                    field += 8;
                }
            }
            pos += 4 + length;
        }
        infos.push_back(std::move(info));
        at += 46 + name_length + extra_length + comment_length;
    }

    NamedArrays out;
    std::map<std::string, int> seen;
    for (const EntryInfo& info : infos) {
        const std::string& name = info.name;
        if (info.flags & 1u) entry_error(path, name, "encrypted entries are not supported");
        // Every bound is checked by subtracting from n, never by adding to an offset: a Zip64
        // offset such as 2^64 - 16 would wrap `offset + 30` past the check (fuzz seed
        // zip64_offset_wraps.npz).
        if (info.offset > n || n - info.offset < 30) {
            entry_error(path, name,
                        "its local header (at offset " + std::to_string(info.offset) +
                            ") runs past the end of the " + std::to_string(n) +
                            "-byte file (the file is truncated or corrupt)");
        }
        const unsigned char* local = base + info.offset;
        if (get32(local) != local_signature) {
            entry_error(path, name,
                        "no local file header at offset " + std::to_string(info.offset) +
                            " (the file is corrupt)");
        }
        const std::size_t header = 30 + std::size_t{get16(local + 26)} + get16(local + 28);
        if (n - info.offset < header || info.compressed > n - info.offset - header) {
            entry_error(path, name, "its data runs past the end of the file (truncated)");
        }
        const std::size_t start = static_cast<std::size_t>(info.offset) + header;
        const unsigned char* stored = base + start;
        Bytes inflated;
        const unsigned char* data = stored;
        if (info.method == 8) {
            if (info.size > max32) entry_error(path, name, "a deflated entry over 4 GiB");
            inflated = inflate_entry(path, name, stored, info.compressed, info.size);
            data = inflated.data();
        } else if (info.method != 0) {
            entry_error(path, name,
                        "compression method " + std::to_string(info.method) +
                            " is not supported (stored or deflated only)");
        } else if (info.compressed != info.size) {
            entry_error(path, name,
                        "a stored entry whose compressed and uncompressed sizes differ");
        }
        const std::uint32_t crc = crc_of(data, info.size);
        if (crc != info.crc) {
            entry_error(path, name,
                        "CRC-32 mismatch (stored " + hex(info.crc) + ", computed " + hex(crc) +
                            "): the file is corrupt");
        }
        std::string key = name;
        if (key.size() > 4 && key.compare(key.size() - 4, 4, ".npy") == 0) {
            key.resize(key.size() - 4);
        }
        if (seen[key]++ != 0)
            entry_error(path, name, "key " + quote_text(key, 200) + " appears twice");
        out.emplace_back(key, parse_npy(path, name, data, info.size));
    }
    return out;
}

NamedArrays state_dict(const Module& module) {
    NamedArrays out;
    for (const NamedVar& p : module.named_parameters()) out.emplace_back(p.first, p.second.value());
    for (const NamedVar& b : module.named_buffers()) out.emplace_back(b.first, b.second.value());
    return out;
}

void save(const Module& module, const std::string& path) {
    save_npz(path, state_dict(module));
}

void load(Module& module, const std::string& path) {
    NamedArrays file = load_npz(path);
    std::map<std::string, std::size_t> in_file;
    for (std::size_t k = 0; k < file.size(); ++k) in_file[file[k].first] = k;
    std::vector<NamedVar> targets = module.named_parameters();
    for (NamedVar& b : module.named_buffers()) targets.push_back(std::move(b));

    // the first max_listed problems, then how many more: a file of another architecture can
    // miss hundreds of keys
    constexpr std::size_t max_listed = 5;
    std::string problems;
    std::size_t count = 0;
    auto note = [&](const std::string& text) {
        if (++count <= max_listed) problems += (problems.empty() ? "" : "; ") + text;
    };
    std::map<std::string, int> wanted;
    for (const NamedVar& target : targets) {
        wanted[target.first] = 1;
        const auto found = in_file.find(target.first);
        if (found == in_file.end()) {
            note("missing key " + quote_text(target.first, 200));
            continue;
        }
        const shape_type& have = file[found->second].second.shape();
        if (have != target.second.shape()) {
            note("key " + quote_text(target.first, 200) + " has shape " + format_shape(have) +
                 " in the file but " + format_shape(target.second.shape()) + " in the module");
        }
    }
    for (const auto& entry : file) {
        if (wanted.count(entry.first) == 0) note("unexpected key " + quote_text(entry.first, 200));
    }
    if (count > max_listed) {
        problems += "; \u2026 and " + std::to_string(count - max_listed) + " more";
    }
    if (count > 0) throw std::runtime_error("load: '" + escaped(path) + "': " + problems);
    for (const NamedVar& target : targets) {
        target.second.mutable_value() = file[in_file[target.first]].second;
    }
}

}  // namespace xgrad::nn
