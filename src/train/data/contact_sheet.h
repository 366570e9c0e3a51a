// A contact sheet: a grid of images from a split, each with its class name underneath, so a
// person can see what the model sees.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host/canvas.h"
#include "train/data/image_set.h"

namespace agilenn::data {

struct ContactSheetOptions {
  size_t count = 64;      // images on the sheet (fewer if the split is smaller)
  uint64_t seed = 0;      // which images: a seeded random sample, shown in index order
  int tile_pixels = 96;   // images are enlarged by a whole factor to about this size
  std::string title;      // drawn above the grid
};

// Indices of the images the sheet shows: sorted, distinct, deterministic for a seed.
std::vector<size_t> contact_sheet_indices(size_t set_size, const ContactSheetOptions& options);

Canvas render_contact_sheet(const ImageSet& set, const std::vector<std::string>& class_names,
                            const ContactSheetOptions& options);

}  // namespace agilenn::data
