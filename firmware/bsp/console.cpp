#include "bsp/console.h"

#include "bsp/uart.h"
#include "common/decimal.h"

extern "C" {

void agn_console_puts(const char* text) {
  agn_uart_init();
  while (*text) agn_uart_put(static_cast<uint8_t>(*text++));
}

void agn_console_put_u64(uint64_t value) {
  char text[AGN_DECIMAL_U64_SIZE];
  agn_decimal_u64(value, text);
  agn_console_puts(text);
}

void agn_console_put_field(const char* key, uint64_t value) {
  agn_console_puts(" ");
  agn_console_puts(key);
  agn_console_puts("=");
  agn_console_put_u64(value);
}

int agn_console_fail(const char* program, const char* what, const char* detail) {
  agn_console_puts(program);
  agn_console_puts(": ");
  agn_console_puts(what);
  agn_console_puts(detail);
  agn_console_puts("\n");
  return 1;
}

void agn_console_put_i32(int32_t value) {
  if (value < 0) {
    agn_console_puts("-");
    agn_console_put_u64(static_cast<uint64_t>(-static_cast<int64_t>(value)));
  } else {
    agn_console_put_u64(static_cast<uint64_t>(value));
  }
}

void agn_console_put_hex(uint32_t value) {
  char text[11] = "0x";
  for (int i = 0; i < 8; ++i) text[2 + i] = "0123456789abcdef"[(value >> (28 - 4 * i)) & 0xF];
  text[10] = '\0';
  agn_console_puts(text);
}

}  // extern "C"
