// SVG line, ROC, confusion-matrix, decision-region and image-grid plots.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "xgrad/core/types.hpp"

namespace xgrad::plot {

/// @brief One line of a plot: points (x[i], y[i]) joined in order.
struct Series {
    std::string name;
    std::vector<double> x;
    std::vector<double> y;
    bool markers = false;  ///< also draw a dot at each point
    bool dashed = false;   ///< a dashed line (e.g. a reference line)
    std::string color{};   ///< a CSS colour; empty: the palette's colour for the series' place
};

struct PlotOptions {
    std::string title;
    std::string x_label;
    std::string y_label;
    bool log_x = false;  ///< logarithmic axes drop points ≤ 0 (they have no place on them)
    bool log_y = false;
    int width = 760;
    int height = 480;
    int legend_width = 180;  ///< room right of the plot for the legend, part of width
};

/// @brief A standalone SVG line plot (axes, ticks, grid, legend) that a browser opens.
std::string line_plot_svg(const std::vector<Series>& series, const PlotOptions& options);

/// @brief ROC curves in one plot, e.g. one per class from metrics::roc_curves_ovr: x = false
/// positive rate, y = true positive rate, both on [0, 1], with the chance diagonal dashed in grey
/// and a legend of the curves' names (put the AUC there, e.g. "setosa (AUC 0.98)"). Throws
/// std::invalid_argument naming the curve for x and y of different lengths, no points, or a
/// point outside [0, 1]².
std::string roc_curves_svg(const std::vector<Series>& curves, const std::string& title);

/// @brief Options of confusion_matrix_svg.
struct ConfusionMatrixOptions {
    std::string title;
    /// @brief Colour each cell by its row's rate (count / row total: the recall along the
    /// diagonal) instead of the count, and write the rate under the count.
    bool normalize_rows = false;
    std::string x_label = "Predicted class";
    std::string y_label = "True class";
};

/// @brief A confusion-matrix heatmap, from metrics::confusion_matrix: a K×K grid (row = true
/// class, column = predicted, as scikit-learn's ConfusionMatrixDisplay), each cell shaded from
/// white to dark blue by its count relative to the largest (or by its row rate, see options),
/// its count written in it; class names along both axes, a colour bar and the title.
/// counts: (K, K), K ≥ 2, finite and ≥ 0; class_names: K names (any text: it is escaped). Throws
/// shape_error naming the shape, std::invalid_argument for a name count other than K or a bad
/// count (naming row and column). Write the result with write_file_atomically.
std::string confusion_matrix_svg(const array& counts, const std::vector<std::string>& class_names,
                                 const ConfusionMatrixOptions& options = {});

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

/// @brief The caption under one image of image_grid_svg.
struct ImageCaption {
    std::string text;   ///< e.g. "Sneaker (Sandal)": predicted, then the true class
    std::string color;  ///< a CSS colour for the text; empty: black
};

/// @brief Options of image_grid_svg.
struct ImageGridOptions {
    std::string title;
    std::size_t columns = 8;  ///< images per row, > 0
    int scale = 3;            ///< screen pixels per image pixel, ≥ 1
};

/// @brief Greyscale images in a grid, each with its caption under it: an SVG that embeds every
/// image as an 8-bit greyscale PNG (deflated by zlib), drawn without smoothing.
/// images: (n, h, w) or (n, 1, h, w), values in [0, 1] (0 black, 1 white); captions: none, or
/// one per image. Throws shape_error naming the shape for another rank, a channel count other
/// than 1 or an empty image; std::invalid_argument for a caption count other than n, a value
/// outside [0, 1] or NaN (naming image, row and column), columns = 0 or scale < 1.
std::string image_grid_svg(const array& images, const std::vector<ImageCaption>& captions,
                           const ImageGridOptions& options = {});

/// @brief The bytes of an 8-bit greyscale PNG of `rows` × `cols` pixels (row-major, 0 black,
/// 255 white): signature, IHDR, one zlib-deflated IDAT (filter 0 on every row), IEND, each chunk
/// with its CRC-32. Throws std::invalid_argument for rows or cols of 0 or a pixel count other
/// than rows·cols.
std::string greyscale_png(const std::vector<unsigned char>& pixels, std::size_t rows,
                          std::size_t cols);

}  // namespace xgrad::plot
