/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "xgrad/data/io.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

namespace xgrad {

namespace {

/// @brief The directory part of a path ("." for a bare name) and the name in it.
std::pair<std::string, std::string> split_path(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::string temporary_name(const std::string& path) {
    return path + ".tmp." + std::to_string(::getpid());
}

bool write_all(int fd, const std::string& content) {
    std::size_t done = 0;
    while (done < content.size()) {
        const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        done += static_cast<std::size_t>(n);
    }
    return ::fsync(fd) == 0;
}

/// @brief One file on its way: its data in a temporary (unnamed, or named `temporary`).
struct Pending {
    const OutputFile* file = nullptr;
    int fd = -1;
    bool unnamed = false;
    std::string temporary;  ///< the named temporary, once there is one
};

[[noreturn]] void fail(std::vector<Pending>& pending, const std::string& path, const char* what,
                       int error) {
    for (Pending& p : pending) {
        if (p.fd >= 0) ::close(p.fd);
        if (!p.temporary.empty()) ::unlink(p.temporary.c_str());
    }
    throw std::runtime_error(escaped(path) + ": cannot " + what + ": " + std::strerror(error));
}

/// @brief Gives the temporary `fd` the mode of the regular file at `path` it will replace, if
/// there is one (a new file keeps 0666 less the umask); false (errno set) on failure.
bool keep_mode(int fd, const std::string& path) {
    struct stat old {};
    if (::stat(path.c_str(), &old) != 0 || !S_ISREG(old.st_mode)) return true;
    return ::fchmod(fd, old.st_mode & 07777) == 0;
}

/// @brief Creates a named temporary holding `content`; false (errno set) on failure.
bool write_named(Pending& p) {
    p.temporary = temporary_name(p.file->path);
    const int fd = ::open(p.temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        p.temporary.clear();
        return false;
    }
    if (!keep_mode(fd, p.file->path)) {
        const int error = errno;
        ::close(fd);
        errno = error;
        return false;
    }
    const bool ok = write_all(fd, p.file->content);
    const int error = errno;
    ::close(fd);
    errno = error;
    return ok;
}

}  // namespace

bool read_whole_file(const std::string& path, std::string& content, std::string& error) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        error = std::string("cannot open file: ") + std::strerror(errno);
        return false;
    }
    struct stat info {};
    if (::fstat(fd, &info) == 0 && S_ISDIR(info.st_mode)) {
        ::close(fd);
        error = "is a directory, not a file";
        return false;
    }
    content.clear();
    if (info.st_size > 0 && S_ISREG(info.st_mode))
        content.reserve(static_cast<std::size_t>(info.st_size));
    char buffer[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            error = std::string("cannot read: ") + std::strerror(errno);
            ::close(fd);
            return false;
        }
        content.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return true;
}

std::size_t remove_stale_temporaries(const std::string& path) {
    const auto [directory, name] = split_path(path);
    const std::string prefix = name + ".tmp.";
    DIR* dir = ::opendir(directory.c_str());
    if (dir == nullptr) return 0;
    std::size_t removed = 0;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string entry_name = entry->d_name;
        if (entry_name.size() <= prefix.size() || entry_name.compare(0, prefix.size(), prefix) != 0)
            continue;
        const std::string digits = entry_name.substr(prefix.size());
        if (digits.size() > 9 || digits.find_first_not_of("0123456789") != std::string::npos)
            continue;
        const auto pid = static_cast<pid_t>(std::stol(digits));
        if (pid <= 0 || pid == ::getpid()) continue;
        const std::string full = (directory == "/" ? "" : directory) + "/" + entry_name;
        struct stat info {};
        if (::lstat(full.c_str(), &info) != 0 || !S_ISREG(info.st_mode) ||
            info.st_uid != ::geteuid())
            continue;
        // Alive (or someone else's, EPERM): leave it; only a process that is gone (ESRCH) left it.
        if (::kill(pid, 0) == 0 || errno != ESRCH) continue;
        if (::unlink(full.c_str()) == 0) ++removed;
    }
    ::closedir(dir);
    return removed;
}

void write_files_atomically(const std::vector<OutputFile>& files) {
    std::vector<Pending> pending(files.size());
    // Phase 1: every file's data on disk, in temporaries.
    for (std::size_t k = 0; k < files.size(); ++k) {
        Pending& p = pending[k];
        p.file = &files[k];
        remove_stale_temporaries(p.file->path);
#ifdef O_TMPFILE
        p.fd =
            ::open(split_path(p.file->path).first.c_str(), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
        if (p.fd >= 0) {
            p.unnamed = true;
            if (!keep_mode(p.fd, p.file->path)) {
                fail(pending, p.file->path, "keep the mode", errno);
            }
            if (!write_all(p.fd, p.file->content)) fail(pending, p.file->path, "write", errno);
            continue;
        }
#endif
        // No O_TMPFILE here (or the directory is missing: the named file then says why).
        if (!write_named(p)) {
            fail(pending, p.file->path, p.temporary.empty() ? "create" : "write", errno);
        }
    }
    // Phase 2: into place.
    for (std::size_t k = 0; k < files.size(); ++k) {
        Pending& p = pending[k];
        if (p.unnamed) {
            p.temporary = temporary_name(p.file->path);
            const std::string proc = "/proc/self/fd/" + std::to_string(p.fd);
            ::unlink(p.temporary.c_str());  // ours: a pid is unique among live processes
            if (::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, p.temporary.c_str(),
                         AT_SYMLINK_FOLLOW) != 0) {
                p.temporary.clear();  // e.g. no /proc: write it again, named
                if (!write_named(p)) {
                    fail(pending, p.file->path, p.temporary.empty() ? "create" : "write", errno);
                }
            }
            ::close(p.fd);
            p.fd = -1;
        }
        if (std::rename(p.temporary.c_str(), p.file->path.c_str()) != 0) {
            fail(pending, p.file->path, "rename into place", errno);
        }
        p.temporary.clear();
    }
}

void write_file_atomically(const std::string& path, const std::string& content) {
    write_files_atomically({{path, content}});
}

namespace {

/// @brief Code points that print as nothing or as a blank: shown escaped in messages.
bool invisible(char32_t c) {
    return (c >= 0x80 && c <= 0xA0) || c == 0xAD || c == 0x34F || c == 0x61C || c == 0x115F ||
           c == 0x1160 || c == 0x17B4 || c == 0x17B5 || c == 0x180E ||
           (c >= 0x2000 && c <= 0x200F) || (c >= 0x2028 && c <= 0x202F) ||
           (c >= 0x205F && c <= 0x206F) || c == 0x3000 || c == 0x3164 ||
           (c >= 0xFE00 && c <= 0xFE0F) || c == 0xFEFF || c == 0xFFA0 ||
           (c >= 0xFFF0 && c <= 0xFFFB) || (c >= 0xE0000 && c <= 0xE0FFF);
}

/// @brief Decodes one UTF-8 character at `i`; its length, or 0 for a malformed byte.
std::size_t decode(std::string_view s, std::size_t i, char32_t& c) {
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    const unsigned char b = byte(i);
    std::size_t length = 0;
    char32_t minimum = 0;
    if (b < 0x80) {
        c = b;
        return 1;
    } else if ((b & 0xE0) == 0xC0) {
        length = 2, c = b & 0x1F, minimum = 0x80;
    } else if ((b & 0xF0) == 0xE0) {
        length = 3, c = b & 0x0F, minimum = 0x800;
    } else if ((b & 0xF8) == 0xF0) {
        length = 4, c = b & 0x07, minimum = 0x10000;
    } else {
        return 0;
    }
    if (i + length > s.size()) return 0;
    for (std::size_t k = 1; k < length; ++k) {
        if ((byte(i + k) & 0xC0) != 0x80) return 0;
        c = (c << 6) | (byte(i + k) & 0x3F);
    }
    if (c < minimum || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    return length;
}

std::string escape(std::string_view text, std::size_t limit, bool quote) {
    std::string out;
    std::size_t characters = 0;
    char hex[16];
    for (std::size_t i = 0; i < text.size();) {
        if (characters == limit) {
            out += "...";
            break;
        }
        ++characters;
        char32_t c = 0;
        const std::size_t length = decode(text, i, c);
        if (length == 0) {
            std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned char>(text[i]));
            out += hex;
            ++i;
            continue;
        }
        if (c == '\t') {
            out += "\\t";
        } else if (c == '\n') {
            out += "\\n";
        } else if (c == '\r') {
            out += "\\r";
        } else if (c == 0) {
            out += "\\x00";
        } else if (c < 0x20 || c == 0x7F) {
            std::snprintf(hex, sizeof hex, "\\x%02x", static_cast<unsigned>(c));
            out += hex;
        } else if (quote && (c == '\\' || c == '\'')) {
            out += '\\';
            out += static_cast<char>(c);
        } else if (invisible(c)) {
            std::snprintf(hex, sizeof hex, "\\u{%04x}", static_cast<unsigned>(c));
            out += hex;
        } else {
            out.append(text.data() + i, length);
        }
        i += length;
    }
    return out;
}

}  // namespace

std::string quote_text(std::string_view text, std::size_t limit) {
    return "'" + escape(text, limit, true) + "'";
}

std::string escaped(std::string_view text, std::size_t limit) {
    return escape(text, limit, false);
}

}  // namespace xgrad
