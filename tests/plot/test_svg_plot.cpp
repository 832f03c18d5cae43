// The image grid of xgrad/plot/svg_plot.hpp: its PNGs decoded back to their pixels (zlib), their
// chunks' CRCs, the captions, and every error.
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support.hpp"
#include "xgrad/core/errors.hpp"
#include "xgrad/plot/svg_plot.hpp"

namespace {

using xgrad::array;
using xgrad::plot::ImageCaption;
using xgrad::plot::ImageGridOptions;

std::uint32_t read_big_endian(const std::string& bytes, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) v = v << 8 | static_cast<unsigned char>(bytes[at + k]);
    return v;
}

struct Chunk {
    std::string type;
    std::string data;
};

/// @brief The chunks of a PNG, each CRC checked.
std::vector<Chunk> chunks_of(const std::string& png) {
    EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
    std::vector<Chunk> chunks;
    std::size_t at = 8;
    while (at + 12 <= png.size()) {
        const std::uint32_t length = read_big_endian(png, at);
        const std::string typed = png.substr(at + 4, 4 + length);
        const uLong crc = crc32(crc32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(typed.data()),
                                static_cast<uInt>(typed.size()));
        EXPECT_EQ(read_big_endian(png, at + 8 + length), static_cast<std::uint32_t>(crc))
            << typed.substr(0, 4);
        chunks.push_back({typed.substr(0, 4), typed.substr(4)});
        at += 12 + length;
    }
    EXPECT_EQ(at, png.size());
    return chunks;
}

/// @brief The pixels of an 8-bit greyscale PNG made by greyscale_png (filter 0 rows).
std::vector<unsigned char> pixels_of(const std::string& png, std::size_t& rows, std::size_t& cols) {
    const std::vector<Chunk> chunks = chunks_of(png);
    EXPECT_EQ(chunks.size(), 3u);
    EXPECT_EQ(chunks.front().type, "IHDR");
    EXPECT_EQ(chunks.back().type, "IEND");
    const std::string& header = chunks.front().data;
    cols = read_big_endian(header, 0);
    rows = read_big_endian(header, 4);
    EXPECT_EQ(header.substr(8), std::string("\x08\x00\x00\x00\x00", 5));
    std::string raw(rows * (cols + 1), '\0');
    uLongf raw_size = static_cast<uLongf>(raw.size());
    EXPECT_EQ(uncompress(reinterpret_cast<Bytef*>(raw.data()), &raw_size,
                         reinterpret_cast<const Bytef*>(chunks[1].data.data()),
                         static_cast<uLong>(chunks[1].data.size())),
              Z_OK);
    EXPECT_EQ(raw_size, raw.size());
    std::vector<unsigned char> pixels;
    for (std::size_t r = 0; r < rows; ++r) {
        EXPECT_EQ(raw[r * (cols + 1)], '\0') << "filter of row " << r;
        for (std::size_t c = 0; c < cols; ++c) {
            pixels.push_back(static_cast<unsigned char>(raw[r * (cols + 1) + 1 + c]));
        }
    }
    return pixels;
}

std::string base64_decode(const std::string& text) {
    const std::string digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    unsigned bits = 0;
    int count = 0;
    for (char c : text) {
        if (c == '=') break;
        bits = bits << 6 | static_cast<unsigned>(digits.find(c));
        count += 6;
        if (count >= 8) {
            count -= 8;
            out += static_cast<char>((bits >> count) & 0xFF);
        }
    }
    return out;
}

/// @brief The base64 payloads of the data: URIs in an SVG, in order.
std::vector<std::string> embedded_pngs(const std::string& svg) {
    std::vector<std::string> pngs;
    const std::string prefix = "data:image/png;base64,";
    for (std::size_t at = svg.find(prefix); at != std::string::npos;
         at = svg.find(prefix, at + 1)) {
        const std::size_t start = at + prefix.size();
        pngs.push_back(base64_decode(svg.substr(start, svg.find('"', start) - start)));
    }
    return pngs;
}

TEST(GreyscalePng, DecodesBackToItsPixelsWithValidChunks) {
    for (std::size_t rows : {1u, 3u, 28u}) {
        for (std::size_t cols : {1u, 5u, 28u}) {
            std::vector<unsigned char> pixels(rows * cols);
            for (std::size_t k = 0; k < pixels.size(); ++k) {
                pixels[k] = static_cast<unsigned char>((k * 37 + rows) % 256);
            }
            std::size_t got_rows = 0, got_cols = 0;
            EXPECT_EQ(pixels_of(xgrad::plot::greyscale_png(pixels, rows, cols), got_rows, got_cols),
                      pixels);
            EXPECT_EQ(got_rows, rows);
            EXPECT_EQ(got_cols, cols);
        }
    }
    XGRAD_EXPECT_THROW_WITH(xgrad::plot::greyscale_png({1, 2, 3}, 2, 2), std::invalid_argument,
                            "3 pixels for 2 x 2");
    XGRAD_EXPECT_THROW_WITH(xgrad::plot::greyscale_png({}, 0, 4), std::invalid_argument,
                            "0 pixels for 0 x 4");
}

TEST(ImageGrid, EmbedsEachImageAsItsPixelsAndWritesTheCaptionsEscaped) {
    // two 2×3 images: 0, 1/255, ..., and 1 − that; rank 4 (n, 1, h, w) and rank 3 alike
    array images = array::from_shape({2, 1, 2, 3});
    for (std::size_t k = 0; k < 6; ++k) {
        images.data()[k] = static_cast<double>(k) * 51.0 / 255.0;
        images.data()[6 + k] = 1.0 - images.data()[k];
    }
    // the colour is an attribute: a quote in it must not end the attribute (found in review)
    const std::vector<ImageCaption> captions = {{"T-shirt/top & <Bag>", "#c62828"},
                                                {"Sneaker", "red\" onload=\"alert(1)"}};
    ImageGridOptions options;
    options.title = "Test images";
    options.columns = 1;
    const std::string svg = xgrad::plot::image_grid_svg(images, captions, options);
    const std::vector<std::string> pngs = embedded_pngs(svg);
    ASSERT_EQ(pngs.size(), 2u);
    for (std::size_t i = 0; i < 2; ++i) {
        std::size_t rows = 0, cols = 0;
        const std::vector<unsigned char> pixels = pixels_of(pngs[i], rows, cols);
        EXPECT_EQ(rows, 2u);
        EXPECT_EQ(cols, 3u);
        for (std::size_t k = 0; k < 6; ++k) {
            EXPECT_EQ(pixels[k], static_cast<unsigned char>(i == 0 ? 51 * k : 255 - 51 * k));
        }
    }
    EXPECT_NE(svg.find("T-shirt/top &amp; &lt;Bag&gt;"), std::string::npos);
    EXPECT_NE(svg.find("fill=\"#c62828\""), std::string::npos);
    EXPECT_NE(svg.find(">Sneaker<"), std::string::npos);
    EXPECT_EQ(svg.find("onload=\""), std::string::npos);
    EXPECT_NE(svg.find("fill=\"red&quot; onload=&quot;alert(1)\""), std::string::npos);
    EXPECT_NE(svg.find(">Test images<"), std::string::npos);
    EXPECT_NE(svg.find("image-rendering:pixelated"), std::string::npos);
    const array flat = xt::reshape_view(images, std::vector<std::size_t>{2, 2, 3});
    EXPECT_EQ(embedded_pngs(xgrad::plot::image_grid_svg(flat, {})), pngs);
}

TEST(ImageGrid, RefusesBadShapesCaptionsValuesAndOptions) {
    using xgrad::plot::image_grid_svg;
    XGRAD_EXPECT_THROW_WITH(image_grid_svg(array::from_shape({2, 3}), {}), xgrad::shape_error,
                            "image_grid_svg: expects images (n, h, w) or (n, 1, h, w), got (2,3)");
    XGRAD_EXPECT_THROW_WITH(image_grid_svg(xt::zeros<double>({1, 3, 2, 2}), {}), xgrad::shape_error,
                            "got (1,3,2,2)");
    XGRAD_EXPECT_THROW_WITH(image_grid_svg(array::from_shape({1, 0, 2}), {}), xgrad::shape_error,
                            "empty images (1,0,2)");
    const array two = xt::zeros<double>({2, 2, 2});
    XGRAD_EXPECT_THROW_WITH(image_grid_svg(two, {{"a", ""}}), std::invalid_argument,
                            "1 captions for 2 images");
    ImageGridOptions no_columns;
    no_columns.columns = 0;
    XGRAD_EXPECT_THROW_WITH(image_grid_svg(two, {}, no_columns), std::invalid_argument,
                            "needs columns > 0 and scale >= 1, got 0 and 3");
    array bad = two;
    bad(1, 0, 1) = 1.5;
    XGRAD_EXPECT_THROW_WITH(image_grid_svg(bad, {}), std::invalid_argument,
                            "image 1, row 0, column 1 is 1.5 (needs values in [0, 1])");
    bad(1, 0, 1) = std::nan("");
    XGRAD_EXPECT_THROW_WITH(image_grid_svg(bad, {}), std::invalid_argument,
                            "image 1, row 0, column 1");
}

}  // namespace
