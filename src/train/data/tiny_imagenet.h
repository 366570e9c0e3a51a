// The official Tiny ImageNet layout:
//   wnids.txt                          200 class ids (WordNet ids), one a line
//   words.txt                          optional: "<wnid>\t<names>", used for readable class names
//   train/<wnid>/images/*.JPEG         500 images a class
//   val/images/*.JPEG + val/val_annotations.txt ("<file>\t<wnid>\t<box>")
// Class index = position of the wnid in sorted order. The val split serves as the test split
// (the official test split has no labels).
#pragma once

#include <filesystem>

#include "train/data/file_index.h"
#include "train/data/image_set.h"

namespace agilenn::data {

FileIndex index_tiny_imagenet(const std::filesystem::path& root, Split split);

// Readable names ("goldfish") for the wnids in `wnids`, from words.txt; the wnid itself where
// words.txt is missing or has no entry.
std::vector<std::string> tiny_imagenet_class_names(const std::filesystem::path& root,
                                                   const std::vector<std::string>& wnids);

}  // namespace agilenn::data
