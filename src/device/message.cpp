#include "device/message.h"

namespace agilenn::device {

void Message::put(char c) {
  if (length_ + 1 >= capacity_) return;
  buffer_[length_++] = c;
  buffer_[length_] = '\0';
}

Message& Message::operator<<(const char* text) {
  while (text != nullptr && *text != '\0') put(*text++);
  return *this;
}

void Message::put_unsigned(uint64_t value) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (n > 0) put(digits[--n]);
}

void Message::put_signed(int64_t value) {
  if (value < 0) {
    put('-');
    put_unsigned(~static_cast<uint64_t>(value) + 1);
  } else {
    put_unsigned(static_cast<uint64_t>(value));
  }
}

}  // namespace agilenn::device
