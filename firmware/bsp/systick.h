// SysTick as a free-running 64-bit tick counter, polled (no interrupt, so measured code runs
// undisturbed and instruction counts stay exact).
//
// Clock: the processor clock, 25 MHz on QEMU's mps2-an500. Under QEMU's -icount shift=0 every
// guest instruction advances virtual time by 1 ns, so one tick is exactly
// AGN_SYSTICK_ICOUNT_INSTRUCTIONS_PER_TICK executed instructions: a clock that follows the
// work done, not the host's speed (tests/firmware/systick_icount_test.cpp checks it). Without
// -icount, ticks follow the host's wall clock.
#ifndef AGILENN_FIRMWARE_BSP_SYSTICK_H
#define AGILENN_FIRMWARE_BSP_SYSTICK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AGN_SYSTICK_ICOUNT_INSTRUCTIONS_PER_TICK 40  // 1 ns per instruction at 25 MHz

// Starts (or restarts) the counter at 0 on the processor clock; returns once it runs.
void agn_systick_start(void);
// Ticks since agn_systick_start. Call it at least once every 2^24 ticks (the 24-bit counter's
// period) so that no wrap is missed.
uint64_t agn_systick_read(void);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_FIRMWARE_BSP_SYSTICK_H
