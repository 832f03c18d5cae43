// Gradient writing: sums over broadcast axes into a GradSink, and the bypass scope of a pass.
#include "core/gradient.hpp"

namespace xgrad::detail {

namespace {
thread_local const void* bypass_context = nullptr;
thread_local BypassScope::ObservedFn bypass_observed = nullptr;
}  // namespace

BypassScope::BypassScope(const void* context, ObservedFn observed)
    : previous_context_(bypass_context), previous_fn_(bypass_observed) {
    bypass_context = context;
    bypass_observed = observed;
}

BypassScope::~BypassScope() {
    bypass_context = previous_context_;
    bypass_observed = previous_fn_;
}

bool may_bypass(const Node& node) {
    return bypass_observed != nullptr && !bypass_observed(bypass_context, node);
}

namespace {

/// @brief dst += src summed over the axes along which dst was broadcast to src's shape.
void add_summed_to_shape(const double* src, const shape_type& src_shape, array& dst) {
    double* out = dst.data();
    const std::size_t rank = src_shape.size();
    if (dst.size() == 1) {  // the common bias case: everything folds into one number
        std::size_t n = 1;
        for (std::size_t e : src_shape) n *= e;
        double total = 0.0;
        for (std::size_t i = 0; i < n; ++i) total += src[i];
        out[0] += total;
        return;
    }
    // Strides of dst seen through src's axes: 0 where dst was broadcast along that axis.
    shape_type dst_strides(rank, 0);
    const shape_type& dshape = dst.shape();
    const std::size_t pad = rank - dshape.size();  // dst's missing leading axes count as 1
    std::size_t stride = 1;
    for (std::size_t k = rank; k-- > 0;) {
        const std::size_t extent = k < pad ? 1 : dshape[k - pad];
        dst_strides[k] = extent == 1 ? 0 : stride;
        stride *= extent;
    }
    const std::size_t inner = rank == 0 ? 1 : src_shape[rank - 1];
    const std::size_t inner_stride = rank == 0 ? 0 : dst_strides[rank - 1];
    std::size_t outer = 1;
    for (std::size_t k = 0; k + 1 < rank; ++k) outer *= src_shape[k];
    shape_type index(rank, 0);
    std::size_t offset = 0;
    for (std::size_t o = 0; o < outer; ++o) {
        for (std::size_t j = 0; j < inner; ++j) out[offset + j * inner_stride] += src[j];
        src += inner;
        // Advance the odometer over the outer axes.
        for (std::size_t k = rank - 1; k-- > 0;) {
            offset += dst_strides[k];
            if (++index[k] < src_shape[k]) break;
            offset -= dst_strides[k] * index[k];
            index[k] = 0;
        }
    }
}

}  // namespace

void sum_to_shape(const double* src, const shape_type& src_shape, array& dst) {
    dst.fill(0.0);
    add_summed_to_shape(src, src_shape, dst);
}

void sum_to_shape(const double* src, const shape_type& src_shape, GradSink& dst) {
    dst.zero_if_first();  // the sum only adds
    add_summed_to_shape(src, src_shape, dst.buffer());
}

}  // namespace xgrad::detail
