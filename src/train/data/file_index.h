// Data sets stored as one image file per sample (ImageFolder trees, Tiny ImageNet): first an index
// of (file, label), then a parallel decode of every file into an ImageSet.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "train/data/image_set.h"

namespace agilenn::data {

struct FileEntry {
  std::filesystem::path path;
  int32_t label = 0;
};

struct FileIndex {
  std::vector<std::string> classes;
  std::vector<FileEntry> files;  // in a deterministic order (class, then file name)
};

struct DecodeOptions {
  int threads = 0;              // 0: one per hardware thread
  std::string progress_label;   // empty: no progress bar
};

// Decodes every file of `index` to RGB. All images must have the size of the first one; the
// error for a file that differs names it and both sizes. Exceptions from worker threads (corrupt
// files) are re-thrown in the caller, the first one in index order.
ImageSet decode_file_index(const FileIndex& index, const DecodeOptions& options = {});

}  // namespace agilenn::data
