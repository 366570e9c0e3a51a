// Vector table and reset handler for the mps2-an500 (see board.h for what start-up does).
#include <stdint.h>
#include <string.h>

#include "bsp/board.h"
#include "bsp/console.h"
#include "bsp/semihost.h"

extern "C" {
// Linker script symbols (mps2_an500.ld).
extern uint32_t __flash_start[], __flash_end[];
extern const uint8_t __model_slot[];
extern uint32_t __data_start[], __data_end[], __data_load[];
extern uint32_t __bss_start[], __bss_end[];
extern uint32_t __stack_limit[], __stack_top[];
extern void (*__preinit_array_start[])(void);
extern void (*__preinit_array_end[])(void);
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

[[noreturn]] void agn_reset_handler(void);
}
int main();

namespace {

volatile uint32_t& reg(uintptr_t address) { return *reinterpret_cast<volatile uint32_t*>(address); }

constexpr uintptr_t kCpacr = 0xE000ED88;  // Coprocessor Access Control
constexpr uintptr_t kCfsr = 0xE000ED28;   // Configurable Fault Status
constexpr uintptr_t kHfsr = 0xE000ED2C;   // HardFault Status

[[noreturn]] void fault(const char* name) {
  agn_console_puts("agn: fault: ");
  agn_console_puts(name);
  agn_console_puts(" CFSR=");
  agn_console_put_hex(reg(kCfsr));
  agn_console_puts(" HFSR=");
  agn_console_put_hex(reg(kHfsr));
  agn_console_puts("\n");
  agn_semihost_exit(AGN_BOARD_FAULT_STATUS);
}

void hard_fault_handler() { fault("HardFault"); }
void mem_manage_handler() { fault("MemManage"); }
void bus_fault_handler() { fault("BusFault"); }
void usage_fault_handler() { fault("UsageFault"); }
void unexpected_handler() { fault("unexpected interrupt"); }

using Handler = void (*)();
constexpr int kExternalInterrupts = 32;  // the AN500 FPGA image's IRQ lines

}  // namespace

// The Cortex-M7 reads the initial stack pointer and the reset vector from address 0.
extern "C" __attribute__((section(".isr_vector"), used)) const Handler agn_vector_table[16 + kExternalInterrupts] = {
    reinterpret_cast<Handler>(__stack_top),
    agn_reset_handler,
    unexpected_handler,  // NMI
    hard_fault_handler,
    mem_manage_handler,
    bus_fault_handler,
    usage_fault_handler,
    nullptr, nullptr, nullptr, nullptr,  // reserved
    unexpected_handler,                  // SVCall
    unexpected_handler,                  // DebugMonitor
    nullptr,                             // reserved
    unexpected_handler,                  // PendSV
    unexpected_handler,  // SysTick (agn_systick polls it)
    // External interrupts: none is enabled; any that fires is a bug.
    unexpected_handler, unexpected_handler, unexpected_handler, unexpected_handler,
    unexpected_handler, unexpected_handler, unexpected_handler, unexpected_handler,
    unexpected_handler, unexpected_handler, unexpected_handler, unexpected_handler,
    unexpected_handler, unexpected_handler, unexpected_handler, unexpected_handler,
    unexpected_handler, unexpected_handler, unexpected_handler, unexpected_handler,
    unexpected_handler, unexpected_handler, unexpected_handler, unexpected_handler,
    unexpected_handler, unexpected_handler, unexpected_handler, unexpected_handler,
    unexpected_handler, unexpected_handler, unexpected_handler, unexpected_handler,
};

extern "C" {

void agn_reset_handler(void) {
  // Full access to CP10/CP11 (the FPU) before any floating-point instruction runs.
  reg(kCpacr) |= 0xFu << 20;
  asm volatile("dsb\n\tisb" ::: "memory");

  const size_t data_bytes = static_cast<size_t>(__data_end - __data_start) * sizeof(uint32_t);
  memcpy(__data_start, __data_load, data_bytes);
  memset(__bss_start, 0, static_cast<size_t>(__bss_end - __bss_start) * sizeof(uint32_t));

  // Paint the stack below the current frame so that the high-water mark can be measured.
  uint32_t* sp;
  asm volatile("mov %0, sp" : "=r"(sp));
  for (uint32_t* p = __stack_limit; p < sp - 16; ++p) *p = AGN_BOARD_STACK_PAINT;

  for (auto* f = __preinit_array_start; f != __preinit_array_end; ++f) (*f)();
  for (auto* f = __init_array_start; f != __init_array_end; ++f) (*f)();

  agn_semihost_exit(main());
}

size_t agn_board_flash_used(void) {
  return static_cast<size_t>(reinterpret_cast<uintptr_t>(__flash_end) -
                             reinterpret_cast<uintptr_t>(__flash_start));
}

size_t agn_board_sram_static(void) {
  return static_cast<size_t>(reinterpret_cast<uintptr_t>(__bss_end) -
                             reinterpret_cast<uintptr_t>(__data_start));
}

size_t agn_board_stack_reserved(void) {
  return static_cast<size_t>(reinterpret_cast<uintptr_t>(__stack_top) -
                             reinterpret_cast<uintptr_t>(__stack_limit));
}

const uint8_t* agn_board_model_slot(void) { return __model_slot; }

size_t agn_board_stack_high_water(void) {
  const volatile uint32_t* p = __stack_limit;
  while (p < __stack_top && *p == AGN_BOARD_STACK_PAINT) ++p;
  return static_cast<size_t>(reinterpret_cast<uintptr_t>(__stack_top) -
                             reinterpret_cast<uintptr_t>(p));
}

}  // extern "C"
