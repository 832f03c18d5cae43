// Replay fusion: groups of recorded ops that a Tape's replays run as one kernel. Found once,
// before a tape's first forward(), among nodes no one outside the group holds, so that fusing
// never hides a value or a gradient a user can read.
#pragma once

#include <memory>
#include <vector>

#include "core/op.hpp"

namespace xgrad::detail::fusion {

/// @brief Ops a tape replays as one: forward() stands for the root's and its members' forward
/// passes, backward() for their backward passes. The members are skipped by the tape; they are
/// marked stale and recompute their values if anything reads them.
class ReplayGroup {
  public:
    virtual ~ReplayGroup() = default;
    /// @brief The node whose value the group computes (the last of the group in tape order).
    virtual Node& root() const = 0;
    /// @brief The nodes the tape no longer runs.
    virtual std::vector<Node*> members() const = 0;
    virtual void forward() = 0;
    virtual void backward() = 0;
};

/// @brief Every group the nodes of a tape (creation order) can be replayed as.
std::vector<std::unique_ptr<ReplayGroup>> find_replay_groups(const std::vector<Node*>& order);

}  // namespace xgrad::detail::fusion
