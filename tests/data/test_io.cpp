/***************************************************************************
 * xgrad: file helpers: text for messages, reading whole files, atomic      *
 * writes of one or several files, and the temporaries crashed writes left. *
 ***************************************************************************/
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "support.hpp"
#include "xgrad/data/io.hpp"

namespace xgrad {
namespace {
using xgrad::testing::slurp;

/// @brief A fresh directory for one test, removed (with its files) at scope exit.
class TempDir {
  public:
    TempDir() {
        std::string pattern = ::testing::TempDir() + "xgrad_io_XXXXXX";
        path_ = ::mkdtemp(pattern.data());
    }
    ~TempDir() {
        for (const auto& name : names()) std::remove((path_ + "/" + name).c_str());
        ::rmdir(path_.c_str());
    }
    const std::string& path() const { return path_; }
    std::vector<std::string> names() const {
        std::vector<std::string> out;
        DIR* dir = ::opendir(path_.c_str());
        while (const dirent* e = ::readdir(dir)) {
            const std::string name = e->d_name;
            if (name != "." && name != "..") out.push_back(name);
        }
        ::closedir(dir);
        std::sort(out.begin(), out.end());
        return out;
    }

  private:
    std::string path_;
};

/// @brief The pid of a process that has exited (and been reaped).
pid_t dead_pid() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    int status = 0;
    ::waitpid(child, &status, 0);
    return child;
}

TEST(MessageText, ControlAndInvisibleCharactersAreEscaped) {
    EXPECT_EQ(quote_text("mean_radius"), "'mean_radius'");
    EXPECT_EQ(quote_text(std::string("a\0b", 3)), "'a\\x00b'");
    EXPECT_EQ(quote_text("a\tb\r\n\x1b[31m\x7f"), "'a\\tb\\r\\n\\x1b[31m\\x7f'");
    EXPECT_EQ(quote_text("y\u200b"), "'y\\u{200b}'");           // zero-width space
    EXPECT_EQ(quote_text("\xEF\xBB\xBFid"), "'\\u{feff}id'");   // a byte-order mark
    EXPECT_EQ(quote_text("a\u00a0b"), "'a\\u{00a0}b'");         // no-break space
    EXPECT_EQ(quote_text("size, m² – µ"), "'size, m² – µ'");    // visible UTF-8 stays
    EXPECT_EQ(quote_text("bad \xff\xc3"), "'bad \\xff\\xc3'");  // broken UTF-8, byte by byte
    EXPECT_EQ(quote_text("it's a\\b"), "'it\\'s a\\\\b'");      // unambiguous quoting
    EXPECT_EQ(escaped("dir/it's\n"), "dir/it's\\n");            // paths: only what hides
}

TEST(MessageText, LongTextIsCut) {
    EXPECT_EQ(quote_text(std::string(40, 'x')), "'" + std::string(40, 'x') + "'");
    EXPECT_EQ(quote_text(std::string(1 << 20, 'x')), "'" + std::string(40, 'x') + "...'");
    // Characters, not bytes, and never half a character.
    std::string accents;
    for (int i = 0; i < 50; ++i) accents += "é";
    std::string expected;
    for (int i = 0; i < 40; ++i) expected += "é";
    EXPECT_EQ(quote_text(accents), "'" + expected + "...'");
    EXPECT_EQ(quote_text("abcdef", 3), "'abc...'");
}

TEST(ReadWholeFile, ReadsBytesAndSaysWhyNot) {
    TempDir dir;
    const std::string path = dir.path() + "/data.bin";
    const std::string content("a\0b\r\n\xff", 6);
    std::ofstream(path, std::ios::binary) << content;
    std::string text;
    std::string error;
    ASSERT_TRUE(read_whole_file(path, text, error));
    EXPECT_EQ(text, content);
    EXPECT_FALSE(read_whole_file(dir.path() + "/missing", text, error));
    EXPECT_EQ(error, "cannot open file: No such file or directory");
    EXPECT_FALSE(read_whole_file(dir.path(), text, error));
    EXPECT_EQ(error, "is a directory, not a file");
}

TEST(AtomicWrites, SeveralFilesAllOrNothing) {
    TempDir dir;
    const std::string a = dir.path() + "/a.txt";
    const std::string b = dir.path() + "/b.txt";
    write_files_atomically({{a, "first a"}, {b, "first b"}});
    EXPECT_EQ(slurp(a), "first a");
    EXPECT_EQ(slurp(b), "first b");
    // The second file cannot be created: neither changes, and no temporary is left.
    XGRAD_EXPECT_THROW_WITH(
        write_files_atomically({{a, "second a"}, {dir.path() + "/missing/b.txt", "x"}}),
        std::runtime_error, "/missing/b.txt: cannot create: No such file or directory");
    EXPECT_EQ(slurp(a), "first a");
    EXPECT_EQ(dir.names(), (std::vector<std::string>{"a.txt", "b.txt"}));
    write_files_atomically({{a, "second a"}, {b, std::string("second\0b", 8)}});
    EXPECT_EQ(slurp(a), "second a");
    EXPECT_EQ(slurp(b), std::string("second\0b", 8));
    EXPECT_EQ(dir.names(), (std::vector<std::string>{"a.txt", "b.txt"}));
}

TEST(AtomicWrites, KeepsThePermissionsOfANewFile) {
    TempDir dir;
    const std::string path = dir.path() + "/model.json";
    const mode_t mask = ::umask(022);
    write_file_atomically(path, "{}");
    ::umask(mask);
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0644u);
}

TEST(AtomicWrites, AReplacedFileKeepsItsMode) {
    // a model file made private (0600) stays private when saved again, alone or with others
    TempDir dir;
    const std::string path = dir.path() + "/model.npz";
    const std::string other = dir.path() + "/curve.svg";
    write_file_atomically(path, "old");
    ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
    const mode_t mask = ::umask(022);
    write_file_atomically(path, "new");
    write_files_atomically({{path, "newer"}, {other, "<svg/>"}});
    ::umask(mask);
    struct stat info {};
    ASSERT_EQ(::stat(path.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(other.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0644u);  // a new file: 0666 less the umask
    std::string content, error;
    ASSERT_TRUE(read_whole_file(path, content, error)) << error;
    EXPECT_EQ(content, "newer");
}

TEST(AtomicWrites, StaleTemporariesOfDeadProcessesAreRemoved) {
    TempDir dir;
    const std::string path = dir.path() + "/model.json";
    const std::string dead = path + ".tmp." + std::to_string(dead_pid());
    const std::string alive = path + ".tmp." + std::to_string(::getppid());  // our parent
    const std::string other = dir.path() + "/other.json.tmp." + std::to_string(dead_pid());
    const std::string not_a_pid = path + ".tmp.12ab";
    for (const auto& p : {dead, alive, other, not_a_pid}) std::ofstream(p) << "partial";
    write_file_atomically(path, "{}");
    // Only the dead process's temporary of this file went: a live writer's stays, as do files
    // of other names.
    std::vector<std::string> expected{"model.json", "model.json.tmp.12ab",
                                      alive.substr(alive.rfind('/') + 1),
                                      other.substr(other.rfind('/') + 1)};
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(dir.names(), expected);
    EXPECT_EQ(remove_stale_temporaries(dir.path() + "/other.json"), 1u);
}

TEST(AtomicWrites, AFailedRenameLeavesNoTemporary) {
    TempDir dir;
    const std::string target = dir.path() + "/occupied";
    ASSERT_EQ(::mkdir(target.c_str(), 0755), 0);
    std::ofstream(target + "/inside") << "x";  // a non-empty directory cannot be replaced
    XGRAD_EXPECT_THROW_WITH(write_file_atomically(target, "data"), std::runtime_error,
                            "/occupied: cannot rename into place");
    EXPECT_EQ(dir.names(), (std::vector<std::string>{"occupied"}));
    std::remove((target + "/inside").c_str());
    ::rmdir(target.c_str());
}

}  // namespace
}  // namespace xgrad
