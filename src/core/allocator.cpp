// The caching allocator: free lists of large buffers by size class under one mutex, and of
// small ones per thread.
#include "xgrad/core/allocator.hpp"

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <mutex>

namespace xgrad::detail {

namespace {

constexpr std::size_t alignment = 64;
constexpr std::size_t smallest_cached = std::size_t{1} << 14;  // below, malloc does well
constexpr int first_exponent = 14;
constexpr int classes = 4 * (64 - first_exponent);
// the largest size with a class (1.75·2^63 bytes; larger ones would round up to 2^64)
constexpr std::size_t largest_cached = (std::size_t{1} << 63) + 3 * (std::size_t{1} << 61);

/// @brief Size classes: 2^k, 1.25·2^k, 1.5·2^k, 1.75·2^k (at most 25 % rounded up).
int size_class(std::size_t bytes, std::size_t& rounded) {
    int k = 63 - __builtin_clzll(bytes);
    const std::size_t base = std::size_t{1} << k;
    const std::size_t quarter = base >> 2;
    std::size_t q = (bytes - base + quarter - 1) / quarter;
    if (q == 4) {
        ++k;
        q = 0;
    }
    rounded = (std::size_t{1} << k) + q * (std::size_t{1} << (k - 2));
    return 4 * (k - first_exponent) + static_cast<int>(q);
}

/// @brief A freed buffer holds the link to the next one of its class.
struct FreeBlock {
    FreeBlock* next;
};

class Cache {
  public:
    void* take(int c) {
        std::lock_guard<std::mutex> lock(mutex_);
        FreeBlock* block = heads_[c];
        if (block == nullptr) return nullptr;
        heads_[c] = block->next;
        held_ -= class_bytes_[c];
        return block;
    }
    bool keep(void* p, int c, std::size_t bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (held_ + bytes > limit_) return false;
        class_bytes_[c] = bytes;
        heads_[c] = new (p) FreeBlock{heads_[c]};
        held_ += bytes;
        return true;
    }
    void release_all() {
        std::lock_guard<std::mutex> lock(mutex_);
        for (FreeBlock*& head : heads_) {
            while (head != nullptr) {
                FreeBlock* next = head->next;
                std::free(head);
                head = next;
            }
        }
        held_ = 0;
    }
    std::size_t held() {
        std::lock_guard<std::mutex> lock(mutex_);
        return held_;
    }
    std::size_t set_limit(std::size_t bytes) {
        std::size_t before;
        {
            std::lock_guard<std::mutex> lock(mutex_);
            before = limit_;
            limit_ = bytes;
        }
        if (bytes < held()) release_all();
        return before;
    }

  private:
    std::mutex mutex_;
    FreeBlock* heads_[classes] = {};
    std::size_t class_bytes_[classes] = {};
    std::size_t held_ = 0;
#if defined(XGRAD_NO_CACHE)  // sanitizer builds: every free is seen by AddressSanitizer
    std::size_t limit_ = 0;
#else
    std::size_t limit_ = std::size_t{1} << 30;
#endif
};

/// @brief The one cache, never destroyed: arrays in static objects may be freed after main.
Cache& cache() {
    static Cache* const instance = new Cache;
    return *instance;
}

void* fresh(std::size_t bytes) {
    void* p = std::aligned_alloc(alignment, (bytes + alignment - 1) / alignment * alignment);
    if (p == nullptr) throw std::bad_alloc();
    return p;
}

/// @brief Small buffers (the values and gradients of small tensors): per-thread free lists of
/// power-of-two classes from 64 bytes, at most `keep` each, no lock. A buffer freed on another
/// thread joins that thread's lists. A graph rebuilt each step then takes nothing from malloc
/// for its arrays.
class SmallCache {
  public:
    static constexpr int smallest_exponent = 6;                             // 64 bytes
    static constexpr int classes = first_exponent - smallest_exponent + 1;  // 64 B … 16 KiB
    static constexpr int keep = 64;

    SmallCache() { alive() = true; }
    ~SmallCache() {
        alive() = false;  // frees after this (at thread exit) go straight to the system
        for (FreeBlock*& head : heads_) {
            while (head != nullptr) {
                FreeBlock* next = head->next;
                std::free(head);
                head = next;
            }
        }
    }
    SmallCache(const SmallCache&) = delete;
    SmallCache& operator=(const SmallCache&) = delete;

    /// @brief Whether this thread's cache exists (made, and not yet destroyed at thread exit).
    static bool& alive() {
        thread_local bool is_alive = false;
        return is_alive;
    }
    static int class_of(std::size_t bytes) {
        const int k = bytes <= 64 ? smallest_exponent : 64 - __builtin_clzll(bytes - 1);
        return k - smallest_exponent;
    }
    void* take(int c) {
        FreeBlock* block = heads_[c];
        if (block == nullptr) return nullptr;
        heads_[c] = block->next;
        --counts_[c];
        return block;
    }
    bool keep_block(void* p, int c) {
        if (counts_[c] >= keep) return false;
        heads_[c] = new (p) FreeBlock{heads_[c]};
        ++counts_[c];
        return true;
    }

  private:
    FreeBlock* heads_[classes] = {};
    int counts_[classes] = {};
};

/// @brief This thread's small cache (made on first use), or null once it has been destroyed.
SmallCache* small_cache() {
    thread_local SmallCache instance;
    return SmallCache::alive() ? &instance : nullptr;
}

/// @brief Whether small buffers are cached: off with set_cache_limit(0), and in sanitizer
/// builds (every free is then seen by AddressSanitizer).
#if defined(XGRAD_NO_CACHE)
std::atomic<bool> small_caching{false};
#else
std::atomic<bool> small_caching{true};
#endif

}  // namespace

void* cached_allocate(std::size_t bytes) {
    if (bytes < smallest_cached) {
        // always the whole class: caching may be on again when the buffer is freed, and it then
        // joins the free list of its class
        const int c = SmallCache::class_of(bytes);
        if (small_caching.load(std::memory_order_relaxed)) {
            if (SmallCache* small = small_cache()) {
                if (void* p = small->take(c)) return p;
            }
        }
        return fresh(std::size_t{1} << (c + SmallCache::smallest_exponent));
    }
    if (bytes > largest_cached) throw std::bad_alloc();  // no memory is that large
    std::size_t rounded = 0;
    const int c = size_class(bytes, rounded);
    if (void* p = cache().take(c)) return p;
    return fresh(rounded);
}

void cached_deallocate(void* p, std::size_t bytes) noexcept {
    if (p == nullptr) return;
    if (bytes < smallest_cached) {
        if (small_caching.load(std::memory_order_relaxed) && SmallCache::alive()) {
            if (small_cache()->keep_block(p, SmallCache::class_of(bytes))) return;
        }
    } else {
        std::size_t rounded = 0;
        const int c = size_class(bytes, rounded);
        if (cache().keep(p, c, rounded)) return;
    }
    std::free(p);
}

}  // namespace xgrad::detail

namespace xgrad {

std::size_t cached_bytes() {
    return detail::cache().held();
}

void empty_cache() {
    detail::cache().release_all();
}

std::size_t set_cache_limit(std::size_t bytes) {
    detail::small_caching.store(bytes > 0, std::memory_order_relaxed);
    return detail::cache().set_limit(bytes);
}

}  // namespace xgrad
