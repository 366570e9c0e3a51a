#include "bsp/uart.h"

namespace {

// Register map of the CMSDK APB UART (Arm DDI 0479, "Cortex-M System Design Kit").
struct CmsdkUart {
  volatile uint32_t data;
  volatile uint32_t state;  // bit 0: TX buffer full, bit 1: RX buffer full
  volatile uint32_t ctrl;   // bit 0: TX enable, bit 1: RX enable
  volatile uint32_t intstatus;
  volatile uint32_t bauddiv;  // >= 16
};
constexpr uint32_t kStateTxFull = 1u << 0;
constexpr uint32_t kStateRxFull = 1u << 1;
constexpr uint32_t kCtrlTxEnable = 1u << 0;
constexpr uint32_t kCtrlRxEnable = 1u << 1;
constexpr uint32_t kCtrlRxIntEnable = 1u << 3;
constexpr uint32_t kIntRx = 1u << 1;  // INTSTATUS: RX interrupt (write 1 to clear)

// NVIC set-enable, clear-enable and clear-pending registers for IRQs 0-31. UART0's RX interrupt
// is IRQ 0 on the MPS2 FPGA images (QEMU hw/arm/mps2.c).
constexpr uint32_t kUart0RxIrqBit = 1u << 0;
volatile uint32_t& nvic_iser0() { return *reinterpret_cast<volatile uint32_t*>(0xE000E100u); }
volatile uint32_t& nvic_icer0() { return *reinterpret_cast<volatile uint32_t*>(0xE000E180u); }
volatile uint32_t& nvic_icpr0() { return *reinterpret_cast<volatile uint32_t*>(0xE000E280u); }

CmsdkUart& uart0() { return *reinterpret_cast<CmsdkUart*>(0x40004000u); }

}  // namespace

extern "C" {

void agn_uart_init(void) {
  CmsdkUart& u = uart0();
  u.bauddiv = 16;  // the fastest divider; QEMU ignores the rate itself
  u.ctrl = kCtrlTxEnable | kCtrlRxEnable;
}

void agn_uart_put(uint8_t byte) {
  CmsdkUart& u = uart0();
  while (u.state & kStateTxFull) {
  }
  u.data = byte;
}

void agn_uart_write(const void* data, size_t size) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) agn_uart_put(p[i]);
}

int agn_uart_try_get(uint8_t* byte) {
  CmsdkUart& u = uart0();
  if (!(u.state & kStateRxFull)) return 0;
  *byte = static_cast<uint8_t>(u.data);
  return 1;
}

uint8_t agn_uart_get(void) {
  uint8_t byte;
  if (agn_uart_try_get(&byte)) return byte;
  // Sleep until a byte arrives instead of spinning (an emulator then leaves the host's CPU to the
  // far end): the RX interrupt is enabled in the UART and the NVIC but masked by PRIMASK, so it
  // wakes WFI without running a handler.
  CmsdkUart& u = uart0();
  __asm volatile("cpsid i" ::: "memory");
  u.ctrl = u.ctrl | kCtrlRxIntEnable;
  nvic_iser0() = kUart0RxIrqBit;
  while (!agn_uart_try_get(&byte)) {
    u.intstatus = kIntRx;
    nvic_icpr0() = kUart0RxIrqBit;
    if (u.state & kStateRxFull) continue;  // arrived while clearing: no WFI
    __asm volatile("dsb\n\twfi" ::: "memory");
  }
  u.ctrl = u.ctrl & ~kCtrlRxIntEnable;
  u.intstatus = kIntRx;
  nvic_icer0() = kUart0RxIrqBit;
  nvic_icpr0() = kUart0RxIrqBit;
  __asm volatile("cpsie i" ::: "memory");
  return byte;
}

}  // extern "C"
