// Sums a gradient over the ranks of `mpirun -np N` through an installed xgrad::distributed.
#include <cstdio>

#include <xgrad/distributed.hpp>
#include <xgrad/xgrad.hpp>

int main(int argc, char** argv) {
    xgrad::distributed::MpiSession mpi(argc, argv);
    xgrad::distributed::Communicator& world = mpi.world();
    xgrad::Var w = xgrad::parameter(xgrad::array{1.0, 2.0});
    xgrad::sum(w * static_cast<double>(world.rank() + 1)).backward();  // d/dw = rank + 1
    xgrad::distributed::allreduce_gradients(world, {w}, xgrad::distributed::Reduction::sum);
    const double n = world.size();
    const bool ok = w.grad()(0) == n * (n + 1) / 2 && w.grad()(1) == n * (n + 1) / 2;
    if (world.rank() == 0) {
        std::printf("%d ranks: gradient %g (expected %g): %s\n", world.size(), w.grad()(0),
                    n * (n + 1) / 2, ok ? "ok" : "WRONG");
    }
    return ok ? 0 : 1;
}
