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
  while (!agn_uart_try_get(&byte)) {
  }
  return byte;
}

}  // extern "C"
