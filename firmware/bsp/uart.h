// CMSDK APB UART driver (the mps2-an500's UART0 at 0x40004000; QEMU connects it to -serial).
// Polled, no interrupts. QEMU forwards bytes as fast as its character backend allows, which over
// a TCP socket is only 7-10 KB/s: the radio link's time is modelled from byte counts, never
// taken from this UART's speed.
#ifndef AGILENN_FIRMWARE_BSP_UART_H
#define AGILENN_FIRMWARE_BSP_UART_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Enables transmit and receive on UART0 (idempotent).
void agn_uart_init(void);
// Blocks until `byte` is in the transmit register.
void agn_uart_put(uint8_t byte);
void agn_uart_write(const void* data, size_t size);
// Returns 1 and stores a received byte if one is waiting, else 0.
int agn_uart_try_get(uint8_t* byte);
// Blocks until a byte arrives, sleeping (WFI, on the RX interrupt with interrupts masked) while
// none is waiting.
uint8_t agn_uart_get(void);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_FIRMWARE_BSP_UART_H
