// The caching allocator of every array's storage: large buffers freed by one graph are handed to
// the next instead of back to the OS (as PyTorch's caching allocator does for GPU memory), so a
// graph rebuilt each step does not pay a page fault per 4 KiB of every fresh buffer.
#pragma once

#include <cstddef>
#include <new>

namespace xgrad {

/// @brief Bytes held in the cache of large buffers (16 KiB and more) now: freed buffers kept
/// for reuse, not in use by any array. (Small buffers are kept per thread, at most 64 of each
/// power-of-two size, about 1 MiB a thread, and not counted here.)
std::size_t cached_bytes();
/// @brief Gives every cached buffer back to the system (arrays in use are not affected).
void empty_cache();
/// @brief The most bytes the cache of large buffers keeps (default 1 GiB; 0 in sanitizer
/// builds); a buffer freed beyond it goes back to the system. 0 turns all caching off, small
/// buffers' too. Returns the previous limit.
std::size_t set_cache_limit(std::size_t bytes);

namespace detail {

/// @brief Storage of `bytes`, 64-byte aligned: a cached buffer of its size class if there is
/// one (buffers of 16 KiB and more), else new memory; throws std::bad_alloc.
void* cached_allocate(std::size_t bytes);
/// @brief Returns storage from cached_allocate(bytes) to the cache (or the system).
void cached_deallocate(void* p, std::size_t bytes) noexcept;

/// @brief The standard-library allocator interface over cached_allocate (stateless: any two
/// compare equal).
template <class T>
struct caching_allocator {
    using value_type = T;
    caching_allocator() noexcept = default;
    /// @brief Rebinding copy (allocator requirements).
    template <class U>
    caching_allocator(const caching_allocator<U>&) noexcept {}
    /// @brief n objects' storage, uninitialised; std::bad_array_new_length if n·sizeof(T)
    /// overflows, std::bad_alloc if there is no such memory.
    T* allocate(std::size_t n) {
        if (n > ~std::size_t{0} / sizeof(T)) throw std::bad_array_new_length();
        return static_cast<T*>(cached_allocate(n * sizeof(T)));
    }
    /// @brief Frees storage of n objects from allocate(n).
    void deallocate(T* p, std::size_t n) noexcept { cached_deallocate(p, n * sizeof(T)); }
    /// @brief Every caching_allocator can free every other's storage.
    template <class U>
    bool operator==(const caching_allocator<U>&) const noexcept {
        return true;
    }
    /// @brief See operator==.
    template <class U>
    bool operator!=(const caching_allocator<U>&) const noexcept {
        return false;
    }
};

}  // namespace detail
}  // namespace xgrad
