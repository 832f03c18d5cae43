// The one-process group, the agreement on errors and the small collectives built on the others.
#include "xgrad/distributed/communicator.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace xgrad::distributed {

void SingleProcess::broadcast(double*, std::size_t, int root) {
    if (root != 0) {
        throw std::invalid_argument("broadcast: root " + std::to_string(root) +
                                    " is not in a group of 1");
    }
}

std::unique_ptr<Communicator> SingleProcess::split(int, int) {
    return std::make_unique<SingleProcess>();
}

void SingleProcess::abort(int code) {
    std::exit(code);
}

void agree(Communicator& comm, const std::function<void()>& body) {
    std::string failure;  // empty: this rank succeeded
    try {
        body();
    } catch (const std::exception& e) {
        failure = std::string("!") + e.what();  // '!' marks a failure with an empty message too
    } catch (...) {
        failure = "!unknown exception";
    }
    const std::vector<std::string> outcomes = comm.allgather(failure);
    // The same error on every rank (from values they share) needs no rank to name it.
    const bool everywhere_alike =
        std::all_of(outcomes.begin(), outcomes.end(),
                    [&](const std::string& o) { return !o.empty() && o == outcomes[0]; });
    for (std::size_t r = 0; r < outcomes.size(); ++r) {
        if (outcomes[r].empty()) continue;
        const std::string what = outcomes[r].substr(1);
        throw distributed_error(everywhere_alike ? what : "rank " + std::to_string(r) + ": " + what,
                                static_cast<int>(r));
    }
}

void agree(Communicator* comm, const std::function<void()>& body) {
    if (comm != nullptr) {
        agree(*comm, body);
    } else {
        body();
    }
}

std::vector<double> allgather_values(Communicator& comm, const std::vector<double>& values) {
    std::string bytes(values.size() * sizeof(double), '\0');
    if (!values.empty()) std::memcpy(bytes.data(), values.data(), bytes.size());
    std::vector<double> all;
    for (const std::string& part : comm.allgather(bytes)) {
        const std::size_t old = all.size();
        all.resize(old + part.size() / sizeof(double));
        if (!part.empty()) std::memcpy(all.data() + old, part.data(), part.size());
    }
    return all;
}

double allreduce_sum(Communicator& comm, double value) {
    comm.allreduce_sum(&value, 1);
    return value;
}

}  // namespace xgrad::distributed
