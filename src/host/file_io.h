// Whole-file reads and atomic writes for host tools.
//
// Errors throw std::runtime_error whose message names the file and what went wrong. Writes go to
// "<path>.tmp.<pid>" in the same folder and are renamed into place only once complete, so a
// killed process never leaves a half-written output behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace agilenn {

std::vector<uint8_t> read_file(const std::filesystem::path& path);
std::string read_text_file(const std::filesystem::path& path);

// Calls write(tmp_path) to produce the file, then renames it to `path`. On any exception the
// temporary file is removed and the exception propagates.
void write_file_atomic(const std::filesystem::path& path,
                       const std::function<void(const std::filesystem::path& tmp_path)>& write);
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// The repository's source tree, known at build time: ../shared/data and the cache live beside it.
std::filesystem::path source_dir();

}  // namespace agilenn
