// Finding and loading a data set by kind, whatever layout it is stored in.
//
// Where the data is looked for, in order (the first that exists is used):
//   1. --data DIR (LocateOptions::data_dir), if given: only there;
//   2. $AGILENN_DATA, if set: only there;
//   3. ./data;
//   4. the cache folder (LocateOptions::cache_dir), where step 5 extracts to;
//   5. the archives in ../shared/data (LocateOptions::archive_dirs), extracted once into the cache.
// Within a folder D each kind is found at D itself or at its usual sub-folder names, e.g.
// cifar10 at D/cifar10 (ImageFolder, the JPEG copy) or D/cifar-10-batches-bin (official binary).
// When nothing is found the error lists every path tried and where to download the data set.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "train/data/image_set.h"

namespace agilenn::data {

enum class DatasetKind { kCifar10, kCifar100, kTinyImageNet, kSvhn, kImageFolder, kIdx };
enum class Format { kImageFolder, kTinyImageNet, kCifar10Binary, kCifar100Binary, kSvhnMat, kIdx };

const char* dataset_name(DatasetKind kind);   // "cifar10", "tinyimagenet", ...
const char* format_name(Format format);       // "imagefolder", "cifar10-binary", ...
DatasetKind parse_dataset_kind(const std::string& name);  // throws listing the valid names
const std::vector<std::string>& dataset_names();
// The official download locations, for docs and errors.
std::string dataset_download_hint(DatasetKind kind);

struct DatasetLocation {
  DatasetKind kind;
  Format format;
  std::filesystem::path root;  // the folder holding the files of `format`
};

struct LocateOptions {
  std::optional<std::filesystem::path> data_dir;       // --data
  std::optional<std::filesystem::path> env_dir;        // $AGILENN_DATA
  std::filesystem::path cwd_dir = "data";              // ./data
  std::filesystem::path cache_dir;                     // extraction target
  std::vector<std::filesystem::path> archive_dirs;     // folders holding the shipped archives
  // Defaults: $AGILENN_DATA, ./data, <source>/.cache/data (or $AGILENN_CACHE), and
  // <source>/../shared/data and ./../shared/data.
  static LocateOptions from_environment(std::optional<std::filesystem::path> data_dir);
};

// The layout of `kind` directly in `dir` or in one of its usual sub-folders, if any.
std::optional<DatasetLocation> probe_dataset(DatasetKind kind, const std::filesystem::path& dir);

DatasetLocation locate_dataset(DatasetKind kind, const LocateOptions& options);

struct LoadOptions {
  bool progress = true;
  int threads = 0;  // decoding threads for file-per-image layouts; 0 = all cores
};

ImageSet load_split(const DatasetLocation& location, Split split, const LoadOptions& options = {});

// Readable class names (e.g. "goldfish" for Tiny ImageNet's n01443537); ImageSet::classes else.
std::vector<std::string> class_display_names(const DatasetLocation& location, const ImageSet& set);

}  // namespace agilenn::data
