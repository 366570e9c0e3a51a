#include "train/data/contact_sheet.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

namespace agilenn::data {

std::vector<size_t> contact_sheet_indices(size_t set_size, const ContactSheetOptions& options) {
  std::vector<size_t> all(set_size);
  std::iota(all.begin(), all.end(), size_t{0});
  const size_t n = std::min(options.count, set_size);
  std::mt19937_64 rng(options.seed);
  // Partial Fisher-Yates: the first n slots become a uniform sample.
  for (size_t i = 0; i < n; ++i) {
    std::uniform_int_distribution<size_t> pick(i, set_size - 1);
    std::swap(all[i], all[pick(rng)]);
  }
  all.resize(n);
  std::sort(all.begin(), all.end());
  return all;
}

Canvas render_contact_sheet(const ImageSet& set, const std::vector<std::string>& class_names,
                            const ContactSheetOptions& options) {
  if (set.size() == 0) throw std::runtime_error("contact sheet: the split has no images");
  if (options.count == 0) throw std::invalid_argument("contact sheet: --n must be at least 1");
  const std::vector<size_t> indices = contact_sheet_indices(set.size(), options);
  const int scale = std::max(1, options.tile_pixels / std::max(set.height, set.width));
  const int tile_w = set.width * scale, tile_h = set.height * scale;
  const float label_px = 13.0f;
  const int label_h = 18, gap = 6, margin = 10, title_h = options.title.empty() ? 0 : 28;
  const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(indices.size()))));
  const int rows = static_cast<int>((indices.size() + static_cast<size_t>(cols) - 1) / static_cast<size_t>(cols));
  const int cell_w = std::max(tile_w, 88) + gap, cell_h = tile_h + label_h + gap;

  Canvas canvas(2 * margin + cols * cell_w - gap, 2 * margin + title_h + rows * cell_h - gap);
  if (!options.title.empty()) canvas.draw_text(margin, margin, options.title, 18.0f, {0, 0, 0});
  for (size_t i = 0; i < indices.size(); ++i) {
    const int col = static_cast<int>(i) % cols, row = static_cast<int>(i) / cols;
    const int x = margin + col * cell_w, y = margin + title_h + row * cell_h;
    const size_t idx = indices[i];
    canvas.draw_image(x + (cell_w - gap - tile_w) / 2, y, set.image(idx), set.height, set.width,
                      set.channels, scale);
    std::string label = class_names.at(static_cast<size_t>(set.labels[idx]));
    // Shorten names that would run into the next tile.
    while (label.size() > 1 && canvas.text_width(label, label_px) > cell_w - gap) label.pop_back();
    canvas.draw_text(x + (cell_w - gap - canvas.text_width(label, label_px)) / 2, y + tile_h + 2, label,
                     label_px, {40, 40, 40});
  }
  return canvas;
}

}  // namespace agilenn::data
