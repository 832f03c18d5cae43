/***************************************************************************
 * xgrad: the command's progress display                                   *
 ***************************************************************************/
#pragma once

#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>

#include "xgrad/models/train_options.hpp"

namespace xgrad::cli {

/// @brief The width of the terminal on `fd` (ioctl TIOCGWINSZ), else $COLUMNS, else 80.
int terminal_columns(int fd);

/// @brief One line of the progress bar, `[====    ] epoch 12/200  loss 0.693147  val 0.7  ETA
/// 1.2s`, at most `columns - 1` characters (a full line would wrap on some terminals): the bar
/// shrinks first, then the tail, the validation loss and the bar are dropped, then it is cut.
std::string progress_line(const std::string& unit, std::size_t done, std::size_t total, double loss,
                          double validation, const std::string& tail, int columns);

/// @brief Epoch (or solver iteration) progress: on a terminal a bar redrawn in place at most
/// five times a second and fitted to its width; otherwise about ten plain lines.
class Progress {
  public:
    /// @brief `now` gives seconds (steady clock unless a test passes its own).
    Progress(bool quiet, std::string unit, bool terminal, int columns, std::FILE* out,
             std::function<double()> now = {});
    /// @brief Ends a bar left open by an error, so that the message starts on its own line.
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    void operator()(const models::EpochReport& r);

    /// @brief Draws the last state with a full bar and `note` (e.g. "converged") and ends the
    /// line; the run may have stopped before its budget.
    void finish(const std::string& note = "");

    std::size_t redraws() const { return redraws_; }

  private:
    void draw(const std::string& line);

    bool quiet_;
    std::string unit_;
    bool terminal_;
    int columns_;
    std::FILE* out_;
    std::function<double()> now_;
    double start_;
    double last_draw_ = -1e300;
    bool have_report_ = false;
    bool last_drawn_ = false;
    bool line_open_ = false;  ///< a bar is drawn and its line not ended
    models::EpochReport last_{};
    std::size_t redraws_ = 0;
};

}  // namespace xgrad::cli
