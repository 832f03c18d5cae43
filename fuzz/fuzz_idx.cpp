// libFuzzer target: data::read_idx on arbitrary bytes (plain or gzip IDX). It must return an
// array of the header's shape (at most 2³¹ elements, every value what the type code can hold),
// or throw idx_error with a one-line message that starts with the file's path.
#include <cmath>
#include <cstdint>
#include <string>

#include "fuzz_files.hpp"
#include "xgrad/data/idx.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = xgrad::fuzz::scratch_path(".idx");
    xgrad::fuzz::write_bytes(path, data, size);
    try {
        const xgrad::array a = xgrad::data::read_idx(path);
        std::size_t count = 1;
        for (std::size_t extent : a.shape()) count *= extent;
        if (a.dimension() == 0 || count != a.size() || count > (std::size_t{1} << 31)) {
            xgrad::fuzz::fail("fuzz_idx", "shape", std::to_string(a.size()));
        }
        // plain files: the header and the data are all there is
        const bool gzip = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
        if (!gzip && size < 4 + 4 * a.dimension()) {
            xgrad::fuzz::fail("fuzz_idx", "more header than bytes", std::to_string(size));
        }
        const int type = gzip || size < 3 ? -1 : data[2];
        for (double v : a) {
            if ((type == 0x08 && !(v >= 0.0 && v <= 255.0 && v == std::floor(v))) ||
                (type == 0x09 && !(v >= -128.0 && v <= 127.0)) ||
                (type == 0x0B && !(v >= -32768.0 && v <= 32767.0))) {
                xgrad::fuzz::fail("fuzz_idx", "value outside the type's range", std::to_string(v));
            }
        }
    } catch (const xgrad::data::idx_error& e) {
        xgrad::fuzz::check_message("fuzz_idx", e.what(), path, path);
    }
    return 0;
}
