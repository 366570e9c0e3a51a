// Stage markers for exact instruction counts per stage.
//
// The firmware calls agn_stage_enter(s) where stage s begins. Each stage s in
// [0, AGN_STAGE_MAX) has its own marker function agn_stage_mark_<s>, a single `bx lr`
// instruction defined in stage.cpp. The QEMU plugin (tools/qemu_plugin) finds the markers by
// symbol name in the ELF that QEMU loaded, counts every executed instruction, and attributes the
// instructions to the stage last entered. Everything before the first marker is stage 0.
//
// Cost: a call to a marker is 3 instructions (load address, blx, bx lr), counted to the
// stages around it. Without the plugin the markers are plain empty functions.
#ifndef AGILENN_FIRMWARE_BSP_STAGE_H
#define AGILENN_FIRMWARE_BSP_STAGE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AGN_STAGE_MAX 16

// The marker functions, laid out back to back, 2 bytes apart (Thumb `bx lr`).
extern const uint16_t agn_stage_mark_0[];

// Enters stage `stage` (< AGN_STAGE_MAX).
static inline void agn_stage_enter(unsigned stage) {
  // | 1: the Thumb bit of a function address. The linker may or may not have set it in the
  // symbol's address (it ORs it into mark_0 + addend when the compiler folds an offset into the
  // relocation, and into mark_0 alone when it adds the offset at run time), so it is OR-ed, not
  // added.
  void (*mark)(void) =
      (void (*)(void))(((uintptr_t)agn_stage_mark_0 + 2u * stage) | 1u);  // NOLINT: Thumb address
  mark();
}

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_FIRMWARE_BSP_STAGE_H
