#include "device/message.h"

#include "common/decimal.h"

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
  char text[AGN_DECIMAL_U64_SIZE];
  agn_decimal_u64(value, text);
  *this << text;
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
