// ImageFolder trees: <split_dir>/<class>/<image>.{jpg,jpeg,png}.
//
// Classes are the sub-folder names in sorted order (label = position), files are taken in sorted
// name order within each class. The CIFAR-10 archive in ../shared/data has this layout.
#pragma once

#include <filesystem>

#include "train/data/file_index.h"

namespace agilenn::data {

FileIndex index_image_folder(const std::filesystem::path& split_dir);

}  // namespace agilenn::data
