// The worker pool: a few persistent threads that split large kernels.
#include "backend/worker_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "xgrad/backend/blas.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace xgrad::detail {

namespace {

/// @brief Calls `ready` until it returns true or about `microseconds` have passed; says which.
/// Waking a sleeping thread costs tens of microseconds, and a training step hands out its jobs
/// (the large products) that close together, so both sides look for each other briefly first.
template <class Ready>
bool spin_until(Ready ready, int microseconds) {
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::microseconds(microseconds);
    for (unsigned round = 0;; ++round) {
        if (ready()) return true;
        if (round % 64 == 63 && std::chrono::steady_clock::now() > deadline) return false;
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#else
        std::this_thread::yield();
#endif
    }
}

/// @brief Workers that look out for a job for a moment, then sleep on a condition variable; one
/// job at a time.
class WorkerPool {
  public:
    ~WorkerPool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
            published_.fetch_add(1, std::memory_order_release);  // a spinning worker looks again
        }
        wake_.notify_all();
        for (std::thread& t : workers_) t.join();
    }

    void run(std::size_t parts, void (*task)(void*, std::size_t), void* context) {
        std::lock_guard<std::mutex> turn(turn_);  // one job at a time, callers queue here
        {
            std::unique_lock<std::mutex> lock(mutex_);
            while (workers_.size() + 1 < parts) {
                // A new worker waits for the job after the current one: the one about to start.
                workers_.emplace_back(
                    [this, index = workers_.size() + 1, seen = generation_] { work(index, seen); });
            }
            task_ = task;
            context_ = context;
            parts_ = parts;
            remaining_.store(parts - 1, std::memory_order_relaxed);
            ++generation_;
            published_.store(generation_, std::memory_order_release);
        }
        wake_.notify_all();
        task(context, 0);
        if (spin_until([this] { return remaining_.load(std::memory_order_acquire) == 0; },
                       spin_microseconds)) {
            return;
        }
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return remaining_.load(std::memory_order_acquire) == 0; });
    }

  private:
    /// @brief Worker `index` runs part `index` of every job that has that many parts.
    void work(std::size_t index, std::uint64_t seen) {
        for (;;) {
            spin_until([&] { return published_.load(std::memory_order_acquire) != seen; },
                       spin_microseconds);
            std::unique_lock<std::mutex> lock(mutex_);
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
            if (index >= parts_) continue;
            void (*const task)(void*, std::size_t) = task_;
            void* const context = context_;
            lock.unlock();
            task(context, index);
            if (remaining_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                std::lock_guard<std::mutex> relock(mutex_);  // the caller may be about to sleep
                done_.notify_one();
            }
        }
    }

    static constexpr int spin_microseconds = 100;

    std::mutex turn_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::vector<std::thread> workers_;
    void (*task_)(void*, std::size_t) = nullptr;
    void* context_ = nullptr;
    std::size_t parts_ = 0;
    std::atomic<std::size_t> remaining_{0};
    std::uint64_t generation_ = 0;
    std::atomic<std::uint64_t> published_{0};
    bool stopping_ = false;
};

}  // namespace

void run_in_parallel(std::size_t parts, void (*task)(void*, std::size_t), void* context) {
    if (parts <= 1) {
        task(context, 0);
        return;
    }
    static WorkerPool pool;
    pool.run(parts, task, context);
}

std::size_t parallel_parts(std::size_t work, std::size_t min_work) {
    if (work < 2 * min_work) return 1;  // before asking the BLAS: small steps stay cheap
    const int threads = blas_threads();
    return std::clamp<std::size_t>(work / min_work, 1, threads > 0 ? threads : 1);
}

}  // namespace xgrad::detail
