/***************************************************************************
 * xgrad: the committed corpus of malformed CSV and model files             *
 * (tests/corpus/): every case of MANIFEST.tsv gives exactly its expected   *
 * exit code and stderr line, and a failing run writes no file.             *
 ***************************************************************************/
#include <dirent.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "support.hpp"

namespace xgrad {
namespace {

namespace fs = std::filesystem;

struct Case {
    std::size_t line;
    std::string file;
    std::string command;
    int exit_code;
    std::string stderr_line;  ///< empty: none
};
using xgrad::testing::slurp;

std::vector<Case> manifest() {
    std::ifstream in(XGRAD_CORPUS_DIR "/MANIFEST.tsv");
    std::vector<Case> cases;
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        std::vector<std::string> fields;
        std::size_t start = 0;
        for (std::size_t tab; (tab = line.find('\t', start)) != std::string::npos; start = tab + 1)
            fields.push_back(line.substr(start, tab - start));
        fields.push_back(line.substr(start));
        EXPECT_EQ(fields.size(), 4u) << "MANIFEST.tsv:" << number << ": " << line;
        if (fields.size() != 4) continue;
        cases.push_back({number, fields[0], fields[1], std::stoi(fields[2]),
                         fields[3] == "-" ? "" : fields[3] + "\n"});
    }
    return cases;
}

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
    for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
        text.replace(at, from.size(), to);
    return text;
}

TEST(Corpus, EveryCaseGivesItsExactMessageAndWritesNothing) {
    const std::vector<Case> cases = manifest();
    ASSERT_GE(cases.size(), 60u);
    const std::string scratch = ::testing::TempDir() + "xgrad_corpus_" + std::to_string(::getpid());
    for (const Case& c : cases) {
        SCOPED_TRACE("MANIFEST.tsv:" + std::to_string(c.line) + ": " + c.file + ": " + c.command);
        ASSERT_TRUE(fs::exists(fs::path(XGRAD_CORPUS_DIR) / c.file));
        const std::string out = scratch + "/out";
        fs::remove_all(scratch);
        fs::create_directories(out);
        const std::string arguments =
            replace_all(replace_all(c.command, "{file}", c.file), "{out}", out);
        const std::string command = std::string("cd '") + XGRAD_CORPUS_DIR + "' && " + XGRAD_CLI +
                                    " " + arguments + " > " + scratch + "/stdout 2> " + scratch +
                                    "/stderr";
        const int status = std::system(command.c_str());
        ASSERT_TRUE(WIFEXITED(status));
        EXPECT_EQ(WEXITSTATUS(status), c.exit_code);
        EXPECT_EQ(slurp(scratch + "/stderr"), c.stderr_line);
        if (c.exit_code != 0) {
            EXPECT_TRUE(fs::is_empty(out)) << "a failing run wrote into " << out;
        }
    }
    fs::remove_all(scratch);
}

TEST(Corpus, EveryFileIsRun) {
    std::set<std::string> listed;
    for (const Case& c : manifest()) listed.insert(c.file);
    std::size_t files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(XGRAD_CORPUS_DIR)) {
        const std::string name = fs::relative(entry.path(), XGRAD_CORPUS_DIR).string();
        if (!entry.is_regular_file() || name.find('/') == std::string::npos) continue;
        ++files;
        EXPECT_EQ(listed.count(name), 1u) << name << " is in no case of MANIFEST.tsv";
    }
    EXPECT_GE(files, 60u);
}

}  // namespace
}  // namespace xgrad
