/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace xgrad {

/// @brief Writes `content` to `path` through a temporary file in the same directory and a
/// rename, so that readers never see a half-written file; a file it replaces keeps its mode (a
/// new one gets 0666 less the umask). Throws std::runtime_error naming the
/// path on failure (and leaves no temporary behind). The temporary is an unnamed O_TMPFILE where
/// the file system has them (a crash leaves nothing); otherwise `path.tmp.<pid>`, and such files
/// left by earlier runs that died (their pid is not alive, same owner) are removed.
void write_file_atomically(const std::string& path, const std::string& content);

/// @brief Reads a whole file into `content`. On failure returns false and sets `error` to why
/// ("cannot open file: No such file or directory", "is a directory", ...).
bool read_whole_file(const std::string& path, std::string& content, std::string& error);

/// @brief One file of write_files_atomically.
struct OutputFile {
    std::string path;
    std::string content;
};

/// @brief Writes several files, each atomically: every file's content is written and synced to
/// its temporary first, and only when all of them succeeded are they renamed into place. A
/// failure while writing leaves no file changed; only a failing rename (after the data is on
/// disk, e.g. the directory vanished) can leave the earlier files of the list in place.
void write_files_atomically(const std::vector<OutputFile>& files);

/// @brief Removes `path.tmp.<pid>` files next to `path` that an interrupted write left behind:
/// only those whose process is gone and that belong to this user. Returns how many it removed.
std::size_t remove_stale_temporaries(const std::string& path);

/// @brief Text from a file or an argument made safe for a one-line message: control bytes and
/// invisible characters escaped (`\t`, `\x00`, `\x7f`, `\u{200b}`, a broken UTF-8 byte as `\xff`),
/// backslashes and single quotes escaped, cut after `limit` characters with "...", and put in
/// single quotes: 'a\tb'.
std::string quote_text(std::string_view text, std::size_t limit = 40);

/// @brief Like quote_text() without the quotes and without escaping quotes or backslashes: for
/// paths at the start of a message (`file:line:column:`), where only what would break or hide is
/// escaped.
std::string escaped(std::string_view text, std::size_t limit = std::string_view::npos);

}  // namespace xgrad
