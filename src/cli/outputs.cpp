/***************************************************************************
 * xgrad: the command's output files and bundled data                      *
 ***************************************************************************/
#include "outputs.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#ifndef XGRAD_DATA_DIR
#define XGRAD_DATA_DIR "data"
#endif
#ifndef XGRAD_INSTALL_DATADIR
#define XGRAD_INSTALL_DATADIR "share"
#endif
#ifndef XGRAD_INSTALL_FULL_DATADIR
#define XGRAD_INSTALL_FULL_DATADIR "/usr/local/share"
#endif

namespace xgrad::cli {

namespace fs = std::filesystem;

namespace {

std::string parent_of(const std::string& path) {
    const std::string parent = fs::path(path).parent_path().string();
    return parent.empty() ? "." : parent;
}

/// @brief Why files cannot be created in the existing directory `directory`; empty if they can.
std::string cannot_write_in(const std::string& directory) {
#ifdef O_TMPFILE
    const int fd = ::open(directory.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
    if (fd >= 0) {
        ::close(fd);
        return "";
    }
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) return std::strerror(errno);
#endif
    if (::access(directory.c_str(), W_OK | X_OK) != 0) return std::strerror(errno);
    return "";
}

/// @brief Checks that `directory` exists as a directory we can write in, or can be created.
void check_directory(const std::string& option, const std::string& path,
                     const std::string& directory) {
    // The nearest ancestor that exists must be a directory we may write in.
    fs::path existing = directory;
    std::error_code error;
    while (!fs::exists(fs::symlink_status(existing, error))) {
        const fs::path parent = existing.parent_path();
        if (parent.empty()) {
            existing = ".";
            break;
        }
        if (parent == existing) break;  // the root
        existing = parent;
    }
    struct stat info {};
    if (::stat(existing.c_str(), &info) != 0) {
        throw usage_error(escaped(path) +
                          ": cannot write there: " + quote_text(existing.string(), 200) + ": " +
                          std::strerror(errno) + " (" + option + ")");
    }
    if (!S_ISDIR(info.st_mode)) {
        throw usage_error(escaped(path) +
                          ": cannot write there: " + quote_text(existing.string(), 200) +
                          " is a file, not a directory (" + option + ")");
    }
    const std::string reason = cannot_write_in(existing.string());
    if (!reason.empty()) {
        throw usage_error(escaped(path) + ": cannot write into " +
                          quote_text(existing.string(), 200) + ": " + reason + " (" + option + ")");
    }
}

}  // namespace

void check_output_file(const std::string& option, const std::string& path) {
    if (path.empty()) throw usage_error(option + " needs a file name");
    struct stat info {};
    if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
        throw usage_error(escaped(path) + ": is a directory; " + option + " needs a file name");
    }
    if (!path.empty() && path.back() == '/') {
        throw usage_error(escaped(path) + ": ends with '/'; " + option + " needs a file name");
    }
    check_directory(option, path, parent_of(path));
}

void check_output_directory(const std::string& option, const std::string& directory) {
    if (directory.empty()) throw usage_error(option + " needs a directory");
    check_directory(option, directory, directory);
}

void Outputs::add(const std::string& option, const std::string& path, std::string content) {
    std::error_code error;
    const std::string key = fs::weakly_canonical(fs::absolute(path, error), error).string();
    for (std::size_t k = 0; k < keys_.size(); ++k) {
        if (keys_[k] == key) {
            throw usage_error(escaped(path) + ": written twice, by " + options_[k] + " and by " +
                              option);
        }
    }
    files_.push_back({path, std::move(content)});
    options_.push_back(option);
    keys_.push_back(key);
}

void Outputs::set(const std::string& path, std::string content) {
    for (auto& f : files_) {
        if (f.path == path) {
            f.content = std::move(content);
            return;
        }
    }
    throw std::logic_error("Outputs::set: " + path + " was not planned");
}

void Outputs::commit() {
    for (const auto& f : files_) {
        const std::string directory = parent_of(f.path);
        std::error_code error;
        fs::create_directories(directory, error);
        if (error) {
            throw std::runtime_error(escaped(f.path) + ": cannot create the directory " +
                                     quote_text(directory, 200) + ": " + error.message());
        }
    }
    write_files_atomically(files_);
}

std::string bundled_data(const std::string& name, std::vector<std::string>* looked) {
    std::vector<std::string> candidates;
    std::error_code error;
    const fs::path exe = fs::read_symlink("/proc/self/exe", error);
    if (!error) {
        candidates.push_back(
            (exe.parent_path().parent_path() / XGRAD_INSTALL_DATADIR / "xgrad" / name).string());
    }
    candidates.push_back(std::string(XGRAD_DATA_DIR) + "/" + name);
    candidates.push_back(std::string(XGRAD_INSTALL_FULL_DATADIR) + "/xgrad/" + name);
    for (const auto& c : candidates) {
        if (fs::is_regular_file(c, error)) return c;
    }
    if (looked != nullptr) *looked = candidates;
    return "";
}

}  // namespace xgrad::cli
