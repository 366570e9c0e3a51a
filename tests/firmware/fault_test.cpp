// A fault must end the emulation with AGN_BOARD_FAULT_STATUS instead of hanging.
#include <stdint.h>

int main() {
  // Undefined instruction: a UsageFault (escalated to HardFault as faults are not enabled).
  asm volatile(".inst.n 0xde00");
  return 0;
}
