/***************************************************************************
 * xgrad: anomaly mode, graph export, SVG plots and atomic writes           *
 ***************************************************************************/
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "support.hpp"
#include "xgrad/data/io.hpp"
#include "xgrad/plot/svg_plot.hpp"

namespace xgrad {
namespace {

TEST(AnomalyMode, ForwardNanNamesTheOp) {
    Var x = parameter({1.0, -1.0});
    detect_anomaly scope;
    EXPECT_TRUE(is_anomaly_detection_enabled());
    XGRAD_EXPECT_THROW_WITH(log(x), anomaly_error, "anomaly: forward of 'log' produced");
    XGRAD_EXPECT_THROW_WITH(log(x), anomaly_error, "at element 1 of shape (2,)");
    XGRAD_EXPECT_THROW_WITH(log(x), anomaly_error, "its inputs: 'parameter' (2,)");
}

TEST(AnomalyMode, ReplayNamesTheLabel) {
    Var x = parameter({1.0, 2.0});
    Var y = log(x).set_label("log of x");
    Tape tape(sum(y));
    x.mutable_value()(0) = 0.0;  // log(0) = -inf
    tape.forward();              // outside anomaly mode: no check, -inf flows on
    EXPECT_TRUE(std::isinf(tape.output().item()));
    detect_anomaly scope;
    XGRAD_EXPECT_THROW_WITH(tape.forward(), anomaly_error,
                            "forward of 'log' (label 'log of x') produced -inf at element 0");
}

TEST(AnomalyMode, BackwardInfinityNamesTheOpAndInput) {
    Var x = parameter({0.0, 4.0}).set_label("x");
    Var root = pow(x, 0.5);  // d√x/dx = 1/(2√x): infinite at 0
    {
        detect_anomaly scope;
        XGRAD_EXPECT_THROW_WITH(sum(root).backward(), anomaly_error,
                                "backward of 'pow' produced inf in the gradient of its input 0 "
                                "'parameter' (label 'x') at element 0");
    }
    EXPECT_FALSE(is_anomaly_detection_enabled());
    x.zero_grad();
    sum(root).backward();  // not in anomaly mode: the infinity is the answer
    EXPECT_TRUE(std::isinf(x.grad()(0)));
}

TEST(GraphExport, DotShowsOpsShapesAndGradientNorms) {
    Var X = constant(xt::ones<double>({2, 3})).set_label("X");
    Var w = parameter({3.0, 4.0, 0.0}).set_label("w");
    Var loss = mean(matmul(X, w));
    loss.backward();
    const std::string dot = to_dot(loss);
    EXPECT_NE(dot.find("digraph xgrad"), std::string::npos);
    EXPECT_NE(dot.find("matmul\\n(2,)"), std::string::npos);
    EXPECT_NE(dot.find("constant 'X'\\n(2,3)"), std::string::npos);
    EXPECT_NE(dot.find("parameter 'w'\\n(3,)\\n|grad| = 1.732"), std::string::npos);  // √3
    EXPECT_NE(dot.find("fillcolor=\"#cfe2ff\""), std::string::npos);    // parameters stand out
    EXPECT_NE(dot.find("style=\"filled,dashed\""), std::string::npos);  // constants too
    EXPECT_EQ(std::count(dot.begin(), dot.end(), '>'), 3);  // X → matmul ← w, matmul → mean

    const std::string path = ::testing::TempDir() + "xgrad_graph.dot";
    write_dot(loss, path);
    std::stringstream read;
    read << std::ifstream(path).rdbuf();
    EXPECT_EQ(read.str(), dot);
    std::remove(path.c_str());
}

TEST(SvgPlot, DrawsSeriesAndEscapesText) {
    const std::string svg =
        plot::line_plot_svg({{"a<b", {1.0, 10.0, 100.0}, {1e-3, 1e-5, 1e-4}, true},
                             {"c", {1.0, 2.0}, {0.5, 0.2}, false}},
                            {"title & more", "x", "y", true, true, 600, 400});
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
    EXPECT_NE(svg.find("</svg>"), std::string::npos);
    EXPECT_NE(svg.find("a&lt;b"), std::string::npos);
    EXPECT_NE(svg.find("title &amp; more"), std::string::npos);
    std::size_t polylines = 0;
    for (std::size_t at = svg.find("<polyline"); at != std::string::npos;
         at = svg.find("<polyline", at + 1))
        ++polylines;
    EXPECT_EQ(polylines, 2u);
    EXPECT_NE(svg.find("1e-5"), std::string::npos);  // decade ticks on a log axis
    EXPECT_THROW(plot::line_plot_svg({{"bad", {1.0}, {}, false}}, {}), std::invalid_argument);
}

TEST(SvgPlot, DecisionRegionsHaveTicksAndFeatureNames) {
    plot::DecisionPanel panel{"P(y = 1)",
                              {0.0, 1.0, 2.0},
                              {10.0, 20.0, 30.0},
                              {0.0, 1.0, 1.0},
                              [](double a, double) { return a > 1.0 ? 0.9 : 0.1; },
                              "length <cm>",
                              "width"};
    const std::string svg = plot::decision_regions_svg({panel}, "regions", 10);
    EXPECT_NE(svg.find("length &lt;cm&gt;</text>"), std::string::npos);
    EXPECT_NE(svg.find("rotate(-90)\" text-anchor=\"middle\">width</text>"), std::string::npos);
    EXPECT_NE(svg.find(">1</text>"), std::string::npos);       // an x tick
    EXPECT_NE(svg.find(">20</text>"), std::string::npos);      // a y tick
    EXPECT_GT(std::count(svg.begin(), svg.end(), '\n'), 100);  // the 10×10 grid is drawn
    panel.labels.pop_back();
    EXPECT_THROW(plot::decision_regions_svg({panel}, "bad"), std::invalid_argument);
}

TEST(AtomicWrite, WritesWholeFilesAndReportsFailures) {
    const std::string path = ::testing::TempDir() + "xgrad_atomic.txt";
    write_file_atomically(path, "first");
    write_file_atomically(path, "second");
    std::stringstream read;
    read << std::ifstream(path).rdbuf();
    EXPECT_EQ(read.str(), "second");
    std::remove(path.c_str());
    XGRAD_EXPECT_THROW_WITH(write_file_atomically("/nonexistent-dir/out.svg", "x"),
                            std::runtime_error, "/nonexistent-dir/out.svg: cannot create");
}

}  // namespace
}  // namespace xgrad
