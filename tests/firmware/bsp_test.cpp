// Board support on the emulated board: start-up (.data, .bss, constructors), semihosting file
// I/O and command line, memory figures and stack painting, SysTick. Run with
// `-append bsp-test-arg` (see CMakeLists.txt).
#include <string.h>

#include "bsp/board.h"
#include "bsp/semihost.h"
#include "bsp/systick.h"
#include "fw_test.h"

namespace {

int g_initialised = 1234;  // .data
int g_zeroed;              // .bss
struct Constructed {
  Constructed() : value(42) {}
  int value;
};
Constructed g_constructed;  // needs the init array

void check_startup() {
  AGN_CHECK_EQ(g_initialised, 1234);
  AGN_CHECK_EQ(g_zeroed, 0);
  AGN_CHECK_EQ(g_constructed.value, 42);
}

void check_file_io() {
  const char text[] = "semihosted file I/O\n";
  const int out = agn_semihost_open("bsp_test.tmp", AGN_SEMIHOST_WRITE);
  AGN_CHECK(out >= 0);
  AGN_CHECK_EQ(agn_semihost_write(out, text, sizeof(text) - 1), sizeof(text) - 1);
  AGN_CHECK_EQ(agn_semihost_close(out), 0);

  const int in = agn_semihost_open("bsp_test.tmp", AGN_SEMIHOST_READ);
  AGN_CHECK(in >= 0);
  AGN_CHECK_EQ(agn_semihost_file_length(in), sizeof(text) - 1);
  char back[64] = {};
  AGN_CHECK_EQ(agn_semihost_read(in, back, sizeof(back)), sizeof(text) - 1);  // short at EOF
  AGN_CHECK(memcmp(back, text, sizeof(text) - 1) == 0);
  AGN_CHECK_EQ(agn_semihost_close(in), 0);

  AGN_CHECK_EQ(agn_semihost_open("no/such/dir/file", AGN_SEMIHOST_READ), -1);
}

void check_command_line() {
  char line[256];
  AGN_CHECK_EQ(agn_semihost_command_line(line, sizeof(line)), 0);
  AGN_CHECK(strstr(line, "bsp-test-arg") != nullptr);
  char tiny[4];
  AGN_CHECK_EQ(agn_semihost_command_line(tiny, sizeof(tiny)), -1);
}

// Uses about `depth` * 256 bytes of stack.
__attribute__((noinline)) int deep(int depth) {
  volatile uint8_t frame[256];
  for (unsigned i = 0; i < sizeof(frame); ++i) frame[i] = static_cast<uint8_t>(i + depth);
  return depth == 0 ? frame[3] : deep(depth - 1) + frame[7];
}

void check_memory_figures() {
  AGN_CHECK(agn_board_flash_used() > 1024);
  AGN_CHECK(agn_board_flash_used() < AGN_BOARD_FLASH_BYTES);
  AGN_CHECK(agn_board_sram_static() >= 2 * sizeof(int));
  AGN_CHECK_EQ(agn_board_stack_reserved(), 16 * 1024);
  const size_t before = agn_board_stack_high_water();
  AGN_CHECK(before > 0);
  AGN_CHECK(before < 2048);
  deep(20);
  const size_t after = agn_board_stack_high_water();
  AGN_CHECK(after >= before + 20 * 256);
  AGN_CHECK(after < before + 20 * 256 + 2048);
}

void check_systick() {
  agn_systick_start();
  const uint64_t t0 = agn_systick_read();
  volatile uint32_t sink = 0;
  for (uint32_t i = 0; i < 100000; ++i) sink = sink + i;
  const uint64_t t1 = agn_systick_read();
  AGN_CHECK(t1 > t0);
  AGN_CHECK(agn_systick_read() >= t1);
}

}  // namespace

int main() {
  check_startup();
  check_file_io();
  check_command_line();
  check_memory_figures();
  check_systick();
  return agn_fw_test::finish("bsp_test");
}
