// Text output for firmware and on-target tests: UART0, which QEMU shows on its stdout.
// No printf (newlib's pulls in the heap): a few fixed formatters instead.
#ifndef AGILENN_FIRMWARE_BSP_CONSOLE_H
#define AGILENN_FIRMWARE_BSP_CONSOLE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

void agn_console_puts(const char* text);
void agn_console_put_u64(uint64_t value);  // decimal
void agn_console_put_i32(int32_t value);   // decimal
void agn_console_put_hex(uint32_t value);  // 0x%08x
// " key=value": a field of the one-line reports firmware prints ("agn-footprint key=value ...").
void agn_console_put_field(const char* key, uint64_t value);
// "program: what detail" and a newline; returns 1, main's failure status.
int agn_console_fail(const char* program, const char* what, const char* detail);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_FIRMWARE_BSP_CONSOLE_H
