// Differentiates f(x, y) = x·y + x² through an installed xgrad and checks the result.
#include <cstdio>

#include <xgrad/xgrad.hpp>

int main() {
    xgrad::Var x = xgrad::parameter(3.0);
    xgrad::Var y = xgrad::parameter(-4.0);
    xgrad::Var f = x * y + x * x;
    f.backward();
    const bool ok = x.grad()() == 2.0 && y.grad()() == 3.0;  // df/dx = y + 2x, df/dy = x
    std::printf("f = %g, df/dx = %g, df/dy = %g: %s\n", f.item(), x.grad()(), y.grad()(),
                ok ? "ok" : "WRONG");
    return ok ? 0 : 1;
}
