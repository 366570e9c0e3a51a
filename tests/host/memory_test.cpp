#include "host/memory.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstring>

namespace agilenn {
namespace {

// After keep_freed_memory(), a freed 64 MiB block stays in the heap for reuse instead of going
// back to the kernel.
TEST(Memory, FreedLargeBlocksStayInTheProcess) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer replaces glibc's allocator";
#endif
  keep_freed_memory();
  constexpr size_t kSize = 64u << 20;
  char* block = static_cast<char*>(std::malloc(kSize));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kSize);
  std::free(block);
  const struct mallinfo2 info = mallinfo2();
  EXPECT_GE(info.fordblks, kSize) << "freed block was returned to the kernel";
  EXPECT_EQ(info.hblkhd, 0u) << "large block was served by mmap";
}

}  // namespace
}  // namespace agilenn
