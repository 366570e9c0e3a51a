// Error messages for the host tools without printf (which may pull in an allocator on the MCU):
// a bounded writer into a caller's char array, always NUL-terminated, silently truncating.
#ifndef AGILENN_DEVICE_MESSAGE_H
#define AGILENN_DEVICE_MESSAGE_H

#include <stddef.h>
#include <stdint.h>

#include <type_traits>

namespace agilenn::device {

class Message {
 public:
  Message(char* buffer, size_t capacity) : buffer_(buffer), capacity_(capacity) {
    if (capacity_ > 0) buffer_[0] = '\0';
  }
  Message& operator<<(const char* text);
  // Any integer type (uint32_t is unsigned long on arm-none-eabi, so no fixed overload set).
  template <typename T, typename = std::enable_if_t<std::is_integral_v<T>>>
  Message& operator<<(T value) {
    if constexpr (std::is_signed_v<T>) {
      put_signed(static_cast<int64_t>(value));
    } else {
      put_unsigned(static_cast<uint64_t>(value));
    }
    return *this;
  }

 private:
  void put(char c);
  void put_signed(int64_t value);
  void put_unsigned(uint64_t value);
  char* buffer_;
  size_t capacity_;
  size_t length_ = 0;
};

}  // namespace agilenn::device

#endif  // AGILENN_DEVICE_MESSAGE_H
