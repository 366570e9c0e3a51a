// What `agilenn mcu bench` (src/mcu/bench.h) and the bench firmware (bench/mcu/pipeline_bench.cpp)
// share besides the model slot: an optional test image that QEMU's loader puts in the last 16 KB
// of the flash model slot (firmware/bsp/board.h). Little-endian: u32 AGN_BENCH_IMAGE_MAGIC, u32
// the image's size in bytes (the model's input, u8 HWC), then the image. Without it (QEMU leaves
// the slot zero) the firmware runs its synthetic pattern. Plain C, shared by both builds.
#ifndef AGILENN_MCU_BENCH_LINK_H
#define AGILENN_MCU_BENCH_LINK_H

#define AGN_BENCH_IMAGE_OFFSET 0x3C000u  // from the model slot's start; a model must end before it
#define AGN_BENCH_IMAGE_MAGIC 0x4D494741u  // "AGIM"
#define AGN_BENCH_IMAGE_HEADER 8u
#define AGN_BENCH_IMAGE_MAX_BYTES (0x4000u - AGN_BENCH_IMAGE_HEADER)

#endif  // AGILENN_MCU_BENCH_LINK_H
