/***************************************************************************
 * xgrad: reverse-mode automatic differentiation on xtensor                 *
 ***************************************************************************/
#include "parallel.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "xgrad/blas.hpp"

namespace xgrad::detail {

namespace {

/// @brief Workers that sleep on a condition variable between jobs; one job at a time.
class WorkerPool {
  public:
    ~WorkerPool() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            stopping_ = true;
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
            remaining_ = parts - 1;
            ++generation_;
        }
        wake_.notify_all();
        task(context, 0);
        std::unique_lock<std::mutex> lock(mutex_);
        done_.wait(lock, [this] { return remaining_ == 0; });
    }

  private:
    /// @brief Worker `index` runs part `index` of every job that has that many parts.
    void work(std::size_t index, std::uint64_t seen) {
        std::unique_lock<std::mutex> lock(mutex_);
        for (;;) {
            wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
            if (stopping_) return;
            seen = generation_;
            if (index >= parts_) continue;
            lock.unlock();
            task_(context_, index);
            lock.lock();
            if (--remaining_ == 0) done_.notify_one();
        }
    }

    std::mutex turn_;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::condition_variable done_;
    std::vector<std::thread> workers_;
    void (*task_)(void*, std::size_t) = nullptr;
    void* context_ = nullptr;
    std::size_t parts_ = 0;
    std::size_t remaining_ = 0;
    std::uint64_t generation_ = 0;
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
