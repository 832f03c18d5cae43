// MpiCommunicator: the ring all-reduce over MPI_Sendrecv and the other collectives.
#include "xgrad/distributed/mpi.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <limits>

namespace xgrad::distributed {

namespace {

/// @brief Below this many bytes, allreduce_sum runs recursive doubling instead of the ring.
constexpr std::size_t small_message_bytes = 4096;
/// @brief Elements per MPI call at most (MPI counts are int).
constexpr std::size_t max_elements = std::size_t{1} << 30;

/// @brief [begin, end) of piece `c` of `count` elements cut into `pieces` balanced pieces.
std::pair<std::size_t, std::size_t> piece(std::size_t count, std::size_t pieces, std::size_t c) {
    const std::size_t q = count / pieces;
    const std::size_t extra = count % pieces;
    const std::size_t begin = c * q + std::min(c, extra);
    return {begin, begin + q + (c < extra ? 1 : 0)};
}

int as_int(std::size_t n) {
    if (n > static_cast<std::size_t>(INT_MAX))
        throw std::length_error("MPI: a message of " + std::to_string(n) + " elements");
    return static_cast<int>(n);
}

}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm, bool owned) : comm_(comm), owned_(owned) {
    MPI_Comm_rank(comm_, &rank_);
    MPI_Comm_size(comm_, &size_);
}

MpiCommunicator::~MpiCommunicator() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (owned_ && !finalized) MPI_Comm_free(&comm_);
}

void MpiCommunicator::allreduce_sum(double* data, std::size_t count) {
    if (size_ == 1 || count == 0) return;
    const auto n = static_cast<std::size_t>(size_);
    const auto me = static_cast<std::size_t>(rank_);
    if (count * sizeof(double) < small_message_bytes) {
        recursive_doubling_sum(data, count);
        return;
    }
    if (count / n > max_elements) {  // pieces MPI's int counts cannot hold: ring each half
        const std::size_t half = count / 2;
        allreduce_sum(data, half);
        allreduce_sum(data + half, count - half);
        return;
    }
    // Ring: piece c starts on rank c and travels right, each rank adding its own part (the
    // received partial sum first, then its value: a fixed order). After N − 1 steps rank r
    // holds the total of piece r + 1, which then travels round the ring again, copied.
    const int right = (rank_ + 1) % size_;
    const int left = (rank_ + size_ - 1) % size_;
    scratch_.resize(count / n + 1);
    for (std::size_t step = 0; step + 1 < n; ++step) {
        const auto [send_begin, send_end] = piece(count, n, (me + n - step) % n);
        const auto [recv_begin, recv_end] = piece(count, n, (me + n - step - 1) % n);
        MPI_Sendrecv(data + send_begin, as_int(send_end - send_begin), MPI_DOUBLE, right, 0,
                     scratch_.data(), as_int(recv_end - recv_begin), MPI_DOUBLE, left, 0, comm_,
                     MPI_STATUS_IGNORE);
        for (std::size_t i = recv_begin; i < recv_end; ++i)
            data[i] = scratch_[i - recv_begin] + data[i];
    }
    for (std::size_t step = 0; step + 1 < n; ++step) {
        const auto [send_begin, send_end] = piece(count, n, (me + 1 + n - step) % n);
        const auto [recv_begin, recv_end] = piece(count, n, (me + n - step) % n);
        MPI_Sendrecv(data + send_begin, as_int(send_end - send_begin), MPI_DOUBLE, right, 1,
                     data + recv_begin, as_int(recv_end - recv_begin), MPI_DOUBLE, left, 1, comm_,
                     MPI_STATUS_IGNORE);
    }
}

void MpiCommunicator::recursive_doubling_sum(double* data, std::size_t count) {
    // The ranks from 2^k (the largest power of two ≤ N) up first add their data into rank
    // r − 2^k; ranks below 2^k then exchange with rank r xor 1, 2, 4, ... and add, the lower
    // rank's partial sum first (a + b and b + a are the same bits anyway); the folded ranks get
    // the total back. Every step is fixed by N: the order of the additions never depends on
    // timing, and every rank ends with the same bits. ⌊log₂ N⌋ (+ 2 when N is not a power of two)
    // messages of the whole data.
    int pof2 = 1;
    while (pof2 * 2 <= size_) pof2 *= 2;
    const int extra = size_ - pof2;
    const int n = as_int(count);
    scratch_.resize(count);
    if (rank_ >= pof2) {
        MPI_Send(data, n, MPI_DOUBLE, rank_ - pof2, 2, comm_);
        MPI_Recv(data, n, MPI_DOUBLE, rank_ - pof2, 3, comm_, MPI_STATUS_IGNORE);
        return;
    }
    if (rank_ < extra) {
        MPI_Recv(scratch_.data(), n, MPI_DOUBLE, rank_ + pof2, 2, comm_, MPI_STATUS_IGNORE);
        for (std::size_t i = 0; i < count; ++i) data[i] = data[i] + scratch_[i];
    }
    for (int mask = 1; mask < pof2; mask <<= 1) {
        const int partner = rank_ ^ mask;
        MPI_Sendrecv(data, n, MPI_DOUBLE, partner, 4, scratch_.data(), n, MPI_DOUBLE, partner, 4,
                     comm_, MPI_STATUS_IGNORE);
        for (std::size_t i = 0; i < count; ++i)
            data[i] = rank_ < partner ? data[i] + scratch_[i] : scratch_[i] + data[i];
    }
    if (rank_ < extra) MPI_Send(data, n, MPI_DOUBLE, rank_ + pof2, 3, comm_);
}

void MpiCommunicator::allreduce_max(double* data, std::size_t count) {
    if (size_ == 1 || count == 0) return;
    // MPI_MAX's NaN handling is unspecified: map NaN to +inf and tell it apart by a flag.
    std::vector<double> values(data, data + count);
    double any_nan = 0.0;
    for (double& v : values) {
        if (std::isnan(v)) {
            v = std::numeric_limits<double>::infinity();
            any_nan = 1.0;
        }
    }
    values.push_back(any_nan);
    std::vector<double> result(values.size());
    MPI_Allreduce(values.data(), result.data(), as_int(values.size()), MPI_DOUBLE, MPI_MAX, comm_);
    if (result.back() == 0.0) {
        std::copy(result.begin(), result.end() - 1, data);
        return;
    }
    // Some rank had a NaN: which elements is not known from the maximum; find them.
    std::vector<double> nan_flags(count, 0.0);
    for (std::size_t i = 0; i < count; ++i) nan_flags[i] = std::isnan(data[i]) ? 1.0 : 0.0;
    std::vector<double> nan_any(count);
    MPI_Allreduce(nan_flags.data(), nan_any.data(), as_int(count), MPI_DOUBLE, MPI_MAX, comm_);
    for (std::size_t i = 0; i < count; ++i) data[i] = nan_any[i] != 0.0 ? NAN : result[i];
}

void MpiCommunicator::broadcast(double* data, std::size_t count, int root) {
    if (root < 0 || root >= size_) {
        throw std::invalid_argument("broadcast: root " + std::to_string(root) +
                                    " is not in a group of " + std::to_string(size_));
    }
    for (std::size_t first = 0; first < count; first += max_elements) {
        MPI_Bcast(data + first, as_int(std::min(max_elements, count - first)), MPI_DOUBLE, root,
                  comm_);
    }
}

std::vector<std::string> MpiCommunicator::allgather(const std::string& bytes) {
    const auto n = static_cast<std::size_t>(size_);
    long long mine = static_cast<long long>(bytes.size());
    std::vector<long long> lengths(n);
    MPI_Allgather(&mine, 1, MPI_LONG_LONG, lengths.data(), 1, MPI_LONG_LONG, comm_);
    std::vector<int> counts(n);
    std::vector<int> offsets(n);
    std::size_t total = 0;
    for (std::size_t r = 0; r < n; ++r) {
        offsets[r] = as_int(total);
        counts[r] = as_int(static_cast<std::size_t>(lengths[r]));
        total += static_cast<std::size_t>(lengths[r]);
    }
    as_int(total);
    std::string all(total, '\0');
    MPI_Allgatherv(bytes.data(), counts[static_cast<std::size_t>(rank_)], MPI_CHAR, all.data(),
                   counts.data(), offsets.data(), MPI_CHAR, comm_);
    std::vector<std::string> out(n);
    for (std::size_t r = 0; r < n; ++r)
        out[r] = all.substr(static_cast<std::size_t>(offsets[r]), counts[r]);
    return out;
}

void MpiCommunicator::barrier() {
    MPI_Barrier(comm_);
}

std::unique_ptr<Communicator> MpiCommunicator::split(int color, int key) {
    double negative = color < 0 ? 1.0 : 0.0;  // refused on every rank, not only on this one
    allreduce_max(&negative, 1);
    if (negative != 0.0) throw std::invalid_argument("split: every color must be >= 0");
    MPI_Comm made;
    MPI_Comm_split(comm_, color, key, &made);
    return std::unique_ptr<Communicator>(new MpiCommunicator(made, true));
}

void MpiCommunicator::abort(int code) {
    MPI_Abort(comm_, code);
    std::_Exit(code);  // MPI_Abort does not return; this is for the compiler
}

MpiSession::MpiSession(int& argc, char**& argv) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) throw std::runtime_error("MpiSession: MPI is already initialised");
    int provided = 0;
    if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        throw std::runtime_error("MpiSession: MPI_Init_thread failed");
    world_ = std::make_unique<MpiCommunicator>(MPI_COMM_WORLD);
}

MpiSession::~MpiSession() {
    world_.reset();
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

}  // namespace xgrad::distributed
