// Peak heap memory of forward + backward, plain graphs against checkpointed ones: (a) a chain
// of 200 tanh layers of 256×256 weights, checkpointed in segments of 14 layers (≈ √200), and
// (b) an MLP 784-512-512-512-10 on a batch of 256, checkpointed per layer. Counts live heap bytes
// itself (global operator new/delete), checks that the gradients are identical, and prints a
// table. Exit status 1 if a gradient differs.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <new>
#include <vector>

#include "xgrad/core/checkpoint.hpp"
#include "xgrad/core/random.hpp"
#include "xgrad/xgrad.hpp"

// ---- live and peak heap bytes -----------------------------------------------------------
// Each block carries its size in a header of `alignment` bytes in front of it.

namespace {

std::atomic<std::size_t> live_bytes{0};
std::atomic<std::size_t> peak_bytes{0};

void* counted_alloc(std::size_t size, std::size_t alignment) {
    alignment = std::max<std::size_t>(alignment, 16);
    void* block = nullptr;
    if (posix_memalign(&block, alignment, size + alignment) != 0) throw std::bad_alloc();
    *static_cast<std::size_t*>(block) = size;
    const std::size_t now = live_bytes.fetch_add(size) + size;
    std::size_t peak = peak_bytes.load();
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now)) {
    }
    return static_cast<char*>(block) + alignment;
}

void counted_free(void* p, std::size_t alignment) noexcept {
    if (p == nullptr) return;
    alignment = std::max<std::size_t>(alignment, 16);
    void* block = static_cast<char*>(p) - alignment;
    live_bytes.fetch_sub(*static_cast<std::size_t*>(block));
    std::free(block);
}

}  // namespace

void* operator new(std::size_t size) {
    return counted_alloc(size, 16);
}
void* operator new[](std::size_t size) {
    return counted_alloc(size, 16);
}
void* operator new(std::size_t size, std::align_val_t a) {
    return counted_alloc(size, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t size, std::align_val_t a) {
    return counted_alloc(size, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept {
    counted_free(p, 16);
}
void operator delete[](void* p) noexcept {
    counted_free(p, 16);
}
void operator delete(void* p, std::size_t) noexcept {
    counted_free(p, 16);
}
void operator delete[](void* p, std::size_t) noexcept {
    counted_free(p, 16);
}
void operator delete(void* p, std::align_val_t a) noexcept {
    counted_free(p, static_cast<std::size_t>(a));
}
void operator delete[](void* p, std::align_val_t a) noexcept {
    counted_free(p, static_cast<std::size_t>(a));
}
void operator delete(void* p, std::size_t, std::align_val_t a) noexcept {
    counted_free(p, static_cast<std::size_t>(a));
}
void operator delete[](void* p, std::size_t, std::align_val_t a) noexcept {
    counted_free(p, static_cast<std::size_t>(a));
}

namespace {

using namespace xgrad;

xgrad::array random_matrix(Random& rng, std::size_t rows, std::size_t cols, double scale) {
    xgrad::array a = xgrad::array::from_shape({rows, cols});
    for (double& v : a) v = rng.uniform(-scale, scale);
    return a;
}

struct Measurement {
    double peak_mb = 0.0;  // above what was live before the graph was built
    double seconds = 0.0;
    std::vector<xgrad::array> grads;
};

/// @brief Builds the loss, runs backward, and measures the peak of live heap bytes over both
/// (the parameters and their gradient buffers already exist: a warm-up pass made them).
Measurement measure(const std::function<Var()>& loss_of, const std::vector<Var>& params) {
    Measurement m;
    for (const Var& p : params) p.zero_grad();
    const std::size_t before = live_bytes.load();
    peak_bytes.store(before);
    const auto start = std::chrono::steady_clock::now();
    {
        const Var loss = loss_of();
        loss.backward();
    }
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m.peak_mb = static_cast<double>(peak_bytes.load() - before) / (1024.0 * 1024.0);
    for (const Var& p : params) m.grads.push_back(p.grad());
    return m;
}

bool report(const char* name, const std::function<Var()>& plain,
            const std::function<Var()>& checkpointed, const std::vector<Var>& params) {
    plain().backward();  // warm-up: the parameters' gradient buffers exist from here on
    const Measurement a = measure(plain, params);
    const Measurement b = measure(checkpointed, params);
    bool same = a.grads.size() == b.grads.size();
    for (std::size_t k = 0; same && k < a.grads.size(); ++k) same = a.grads[k] == b.grads[k];
    std::printf("| %-44s | %10.1f | %13.1f | %5.1fx | %8.2f | %8.2f | %-9s |\n", name, a.peak_mb,
                b.peak_mb, a.peak_mb / b.peak_mb, a.seconds, b.seconds,
                same ? "identical" : "DIFFER");
    return same;
}

}  // namespace

int main() {
    Random rng(42);
    std::printf(
        "Peak heap above the parameters and their gradients, one forward + backward pass\n\n");
    std::printf("| %-44s | %10s | %13s | %6s | %8s | %8s | %-9s |\n", "graph", "plain MB",
                "checkpoint MB", "ratio", "plain s", "ckpt s", "gradients");
    std::printf("|%s|%s|%s|%s|%s|%s|%s|\n", std::string(46, '-').c_str(),
                std::string(12, '-').c_str(), std::string(15, '-').c_str(),
                std::string(8, '-').c_str(), std::string(10, '-').c_str(),
                std::string(10, '-').c_str(), std::string(11, '-').c_str());
    bool ok = true;

    // (a) 200 tanh layers: h ← tanh(h·Wᵢ), h of 256×256, sum of squares at the end.
    {
        const std::size_t depth = 200, width = 256, rows = 256, segment = 14;
        const Var x = parameter(random_matrix(rng, rows, width, 1.0));
        std::vector<Var> weights;
        for (std::size_t i = 0; i < depth; ++i) {
            weights.push_back(parameter(random_matrix(rng, width, width, 1.5 / 16.0)));
        }
        std::vector<Var> params{x};
        params.insert(params.end(), weights.begin(), weights.end());
        auto plain = [&] {
            Var h = x;
            for (const Var& W : weights) h = tanh(matmul(h, W));
            return sum(h * h);
        };
        auto checkpointed = [&] {
            Var h = x;
            for (std::size_t start = 0; start < depth; start += segment) {
                const std::vector<Var> ws(weights.begin() + static_cast<std::ptrdiff_t>(start),
                                          weights.begin() + static_cast<std::ptrdiff_t>(
                                                                std::min(depth, start + segment)));
                h = checkpoint(
                    [ws](const std::vector<Var>& in) {
                        Var y = in[0];
                        for (const Var& W : ws) y = tanh(matmul(y, W));
                        return y;
                    },
                    {h});
            }
            return sum(h * h);
        };
        ok =
            report("tanh chain 200 x (256x256), segments of 14", plain, checkpointed, params) && ok;
    }

    // (b) MLP 784-512-512-512-10, batch 256, relu, cross-entropy; one checkpoint per layer.
    {
        const std::vector<std::size_t> sizes = {784, 512, 512, 512, 10};
        const std::size_t batch = 256;
        const Var X = constant(random_matrix(rng, batch, sizes[0], 1.0));
        xgrad::array labels = xgrad::array::from_shape({batch});
        for (std::size_t i = 0; i < batch; ++i) labels(i) = static_cast<double>(rng.index(10));
        const Var y = constant(labels);
        std::vector<Var> params;
        for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
            const double scale = 1.0 / std::sqrt(static_cast<double>(sizes[l]));
            params.push_back(parameter(random_matrix(rng, sizes[l], sizes[l + 1], scale)));
            params.push_back(parameter(xgrad::array(xt::zeros<double>({sizes[l + 1]}))));
        }
        const std::size_t layers = sizes.size() - 1;
        auto layer = [layers](std::size_t l, const Var& h, const Var& W, const Var& b) {
            const Var z = matmul(h, W) + b;
            return l + 1 == layers ? z : relu(z);
        };
        auto plain = [&] {
            Var h = X;
            for (std::size_t l = 0; l < layers; ++l)
                h = layer(l, h, params[2 * l], params[2 * l + 1]);
            return cross_entropy(h, y);
        };
        auto checkpointed = [&] {
            Var h = X;
            for (std::size_t l = 0; l < layers; ++l) {
                h = checkpoint(
                    [l, layer](const std::vector<Var>& in) {
                        return layer(l, in[0], in[1], in[2]);
                    },
                    {h, params[2 * l], params[2 * l + 1]});
            }
            return cross_entropy(h, y);
        };
        ok = report("MLP 784-512-512-512-10, batch 256, per layer", plain, checkpointed, params) &&
             ok;
    }
    std::printf("\n%s\n", ok ? "gradients identical" : "GRADIENTS DIFFER");
    return ok ? 0 : 1;
}
