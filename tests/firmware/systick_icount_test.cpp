// Under -icount shift=0 SysTick is a clock of executed instructions: a loop of exactly 400,000
// instructions must take 400,000 / AGN_SYSTICK_ICOUNT_INSTRUCTIONS_PER_TICK ticks, give or take
// the tick in progress and the few instructions of the reads themselves.
#include "bsp/systick.h"
#include "fw_test.h"

int main() {
  agn_systick_start();
  const uint64_t t0 = agn_systick_read();
  asm volatile(
      "movw r0, #(200000 & 0xFFFF)\n\t"
      "movt r0, #(200000 >> 16)\n"
      "1:\n\t"
      "subs r0, r0, #1\n\t"
      "bne 1b\n\t" ::
          : "r0", "cc");
  const uint64_t ticks = agn_systick_read() - t0;
  const uint64_t expected = 400000 / AGN_SYSTICK_ICOUNT_INSTRUCTIONS_PER_TICK;
  AGN_CHECK(ticks >= expected - 1);
  AGN_CHECK(ticks <= expected + 1);
  return agn_fw_test::finish("systick_icount_test");
}
