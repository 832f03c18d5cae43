/***************************************************************************
 * xgrad: the command's progress display                                   *
 ***************************************************************************/
#include "progress.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <vector>

#include <fmt/core.h>

namespace xgrad::cli {

int terminal_columns(int fd) {
    winsize size{};
    if (::ioctl(fd, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
    if (const char* columns = std::getenv("COLUMNS")) {
        char* end = nullptr;
        const long n = std::strtol(columns, &end, 10);
        if (end != columns && *end == '\0' && n > 0 && n < 100000) return static_cast<int>(n);
    }
    return 80;
}

std::string progress_line(const std::string& unit, std::size_t done, std::size_t total, double loss,
                          double validation, const std::string& tail, int columns) {
    const std::size_t budget = static_cast<std::size_t>(std::max(columns, 2) - 1);
    // Every part padded to its widest, so that the bar keeps its length from redraw to redraw.
    const std::size_t digits = std::to_string(total).size();
    std::vector<std::string> parts{fmt::format("{} {:>{}}/{}", unit, done, digits, total),
                                   fmt::format("loss {:<9.6g}", loss)};
    const bool validating = !std::isnan(validation);
    if (validating) parts.push_back(fmt::format("val {:<9.6g}", validation));
    if (!tail.empty()) parts.push_back(fmt::format("{:<10}", tail));
    auto join = [&] {
        std::string text;
        for (const auto& p : parts) text += (text.empty() ? "" : "  ") + p;
        return text;
    };
    constexpr std::size_t min_bar = 10;
    constexpr std::size_t max_bar = 30;
    std::string text = join();
    // Drop what matters least until a bar of min_bar fits: the tail, then the validation loss.
    if (text.size() + min_bar + 3 > budget && !tail.empty()) {
        parts.pop_back();
        text = join();
    }
    if (text.size() + min_bar + 3 > budget && validating) {
        parts.pop_back();
        text = join();
    }
    if (text.size() > budget) text.resize(budget);
    const std::size_t layout = text.size();  // with the padding: the same on every redraw
    while (!text.empty() && text.back() == ' ') text.pop_back();
    if (layout + min_bar + 3 > budget) return text;
    const std::size_t width = std::min(max_bar, budget - layout - 3);
    const std::size_t filled =
        total == 0 ? width : std::min(width, width * std::min(done, total) / total);
    return "[" + std::string(filled, '=') + std::string(width - filled, ' ') + "] " + text;
}

Progress::Progress(bool quiet, std::string unit, bool terminal, int columns, std::FILE* out,
                   std::function<double()> now)
    : quiet_(quiet),
      unit_(std::move(unit)),
      terminal_(terminal),
      columns_(columns),
      out_(out),
      now_(now ? std::move(now) : [] {
          return std::chrono::duration<double>(
                     std::chrono::steady_clock::now().time_since_epoch())
              .count();
      }),
      start_(now_()) {}

Progress::~Progress() {
    if (line_open_) {
        fmt::print(out_, "\n");
        std::fflush(out_);
    }
}

void Progress::draw(const std::string& line) {
    fmt::print(out_, "\r{}\x1b[K", line);  // erase what a longer line left
    std::fflush(out_);
    ++redraws_;
    line_open_ = true;
}

void Progress::operator()(const models::EpochReport& r) {
    if (quiet_) return;
    last_ = r;
    have_report_ = true;
    last_drawn_ = false;
    const double now = now_();
    if (terminal_) {
        const bool last = r.epoch + 1 >= r.epochs;
        if (!last && now - last_draw_ < 0.2) return;  // at most five redraws a second
        last_draw_ = now;
        const double elapsed = now - start_;
        const double eta = elapsed / static_cast<double>(r.epoch + 1) *
                           static_cast<double>(r.epochs - r.epoch - 1);
        draw(progress_line(unit_, r.epoch + 1, r.epochs, r.train_loss, r.validation_loss,
                           fmt::format("ETA {:.1f}s", eta), columns_));
        last_drawn_ = true;
    } else {
        const std::size_t every = std::max<std::size_t>(1, r.epochs / 10);
        if ((r.epoch + 1) % every == 0 || r.epoch == 0) {
            fmt::print(out_, "{} {}/{} loss {:.6g}{}\n", unit_, r.epoch + 1, r.epochs, r.train_loss,
                       std::isnan(r.validation_loss)
                           ? ""
                           : fmt::format("  val {:.6g}", r.validation_loss));
            last_drawn_ = true;
        }
    }
}

void Progress::finish(const std::string& note) {
    if (quiet_ || !have_report_) return;
    const std::string done =
        fmt::format("done in {:.1f}s", now_() - start_) + (note.empty() ? "" : " (" + note + ")");
    if (terminal_) {
        // A full bar: the run is over, whether or not it used its whole budget.
        std::string line = progress_line(unit_, last_.epoch + 1, last_.epochs, last_.train_loss,
                                         last_.validation_loss, done, columns_);
        if (!line.empty() && line[0] == '[') {
            const auto close = static_cast<std::ptrdiff_t>(line.find(']'));
            std::fill(line.begin() + 1, line.begin() + close, '=');
        }
        draw(line);
        fmt::print(out_, "\n");
        std::fflush(out_);
        line_open_ = false;
    } else if (!last_drawn_) {
        fmt::print(out_, "{} {}/{} loss {:.6g}{}  {}\n", unit_, last_.epoch + 1, last_.epochs,
                   last_.train_loss,
                   std::isnan(last_.validation_loss)
                       ? ""
                       : fmt::format("  val {:.6g}", last_.validation_loss),
                   done);
    }
}

}  // namespace xgrad::cli
