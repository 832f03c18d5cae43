/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#pragma once

#include <string>
#include <vector>

namespace xgrad::plot {

/// @brief One line of a plot: points (x[i], y[i]) joined in order.
struct Series {
    std::string name;
    std::vector<double> x;
    std::vector<double> y;
    bool markers = false;  ///< also draw a dot at each point
};

struct PlotOptions {
    std::string title;
    std::string x_label;
    std::string y_label;
    bool log_x = false;  ///< logarithmic axes drop points ≤ 0 (they have no place on them)
    bool log_y = false;
    int width = 760;
    int height = 480;
};

/// @brief A standalone SVG line plot (axes, ticks, grid, legend) that a browser opens.
std::string line_plot_svg(const std::vector<Series>& series, const PlotOptions& options);

}  // namespace xgrad::plot
