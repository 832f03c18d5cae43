// Replay fusion (see replay.hpp): bce_with_logits(matmul(X, w) + b, y) as one pass over X.
#include "fusion/replay.hpp"

#include "fusion/logistic_kernel.hpp"

namespace xgrad::detail::fusion {

namespace {

/// @brief bce_with_logits(matmul(X, w) + b, y) (mean or sum; also when written as
/// binary_cross_entropy(sigmoid(...), y)) by LinearBceKernel: z, X·w and σ(z) are never made.
class LinearBceGroup final : public ReplayGroup {
  public:
    LinearBceGroup(Node& loss, std::size_t product_side)
        : loss_(loss), product_side_(product_side), members_{&sum(), &product()} {
        if (loss_.input_count() == 3) members_.push_back(&loss_.input(2));
    }

    Node& root() const override { return loss_; }
    std::vector<Node*> members() const override { return members_; }

    // When the operands do not have the kernel's shapes (a replay with new data), the loss runs
    // as recorded, reading the stale members, which recompute themselves.
    void forward() override {
        for (Node* member : members_) member->mark_stale();
        const array& X = product().input(0).value();
        const array& w = product().input(1).value();
        const array& b = bias().value();
        const array& y = loss_.input(1).value();
        fused_last_ = LinearBceKernel::fits(X, w, b, y);
        if (!fused_last_) {
            loss_.forward();
            return;
        }
        const double scale = loss_.kind() == OpKind::bce_with_logits_mean
                                 ? 1.0 / static_cast<double>(X.shape()[0])
                                 : 1.0;
        array& value = loss_.mutable_value();
        value.resize(shape_type{});
        value.data()[0] = kernel_.forward(X, w, b.data()[0], y, scale);
    }

    void backward() override {
        if (!fused_last_) {
            loss_.backward();
            return;
        }
        kernel_.backward(loss_.grad().data()[0], product().input(0), product().input(1), bias(),
                         loss_.input(1));
    }

  private:
    Node& sum() const { return loss_.input(0); }
    Node& product() const { return sum().input(product_side_); }
    Node& bias() const { return sum().input(1 - product_side_); }

    Node& loss_;
    std::size_t product_side_;
    std::vector<Node*> members_;
    bool fused_last_ = false;
    LinearBceKernel kernel_;
};

/// @brief Whether only `expected` handles hold the node: no user, no other graph.
bool held_only_by(const std::shared_ptr<Node>& node, long expected) {
    return node.use_count() == expected;
}

/// @brief The product side of loss = bce_with_logits(matmul(X, w) + b, y), or -1.
int linear_bce_pattern(Node& loss) {
    if (loss.kind() != OpKind::bce_with_logits_mean && loss.kind() != OpKind::bce_with_logits_sum)
        return -1;
    long z_holders = 1;
    if (loss.input_count() == 3) {  // σ(z) as written, which holds z too
        if (!held_only_by(loss.input_ptr(2), 1)) return -1;
        ++z_holders;
    }
    Node& z = loss.input(0);
    if (z.kind() != OpKind::add || !held_only_by(loss.input_ptr(0), z_holders)) return -1;
    for (std::size_t side = 0; side < 2; ++side) {
        Node& product = z.input(side);
        // Two inputs: neither operand is read through a transpose.
        if (product.kind() == OpKind::matmul && product.input_count() == 2 &&
            held_only_by(z.input_ptr(side), 1) && product.input(0).value().dimension() == 2 &&
            product.input(1).value().dimension() == 1) {
            return static_cast<int>(side);
        }
    }
    return -1;
}

}  // namespace

std::vector<std::unique_ptr<ReplayGroup>> find_replay_groups(const std::vector<Node*>& order) {
    std::vector<std::unique_ptr<ReplayGroup>> groups;
    for (Node* node : order) {
        const int side = linear_bce_pattern(*node);
        if (side >= 0) {
            groups.push_back(
                std::make_unique<LinearBceGroup>(*node, static_cast<std::size_t>(side)));
        }
    }
    return groups;
}

}  // namespace xgrad::detail::fusion
