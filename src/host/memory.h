// Process-wide allocator settings for training and serving.
//
// LibTorch frees and re-allocates large activation buffers every step. With glibc's defaults each
// of those is an mmap/munmap pair plus page faults, which TOOLCHAIN.md measured at 2.5-16x slower
// steps on these VMs. keep_freed_memory() raises the mmap and trim thresholds so freed blocks stay
// in the heap and are reused. Call it once at start-up, before the first large allocation.
#pragma once

namespace agilenn {

void keep_freed_memory();

}  // namespace agilenn
