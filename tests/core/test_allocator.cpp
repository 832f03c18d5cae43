// The caching allocator behind every array: large buffers come back for reuse instead of going
// to the system, within a limit, from any thread.
#include <malloc.h>

#include <cstdint>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "xgrad/xgrad.hpp"

namespace {

using namespace xgrad;

/// @brief Sets the cache limit for a test and puts the old one back (sanitizer builds start at
/// 0, caching off, so that AddressSanitizer sees every free).
class CacheLimit {
  public:
    explicit CacheLimit(std::size_t bytes) : before_(set_cache_limit(bytes)) {}
    ~CacheLimit() { set_cache_limit(before_); }
    CacheLimit(const CacheLimit&) = delete;
    CacheLimit& operator=(const CacheLimit&) = delete;

  private:
    std::size_t before_;
};

TEST(CachingAllocator, AFreedLargeBufferIsHandedToTheNextArrayOfItsSize) {
    const CacheLimit limit(std::size_t{1} << 30);
    empty_cache();
    const double* first = nullptr;
    {
        array a(shape_type{100000});
        first = a.data();
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(first) % 64, 0u);  // vector-aligned
    }
    EXPECT_GE(cached_bytes(), 100000 * sizeof(double));
    const array b(shape_type{99000});  // the same size class (within 25 %)
    EXPECT_EQ(b.data(), first);
    EXPECT_EQ(cached_bytes(), 0u);
}

TEST(CachingAllocator, EverySizeRoundTripsIntactAcrossTheSmallAndLargeClasses) {
    // every element count from 0 to past the 16 KiB boundary, some kept alive while others are
    // freed and taken again: each buffer keeps its own contents
    std::vector<array> alive;
    for (std::size_t n = 0; n <= 2200; ++n) {
        array a(shape_type{n});
        a.fill(static_cast<double>(n));
        if (n % 3 == 0) alive.push_back(std::move(a));
    }
    for (std::size_t k = 0; k < alive.size(); ++k) {
        const double expected = static_cast<double>(3 * k);
        for (double v : alive[k]) ASSERT_EQ(v, expected) << "buffer of " << 3 * k;
    }
}

TEST(CachingAllocator, LargeBuffersBelowTheLimitAreKeptAndTheLimitHolds) {
    {
        const CacheLimit limit(std::size_t{1} << 30);
        empty_cache();
        { const array small(shape_type{100}); }  // 800 bytes: kept per thread, not counted
        EXPECT_EQ(cached_bytes(), 0u);
    }
    const CacheLimit limit(std::size_t{1} << 20);  // 1 MiB
    empty_cache();
    {
        const array a(shape_type{100000});  // 800 kB: kept
        const array b(shape_type{100000});  // another 800 kB: over the limit, freed
    }
    EXPECT_GT(cached_bytes(), 0u);
    EXPECT_LE(cached_bytes(), std::size_t{1} << 20);
    set_cache_limit(0);  // off: everything cached is given back
    EXPECT_EQ(cached_bytes(), 0u);
    { const array c(shape_type{100000}); }
    EXPECT_EQ(cached_bytes(), 0u);
}

TEST(CachingAllocator, ASmallBufferMadeWhileCachingWasOffIsBigEnoughForItsClassWhenCachedLater) {
    // made with caching off, freed with it on: the buffer joins the free list of its
    // power-of-two class (512 bytes for 264 to 512), so it must hold that many bytes
    const CacheLimit on(std::size_t{1} << 30);
    { const array warm(shape_type{1}); }  // this thread's small cache exists
    std::vector<array*> made_off;
    {
        const CacheLimit off(0);
        for (std::size_t n = 33; n <= 64; ++n) made_off.push_back(new array(shape_type{n}));
    }
    for (array* a : made_off) delete a;
    std::vector<array> taken;
    for (std::size_t k = 0; k < made_off.size(); ++k) {
        taken.emplace_back(shape_type{64});  // 512 bytes: from that free list
        EXPECT_GE(malloc_usable_size(taken.back().data()), 64 * sizeof(double)) << k;
    }
}

TEST(CachingAllocator, ARequestLargerThanAnyMemoryThrowsBadAlloc) {
    // the size classes end at 2^63 bytes: beyond, a class index past the free lists' end
    const CacheLimit on(std::size_t{1} << 30);
    EXPECT_THROW(detail::cached_allocate(~std::size_t{0} - 7), std::bad_alloc);
    EXPECT_THROW(detail::cached_allocate((std::size_t{1} << 63) + 1), std::bad_alloc);
}

TEST(CachingAllocator, ThreadsAllocatingAndFreeingAtOnceGetDistinctIntactBuffers) {
    const CacheLimit limit(std::size_t{1} << 30);
    auto work = [](double fill) {
        for (int round = 0; round < 200; ++round) {
            array a(shape_type{4096 + static_cast<std::size_t>(round % 7) * 1000});
            a.fill(fill);
            for (double v : a) {
                if (v != fill) return false;  // another thread wrote into this buffer
            }
        }
        return true;
    };
    bool ok[4] = {};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back([&, t] { ok[t] = work(t + 1.0); });
    for (std::thread& t : threads) t.join();
    for (bool b : ok) EXPECT_TRUE(b);
}

TEST(CachingAllocator, GraphsRebuiltEachStepReuseTheirBuffers) {
    const CacheLimit limit(std::size_t{1} << 30);
    const Var x = parameter(array(xt::ones<double>({50000})));
    auto step = [&] {
        const Var loss = sum(tanh(x) * 2.0);
        loss.backward();
        x.zero_grad();
    };
    step();
    const std::size_t after_one = cached_bytes();
    EXPECT_GT(after_one, 0u);
    for (int i = 0; i < 5; ++i) step();
    EXPECT_EQ(cached_bytes(), after_one);  // the same buffers went round, nothing new was kept
}

TEST(CachingAllocator, AnElementCountWhoseBytesOverflowIsRefusedNotWrapped) {
    // (2⁶¹ + 1) doubles is 2⁶⁴ + 8 bytes: wrapped, it would be an 8-byte buffer
    EXPECT_THROW(array(shape_type{(std::size_t{1} << 61) + 1}), std::bad_array_new_length);
}

}  // namespace
