// Arm semihosting (the "bkpt 0xAB" interface QEMU serves with -semihosting): the fast channel
// between the emulated board and the host for bulk data, and the way a program's exit status
// reaches QEMU's exit code. Only valid under a debugger or emulator: on a bare chip the
// breakpoint would halt the core.
#ifndef AGILENN_FIRMWARE_BSP_SEMIHOST_H
#define AGILENN_FIRMWARE_BSP_SEMIHOST_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum agn_semihost_mode {
  AGN_SEMIHOST_READ = 1,   // "rb"
  AGN_SEMIHOST_WRITE = 5,  // "wb" (create or truncate)
} agn_semihost_mode;

// Opens a host file; returns a handle >= 0 or -1.
int agn_semihost_open(const char* path, agn_semihost_mode mode);
int agn_semihost_close(int handle);
// Both return the number of bytes transferred (< size only at end of file or on error).
size_t agn_semihost_read(int handle, void* buf, size_t size);
size_t agn_semihost_write(int handle, const void* buf, size_t size);
// Length of an open file in bytes, or -1.
long agn_semihost_file_length(int handle);
// Copies the command line (the -kernel path, a space, then QEMU's -append text) into `buf`
// NUL-terminated; returns 0, or -1 if it does not fit.
int agn_semihost_command_line(char* buf, size_t size);
// Writes a NUL-terminated string to the host's debug console (QEMU's stderr).
void agn_semihost_write0(const char* text);
// Ends the emulation; QEMU exits with `status` (SYS_EXIT_EXTENDED, application exit).
[[noreturn]] void agn_semihost_exit(int status);

#ifdef __cplusplus
}
#endif

#endif  // AGILENN_FIRMWARE_BSP_SEMIHOST_H
