/***************************************************************************
 * xgrad: the command's progress bar: fitted to the terminal, a few redraws *
 * a second, finished when training stops early.                            *
 ***************************************************************************/
#include <cstdio>
#include <cstdlib>
#include <regex>

#include "progress.hpp"
#include "support.hpp"

namespace xgrad {
namespace {

using cli::Progress;
using cli::progress_line;

/// @brief What a Progress wrote, via a memory stream.
class Capture {
  public:
    Capture() : file_(::open_memstream(&buffer_, &size_)) {}
    ~Capture() {
        std::fclose(file_);
        std::free(buffer_);
    }
    std::FILE* file() { return file_; }
    std::string text() {
        std::fflush(file_);
        return std::string(buffer_, size_);
    }

  private:
    char* buffer_ = nullptr;
    std::size_t size_ = 0;
    std::FILE* file_;
};

/// @brief The lines as a terminal shows them: split at \r and \n, erase-line codes dropped.
std::vector<std::string> screen_lines(const std::string& text) {
    const std::string plain = std::regex_replace(text, std::regex("\x1b\\[K"), "");
    std::vector<std::string> out;
    std::string line;
    for (char c : plain) {
        if (c == '\r' || c == '\n') {
            if (!line.empty()) out.push_back(line);
            line.clear();
        } else {
            line += c;
        }
    }
    if (!line.empty()) out.push_back(line);
    return out;
}

TEST(ProgressLine, FitsTheTerminalWidth) {
    for (int columns : {20, 40, 60, 80, 91, 120, 300}) {
        SCOPED_TRACE(columns);
        for (std::size_t done : {1, 57, 100000}) {
            const std::string line = progress_line("iteration", done, 100000, 0.693147180559945,
                                                   1.2345678e+300, "ETA 12345.6s", columns);
            EXPECT_LE(line.size(), static_cast<std::size_t>(columns - 1)) << line;
            if (columns >= 40) {
                EXPECT_NE(line.find("/100000"), std::string::npos) << line;
            }
        }
    }
    // Wide enough: everything, the bar at most 30 wide.
    const std::string wide = progress_line("epoch", 50, 200, 0.5, 0.25, "ETA 1.0s", 200);
    EXPECT_EQ(wide, "[" + std::string(7, '=') + std::string(23, ' ') +
                        "] epoch  50/200  loss 0.5        val 0.25       ETA 1.0s");
    // 80 columns with validation (the case: ~91 characters before).
    const std::string at80 = progress_line("epoch", 150, 200, 0.0485444, 0.114962, "ETA 0.4s", 80);
    EXPECT_LE(at80.size(), 79u);
    EXPECT_NE(at80.find("val 0.114962"), std::string::npos);
    // Narrow: the tail goes first, then the validation loss, then the bar.
    EXPECT_EQ(progress_line("epoch", 150, 200, 0.5, 0.25, "ETA 0.4s", 40),
              "epoch 150/200  loss 0.5");
}

TEST(ProgressLine, KeepsItsLengthFromRedrawToRedraw) {
    // The bar does not jump when the counter or the loss changes length.
    const std::string first = progress_line("epoch", 1, 3000, 0.693147, 0.506359, "ETA 1.1s", 80);
    const std::string last =
        progress_line("epoch", 3000, 3000, 0.0485444, 0.114962, "ETA 0.0s", 80);
    EXPECT_EQ(first.find(']'), last.find(']'));
}

TEST(Progress, RedrawsAFewTimesASecondAndEndsTheLine) {
    Capture out;
    double now = 0.0;
    {
        Progress progress(false, "epoch", true, 80, out.file(), [&] { return now; });
        const std::size_t epochs = 100000;
        for (std::size_t e = 0; e < epochs; ++e) {
            now = 10.0 * static_cast<double>(e) / epochs;  // 10 seconds in all
            progress({e, epochs, 1.0 / (1.0 + static_cast<double>(e)), NAN, 0.1});
        }
        EXPECT_LE(progress.redraws(), 52u);  // five a second, plus the first and the last
        EXPECT_GE(progress.redraws(), 40u);
        progress.finish();
    }
    const std::string text = out.text();
    ASSERT_FALSE(text.empty());
    EXPECT_EQ(text.back(), '\n');
    for (const auto& line : screen_lines(text)) EXPECT_LE(line.size(), 79u) << line;
}

TEST(Progress, FinishesTheBarWhenASolverStopsEarly) {
    Capture out;
    double now = 0.0;
    Progress progress(false, "iteration", true, 80, out.file(), [&] { return now; });
    for (std::size_t k = 0; k < 63; ++k) {
        now += 0.5;
        progress({k, 200, 0.1, NAN, NAN});
    }
    progress.finish("converged");
    const auto lines = screen_lines(out.text());
    ASSERT_FALSE(lines.empty());
    const std::string& last = lines.back();
    EXPECT_EQ(last.rfind("[====", 0), 0u) << last;
    EXPECT_EQ(last.find(' '), last.find("] ") + 1) << "a full bar: " << last;
    EXPECT_NE(last.find("iteration  63/200"), std::string::npos) << last;
    EXPECT_NE(last.find("done in 31.5s (converged)"), std::string::npos) << last;
    EXPECT_EQ(out.text().back(), '\n');
}

TEST(Progress, AnErrorEndsAnOpenBar) {
    Capture out;
    {
        Progress progress(false, "epoch", true, 80, out.file(), [] { return 0.0; });
        progress({0, 10, 1.0, NAN, 0.1});
    }  // destroyed without finish(), as when training throws
    EXPECT_EQ(out.text().back(), '\n');
}

TEST(Progress, PlainLinesWhenNotATerminal) {
    Capture out;
    Progress progress(false, "epoch", false, 80, out.file(), [] { return 0.0; });
    for (std::size_t e = 0; e < 37; ++e) progress({e, 200, 0.5, NAN, 0.1});
    progress.finish("stopped early");
    const std::string text = out.text();
    EXPECT_EQ(text.find('\r'), std::string::npos);
    EXPECT_EQ(text.find('\x1b'), std::string::npos);
    EXPECT_NE(text.find("epoch 1/200 loss 0.5\n"), std::string::npos) << text;
    EXPECT_NE(text.find("epoch 37/200 loss 0.5  done in 0.0s (stopped early)\n"), std::string::npos)
        << text;
}

TEST(Progress, QuietWritesNothing) {
    Capture out;
    {
        Progress progress(true, "epoch", true, 80, out.file(), [] { return 0.0; });
        progress({0, 10, 1.0, NAN, 0.1});
        progress.finish();
    }
    EXPECT_EQ(out.text(), "");
}

TEST(TerminalColumns, FallsBackToColumnsThenEighty) {
    // A pipe is no terminal: $COLUMNS, then 80.
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    ::setenv("COLUMNS", "123", 1);
    EXPECT_EQ(cli::terminal_columns(fds[1]), 123);
    ::setenv("COLUMNS", "wide", 1);
    EXPECT_EQ(cli::terminal_columns(fds[1]), 80);
    ::unsetenv("COLUMNS");
    EXPECT_EQ(cli::terminal_columns(fds[1]), 80);
    ::close(fds[0]);
    ::close(fds[1]);
}

}  // namespace
}  // namespace xgrad
