#include "bsp/systick.h"

namespace {

struct SysTick {
  volatile uint32_t ctrl;  // bit 0 enable, bit 1 interrupt, bit 2 processor clock
  volatile uint32_t load;
  volatile uint32_t val;
  volatile uint32_t calib;
};
SysTick& systick() { return *reinterpret_cast<SysTick*>(0xE000E010u); }

constexpr uint32_t kPeriodMask = 0x00FFFFFFu;
uint64_t g_ticks;      // ticks accumulated up to g_last_val
uint32_t g_last_val;   // counter value at the previous read

}  // namespace

extern "C" {

void agn_systick_start(void) {
  SysTick& s = systick();
  s.ctrl = 0;
  s.load = kPeriodMask;
  s.val = 0;  // any write clears the counter: it reads 0 until the next tick reloads it
  s.ctrl = (1u << 0) | (1u << 2);
  // Wait for that reload, so that the first read starts from a running counter. (In QEMU without
  // -icount the reload happens when the host's timer fires, which may be thousands of
  // instructions later.)
  uint32_t val;
  do {
    val = s.val & kPeriodMask;
  } while (val == 0);
  g_ticks = 0;
  g_last_val = val;
}

uint64_t agn_systick_read(void) {
  const uint32_t val = systick().val & kPeriodMask;
  // The counter counts down and wraps from 0 to kPeriodMask.
  g_ticks += (g_last_val - val) & kPeriodMask;
  g_last_val = val;
  return g_ticks;
}

}  // extern "C"
