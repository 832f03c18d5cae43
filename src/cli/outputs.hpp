/***************************************************************************
 * xgrad: the command's output files and bundled data                      *
 ***************************************************************************/
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "xgrad/data/io.hpp"

namespace xgrad::cli {

/// @brief Bad input or arguments: reported on one line, exit code 2.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// @brief Checks, before any work, that `path` can be written as a file: it is not a directory,
/// and its directory exists or can be created (no ancestor is a file) and can be written in
/// (probed with an unnamed temporary file, so nothing appears). `option` names the argument in
/// the message. Throws usage_error.
void check_output_file(const std::string& option, const std::string& path);

/// @brief The same for a directory that will receive files.
void check_output_directory(const std::string& option, const std::string& directory);

/// @brief The files of a run, rendered in memory and written only when the whole run succeeded.
class Outputs {
  public:
    /// @brief Plans a file; two options writing the same file is a usage_error.
    void add(const std::string& option, const std::string& path, std::string content = "");
    /// @brief Replaces the content of a planned file.
    void set(const std::string& path, std::string content);
    /// @brief Creates missing directories and writes every file atomically (all data on disk
    /// before the first rename).
    void commit();
    const std::vector<OutputFile>& files() const { return files_; }

  private:
    std::vector<OutputFile> files_;
    std::vector<std::string> options_;
    std::vector<std::string> keys_;  ///< normalised paths, to find clashes
};

/// @brief The bundled data file `name` (e.g. "breast_cancer.csv"): next to an installed binary
/// (`<prefix>/bin/../share/xgrad/`), else in the source checkout it was built from, else in the
/// configured install prefix. Empty if none exists; `looked` gets the places tried.
std::string bundled_data(const std::string& name, std::vector<std::string>* looked = nullptr);

}  // namespace xgrad::cli
