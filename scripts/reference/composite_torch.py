#!/usr/bin/python3
"""Reference numbers of a composite model built from the op library, from torch.autograd (float64).

Regenerate (with Debian's interpreter, which has torch; written with PyTorch 1.13):

    /usr/bin/python3 scripts/reference/composite_torch.py > tests/reference/composite_torch.hpp

The main model runs X (6,4) through a (4,5) weight W and (5,) bias b, the elementwise ops (sin,
cos, tan, sqrt, square, log1p, expm1, erf, silu, gelu (exact erf form), elu, clamp, maximum,
minimum, pow with a tensor exponent P (5,), where on h > 0, tanh, sigmoid), then stacks three
(6,5) maps, multiplies them by the permuted (3,4,5) tensor T, and reduces and indexes the result
(amax/amin, logsumexp, var with ddof 1, std with ddof 0, sum/mean with keepdim, slicing with a
step, index_select with a repeated index, gather, cat, squeeze, unsqueeze, flatten, softmax,
log_softmax, vector_norm p = 2 and p = 3) into a scalar loss. The data are drawn with numpy from
a fixed seed and stay more than 1e-3 from every kink (asserted below: no ties at amax, amin,
maximum or minimum, no element at a clamp bound or at elu's 0, positive bases of pow, no constant
rows for std, no zero vector for norm), so torch and xgrad define the same derivatives there. Written: the inputs, the loss, the
gradient of every parameter (torch.autograd.grad), a Hessian-vector product H·v for a fixed v
(double backward), an intermediate vector output `feature` (30,) and its Jacobian with respect
to W (torch.autograd.functional.jacobian).

The conventions model puts the points where the two libraries' definitions meet or differ into
one loss, each on a parameter of its own so that a NaN in torch's gradient stays in that
parameter: where(x > 0, sqrt(x), 0) with x holding negatives and 0 (torch: NaN there; xgrad: 0,
its strong zeros), ties at amax, amin and maximum (both split the gradient evenly), std of
constant rows (both 0: torch masks std = 0 to a 0 gradient, and along the last axis of k its
std is exactly 0), std of the constant vector c = [0.7, 0.7, 0.7] (torch's mean of it is inexact,
its std is 1.1e-16 and its gradient the rounding artifact 1/3 per element; xgrad's mean is exact
for a constant slice, so its std is 0 and the gradient 0) and vector_norm of a zero vector (both
0). torch's numbers are written as they are (NaN as
NaN); tests/ops/test_composite_reference.cpp states what xgrad must give at each.
"""
import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.RandomState(20261130)

# ---- main model ----
X_np = rng.normal(0.0, 1.0, size=(6, 4))
params_np = {
    "W": rng.normal(0.0, 0.6, size=(4, 5)),
    "b": rng.normal(0.0, 0.3, size=(5,)),
    "T": rng.normal(0.0, 0.5, size=(3, 4, 5)),
    "P": rng.uniform(0.5, 1.5, size=(5,)),
}
direction_np = {name: rng.normal(0.0, 1.0, size=value.shape) for name, value in params_np.items()}
select_indices = [3, 0, 3]  # along axis 2 of Y (length 4); 3 repeats
gather_np = rng.randint(0, 6, size=(3, 2, 4))  # along axis 1 of Y (length 6)

X = torch.tensor(X_np)
select = torch.tensor(select_indices)
gather_index = torch.tensor(gather_np)


margins = {}  # the distance of the data from each kink, checked below


def gap(a, dim):
    """The smallest distance between two entries of a along dim (0 for a tie)."""
    s = torch.sort(a.detach(), dim=dim).values
    n = s.shape[dim]
    return (s.narrow(dim, 1, n - 1) - s.narrow(dim, 0, n - 1)).min()


def model(W, b, T, P):
    h = X @ W + b  # (6,5)
    t = torch.tanh(h)
    s = torch.sigmoid(h)
    u = torch.sin(h) * torch.cos(t) + torch.tan(0.3 * s)
    r = torch.sqrt(torch.square(h) + 1.0)
    l = torch.log1p(torch.square(u)) + torch.expm1(0.2 * t)
    e = torch.erf(h) + F.silu(h) + F.gelu(h, approximate="none") + F.elu(h, alpha=0.7)
    c = torch.clamp(e, -1.75, 4.0)
    m = torch.maximum(c, l) - torch.minimum(u, 0.5 * r - 0.1) + 0.1 * c
    w = torch.where(h > 0, torch.pow(r, P), m)  # P (5,) broadcast over rows
    Z = torch.stack([w, m, l], dim=0)  # (3,6,5)
    Y = torch.matmul(Z, T.permute(0, 2, 1))  # (3,6,4)
    mx = torch.amax(Y, dim=1, keepdim=True)  # (3,1,4)
    mn = torch.amin(Y, dim=-1)  # (3,6)
    lse = torch.logsumexp(Y, dim=2)  # (3,6)
    var = torch.var(Y, dim=1, unbiased=True)  # (3,4), ddof 1
    sd = torch.std(Y, dim=2, unbiased=False)  # (3,6), ddof 0
    Yc = Y - mx
    Ys = Yc[:, 1:6:2, :]  # (3,3,4)
    Yu = Y / torch.unsqueeze(sd + 1.0, 2)
    Yi = torch.index_select(Yu, 2, select)  # (3,6,3)
    Yg = torch.gather(Y, 1, gather_index)  # (3,2,4)
    q = torch.cat([Ys, Yg], dim=1)  # (3,5,4)
    q2 = torch.flatten(q, 0, 1)  # (15,4)
    sm = torch.softmax(q2, dim=-1)
    lsm = torch.log_softmax(Yi, dim=-1)  # (3,6,3)
    sk = torch.sum(Yi, dim=1, keepdim=True)  # (3,1,3)
    mk = torch.mean(q, dim=2, keepdim=True)  # (3,5,1)
    margins.update({
        "h at where's switch and elu's kink": h.abs().min(),
        "e at clamp's bounds": torch.minimum((e + 1.75).abs(), (e - 4.0).abs()).min(),
        "maximum(c, l) ties": (c - l).abs().min(),
        "minimum(u, r/2 - 0.1) ties": (u - 0.5 * r + 0.1).abs().min(),
        "amax ties along axis 1": gap(Y, 1),
        "amin ties along axis 2": gap(Y, 2),
        "std of constant rows": sd.min(),
    })
    feature = torch.cat([torch.flatten(torch.squeeze(mx, 1) * var), torch.flatten(mn - lse + sd)])
    loss = (
        torch.sum(sm * q2)
        + torch.mean(lsm * torch.tanh(sk))
        + 0.1 * torch.sum(torch.sin(q) * mk)
        + torch.linalg.vector_norm(feature, 2)
        + 0.5 * torch.linalg.vector_norm(lsm, 3)
    )
    return loss, feature


params = [torch.tensor(v, requires_grad=True) for v in params_np.values()]
loss, feature = model(*params)
for what, margin in margins.items():
    assert margin.item() > 1e-3, f"the data come within {margin.item()} of {what}"
gradients = torch.autograd.grad(loss, params, create_graph=True)
directional = sum(torch.sum(g * torch.tensor(direction_np[name]))
                  for g, name in zip(gradients, params_np))
hvp = torch.autograd.grad(directional, params)
jacobian_W = torch.autograd.functional.jacobian(lambda W: model(W, *params[1:])[1],
                                                params[0].detach())

# ---- conventions model ----
conv_np = {
    "x": np.array([[-0.5, 0.0, 0.25, 2.0], [1.0, -1e-3, 0.0, 4.0]]),  # where/sqrt trap at x ≤ 0
    "y": np.array([[1.0, 3.0, -2.0, 3.0], [0.5, 0.5, 0.5, -1.0]]),  # amax ties in both rows
    "z": np.array([[1.0, 0.5, 0.0, 3.0], [0.25, 0.5, 1.0, -1.0]]),  # maximum ties with y; amin tie
    "k": np.array([[0.5, 0.5, 0.5], [0.7, 0.7, 0.7], [0.1, 0.4, -0.3]]),  # constant rows for std
    "n": np.zeros(3),  # norm at 0
    "c": np.full(3, 0.7),  # std of a constant vector whose mean torch rounds
}


def conventions(x, y, z, k, n, c):
    root = torch.where(x > 0, torch.sqrt(x), torch.zeros_like(x))
    return (
        torch.sum(root * torch.sigmoid(y))
        + torch.sum(torch.amax(y, dim=1))
        + torch.sum(torch.maximum(y, z))
        + torch.sum(torch.amin(z, dim=0) * torch.tensor([1.0, 2.0, 3.0, 4.0]))
        + torch.sum(torch.std(k, dim=1, unbiased=False) * torch.tensor([1.0, 2.0, 3.0]))
        + torch.linalg.vector_norm(n, 2)
        + torch.linalg.vector_norm(n, 3)
        + torch.std(c, unbiased=False)
    )


conv_params = [torch.tensor(v, requires_grad=True) for v in conv_np.values()]
conv_loss = conventions(*conv_params)
conv_gradients = torch.autograd.grad(conv_loss, conv_params)


# ---- the header ----
def number(v):
    v = float(v)
    if np.isnan(v):
        return "NaN"
    if np.isinf(v):
        raise ValueError("an infinite reference value")
    return f"{v:.17g}"


def values(a):
    return ", ".join(number(v) for v in np.asarray(a, dtype=np.float64).ravel())


def tensor(a):
    a = np.asarray(a.detach().numpy() if isinstance(a, torch.Tensor) else a)
    return "{{" + ", ".join(str(d) for d in a.shape) + "}, {" + values(a) + "}}"


def tensors(arrays):
    return "{\n    " + ",\n    ".join(tensor(a) for a in arrays) + "}"


print(f"""// Generated by scripts/reference/composite_torch.py with PyTorch {torch.__version__} (float64).
// Do not edit; regenerate with
//   /usr/bin/python3 scripts/reference/composite_torch.py > tests/reference/composite_torch.hpp
// clang-format off
#pragma once

#include <cstddef>
#include <limits>
#include <vector>

namespace xgrad::reference::composite_torch {{

constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

/// @brief A row-major array: its shape and its values.
struct Tensor {{
    std::vector<std::size_t> shape;
    std::vector<double> values;
}};

// ---- the main model (see the script for the graph) ----
const Tensor X = {tensor(X_np)};
// The parameters, in the order W (4,5), b (5,), T (3,4,5), P (5,).
const std::vector<Tensor> parameters = {tensors(params_np.values())};
// index_select along axis 2 of Y; gather's index along axis 1 of Y.
const std::vector<std::size_t> select_indices = {{{", ".join(str(i) for i in select_indices)}}};
const Tensor gather_indices = {tensor(gather_np)};
// The direction v of the Hessian-vector product, one array per parameter.
const std::vector<Tensor> direction = {tensors(direction_np.values())};

const double loss = {number(loss.item())};
const std::vector<Tensor> gradients = {tensors(gradients)};
const std::vector<Tensor> hessian_vector_product = {tensors(hvp)};
// The intermediate vector output and its Jacobian with respect to W: shape (30, 4, 5).
const Tensor feature = {tensor(feature)};
const Tensor feature_jacobian_W = {tensor(jacobian_W)};

// ---- the conventions model: parameters x, y, z, k, n, c ----
const std::vector<Tensor> conventions_parameters = {tensors(conv_np.values())};
const double conventions_loss = {number(conv_loss.item())};
const std::vector<Tensor> conventions_gradients = {tensors(conv_gradients)};

}}  // namespace xgrad::reference::composite_torch""")
