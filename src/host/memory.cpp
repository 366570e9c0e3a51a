#include "host/memory.h"

#include <malloc.h>

namespace agilenn {

void keep_freed_memory() {
  // Blocks up to 1 GiB come from the heap instead of fresh mmaps, and the heap top is never
  // trimmed back to the kernel.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, -1);
  mallopt(M_TOP_PAD, 64 << 20);
}

}  // namespace agilenn
