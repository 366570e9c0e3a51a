#include "bsp/semihost.h"

#include <string.h>

namespace {

// Operation numbers from Arm's "Semihosting for AArch32 and AArch64", version 2.0.
enum : uint32_t {
  kSysOpen = 0x01,
  kSysClose = 0x02,
  kSysWrite0 = 0x04,
  kSysWrite = 0x05,
  kSysRead = 0x06,
  kSysFlen = 0x0C,
  kSysGetCmdline = 0x15,
  kSysExitExtended = 0x20,
};
constexpr uint32_t kApplicationExit = 0x20026;  // ADP_Stopped_ApplicationExit

int32_t call(uint32_t op, const void* arg) {
  register uint32_t r0 asm("r0") = op;
  register const void* r1 asm("r1") = arg;
  asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return static_cast<int32_t>(r0);
}

}  // namespace

extern "C" {

int agn_semihost_open(const char* path, agn_semihost_mode mode) {
  const uint32_t block[3] = {reinterpret_cast<uint32_t>(path), static_cast<uint32_t>(mode),
                             static_cast<uint32_t>(strlen(path))};
  return call(kSysOpen, block);
}

int agn_semihost_close(int handle) {
  const uint32_t block[1] = {static_cast<uint32_t>(handle)};
  return call(kSysClose, block);
}

// SYS_READ and SYS_WRITE return the number of bytes NOT transferred.
size_t agn_semihost_read(int handle, void* buf, size_t size) {
  const uint32_t block[3] = {static_cast<uint32_t>(handle), reinterpret_cast<uint32_t>(buf),
                             static_cast<uint32_t>(size)};
  const int32_t left = call(kSysRead, block);
  return left < 0 || static_cast<size_t>(left) > size ? 0 : size - static_cast<size_t>(left);
}

size_t agn_semihost_write(int handle, const void* buf, size_t size) {
  const uint32_t block[3] = {static_cast<uint32_t>(handle), reinterpret_cast<uint32_t>(buf),
                             static_cast<uint32_t>(size)};
  const int32_t left = call(kSysWrite, block);
  return left < 0 || static_cast<size_t>(left) > size ? 0 : size - static_cast<size_t>(left);
}

long agn_semihost_file_length(int handle) {
  const uint32_t block[1] = {static_cast<uint32_t>(handle)};
  return call(kSysFlen, block);
}

int agn_semihost_command_line(char* buf, size_t size) {
  uint32_t block[2] = {reinterpret_cast<uint32_t>(buf), static_cast<uint32_t>(size)};
  return call(kSysGetCmdline, block) == 0 ? 0 : -1;
}

void agn_semihost_write0(const char* text) { call(kSysWrite0, text); }

void agn_semihost_exit(int status) {
  const uint32_t block[2] = {kApplicationExit, static_cast<uint32_t>(status)};
  call(kSysExitExtended, block);
  for (;;) {
  }
}

}  // extern "C"
