// Gradient checkpointing: a part of the graph kept as its output value only, and recomputed when
// a backward (or forward-mode) pass needs its interior.
#pragma once

#include <functional>
#include <vector>

#include "xgrad/core/var.hpp"

namespace xgrad {

/// @brief Runs `fn(inputs)` and returns its output, without keeping the nodes fn makes: the
/// result is one node holding only the output's value and its inputs, and fn is run again (on
/// the inputs' current values, recording on) whenever a pass needs its interior; that rebuilt
/// graph is dropped when the pass is done. Memory traded for time: the interiors of a chain
/// split into k checkpointed segments are kept one segment at a time during backward (e.g. k ≈
/// √depth), for about one more forward pass of work.
///
/// What it gives: the value and the gradients fn would give without checkpoint, bit for bit
/// (each rebuilt node runs the same rule, and its contributions reach the inputs' gradient
/// buffers in the same order as in the plain graph), in every kind of pass: backward passes and
/// Tape replays (the segment runs again with the new values), grad() with or without
/// create_graph (second derivatives: hessian, gradgradcheck; the rebuilt graph is kept by the
/// returned gradient nodes), and forward mode (jvp, jacobian_forward: tangents pushed through
/// the rebuilt graph). no_grad: fn simply runs and nothing is kept.
///
/// Captured Vars are supported, as in PyTorch: fn may use Vars it captures rather than takes
/// from `inputs` (weights closed over, data, even interior nodes of the surrounding graph).
/// Every Var from outside fn that fn's graph reads becomes an input of the checkpoint node,
/// found by running fn once with recording on when the checkpoint is made; their gradients
/// arrive as they would without checkpoint, and the version checks cover them (a backward pass
/// after one of them was given a new value throws graph_error). Parameters created inside fn
/// are new leaves at each run and get no gradient: create them outside.
///
/// fn must be deterministic: the same graph from the same values every time it runs (no random
/// draws, no branches on values that may differ, no state kept between calls), since the
/// recomputation stands for the run that was discarded. A rebuild that reads a Var from outside
/// it that the first run did not read, or returns another shape, throws graph_error. Gradients
/// one parameter receives from several checkpoints (shared weights) are summed in the same
/// order as without checkpoint. fn may be called from several threads at once when grad() runs
/// on a shared graph.
///
/// Shapes: `inputs` any number (even none, when fn captures what it uses) of any shapes; the
/// result has the shape of fn's output. Throws graph_error if fn is empty, an input is an empty
/// Var, or fn returns an empty Var; whatever fn throws propagates (and the graph is left as it
/// was). If fn returns one of the Vars it was given (or a captured one), that Var is returned.
Var checkpoint(const std::function<Var(const std::vector<Var>&)>& fn,
               const std::vector<Var>& inputs);

}  // namespace xgrad
