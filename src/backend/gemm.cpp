// xgrad's own packed matrix product (the BLIS scheme, AVX-512 register tiles).
#include "backend/gemm.hpp"

#include <atomic>

#include "xgrad/backend/blas.hpp"

// Only AVX-512 builds have it: with AVX2 the same scheme measured level with OpenBLAS's Haswell
// kernel (44–47 against 46–47 GFLOP/s at the MLP's shapes), so there the BLAS does everything.
#if defined(XGRAD_USE_XSIMD) && defined(__AVX512F__)
#define XGRAD_PACKED_GEMM 1
#else
#define XGRAD_PACKED_GEMM 0
#endif
#if XGRAD_PACKED_GEMM
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include <immintrin.h>

#include <xsimd/xsimd.hpp>

#include "backend/worker_pool.hpp"
#endif

namespace xgrad {

namespace {
std::atomic<bool> packed_gemm_switch{true};
}  // namespace

bool set_packed_gemm(bool enabled) {
    packed_gemm_switch = enabled;
    return XGRAD_PACKED_GEMM != 0;
}

}  // namespace xgrad

namespace xgrad::detail {

#if XGRAD_PACKED_GEMM
namespace {

using batch = xsimd::batch<double>;
constexpr std::size_t lanes = batch::size;

// The register tile of C: 6 × 4 vectors of 8 accumulators, which leaves 8 of the 32 registers for
// a row of the B sliver and a broadcast element of A.
constexpr std::size_t tile_rows = 6, tile_vectors = 4;
constexpr std::size_t tile_cols = tile_vectors * lanes;

// Block sizes measured with bench_matmul (depth 128–256 and panels of 512–2048 columns were within
// noise of each other at the MLP's shapes; wider panels lost at 1024³).
constexpr std::size_t max_depth = 192;       // depth of a packed B panel and A block
constexpr std::size_t max_panel_cols = 512;  // columns of a packed B panel
// Below this many multiply-adds per thread, waking a worker costs more than it saves.
constexpr std::size_t min_work_per_part = std::size_t{1} << 21;

/// @brief One operand of op(a) op(b): element (i, k) of op(a) is data[i·ld + k], or data[k·ld + i]
/// when transposed.
struct Operand {
    const double* data;
    std::size_t ld;
    bool trans;

    /// @brief The operand from row (or, for the right operand, column) `first` on.
    Operand from(std::size_t first, bool columns) const {
        const bool contiguous = columns ? !trans : trans;  // the index is the fast one
        return {data + (contiguous ? first : first * ld), ld, trans};
    }
};

/// @brief Balanced block sizes: `total` split into as few blocks of at most `most` as possible,
/// each a multiple of `unit` (except the last).
std::size_t block_size(std::size_t total, std::size_t most, std::size_t unit) {
    const std::size_t blocks = (total + most - 1) / most;
    const std::size_t size = (total + blocks - 1) / blocks;
    return (size + unit - 1) / unit * unit;
}

/// @brief Rows of A in one packed block: the block (rows × depth doubles) fills half of L2.
std::size_t max_block_rows() {
    static const std::size_t rows = [] {
        const long l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
        const std::size_t bytes = l2 > 0 ? static_cast<std::size_t>(l2) : 256 * 1024;
        const std::size_t fit = bytes / 2 / (max_depth * sizeof(double));
        return std::max<std::size_t>(fit / tile_rows, 1) * tile_rows;
    }();
    return rows;
}

/// @brief out[k·slots + s] = src[s·ld + k] for the first `present` of `slots` stored rows, each
/// read along the depth k, and zeros in the slots past them: rows turned into interleaved columns.
template <std::size_t slots>
void interleave(const double* src, std::size_t ld, std::size_t present, std::size_t depth,
                double* out) {
    for (std::size_t s = 0; s < slots; ++s) {
        if (s >= present) {
            for (std::size_t k = 0; k < depth; ++k) out[k * slots + s] = 0.0;
            continue;
        }
        for (std::size_t k = 0; k < depth; ++k) out[k * slots + s] = src[s * ld + k];
    }
}

/// @brief Packs rows [0, rows) × depth [0, depth) of op(a) into slivers of tile_rows, each depth ×
/// tile_rows with the rows of one depth index side by side; missing rows are zeros.
void pack_a(const Operand& a, std::size_t rows, std::size_t depth, double* out) {
    if (!a.trans) {
        for (std::size_t first = 0; first < rows; first += tile_rows, out += depth * tile_rows) {
            interleave<tile_rows>(a.data + first * a.ld, a.ld, std::min(tile_rows, rows - first),
                                  depth, out);
        }
        return;
    }
    // Transposed, row k of the data holds depth k of every sliver: walk it across the slivers a
    // few depths at a time, so that the reads stay on a few pages (the rows are far apart).
    constexpr std::size_t depths_at_a_time = 8;
    for (std::size_t k0 = 0; k0 < depth; k0 += depths_at_a_time) {
        const std::size_t k1 = std::min(depth, k0 + depths_at_a_time);
        for (std::size_t first = 0; first < rows; first += tile_rows) {
            const std::size_t height = std::min(tile_rows, rows - first);
            double* sliver = out + first * depth;
            for (std::size_t k = k0; k < k1; ++k) {
                const double* src = a.data + k * a.ld + first;
                if (height == tile_rows) {  // the common case: one masked vector copy
                    constexpr __mmask8 six = (1u << tile_rows) - 1;
                    _mm512_mask_storeu_pd(sliver + k * tile_rows, six,
                                          _mm512_maskz_loadu_pd(six, src));
                } else {
                    for (std::size_t r = 0; r < tile_rows; ++r)
                        sliver[k * tile_rows + r] = r < height ? src[r] : 0.0;
                }
            }
        }
    }
}

/// @brief Packs depth [0, depth) × columns [0, cols) of op(b) into slivers of tile_cols, each
/// depth × tile_cols row-major; missing columns are zeros.
void pack_b(const Operand& b, std::size_t depth, std::size_t cols, double* out) {
    for (std::size_t first = 0; first < cols; first += tile_cols, out += depth * tile_cols) {
        const std::size_t width = std::min(tile_cols, cols - first);
        if (b.trans) {
            interleave<tile_cols>(b.data + first * b.ld, b.ld, width, depth, out);
        } else if (width == tile_cols) {  // the common case, copies of a fixed length
            for (std::size_t k = 0; k < depth; ++k) {
                const double* src = b.data + k * b.ld + first;
                for (std::size_t v = 0; v < tile_vectors; ++v)
                    batch::load_unaligned(src + v * lanes)
                        .store_aligned(out + k * tile_cols + v * lanes);
            }
        } else {
            for (std::size_t k = 0; k < depth; ++k) {
                const double* src = b.data + k * b.ld + first;
                for (std::size_t c = 0; c < tile_cols; ++c)
                    out[k * tile_cols + c] = c < width ? src[c] : 0.0;
            }
        }
    }
}

/// @brief c = alpha (a sliver · b sliver) + beta c for a rows × cols corner of one register tile;
/// with beta = 0, c is not read. Element (r, k) of the A sliver is a[r·a_row_step + k·a_depth_step]
/// (packed: 1 and tile_rows; in place: the row stride and 1).
template <std::size_t a_depth_step>
void multiply_tile(std::size_t depth, const double* a, std::size_t a_row_step, const double* b,
                   double alpha, double beta, double* c, std::size_t ldc, std::size_t rows,
                   std::size_t cols) {
    batch sum[tile_rows][tile_vectors];
    for (auto& row : sum) {
        for (batch& s : row) s = batch(0.0);
    }
    for (std::size_t k = 0; k < depth; ++k, a += a_depth_step, b += tile_cols) {
        batch b_row[tile_vectors];
        for (std::size_t v = 0; v < tile_vectors; ++v)
            b_row[v] = batch::load_aligned(b + v * lanes);
        for (std::size_t r = 0; r < tile_rows; ++r) {
            const batch a_element(a[r * a_row_step]);
            for (std::size_t v = 0; v < tile_vectors; ++v)
                sum[r][v] = xsimd::fma(a_element, b_row[v], sum[r][v]);
        }
    }
    if (rows == tile_rows && cols == tile_cols) {
        for (std::size_t r = 0; r < tile_rows; ++r) {
            for (std::size_t v = 0; v < tile_vectors; ++v) {
                double* out = c + r * ldc + v * lanes;
                const batch scaled = sum[r][v] * batch(alpha);
                (beta == 0.0 ? scaled : xsimd::fma(batch(beta), batch::load_unaligned(out), scaled))
                    .store_unaligned(out);
            }
        }
        return;
    }
    alignas(64) double tile[tile_rows * tile_cols];  // an edge tile: only part of it is in c
    for (std::size_t r = 0; r < tile_rows; ++r) {
        for (std::size_t v = 0; v < tile_vectors; ++v)
            sum[r][v].store_aligned(tile + r * tile_cols + v * lanes);
    }
    for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t j = 0; j < cols; ++j) {
            double& out = c[r * ldc + j];
            out = alpha * tile[r * tile_cols + j] + (beta == 0.0 ? 0.0 : beta * out);
        }
    }
}

/// @brief Packing space of the calling thread, kept between calls so that a replayed step does
/// not allocate (an ordinary vector, so that the allocation tests see it).
class PackBuffer {
  public:
    /// @brief Room for `size` doubles from a 64-byte boundary.
    double* reserve(std::size_t size) {
        if (size + slack > storage_.size()) storage_.resize(size + slack);
        const auto address = reinterpret_cast<std::uintptr_t>(storage_.data());
        return storage_.data() + (64 - address % 64) % 64 / sizeof(double);
    }

  private:
    static constexpr std::size_t slack = 64 / sizeof(double);
    std::vector<double> storage_;
};

/// @brief The whole product on the calling thread: panels of B (depth × cols), blocks of A (rows ×
/// depth), and register tiles of C; each sliver of B meets every sliver of A of the block in turn.
void gemm_serial(const Operand& a, const Operand& b, std::size_t m, std::size_t n, std::size_t k,
                 double alpha, double beta, double* c, std::size_t ldc) {
    thread_local PackBuffer a_buffer, b_buffer;
    const std::size_t depth_step = block_size(k, max_depth, 1);
    const std::size_t row_step = block_size(m, max_block_rows(), tile_rows);
    const std::size_t col_step = block_size(n, max_panel_cols, tile_cols);
    double* const a_packed = a_buffer.reserve(depth_step * row_step);
    double* const b_packed = b_buffer.reserve(depth_step * col_step);
    for (std::size_t j0 = 0; j0 < n; j0 += col_step) {
        const std::size_t cols = std::min(col_step, n - j0);
        for (std::size_t k0 = 0; k0 < k; k0 += depth_step) {
            const std::size_t depth = std::min(depth_step, k - k0);
            const double block_beta = k0 == 0 ? beta : 1.0;  // later depths add to the first
            pack_b(b.from(k0, false).from(j0, true), depth, cols, b_packed);
            for (std::size_t i0 = 0; i0 < m; i0 += row_step) {
                const std::size_t rows = std::min(row_step, m - i0);
                // A not transposed is read in place (its rows are contiguous); only a last,
                // partial sliver is packed, padded with zeros. Transposed, A is packed.
                const Operand block = a.from(i0, false).from(k0, true);
                const std::size_t in_place = a.trans ? 0 : rows / tile_rows * tile_rows;
                pack_a(block.from(in_place, false), rows - in_place, depth,
                       a_packed + in_place * depth);
                for (std::size_t j = 0; j < cols; j += tile_cols) {
                    const double* b_sliver = b_packed + j * depth;
                    const std::size_t width = std::min(tile_cols, cols - j);
                    for (std::size_t i = 0; i < rows; i += tile_rows) {
                        double* c_tile = c + (i0 + i) * ldc + j0 + j;
                        const std::size_t height = std::min(tile_rows, rows - i);
                        if (i < in_place) {
                            multiply_tile<1>(depth, block.data + i * block.ld, block.ld, b_sliver,
                                             alpha, block_beta, c_tile, ldc, height, width);
                        } else {
                            multiply_tile<tile_rows>(depth, a_packed + i * depth, 1, b_sliver,
                                                     alpha, block_beta, c_tile, ldc, height, width);
                        }
                    }
                }
            }
        }
    }
}

/// @brief A product split between threads by rows or by columns of C (see packed_gemm for which);
/// each element is summed in the same order whatever the split.
struct SplitProduct {
    Operand a, b;
    std::size_t m, n, k;
    double alpha, beta;
    double* c;
    std::size_t ldc;
    std::size_t part_size;  // rows or columns per part, a multiple of the tile
    bool by_rows;

    static void run_part(void* context, std::size_t part) {
        const SplitProduct& p = *static_cast<const SplitProduct*>(context);
        const std::size_t total = p.by_rows ? p.m : p.n;
        const std::size_t first = part * p.part_size;
        if (first >= total) return;
        const std::size_t size = std::min(p.part_size, total - first);
        if (p.by_rows) {
            gemm_serial(p.a.from(first, false), p.b, size, p.n, p.k, p.alpha, p.beta,
                        p.c + first * p.ldc, p.ldc);
        } else {
            gemm_serial(p.a, p.b.from(first, true), p.m, size, p.k, p.alpha, p.beta, p.c + first,
                        p.ldc);
        }
    }
};

/// @brief Whether OpenBLAS 0.3.21 runs this row-major product with its small-matrix kernels (no
/// packing, masked edges, one thread), as its SkylakeX / Cooper Lake permit decides: at most 10⁶
/// multiply-adds, except that a row-major op(a) op(b)ᵀ (its column-major "TN" kernel) also needs
/// m·n ≤ 1200 and k ≥ 32 (measured here: 32×37×196 Bᵀ 9.4 µs, 32×38×196 Bᵀ 13.5 µs).
bool openblas_small_kernels(bool trans_a, bool trans_b, std::size_t m, std::size_t n,
                            std::size_t k) {
    if (m * n * k > 1000000) return false;
    return !(trans_b && !trans_a && (m * n > 1200 || k < 32));
}

/// @brief Whether the packed product beats the BLAS call at this shape, as measured with
/// bench_matmul: with a side of C under 32, or below ~80³ multiply-adds, OpenBLAS's small-matrix
/// kernels win; from 512³ on its larger blocking does. (A short k is fine: 256×256 by depth 10
/// takes 30 µs here against OpenBLAS's 38 µs, or 61 µs when it splits it between two threads.)
/// Wherever OpenBLAS's small-matrix kernels run the product they beat the packed product:
/// the Fashion-MNIST CNN's convolutions, one image at a time (AMD Zen 4, one thread, 128
/// products): 32×196×144 6.0 → 4.0 ms, 144×196×32 Aᵀ 5.7 → 4.2 ms; 96³ 34 → 31 µs,
/// 128×128×40 28 → 24 µs, 256×256×10 39 → 29 µs. Where they do not, its ordinary path is
/// slower than the packed product at 144×32×196 Bᵀ (43 against 35 µs) and 256×256×10 Bᵀ.
bool pays(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k) {
    const std::size_t work = m * n * k;
    return std::min(m, n) >= 32 && work >= (std::size_t{1} << 19) &&
           work < (std::size_t{1} << 27) && !openblas_small_kernels(trans_a, trans_b, m, n, k);
}

}  // namespace

bool packed_gemm(bool trans_a, bool trans_b, std::size_t m, std::size_t n, std::size_t k,
                 double alpha, const double* a, std::size_t lda, const double* b, std::size_t ldb,
                 double beta, double* c, std::size_t ldc) {
    if (!packed_gemm_switch || alpha == 0.0 || !pays(trans_a, trans_b, m, n, k)) return false;
    const std::size_t parts = parallel_parts(m * n * k, min_work_per_part);
    // Each part packs all of the operand it does not split, so split the one that costs more to
    // pack (A costs nothing when it is read in place), if it has a tile for every part.
    const std::size_t a_packing = trans_a ? m * k : 0;
    const bool rows_can = (m + tile_rows - 1) / tile_rows >= parts;
    const bool cols_can = (n + tile_cols - 1) / tile_cols >= parts;
    const bool by_rows = rows_can && (!cols_can || k * n < a_packing);
    SplitProduct product{
        {a, lda, trans_a}, {b, ldb, trans_b}, m, n, k, alpha, beta, c, ldc, 0, by_rows};
    const std::size_t unit = product.by_rows ? tile_rows : tile_cols;
    const std::size_t total = product.by_rows ? m : n;
    product.part_size = (total + parts * unit - 1) / (parts * unit) * unit;
    run_in_parallel(parts, &SplitProduct::run_part, &product);
    return true;
}

#else  // every product goes to the BLAS

bool packed_gemm(bool, bool, std::size_t, std::size_t, std::size_t, double, const double*,
                 std::size_t, const double*, std::size_t, double, double*, std::size_t) {
    return false;
}

#endif

}  // namespace xgrad::detail
