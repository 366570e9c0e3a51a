// Extraction of the data-set archives shipped in ../shared/data into a cache folder, once.
//
// The archives are extracted with libarchive into "<cache>/.partial-<name>-<pid>" and the top
// folder is renamed into place only when every archive is complete, so an interrupted run leaves
// nothing that looks finished. An flock on "<cache>/.lock-<name>" makes concurrent first uses
// (parallel tests) extract once and wait for each other.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace agilenn::data {

// Extracts `archives` (tar, optionally gzip-compressed) into `cache_dir` unless
// `cache_dir / top_folder` already exists, and returns that path. Every archive must unpack under
// `top_folder`; entries with absolute paths or ".." are rejected. Shows a progress line.
std::filesystem::path extract_archives_once(const std::vector<std::filesystem::path>& archives,
                                            const std::filesystem::path& cache_dir,
                                            const std::string& top_folder);

}  // namespace agilenn::data
