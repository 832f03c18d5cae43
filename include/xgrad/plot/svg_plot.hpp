// SVG line, ROC and decision-region plots.
#pragma once

#include <functional>
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

/// @brief One panel of a decision-region plot: two-feature points with 0/1 labels over a
/// classifier's P(class 1) painted on a grid.
struct DecisionPanel {
    std::string title;
    std::vector<double> x;
    std::vector<double> y;
    std::vector<double> labels;  ///< 0 or 1
    std::function<double(double, double)> probability;
    std::string x_label;  ///< names of the two features, under and beside the axes
    std::string y_label;
};

/// @brief Panels side by side in one SVG: background tinted by P(class 1) (blue for 0, red for
/// 1, white at 0.5, where the decision boundary runs), points coloured by their label, ticks and
/// feature names on both axes.
std::string decision_regions_svg(const std::vector<DecisionPanel>& panels, const std::string& title,
                                 int grid = 90);

}  // namespace xgrad::plot
