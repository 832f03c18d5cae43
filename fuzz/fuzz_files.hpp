// What the file-reading fuzzers share: the bytes written to a file of their own (the readers take
// a path), and the checks every error message must pass.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace xgrad::fuzz {

[[noreturn]] inline void fail(const char* fuzzer, const char* what, const std::string& detail) {
    std::fprintf(stderr, "%s: %s: %s\n", fuzzer, what, detail.c_str());
    std::abort();
}

/// @brief A path under /dev/shm (else /tmp) unique to this process, with the given suffix.
inline std::string scratch_path(const char* suffix) {
    const char* dir = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/xgrad_fuzz_" + std::to_string(::getpid()) + suffix;
}

/// @brief Writes the bytes to `path` (whole, or aborts: a fuzzer that cannot write proves
/// nothing).
inline void write_bytes(const std::string& path, const std::uint8_t* data, std::size_t size) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (f == nullptr || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) {
        fail("fuzz", "cannot write the input to", path);
    }
}

/// @brief An error message must name the file first (after `prefix`), be one line of printable
/// text, and stay short.
inline void check_message(const char* fuzzer, const std::string& message, const std::string& path,
                          const std::string& prefix = "") {
    if (message.find(path) == std::string::npos || message.rfind(prefix, 0) != 0) {
        fail(fuzzer, "message does not name the file", message);
    }
    for (unsigned char c : message) {
        if (c < 0x20 || c == 0x7f) fail(fuzzer, "control byte in a message", message);
    }
    if (message.size() > 2000)
        fail(fuzzer, "message longer than 2000 bytes", message.substr(0, 200));
}

}  // namespace xgrad::fuzz
