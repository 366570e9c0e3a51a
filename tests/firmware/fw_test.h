// A minimal test harness for programs that run on the emulated board (GoogleTest does not fit
// the target). Checks print the failing expression and its location on the console; main()
// returns agn_fw_test::finish(), which start-up turns into QEMU's exit status, so CTest sees a
// failure as a non-zero exit.
#ifndef AGILENN_TESTS_FIRMWARE_FW_TEST_H
#define AGILENN_TESTS_FIRMWARE_FW_TEST_H

#include <stdint.h>

#include "bsp/console.h"

namespace agn_fw_test {

inline int& failures() {
  static int count = 0;
  return count;
}

inline bool check(bool ok, const char* expr, const char* file, int line) {
  if (!ok) {
    ++failures();
    agn_console_puts(file);
    agn_console_puts(":");
    agn_console_put_i32(line);
    agn_console_puts(": check failed: ");
    agn_console_puts(expr);
    agn_console_puts("\n");
  }
  return ok;
}

inline bool check_eq(int64_t a, int64_t b, const char* expr, const char* file, int line) {
  if (!check(a == b, expr, file, line)) {
    agn_console_puts("  left = ");
    agn_console_put_i32(static_cast<int32_t>(a));
    agn_console_puts(", right = ");
    agn_console_put_i32(static_cast<int32_t>(b));
    agn_console_puts("\n");
    return false;
  }
  return true;
}

// Prints the summary line and returns the exit status for main().
inline int finish(const char* name) {
  agn_console_puts(name);
  agn_console_puts(failures() == 0 ? ": all checks passed\n" : ": FAILED\n");
  return failures() == 0 ? 0 : 1;
}

}  // namespace agn_fw_test

#define AGN_CHECK(cond) ::agn_fw_test::check((cond), #cond, __FILE__, __LINE__)
#define AGN_CHECK_EQ(a, b) \
  ::agn_fw_test::check_eq(static_cast<int64_t>(a), static_cast<int64_t>(b), #a " == " #b, __FILE__, __LINE__)

#endif  // AGILENN_TESTS_FIRMWARE_FW_TEST_H
