#!/usr/bin/python3
"""Reference numbers for xgrad's nn layers, schedules and .npz reading, from PyTorch and numpy.

- BatchNorm1d, BatchNorm2d (training and eval, affine on and off) and LayerNorm in float64: the
  output, the running statistics after the forward pass, and the gradients of
  L = sum(y * R) (R a fixed random array) with respect to the input, weight and bias, from
  torch.autograd. Weights and biases are random (not the ones/zeros they start at) so that the
  affine parts are exercised; eval cases start from random running statistics.
- A BatchNorm2d (momentum 0.3) trained for three forward passes: the running statistics and
  num_batches_tracked, then an eval pass with its gradients.
- nn.Flatten: output and gradient.
- Learning-rate schedules: OneCycleLR (cos and linear, two and three phases, cycle_momentum
  off), CosineAnnealingLR, CosineAnnealingWarmRestarts and StepLR, read from an SGD
  optimizer's param_groups after each scheduler.step().
- The bytes of .npz archives written by numpy.savez and numpy.savez_compressed (for a
  Sequential(Linear(3, 2), BatchNorm1d(2)) state in xgrad's layout), one holding a
  Fortran-order and a big-endian array, and one of dtype int64; two zip archives from Python's
  zipfile whose entry is not NPY or is bzip2-compressed.
- The state_dict names (named_parameters, named_buffers) of a nested torch.nn.Sequential.

Everything is written to tests/reference/nn_torch.hpp. Run with Debian's interpreter:
/usr/bin/python3 scripts/reference/nn_torch.py
"""
import io
import os

import numpy as np
import torch

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
rng = np.random.RandomState(20260516)
torch.set_default_dtype(torch.float64)


def fmt(values):
    return ", ".join(f"{v:.17g}" for v in np.asarray(values, dtype=np.float64).ravel())


def sizes(shape):
    return ", ".join(str(int(s)) for s in shape)


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def norm_case(name, layer, shape, affine, training, normalized=()):
    x = rng.normal(1.5, 2.0, size=shape)
    R = rng.normal(0.0, 1.0, size=shape)
    if layer == "LayerNorm":
        module = torch.nn.LayerNorm(list(normalized), elementwise_affine=affine)
        pshape = normalized
    else:
        cls = torch.nn.BatchNorm1d if layer == "BatchNorm1d" else torch.nn.BatchNorm2d
        module = cls(shape[1], affine=affine)
        pshape = (shape[1],)
    weight = rng.normal(1.0, 0.5, size=pshape) if affine else np.zeros(0)
    bias = rng.normal(0.0, 0.5, size=pshape) if affine else np.zeros(0)
    running_mean = np.zeros(0)
    running_var = np.zeros(0)
    with torch.no_grad():
        if affine:
            module.weight.copy_(t(weight))
            module.bias.copy_(t(bias))
        if layer != "LayerNorm" and not training:
            running_mean = rng.normal(0.5, 1.0, size=pshape)
            running_var = rng.uniform(0.5, 3.0, size=pshape)
            module.running_mean.copy_(t(running_mean))
            module.running_var.copy_(t(running_var))
    module.train(training)
    xt = t(x, True)
    y = module(xt)
    (y * t(R)).sum().backward()
    after_mean = module.running_mean.numpy() if layer != "LayerNorm" else np.zeros(0)
    after_var = module.running_var.numpy() if layer != "LayerNorm" else np.zeros(0)
    grad_w = module.weight.grad.numpy() if affine else np.zeros(0)
    grad_b = module.bias.grad.numpy() if affine else np.zeros(0)
    return (
        f'    {{"{name}", "{layer}", {{{sizes(shape)}}}, {{{sizes(normalized)}}}, '
        f'{"true" if affine else "false"}, {"true" if training else "false"},\n'
        f"     {{{fmt(x)}}},\n     {{{fmt(weight)}}},\n     {{{fmt(bias)}}},\n"
        f"     {{{fmt(running_mean)}}},\n     {{{fmt(running_var)}}},\n     {{{fmt(R)}}},\n"
        f"     {{{fmt(y.detach().numpy())}}},\n     {{{fmt(xt.grad.numpy())}}},\n"
        f"     {{{fmt(grad_w)}}},\n     {{{fmt(grad_b)}}},\n"
        f"     {{{fmt(after_mean)}}},\n     {{{fmt(after_var)}}}}},"
    )


cases = [
    norm_case("bn1d_train_affine", "BatchNorm1d", (6, 3), True, True),
    norm_case("bn1d_train_plain", "BatchNorm1d", (5, 4), False, True),
    norm_case("bn1d_train_ncl", "BatchNorm1d", (4, 3, 5), True, True),
    norm_case("bn1d_eval_plain", "BatchNorm1d", (4, 3), False, False),
    norm_case("bn1d_eval_ncl", "BatchNorm1d", (3, 2, 4), True, False),
    norm_case("bn2d_train_affine", "BatchNorm2d", (4, 3, 2, 5), True, True),
    norm_case("bn2d_train_plain", "BatchNorm2d", (3, 2, 3, 3), False, True),
    norm_case("bn2d_eval_affine", "BatchNorm2d", (3, 3, 2, 2), True, False),
    norm_case("bn2d_eval_plain", "BatchNorm2d", (2, 2, 3, 1), False, False),
    norm_case("ln_affine", "LayerNorm", (3, 4), True, True, (4,)),
    norm_case("ln_affine_two_axes", "LayerNorm", (2, 3, 4, 5), True, True, (4, 5)),
    norm_case("ln_plain", "LayerNorm", (5, 6), False, True, (6,)),
    norm_case("ln_plain_eval_all_axes", "LayerNorm", (2, 3), False, False, (2, 3)),
]

# A BatchNorm2d trained for three steps (momentum 0.3), then evaluated.
bn = torch.nn.BatchNorm2d(3, momentum=0.3)
run_shape = (4, 3, 2, 2)
run_weight = rng.normal(1.0, 0.5, size=3)
run_bias = rng.normal(0.0, 0.5, size=3)
with torch.no_grad():
    bn.weight.copy_(t(run_weight))
    bn.bias.copy_(t(run_bias))
steps = [rng.normal(k - 1.0, 1.0 + k, size=run_shape) for k in range(3)]
bn.train()
for s in steps:
    bn(t(s))
bn.eval()
run_x = rng.normal(0.5, 2.0, size=run_shape)
run_R = rng.normal(0.0, 1.0, size=run_shape)
run_xt = t(run_x, True)
run_y = bn(run_xt)
(run_y * t(run_R)).sum().backward()

# Flatten.
flat_x = rng.normal(size=(2, 3, 2, 2))
flat_R = rng.normal(size=(2, 12))
flat_xt = t(flat_x, True)
flat_y = torch.nn.Flatten()(flat_xt)
(flat_y * t(flat_R)).sum().backward()


def rates(make_scheduler, count):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9)
    sched = make_scheduler(opt)
    out = [opt.param_groups[0]["lr"]]
    for _ in range(count - 1):
        opt.step()
        sched.step()
        out.append(opt.param_groups[0]["lr"])
    return out


one_cycle_configs = [
    # max_lr, total, pct_start, div, final_div, three_phase, anneal
    (0.1, 100, 0.3, 25.0, 1e4, False, "cos"),
    (1.0, 17, 0.25, 10.0, 100.0, False, "linear"),
    (0.05, 20, 0.4, 25.0, 1e4, True, "cos"),
    (0.5, 7, 0.5, 5.0, 1e3, True, "linear"),
    (0.01, 3, 0.3, 25.0, 1e4, False, "cos"),
    (0.2, 1, 0.3, 25.0, 1e4, False, "cos"),
    (0.3, 12, 0.0, 25.0, 1e4, False, "cos"),
    (0.3, 12, 1.0, 25.0, 1e4, False, "cos"),
]
one_cycle_lines = []
for max_lr, total, pct, div, final_div, three, anneal in one_cycle_configs:
    values = rates(
        lambda opt: torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=max_lr, total_steps=total, pct_start=pct, anneal_strategy=anneal,
            cycle_momentum=False, div_factor=div, final_div_factor=final_div, three_phase=three),
        total)
    one_cycle_lines.append(
        f"    {{{max_lr!r}, {total}, {pct!r}, {div!r}, {final_div!r}, "
        f'{"true" if three else "false"}, {"true" if anneal == "linear" else "false"}, '
        f"{{{fmt(values)}}}}},")

cosine = rates(lambda opt: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=10, eta_min=0.001), 26)
restarts = rates(
    lambda opt: torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=5, T_mult=2, eta_min=0.01), 41)
step = rates(lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5), 13)


def npz_bytes(arrays, compressed=False):
    buffer = io.BytesIO()
    (np.savez_compressed if compressed else np.savez)(buffer, **arrays)
    return buffer.getvalue()


def byte_list(data):
    return ",".join(str(b) for b in data)


state = {
    "0.weight": rng.normal(size=(3, 2)),
    "0.bias": rng.normal(size=2),
    "1.weight": rng.normal(size=2),
    "1.bias": rng.normal(size=2),
    "1.running_mean": rng.normal(size=2),
    "1.running_var": rng.uniform(0.5, 2.0, size=2),
    "1.num_batches_tracked": np.array(7.0),
}
state_keys = list(state)
layouts = {
    "fortran": np.asfortranarray(rng.normal(size=(3, 4))),
    "big_endian": rng.normal(size=(2, 3)).astype(">f8"),
}
assert layouts["fortran"].flags.f_contiguous and not layouts["fortran"].flags.c_contiguous
integers = {"counts": np.arange(3, dtype=np.int64)}


def zip_bytes(name, data, method):
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=method) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


not_npy = zip_bytes("weights.npy", b"hello, not an array", __import__("zipfile").ZIP_STORED)
bzip2 = zip_bytes("weights.npy", npz_bytes({"w": np.zeros(2)})[:40], __import__("zipfile").ZIP_BZIP2)

# PyTorch's state_dict names of a model xgrad can build the same way.
model = torch.nn.Sequential(
    torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.BatchNorm1d(4),
    torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Dropout(0.5), torch.nn.LayerNorm([5])),
    torch.nn.BatchNorm1d(5, affine=False))
parameter_names = [n for n, _ in model.named_parameters()]
buffer_names = [n for n, _ in model.named_buffers()]

lines = [
    f"// Generated by scripts/reference/nn_torch.py with PyTorch {torch.__version__} and numpy "
    f"{np.__version__} (float64). Do not edit.",
    "#pragma once",
    "// clang-format off",
    "",
    "#include <cstddef>",
    "#include <vector>",
    "",
    "namespace xgrad::reference::nn_torch {",
    "",
    "// One forward and backward pass of a normalisation layer: L = sum(y * seed).",
    "struct NormCase {",
    "    const char* name;",
    '    const char* layer;  // "BatchNorm1d", "BatchNorm2d", "LayerNorm"',
    "    std::vector<std::size_t> shape;",
    "    std::vector<std::size_t> normalized;  // LayerNorm's normalized_shape",
    "    bool affine;",
    "    bool training;",
    "    std::vector<double> x, weight, bias;  // weight and bias set before the pass (if affine)",
    "    std::vector<double> running_mean, running_var;  // set before an eval pass",
    "    std::vector<double> seed;",
    "    std::vector<double> y, grad_x, grad_weight, grad_bias;",
    "    std::vector<double> running_mean_after, running_var_after;  // batch norms",
    "};",
    "",
    "const std::vector<NormCase> norm_cases = {",
    *cases,
    "};",
    "",
    "// BatchNorm2d(3, momentum = 0.3): weight and bias set, three training passes, then eval.",
    "namespace running {",
    f"constexpr std::size_t shape[] = {{{sizes(run_shape)}}};",
    "constexpr double momentum = 0.3;",
    f"const std::vector<double> weight = {{{fmt(run_weight)}}};",
    f"const std::vector<double> bias = {{{fmt(run_bias)}}};",
    "const std::vector<std::vector<double>> steps = {" +
    ", ".join("{" + fmt(s) + "}" for s in steps) + "};",
    f"const std::vector<double> running_mean = {{{fmt(bn.running_mean.numpy())}}};",
    f"const std::vector<double> running_var = {{{fmt(bn.running_var.numpy())}}};",
    f"constexpr double num_batches_tracked = {int(bn.num_batches_tracked)};",
    f"const std::vector<double> x = {{{fmt(run_x)}}};",
    f"const std::vector<double> seed = {{{fmt(run_R)}}};",
    f"const std::vector<double> y = {{{fmt(run_y.detach().numpy())}}};",
    f"const std::vector<double> grad_x = {{{fmt(run_xt.grad.numpy())}}};",
    f"const std::vector<double> grad_weight = {{{fmt(bn.weight.grad.numpy())}}};",
    f"const std::vector<double> grad_bias = {{{fmt(bn.bias.grad.numpy())}}};",
    "}  // namespace running",
    "",
    "// nn.Flatten() of a (2, 3, 2, 2) input; L = sum(y * seed).",
    "namespace flatten {",
    f"const std::vector<double> x = {{{fmt(flat_x)}}};",
    f"const std::vector<double> seed = {{{fmt(flat_R)}}};",
    f"const std::vector<double> y = {{{fmt(flat_y.detach().numpy())}}};",
    f"const std::vector<double> grad_x = {{{fmt(flat_xt.grad.numpy())}}};",
    "}  // namespace flatten",
    "",
    "// torch.optim.lr_scheduler.OneCycleLR(cycle_momentum=False): the rate of steps 0..total-1.",
    "struct OneCycleCase {",
    "    double max_rate;",
    "    std::size_t total_steps;",
    "    double pct_start, div_factor, final_div_factor;",
    "    bool three_phase, linear;",
    "    std::vector<double> rates;",
    "};",
    "",
    "const std::vector<OneCycleCase> one_cycle_cases = {",
    *one_cycle_lines,
    "};",
    "",
    "// Initial rate 0.1: CosineAnnealingLR(T_max=10, eta_min=0.001), epochs 0..25;",
    "// CosineAnnealingWarmRestarts(T_0=5, T_mult=2, eta_min=0.01), 0..40; StepLR(3, 0.5), 0..12.",
    f"const std::vector<double> cosine_annealing = {{{fmt(cosine)}}};",
    f"const std::vector<double> cosine_warm_restarts = {{{fmt(restarts)}}};",
    f"const std::vector<double> step_decay = {{{fmt(step)}}};",
    "",
    "// .npz archives written by numpy: the state of Sequential(Linear(3, 2), BatchNorm1d(2)) in",
    "// xgrad's layout, by np.savez and np.savez_compressed; keys in file order, then values.",
    "const std::vector<const char*> state_keys = {" + ", ".join(f'"{k}"' for k in state_keys) + "};",
    "const std::vector<std::vector<double>> state_values = {" +
    ", ".join("{" + fmt(state[k]) + "}" for k in state_keys) + "};",
    f"const std::vector<unsigned char> savez = {{{byte_list(npz_bytes(state))}}};",
    f"const std::vector<unsigned char> savez_compressed = {{{byte_list(npz_bytes(state, True))}}};",
    "// np.savez(fortran=<(3,4) in Fortran order>, big_endian=<(2,3) of dtype '>f8'>); values in C order.",
    f"const std::vector<double> fortran = {{{fmt(np.ascontiguousarray(layouts['fortran']))}}};",
    f"const std::vector<double> big_endian = {{{fmt(layouts['big_endian'].astype('<f8'))}}};",
    f"const std::vector<unsigned char> layouts = {{{byte_list(npz_bytes(layouts))}}};",
    "// zipfile archives: a stored entry that is not NPY, and a bzip2-compressed one (method 12).",
    f"const std::vector<unsigned char> not_npy = {{{byte_list(not_npy)}}};",
    f"const std::vector<unsigned char> bzip2 = {{{byte_list(bzip2)}}};",
    "// np.savez(counts=np.arange(3)): dtype int64.",
    f"const std::vector<unsigned char> integers = {{{byte_list(npz_bytes(integers))}}};",
    "",
    "// named_parameters() and named_buffers() of Sequential(Linear(3, 4), ReLU(), BatchNorm1d(4),",
    "// Sequential(Linear(4, 5), Dropout(0.5), LayerNorm([5])), BatchNorm1d(5, affine=False)).",
    "const std::vector<const char*> parameter_names = {" + ", ".join(f'"{n}"' for n in parameter_names) + "};",
    "const std::vector<const char*> buffer_names = {" + ", ".join(f'"{n}"' for n in buffer_names) + "};",
    "",
    "}  // namespace xgrad::reference::nn_torch",
    "",
]

with open(os.path.join(root, "tests", "reference", "nn_torch.hpp"), "w") as out:
    out.write("\n".join(lines))
