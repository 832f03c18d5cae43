// libFuzzer target: nn::load_npz on arbitrary bytes. It must return arrays that save_npz writes
// and load_npz reads back to the same keys, shapes and bits, or throw std::runtime_error with a
// one-line message naming the file.
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "fuzz_files.hpp"
#include "xgrad/nn/serialize.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string path = xgrad::fuzz::scratch_path(".npz");
    static const std::string again_path = xgrad::fuzz::scratch_path("_again.npz");
    xgrad::fuzz::write_bytes(path, data, size);
    xgrad::nn::NamedArrays arrays;
    try {
        arrays = xgrad::nn::load_npz(path);
    } catch (const std::runtime_error& e) {
        xgrad::fuzz::check_message("fuzz_npz", e.what(), path);
        return 0;
    }
    // what loads saves, and reloads to the same bits
    try {
        xgrad::nn::save_npz(again_path, arrays);
    } catch (const std::invalid_argument& e) {  // only an empty key may be refused
        bool empty_key = false;
        for (const auto& entry : arrays) empty_key = empty_key || entry.first.empty();
        if (!empty_key) xgrad::fuzz::fail("fuzz_npz", "save refused what load gave", e.what());
        return 0;
    }
    const xgrad::nn::NamedArrays again = xgrad::nn::load_npz(again_path);
    if (again.size() != arrays.size()) xgrad::fuzz::fail("fuzz_npz", "round trip", "entry count");
    for (std::size_t k = 0; k < arrays.size(); ++k) {
        const xgrad::array& a = arrays[k].second;
        const xgrad::array& b = again[k].second;
        if (again[k].first != arrays[k].first || a.shape() != b.shape() ||
            (a.size() > 0 && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) != 0)) {
            xgrad::fuzz::fail("fuzz_npz", "round trip", arrays[k].first);
        }
    }
    return 0;
}
