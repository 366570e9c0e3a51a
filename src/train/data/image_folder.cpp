#include "train/data/image_folder.h"

#include <algorithm>
#include <stdexcept>

#include "train/data/image_decode.h"

namespace agilenn::data {
namespace fs = std::filesystem;

FileIndex index_image_folder(const fs::path& split_dir) {
  if (!fs::is_directory(split_dir)) {
    throw std::runtime_error(split_dir.string() + ": not a folder (expected <split>/<class>/<image>)");
  }
  std::vector<fs::path> class_dirs;
  for (const fs::directory_entry& e : fs::directory_iterator(split_dir)) {
    if (e.is_directory() && e.path().filename().string().front() != '.') class_dirs.push_back(e.path());
  }
  std::sort(class_dirs.begin(), class_dirs.end());
  if (class_dirs.empty()) {
    throw std::runtime_error(split_dir.string() + ": no class folders (expected <split>/<class>/<image>)");
  }
  FileIndex index;
  for (const fs::path& dir : class_dirs) {
    const auto label = static_cast<int32_t>(index.classes.size());
    index.classes.push_back(dir.filename().string());
    std::vector<fs::path> images;
    for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
      if (e.is_regular_file() && is_image_file_name(e.path())) images.push_back(e.path());
    }
    std::sort(images.begin(), images.end());
    for (fs::path& p : images) index.files.push_back({std::move(p), label});
  }
  if (index.files.empty()) {
    throw std::runtime_error(split_dir.string() + ": no .jpg/.jpeg/.png images in its class folders");
  }
  return index;
}

}  // namespace agilenn::data
