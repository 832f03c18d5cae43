// Convolution and pooling on NCHW images, as torch.nn.functional: conv2d, max_pool2d,
// avg_pool2d. Source: src/ops/conv.cpp.
//
// Images are 4-D arrays (N, C, H, W): N images of C channels (planes) of H rows and W columns.
// Shapes are checked, and output sizes worked out, on every forward pass (a Tape replay may give
// the leaves new shapes: a new batch size, another image size).
#pragma once

#include <cstddef>

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief 2-D convolution (cross-correlation, as torch.nn.functional.conv2d):
/// y[n,k,oh,ow] = b[k] + Σ_{c,i,j} w[k,c,i,j] · x[n,c, oh·stride + i − padding, ow·stride + j −
/// padding], x read as 0 outside the image (zero padding).
///
/// Takes input (N, C_in, H, W), weight (C_out, C_in, kH, kW) and bias (C_out), or an undefined
/// Var (`Var()`) for none. Returns (N, C_out, H_out, W_out) with
/// H_out = ⌊(H + 2·padding − kH) / stride⌋ + 1 and W_out = ⌊(W + 2·padding − kW) / stride⌋ + 1.
/// Computed on the matrix product: each image's patches become the columns of a
/// (C_in·kH·kW) × (H_out·W_out) matrix (im2col), multiplied by the weight seen as
/// C_out × (C_in·kH·kW).
///
/// Throws shape_error naming conv2d and the shapes for: an input or weight of rank other than 4,
/// a weight whose C_in differs from the input's ("conv2d: weight (8,3,3,3) expects 3 input
/// channels, input (2,1,28,28) has 1"), a kernel of extent 0, a bias of shape other than
/// (C_out,), a kernel larger than the padded input, and stride 0.
///
/// Derivatives, with G = dL/dy seen per image as C_out × (H_out·W_out) and col the im2col matrix
/// of x: dL/dx = col2im(Wᵀ·G) (col2im adds the contributions of overlapping patches back into
/// the image, dropping those in the padding), dL/dW = Σ_n G·colᵀ, dL/db = Σ of G over (N, H_out,
/// W_out). Both are bilinear again (in G and W, in x and G), as nodes of their own whose own
/// derivatives are conv2d and each other, so every order works. Forward mode (bilinear):
/// J·t = conv2d(t_x, W) + conv2d(x, t_W) + t_b.
Var conv2d(const Var& input, const Var& weight, const Var& bias, std::size_t stride = 1,
           std::size_t padding = 0);

/// @brief 2-D max pooling without padding, as torch.nn.functional.max_pool2d: the largest
/// element of each kernel × kernel window, windows `stride` apart (0 means stride = kernel).
/// Takes (N, C, H, W), returns (N, C, H_out, W_out) with H_out = ⌊(H − kernel) / stride⌋ + 1
/// (trailing rows and columns that fill no window are dropped), W_out likewise.
///
/// Each window's maximum is its first largest element in row-major window order (a tie goes to
/// the first); a NaN counts as the maximum, and of several NaNs the last one is taken (as
/// PyTorch's CPU kernel, which replaces the running maximum by every NaN it meets).
///
/// Throws shape_error naming max_pool2d and the shape for an input of rank other than 4, a
/// kernel of 0, and a kernel larger than H or W.
///
/// Derivative: g of each window routed to the position of its maximum, summed where windows
/// overlap (stride < kernel); 0 at positions that are no window's maximum. Its graph form
/// scatters g to the same recorded positions (a node linear in g whose derivative gathers), so
/// every order works; the second derivative with respect to x is 0. Forward mode: t read at the
/// positions of the maxima.
Var max_pool2d(const Var& x, std::size_t kernel, std::size_t stride = 0);

/// @brief 2-D average pooling without padding, as torch.nn.functional.avg_pool2d: the mean of
/// each kernel × kernel window (its sum divided by kernel²), windows `stride` apart (0 means
/// stride = kernel). Takes (N, C, H, W), returns (N, C, H_out, W_out) with
/// H_out = ⌊(H − kernel) / stride⌋ + 1, W_out likewise.
///
/// Throws shape_error naming avg_pool2d and the shape, as max_pool2d.
///
/// Derivative (linear): each window's g / kernel² spread over its kernel² positions, summed where
/// windows overlap; its graph form is a node of its own (the transpose of average pooling),
/// itself linear, whose derivative is avg_pool2d again. Forward mode: avg_pool2d(t).
Var avg_pool2d(const Var& x, std::size_t kernel, std::size_t stride = 0);

}  // namespace xgrad
