// The message of the exception `f` throws, or "" when it throws none: lets a test assert with
// HasSubstr that an error names the file and says what was expected.
#pragma once

#include <exception>
#include <string>

namespace agilenn::testing {

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace agilenn::testing
