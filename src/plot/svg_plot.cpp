// SVG plots.
#include "xgrad/plot/svg_plot.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>

#include <zlib.h>

#include "xgrad/core/errors.hpp"

namespace xgrad::plot {

namespace {

const char* const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                               "#9467bd", "#8c564b", "#e377c2", "#17becf"};

/// @brief Text for an SVG (XML 1.0) text node: markup escaped, and what XML cannot hold at all
/// (control bytes other than tab and line breaks, broken UTF-8: names from a CSV may carry
/// anything) replaced by U+FFFD, so that the file stays well-formed.
std::string escape(const std::string& text) {
    const char* replacement = "\xEF\xBF\xBD";
    std::string out;
    const std::size_t n = text.size();
    for (std::size_t i = 0; i < n;) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c == '<') {
            out += "&lt;";
        } else if (c == '>') {
            out += "&gt;";
        } else if (c == '&') {
            out += "&amp;";
        } else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
            out += replacement;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
        } else {
            // A whole UTF-8 character, or U+FFFD for a byte that starts none.
            const std::size_t length = (c & 0xE0) == 0xC0   ? 2
                                       : (c & 0xF0) == 0xE0 ? 3
                                       : (c & 0xF8) == 0xF0 ? 4
                                                            : 0;
            bool ok = length > 0 && i + length <= n && c != 0xC0 && c != 0xC1 && c < 0xF5;
            for (std::size_t k = 1; ok && k < length; ++k)
                ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
            if (ok && length == 3) {  // no overlong forms, no surrogates
                const auto d = static_cast<unsigned char>(text[i + 1]);
                ok = !(c == 0xE0 && d < 0xA0) && !(c == 0xED && d >= 0xA0);
            }
            if (ok && length == 4) {
                const auto d = static_cast<unsigned char>(text[i + 1]);
                ok = !(c == 0xF0 && d < 0x90) && !(c == 0xF4 && d >= 0x90);
            }
            if (ok) {
                out.append(text, i, length);
                i += length;
                continue;
            }
            out += replacement;
        }
        ++i;
    }
    return out;
}

std::string number(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f", v);
    return text;
}

std::string tick_label(double v, bool log_axis) {
    char text[32];
    if (log_axis) {
        std::snprintf(text, sizeof text, "1e%d", static_cast<int>(std::lround(std::log10(v))));
    } else {
        std::snprintf(text, sizeof text, "%g", std::abs(v) < 1e-12 ? 0.0 : v);
    }
    return text;
}

/// @brief A count as a whole number ("1234567", not %g's "1.23457e+06"); other values by %g.
std::string count_label(double v) {
    char text[64];
    if (v == std::floor(v) && std::abs(v) < 1e15) {
        std::snprintf(text, sizeof text, "%.0f", v);
    } else {
        std::snprintf(text, sizeof text, "%g", v);
    }
    return text;
}

/// @brief Text for a double-quoted XML attribute: escape() and the quote itself.
std::string attribute(const std::string& text) {
    std::string out;
    for (char c : escape(text)) out += c == '"' ? std::string("&quot;") : std::string(1, c);
    return out;
}

/// @brief A data range mapped onto pixels, linear or logarithmic.
struct Axis {
    bool log_scale;
    double low;
    double high;
    double pixel_low;
    double pixel_high;

    double map(double v) const {
        const double t =
            log_scale ? (std::log10(v) - low) / (high - low) : (v - low) / (high - low);
        return pixel_low + t * (pixel_high - pixel_low);
    }

    /// @brief Decades for a log axis; 1, 2 or 5 × 10^k steps for a linear one.
    std::vector<double> ticks() const {
        std::vector<double> out;
        if (log_scale) {
            const int first = static_cast<int>(std::ceil(low - 1e-9));
            const int last = static_cast<int>(std::floor(high + 1e-9));
            const int stride = std::max(1, (last - first) / 8 + 1);
            for (int e = first; e <= last; e += stride) out.push_back(std::pow(10.0, e));
            return out;
        }
        const double raw = (high - low) / 6.0;
        const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
        double step = magnitude;
        for (double m : {1.0, 2.0, 5.0, 10.0}) {
            if (m * magnitude >= raw) {
                step = m * magnitude;
                break;
            }
        }
        for (double v = std::ceil(low / step) * step; v <= high + step * 1e-9; v += step) {
            out.push_back(v);
        }
        return out;
    }
};

Axis make_axis(std::vector<double> values, bool log_scale, double pixel_low, double pixel_high) {
    double low = std::numeric_limits<double>::infinity();
    double high = -low;
    for (double v : values) {
        if (!std::isfinite(v) || (log_scale && v <= 0.0)) continue;
        const double t = log_scale ? std::log10(v) : v;
        low = std::min(low, t);
        high = std::max(high, t);
    }
    if (!std::isfinite(low)) {
        low = 0.0;
        high = 1.0;
    }
    if (high - low < 1e-12) {  // a flat range still needs a height
        low -= 0.5;
        high += 0.5;
    }
    if (log_scale) {
        low = std::floor(low);
        high = std::ceil(high);
    } else {
        const double pad = 0.05 * (high - low);
        low -= pad;
        high += pad;
    }
    return {log_scale, low, high, pixel_low, pixel_high};
}

}  // namespace

std::string line_plot_svg(const std::vector<Series>& series, const PlotOptions& options) {
    const double left = 80.0;
    const double right = options.width - static_cast<double>(options.legend_width);
    const double top = 50.0;
    const double bottom = options.height - 60.0;
    std::vector<double> xs;
    std::vector<double> ys;
    for (const Series& s : series) {
        if (s.x.size() != s.y.size()) {
            throw std::invalid_argument("line_plot_svg: series '" + s.name + "' has " +
                                        std::to_string(s.x.size()) + " x values and " +
                                        std::to_string(s.y.size()) + " y values");
        }
        xs.insert(xs.end(), s.x.begin(), s.x.end());
        ys.insert(ys.end(), s.y.begin(), s.y.end());
    }
    const Axis ax = make_axis(xs, options.log_x, left, right);
    const Axis ay = make_axis(ys, options.log_y, bottom, top);

    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                      std::to_string(options.width) + "\" height=\"" +
                      std::to_string(options.height) +
                      "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    svg += "<text x=\"" + number((left + right) / 2) +
           "\" y=\"28\" text-anchor=\"middle\" "
           "font-size=\"16\">" +
           escape(options.title) + "</text>\n";
    for (double t : ax.ticks()) {
        const std::string px = number(ax.map(t));
        svg += "<line x1=\"" + px + "\" y1=\"" + number(top) + "\" x2=\"" + px + "\" y2=\"" +
               number(bottom) + "\" stroke=\"#e5e5e5\"/>\n";
        svg += "<text x=\"" + px + "\" y=\"" + number(bottom + 18) + "\" text-anchor=\"middle\">" +
               tick_label(t, options.log_x) + "</text>\n";
    }
    for (double t : ay.ticks()) {
        const std::string py = number(ay.map(t));
        svg += "<line x1=\"" + number(left) + "\" y1=\"" + py + "\" x2=\"" + number(right) +
               "\" y2=\"" + py + "\" stroke=\"#e5e5e5\"/>\n";
        svg += "<text x=\"" + number(left - 6) + "\" y=\"" + py +
               "\" text-anchor=\"end\" dominant-baseline=\"middle\">" +
               tick_label(t, options.log_y) + "</text>\n";
    }
    svg += "<rect x=\"" + number(left) + "\" y=\"" + number(top) + "\" width=\"" +
           number(right - left) + "\" height=\"" + number(bottom - top) +
           "\" fill=\"none\" stroke=\"black\"/>\n";
    svg += "<text x=\"" + number((left + right) / 2) + "\" y=\"" + number(options.height - 15.0) +
           "\" text-anchor=\"middle\">" + escape(options.x_label) + "</text>\n";
    svg += "<text transform=\"translate(20," + number((top + bottom) / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">" + escape(options.y_label) + "</text>\n";

    for (std::size_t k = 0; k < series.size(); ++k) {
        const Series& s = series[k];
        const std::string color = s.color.empty()
                                      ? palette[k % (sizeof palette / sizeof palette[0])]
                                      : attribute(s.color);
        const std::string dash = s.dashed ? "\" stroke-dasharray=\"6,4" : "";
        std::string points;
        std::string markers;
        for (std::size_t i = 0; i < s.x.size(); ++i) {
            const bool drawable = std::isfinite(s.x[i]) && std::isfinite(s.y[i]) &&
                                  (!options.log_x || s.x[i] > 0) && (!options.log_y || s.y[i] > 0);
            if (!drawable) continue;
            const std::string p = number(ax.map(s.x[i])) + "," + number(ay.map(s.y[i]));
            points += p + " ";
            if (s.markers) {
                markers += "<circle cx=\"" + number(ax.map(s.x[i])) + "\" cy=\"" +
                           number(ay.map(s.y[i])) + "\" r=\"3\" fill=\"" + color + "\"/>\n";
            }
        }
        svg += "<polyline fill=\"none\" stroke=\"" + color + dash +
               "\" stroke-width=\"2\" points=\"" + points + "\"/>\n" + markers;
        const double ly = top + 10.0 + 22.0 * static_cast<double>(k);
        svg += "<line x1=\"" + number(right + 15) + "\" y1=\"" + number(ly) + "\" x2=\"" +
               number(right + 40) + "\" y2=\"" + number(ly) + "\" stroke=\"" + color + dash +
               "\" stroke-width=\"2\"/>\n";
        svg += "<text x=\"" + number(right + 46) + "\" y=\"" + number(ly) +
               "\" dominant-baseline=\"middle\">" + escape(s.name) + "</text>\n";
    }
    return svg + "</svg>\n";
}

std::string roc_curves_svg(const std::vector<Series>& curves, const std::string& title) {
    std::vector<Series> series;
    for (const Series& c : curves) {
        if (c.x.size() != c.y.size() || c.x.empty()) {
            throw std::invalid_argument("roc_curves_svg: curve '" + c.name + "' has " +
                                        std::to_string(c.x.size()) + " x values and " +
                                        std::to_string(c.y.size()) +
                                        " y values (needs one length, at least 1)");
        }
        for (std::size_t i = 0; i < c.x.size(); ++i) {
            if (!(c.x[i] >= 0.0 && c.x[i] <= 1.0 && c.y[i] >= 0.0 && c.y[i] <= 1.0)) {
                throw std::invalid_argument("roc_curves_svg: curve '" + c.name + "' point " +
                                            std::to_string(i) + " (" + tick_label(c.x[i], false) +
                                            ", " + tick_label(c.y[i], false) +
                                            ") is outside [0, 1]^2");
            }
        }
        series.push_back(c);
    }
    series.push_back({"chance", {0.0, 1.0}, {0.0, 1.0}, false, true, "#999999"});
    std::size_t longest = 0;  // legend names, in characters (about 7 px each at 12 px)
    for (const Series& s : series) {
        std::size_t n = 0;
        for (char c : s.name) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
        longest = std::max(longest, n);
    }
    PlotOptions options;
    options.title = title;
    options.x_label = "False positive rate";
    options.y_label = "True positive rate";
    options.legend_width = std::max(180, 60 + static_cast<int>(7 * longest));
    options.width = 80 + 400 + options.legend_width;  // a plotting area of 400 × 370
    options.height = 480;
    return line_plot_svg(series, options);
}

std::string confusion_matrix_svg(const array& counts, const std::vector<std::string>& class_names,
                                 const ConfusionMatrixOptions& options) {
    if (counts.dimension() != 2 || counts.shape()[0] != counts.shape()[1] ||
        counts.shape()[0] < 2) {
        throw shape_error("confusion_matrix_svg: expects counts (K, K) with K >= 2, got " +
                          format_shape(counts.shape()));
    }
    const std::size_t k = counts.shape()[0];
    if (class_names.size() != k) {
        throw std::invalid_argument("confusion_matrix_svg: " + std::to_string(class_names.size()) +
                                    " class names for counts " + format_shape(counts.shape()));
    }
    std::vector<double> row_total(k, 0.0);
    double largest = 0.0;
    for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = 0; j < k; ++j) {
            const double c = counts(i, j);
            if (!(std::isfinite(c) && c >= 0.0)) {
                throw std::invalid_argument("confusion_matrix_svg: count at row " +
                                            std::to_string(i) + ", column " + std::to_string(j) +
                                            " is " + count_label(c) + " (needs finite and >= 0)");
            }
            row_total[i] += c;
            largest = std::max(largest, c);
        }
    }
    // Shade t ∈ [0, 1] from white to dark blue (the ends of matplotlib's "Blues").
    const auto shade = [](double t) {
        const auto mix = [t](int from, int to) {
            return static_cast<int>(std::lround(from + (to - from) * std::clamp(t, 0.0, 1.0)));
        };
        char fill[8];
        std::snprintf(fill, sizeof fill, "#%02x%02x%02x", mix(0xf7, 0x08), mix(0xfb, 0x30),
                      mix(0xff, 0x6b));
        return std::string(fill);
    };
    // Text widths are estimates (sans-serif at 13 px: about 7.5 px a character).
    std::size_t longest = 0;
    for (const std::string& name : class_names) {
        std::size_t n = 0;
        for (char c : name) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
        longest = std::max(longest, n);
    }
    const double name_px = 7.5 * static_cast<double>(longest);
    const double cell = std::clamp(480.0 / static_cast<double>(k), 28.0, 90.0);
    const double size = cell * static_cast<double>(k);
    const bool slanted = name_px > cell - 6.0;  // x names at 45° when wider than a cell
    const double left = 50.0 + name_px + 10.0;
    const double top = 60.0;
    const double bottom_pad = 14.0 + (slanted ? name_px * 0.71 + 10.0 : 16.0) + 30.0;
    const double bar_x = left + size + 24.0;
    const double width = std::max(bar_x + 80.0, left + size / 2 + 7.0 * options.title.size() / 2);
    const double height = top + size + bottom_pad;
    const double font = std::min(14.0, cell / 3.0);

    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width) +
                      "\" height=\"" + number(height) +
                      "\" font-family=\"sans-serif\" font-size=\"13\">\n"
                      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    svg += "<text x=\"" + number(left + size / 2) +
           "\" y=\"28\" text-anchor=\"middle\" font-size=\"16\">" + escape(options.title) +
           "</text>\n";
    for (std::size_t i = 0; i < k; ++i) {
        for (std::size_t j = 0; j < k; ++j) {
            const double c = counts(i, j);
            const double rate = row_total[i] > 0.0 ? c / row_total[i] : 0.0;
            const double t = options.normalize_rows ? rate : (largest > 0.0 ? c / largest : 0.0);
            const double x = left + cell * static_cast<double>(j);
            const double y = top + cell * static_cast<double>(i);
            svg += "<rect class=\"cell\" x=\"" + number(x) + "\" y=\"" + number(y) + "\" width=\"" +
                   number(cell) + "\" height=\"" + number(cell) + "\" fill=\"" + shade(t) +
                   "\" stroke=\"white\"><title>" + escape(class_names[i]) + " as " +
                   escape(class_names[j]) + ": " + count_label(c) + "</title></rect>\n";
            const std::string ink = t > 0.5 ? "white" : "black";
            const double cx = x + cell / 2;
            const double cy = y + cell / 2 - (options.normalize_rows ? font * 0.45 : 0.0);
            svg += "<text x=\"" + number(cx) + "\" y=\"" + number(cy) +
                   "\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"" +
                   number(font) + "\" fill=\"" + ink + "\">" + count_label(c) + "</text>\n";
            if (options.normalize_rows) {
                svg += "<text x=\"" + number(cx) + "\" y=\"" + number(cy + font * 1.05) +
                       "\" text-anchor=\"middle\" dominant-baseline=\"middle\" font-size=\"" +
                       number(font * 0.8) + "\" fill=\"" + ink + "\">" + number(rate) + "</text>\n";
            }
        }
    }
    svg += "<rect x=\"" + number(left) + "\" y=\"" + number(top) + "\" width=\"" + number(size) +
           "\" height=\"" + number(size) + "\" fill=\"none\" stroke=\"black\"/>\n";
    for (std::size_t i = 0; i < k; ++i) {
        const double mid = cell * (static_cast<double>(i) + 0.5);
        const std::string name = escape(class_names[i]);
        svg += "<text x=\"" + number(left - 8) + "\" y=\"" + number(top + mid) +
               "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + name + "</text>\n";
        if (slanted) {
            svg += "<text transform=\"translate(" + number(left + mid) + "," +
                   number(top + size + 12) + ") rotate(-45)\" text-anchor=\"end\">" + name +
                   "</text>\n";
        } else {
            svg += "<text x=\"" + number(left + mid) + "\" y=\"" + number(top + size + 18) +
                   "\" text-anchor=\"middle\">" + name + "</text>\n";
        }
    }
    svg += "<text x=\"" + number(left + size / 2) + "\" y=\"" + number(height - 14) +
           "\" text-anchor=\"middle\">" + escape(options.x_label) + "</text>\n";
    svg += "<text transform=\"translate(20," + number(top + size / 2) +
           ") rotate(-90)\" text-anchor=\"middle\">" + escape(options.y_label) + "</text>\n";
    // The colour bar: the shade for 0 at the bottom, for the largest count (or rate 1) at the top.
    svg +=
        "<defs><linearGradient id=\"confusion-scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
        "<stop offset=\"0\" stop-color=\"" +
        shade(0.0) + "\"/><stop offset=\"1\" stop-color=\"" + shade(1.0) +
        "\"/></linearGradient></defs>\n";
    svg += "<rect x=\"" + number(bar_x) + "\" y=\"" + number(top) + "\" width=\"14\" height=\"" +
           number(size) + "\" fill=\"url(#confusion-scale)\" stroke=\"black\"/>\n";
    const std::string high = options.normalize_rows ? "1" : count_label(largest);
    svg += "<text x=\"" + number(bar_x + 20) + "\" y=\"" + number(top) +
           "\" dominant-baseline=\"middle\">" + high + "</text>\n";
    svg += "<text x=\"" + number(bar_x + 20) + "\" y=\"" + number(top + size) +
           "\" dominant-baseline=\"middle\">0</text>\n";
    return svg + "</svg>\n";
}

std::string decision_regions_svg(const std::vector<DecisionPanel>& panels, const std::string& title,
                                 int grid) {
    const double size = 400.0;
    const double left_pad = 70.0;  // y tick labels and the y feature name
    const double right_pad = 20.0;
    const double top = 60.0;
    const double bottom_pad = 55.0;  // x tick labels and the x feature name
    const double panel_width = left_pad + size + right_pad;
    const double width = static_cast<double>(panels.size()) * panel_width;
    const double height = top + size + bottom_pad;
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width) +
                      "\" height=\"" + number(height) +
                      "\" font-family=\"sans-serif\" font-size=\"13\">\n"
                      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    svg += "<text x=\"" + number(width / 2) +
           "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">" + escape(title) + "</text>\n";
    for (std::size_t k = 0; k < panels.size(); ++k) {
        const DecisionPanel& panel = panels[k];
        if (panel.x.size() != panel.y.size() || panel.x.size() != panel.labels.size()) {
            throw std::invalid_argument("decision_regions_svg: panel '" + panel.title +
                                        "' has points of different lengths");
        }
        const Axis ax = make_axis(panel.x, false, 0.0, size);
        const Axis ay = make_axis(panel.y, false, size, 0.0);
        const double left = static_cast<double>(k) * panel_width + left_pad;
        svg += "<g transform=\"translate(" + number(left) + "," + number(top) + ")\">\n";
        svg += "<text x=\"" + number(size / 2) + "\" y=\"-8\" text-anchor=\"middle\">" +
               escape(panel.title) + "</text>\n";
        const double cell = size / grid;
        for (int i = 0; i < grid; ++i) {
            for (int j = 0; j < grid; ++j) {
                const double px = (i + 0.5) * cell;
                const double py = (j + 0.5) * cell;
                const double fx = ax.low + (ax.high - ax.low) * px / size;
                const double fy = ay.high - (ay.high - ay.low) * py / size;
                const double p = std::clamp(panel.probability(fx, fy), 0.0, 1.0);
                // White at 0.5, tinting towards blue (class 0) or red (class 1).
                const int strength = static_cast<int>(std::lround(std::abs(p - 0.5) * 2.0 * 110.0));
                const int r = p >= 0.5 ? 255 : 255 - strength;
                const int g = 255 - strength;
                const int b = p >= 0.5 ? 255 - strength : 255;
                char fill[8];
                std::snprintf(fill, sizeof fill, "#%02x%02x%02x", r, g, b);
                svg += "<rect x=\"" + number(i * cell) + "\" y=\"" + number(j * cell) +
                       "\" width=\"" + number(cell + 0.3) + "\" height=\"" + number(cell + 0.3) +
                       "\" fill=\"" + fill + "\"/>\n";
            }
        }
        for (std::size_t i = 0; i < panel.x.size(); ++i) {
            svg += "<circle cx=\"" + number(ax.map(panel.x[i])) + "\" cy=\"" +
                   number(ay.map(panel.y[i])) + "\" r=\"2.6\" fill=\"" +
                   (panel.labels[i] > 0.5 ? "#c0392b" : "#1f5fa8") +
                   "\" stroke=\"white\" stroke-width=\"0.5\"/>\n";
        }
        svg += "<rect width=\"" + number(size) + "\" height=\"" + number(size) +
               "\" fill=\"none\" stroke=\"black\"/>\n";
        for (double t : ax.ticks()) {  // ticks point outwards, labels beyond them
            const std::string px = number(ax.map(t));
            svg += "<line x1=\"" + px + "\" y1=\"" + number(size) + "\" x2=\"" + px + "\" y2=\"" +
                   number(size + 5) + "\" stroke=\"black\"/>\n";
            svg += "<text x=\"" + px + "\" y=\"" + number(size + 19) +
                   "\" text-anchor=\"middle\">" + tick_label(t, false) + "</text>\n";
        }
        for (double t : ay.ticks()) {
            const std::string py = number(ay.map(t));
            svg +=
                "<line x1=\"-5\" y1=\"" + py + "\" x2=\"0\" y2=\"" + py + "\" stroke=\"black\"/>\n";
            svg += "<text x=\"-8\" y=\"" + py +
                   "\" text-anchor=\"end\" dominant-baseline=\"middle\">" + tick_label(t, false) +
                   "</text>\n";
        }
        svg += "<text x=\"" + number(size / 2) + "\" y=\"" + number(size + 42) +
               "\" text-anchor=\"middle\">" + escape(panel.x_label) + "</text>\n";
        svg += "<text transform=\"translate(-52," + number(size / 2) +
               ") rotate(-90)\" text-anchor=\"middle\">" + escape(panel.y_label) + "</text>\n";
        svg += "</g>\n";
    }
    return svg + "</svg>\n";
}

namespace {

/// @brief v with all its digits ("1.5", "nan"), for an error message.
std::string exact(double v) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    return text;
}

/// @brief `bytes` in base64 (RFC 4648, with padding), for a data: URI.
std::string base64(const std::string& bytes) {
    static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                           static_cast<unsigned char>(bytes[i + 1]) << 8 |
                           static_cast<unsigned char>(bytes[i + 2]);
        for (int shift = 18; shift >= 0; shift -= 6) out += digits[(v >> shift) & 63];
    }
    if (i < bytes.size()) {
        const bool two = i + 1 < bytes.size();
        const unsigned v = static_cast<unsigned char>(bytes[i]) << 16 |
                           (two ? static_cast<unsigned char>(bytes[i + 1]) << 8 : 0);
        out += digits[(v >> 18) & 63];
        out += digits[(v >> 12) & 63];
        out += two ? digits[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

/// @brief v as 4 big-endian bytes.
std::string big_endian(std::uint32_t v) {
    return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
            static_cast<char>(v)};
}

/// @brief A PNG chunk: length, type, data, CRC-32 of type and data.
std::string png_chunk(const char* type, const std::string& data) {
    std::string typed = std::string(type, 4) + data;
    const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(typed.data()),
                            static_cast<uInt>(typed.size()));
    return big_endian(static_cast<std::uint32_t>(data.size())) + typed +
           big_endian(static_cast<std::uint32_t>(crc));
}

}  // namespace

std::string greyscale_png(const std::vector<unsigned char>& pixels, std::size_t rows,
                          std::size_t cols) {
    if (rows == 0 || cols == 0 || pixels.size() != rows * cols) {
        throw std::invalid_argument("greyscale_png: " + std::to_string(pixels.size()) +
                                    " pixels for " + std::to_string(rows) + " x " +
                                    std::to_string(cols));
    }
    // each row: filter type 0 (none), then its pixels
    std::string raw;
    raw.reserve(rows * (cols + 1));
    for (std::size_t r = 0; r < rows; ++r) {
        raw += '\0';
        raw.append(reinterpret_cast<const char*>(pixels.data() + r * cols), cols);
    }
    uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
    std::string packed(packed_size, '\0');
    if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                  reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                  Z_BEST_COMPRESSION) != Z_OK) {
        throw std::runtime_error("greyscale_png: zlib could not compress the image");
    }
    packed.resize(packed_size);
    // IHDR: width, height, bit depth 8, colour type 0 (greyscale), deflate, filter 0, no interlace
    const std::string header = big_endian(static_cast<std::uint32_t>(cols)) +
                               big_endian(static_cast<std::uint32_t>(rows)) +
                               std::string("\x08\x00\x00\x00\x00", 5);
    return std::string("\x89PNG\r\n\x1a\n", 8) + png_chunk("IHDR", header) +
           png_chunk("IDAT", packed) + png_chunk("IEND", "");
}

std::string image_grid_svg(const array& images, const std::vector<ImageCaption>& captions,
                           const ImageGridOptions& options) {
    const auto& shape = images.shape();
    const bool rank4 = images.dimension() == 4;
    if (!(images.dimension() == 3 || (rank4 && shape[1] == 1))) {
        throw shape_error("image_grid_svg: expects images (n, h, w) or (n, 1, h, w), got " +
                          format_shape(shape));
    }
    const std::size_t n = shape[0];
    const std::size_t rows = shape[rank4 ? 2 : 1];
    const std::size_t cols = shape[rank4 ? 3 : 2];
    if (rows == 0 || cols == 0) {
        throw shape_error("image_grid_svg: empty images " + format_shape(shape));
    }
    if (!captions.empty() && captions.size() != n) {
        throw std::invalid_argument("image_grid_svg: " + std::to_string(captions.size()) +
                                    " captions for " + std::to_string(n) + " images");
    }
    if (options.columns == 0 || options.scale < 1) {
        throw std::invalid_argument("image_grid_svg: needs columns > 0 and scale >= 1, got " +
                                    std::to_string(options.columns) + " and " +
                                    std::to_string(options.scale));
    }
    const double scale = options.scale;
    const double image_w = scale * static_cast<double>(cols);
    const double image_h = scale * static_cast<double>(rows);
    const double caption_h = captions.empty() ? 6.0 : 22.0;
    // caption widths are estimates (sans-serif at 12 px: about 6.8 px a character)
    std::size_t longest = 0;
    for (const ImageCaption& caption : captions) {
        std::size_t characters = 0;
        for (char c : caption.text) characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
        longest = std::max(longest, characters);
    }
    const double cell_w = std::max(image_w, 6.8 * static_cast<double>(longest)) + 12.0;
    const double cell_h = image_h + caption_h + 8.0;
    const std::size_t grid_cols = std::min(options.columns, std::max<std::size_t>(n, 1));
    const std::size_t grid_rows = (n + grid_cols - 1) / grid_cols;
    const double top = options.title.empty() ? 10.0 : 40.0;
    const double width = std::max(cell_w * static_cast<double>(grid_cols) + 10.0,
                                  20.0 + 8.0 * static_cast<double>(options.title.size()));
    const double height = top + cell_h * static_cast<double>(grid_rows) + 6.0;
    std::string svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + number(width) +
                      "\" height=\"" + number(height) +
                      "\" font-family=\"sans-serif\" font-size=\"12\">\n"
                      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    if (!options.title.empty()) {
        svg += "<text x=\"" + number(width / 2) +
               "\" y=\"26\" text-anchor=\"middle\" font-size=\"16\">" + escape(options.title) +
               "</text>\n";
    }
    std::vector<unsigned char> pixels(rows * cols);
    for (std::size_t i = 0; i < n; ++i) {
        const double* image = images.data() + i * rows * cols;
        for (std::size_t k = 0; k < rows * cols; ++k) {
            const double v = image[k];
            if (!(v >= 0.0 && v <= 1.0)) {
                throw std::invalid_argument("image_grid_svg: image " + std::to_string(i) +
                                            ", row " + std::to_string(k / cols) + ", column " +
                                            std::to_string(k % cols) + " is " + exact(v) +
                                            " (needs values in [0, 1])");
            }
            pixels[k] = static_cast<unsigned char>(std::lround(v * 255.0));
        }
        const double x = 10.0 + cell_w * static_cast<double>(i % grid_cols);
        const double y = top + cell_h * static_cast<double>(i / grid_cols);
        svg += "<image x=\"" + number(x + (cell_w - 12.0 - image_w) / 2) + "\" y=\"" + number(y) +
               "\" width=\"" + number(image_w) + "\" height=\"" + number(image_h) +
               "\" style=\"image-rendering:pixelated\" href=\"data:image/png;base64," +
               base64(greyscale_png(pixels, rows, cols)) + "\"/>\n";
        if (!captions.empty()) {
            const std::string& color = captions[i].color;
            svg += "<text x=\"" + number(x + (cell_w - 12.0) / 2) + "\" y=\"" +
                   number(y + image_h + 15.0) + "\" text-anchor=\"middle\" fill=\"" +
                   attribute(color.empty() ? std::string("black") : color) + "\">" +
                   escape(captions[i].text) + "</text>\n";
        }
    }
    return svg + "</svg>\n";
}

}  // namespace xgrad::plot
