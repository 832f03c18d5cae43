#!/usr/bin/python3
"""Reference numbers for conv2d, max_pool2d and avg_pool2d, from torch.autograd (float64).

Regenerate (with Debian's interpreter, which has torch; written with PyTorch 1.13):

    /usr/bin/python3 scripts/reference/conv_torch.py > tests/reference/conv_torch.hpp

Each case draws its operands with numpy from a fixed seed, runs torch.nn.functional's op and
backpropagates a random seed gradient of the output's shape (y.backward(seed)), so the written
gradients are Jᵀ·seed. Written per case: the operands, the seed, the output and the gradient of
every operand. The conv2d cases cover stride 1 and 2, padding 0, 1 and 2, channels 1→1, 1→4, 3→2,
2→3 and 2→2, kernels 1, 2, 3, 5 and 2×3, square and non-square images, batch 1 and 3, with and
without bias. The pooling cases cover kernels 2 and 3, stride = kernel and stride < kernel
(overlapping windows), odd sizes (trailing rows and columns that fill no window), ties (a
constant input: the first position of each window gets the gradient), and special values: NaN
(one window with two NaNs: PyTorch's CPU kernel takes the last one), −inf everywhere in a window
(its first position) and +inf.
"""
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(20261216)

NAN = float("nan")
INF = float("inf")


def number(v):
    v = float(v)
    if np.isnan(v):
        return "NaN"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return f"{v:.17g}"


def tensor(a):
    a = np.asarray(a.detach().numpy() if isinstance(a, torch.Tensor) else a, dtype=np.float64)
    return ("{{" + ", ".join(str(d) for d in a.shape) + "}, {" +
            ", ".join(number(v) for v in a.ravel()) + "}}")


# ---- conv2d ----
# (name, N, C_in, C_out, H, W, (kH, kW), stride, padding, bias)
conv_specs = [
    ("1->1 k3 s1 p0 5x6 batch 1", 1, 1, 1, 5, 6, (3, 3), 1, 0, True),
    ("1->4 k3 s1 p1 7x5 batch 3", 3, 1, 4, 7, 5, (3, 3), 1, 1, True),
    ("3->2 k2 s2 p0 6x7 batch 3 no bias", 3, 3, 2, 6, 7, (2, 2), 2, 0, False),
    ("2->3 k5 s1 p2 6x5 batch 1", 1, 2, 3, 6, 5, (5, 5), 1, 2, True),
    ("2->3 k1 s2 p1 5x4 batch 3 no bias", 3, 2, 3, 5, 4, (1, 1), 2, 1, False),
    ("3->2 k3 s2 p2 5x6 batch 1", 1, 3, 2, 5, 6, (3, 3), 2, 2, True),
    ("1->4 k5 s2 p0 9x7 batch 3 no bias", 3, 1, 4, 9, 7, (5, 5), 2, 0, False),
    ("2->3 k1 s1 p0 4x5 batch 3", 3, 2, 3, 4, 5, (1, 1), 1, 0, True),
    ("1->1 k2 s1 p1 3x4 batch 1 no bias", 1, 1, 1, 3, 4, (2, 2), 1, 1, False),
    ("2->2 k2x3 s1 p1 4x6 batch 3", 3, 2, 2, 4, 6, (2, 3), 1, 1, True),
    ("3->2 k3 s2 p1 8x8 batch 3", 3, 3, 2, 8, 8, (3, 3), 2, 1, True),
]

conv_cases = []
for name, n, cin, cout, h, w, (kh, kw), stride, padding, has_bias in conv_specs:
    x = torch.tensor(rng.normal(0.0, 1.0, size=(n, cin, h, w)), requires_grad=True)
    weight = torch.tensor(rng.normal(0.0, 0.5, size=(cout, cin, kh, kw)), requires_grad=True)
    bias = torch.tensor(rng.normal(0.0, 0.5, size=(cout,)), requires_grad=True) if has_bias else None
    y = F.conv2d(x, weight, bias, stride=stride, padding=padding)
    seed = torch.tensor(rng.normal(0.0, 1.0, size=tuple(y.shape)))
    y.backward(seed)
    conv_cases.append({
        "name": name, "stride": stride, "padding": padding, "bias": has_bias,
        "input": x, "weight": weight, "bias_value": bias if has_bias else np.zeros((0,)),
        "seed": seed, "output": y,
        "grad_input": x.grad, "grad_weight": weight.grad,
        "grad_bias": bias.grad if has_bias else np.zeros((0,)),
    })

# ---- pooling ----


def special_values():
    """(1,2,5,5): random, with NaN, -inf and +inf planted (see the module docstring)."""
    a = rng.normal(0.0, 1.0, size=(1, 2, 5, 5))
    a[0, 0, 0, 1] = NAN  # windows at (0,0) and (0,1) for kernel 2, stride 1
    a[0, 0, 1, 0] = NAN  # with (0,1): two NaNs in window (0,0)
    a[0, 0, 3, 3] = NAN
    a[0, 1, 0:2, 0:2] = -INF  # a window of only -inf (kernel 2 at (0,0))
    a[0, 1, 3, 4] = INF
    return a


# (name, kind, input, kernel, stride)
pool_specs = [
    ("max k2 s2 2x3x6x7", "max", rng.normal(0.0, 1.0, size=(2, 3, 6, 7)), 2, 2),
    ("max k3 s3 1x2x7x8", "max", rng.normal(0.0, 1.0, size=(1, 2, 7, 8)), 3, 3),
    ("max k3 s2 overlap 2x2x7x7", "max", rng.normal(0.0, 1.0, size=(2, 2, 7, 7)), 3, 2),
    ("max k2 s1 overlap 1x2x5x6", "max", rng.normal(0.0, 1.0, size=(1, 2, 5, 6)), 2, 1),
    ("max k2 s1 ties 1x1x4x5", "max", np.full((1, 1, 4, 5), 0.25), 2, 1),
    ("max k3 s3 ties 2x1x6x7", "max", np.full((2, 1, 6, 7), -1.5), 3, 3),
    ("max k2 s1 special values", "max", special_values(), 2, 1),
    ("max k3 s2 special values", "max", special_values(), 3, 2),
    ("avg k2 s2 2x3x6x7", "avg", rng.normal(0.0, 1.0, size=(2, 3, 6, 7)), 2, 2),
    ("avg k3 s3 1x2x7x8", "avg", rng.normal(0.0, 1.0, size=(1, 2, 7, 8)), 3, 3),
    ("avg k3 s2 overlap 2x2x7x7", "avg", rng.normal(0.0, 1.0, size=(2, 2, 7, 7)), 3, 2),
    ("avg k2 s1 overlap 1x2x5x6", "avg", rng.normal(0.0, 1.0, size=(1, 2, 5, 6)), 2, 1),
    ("avg k2 s1 special values", "avg", special_values(), 2, 1),
]

pool_cases = []
for name, kind, data, kernel, stride in pool_specs:
    x = torch.tensor(data, requires_grad=True)
    op = F.max_pool2d if kind == "max" else F.avg_pool2d
    y = op(x, kernel, stride)
    seed = torch.tensor(rng.normal(0.0, 1.0, size=tuple(y.shape)))
    y.backward(seed)
    pool_cases.append({"name": name, "max": kind == "max", "kernel": kernel, "stride": stride,
                       "input": x, "seed": seed, "output": y, "grad_input": x.grad})

# ---- the header ----
print(f"""// Generated by scripts/reference/conv_torch.py with PyTorch {torch.__version__} (float64).
// Do not edit; regenerate with
//   /usr/bin/python3 scripts/reference/conv_torch.py > tests/reference/conv_torch.hpp
// clang-format off
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

namespace xgrad::reference::conv_torch {{

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();
constexpr double inf = std::numeric_limits<double>::infinity();

/// @brief A row-major array: its shape and its values.
struct Tensor {{
    std::vector<std::size_t> shape;
    std::vector<double> values;
}};

/// @brief y = F.conv2d(input, weight, bias, stride, padding); the gradients are those of
/// y.backward(seed). Without bias, bias and grad_bias are empty.
struct ConvCase {{
    const char* name;
    std::size_t stride, padding;
    bool has_bias;
    Tensor input, weight, bias, seed, output, grad_input, grad_weight, grad_bias;
}};

/// @brief y = F.max_pool2d or F.avg_pool2d(input, kernel, stride); grad_input from
/// y.backward(seed).
struct PoolCase {{
    const char* name;
    bool is_max;
    std::size_t kernel, stride;
    Tensor input, seed, output, grad_input;
}};
""")

print("const std::vector<ConvCase> conv_cases = {")
for c in conv_cases:
    fields = [tensor(c[k]) for k in ("input", "weight", "bias_value", "seed", "output",
                                      "grad_input", "grad_weight", "grad_bias")]
    print(f'    {{"{c["name"]}", {c["stride"]}, {c["padding"]}, {"true" if c["bias"] else "false"},')
    print("     " + ",\n     ".join(fields) + "},")
print("};\n")

print("const std::vector<PoolCase> pool_cases = {")
for c in pool_cases:
    fields = [tensor(c[k]) for k in ("input", "seed", "output", "grad_input")]
    print(f'    {{"{c["name"]}", {"true" if c["max"] else "false"}, {c["kernel"]}, {c["stride"]},')
    print("     " + ",\n     ".join(fields) + "},")
print("};\n")
print("}  // namespace xgrad::reference::conv_torch")
