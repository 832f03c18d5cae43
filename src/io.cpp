/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/io.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace xgrad {

void write_file_atomically(const std::string& path, const std::string& content) {
    const std::string temporary = path + ".tmp." + std::to_string(::getpid());
    auto fail = [&](const char* what) {
        const std::string reason = std::strerror(errno);
        std::remove(temporary.c_str());
        throw std::runtime_error(path + ": cannot " + what + ": " + reason);
    };
    std::FILE* file = std::fopen(temporary.c_str(), "wb");
    if (file == nullptr) fail("create");
    const bool written = std::fwrite(content.data(), 1, content.size(), file) == content.size();
    const bool flushed = std::fflush(file) == 0 && ::fsync(::fileno(file)) == 0;
    if (std::fclose(file) != 0 || !written || !flushed) fail("write");
    if (std::rename(temporary.c_str(), path.c_str()) != 0) fail("rename into place");
}

}  // namespace xgrad
