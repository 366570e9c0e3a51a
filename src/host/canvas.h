// An RGB raster for contact sheets and simple figures, saved as PNG (libpng) with text drawn
// from a TrueType font (stb_truetype, DejaVu Sans from Debian's fonts-dejavu-core).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace agilenn {

using Rgb = std::array<uint8_t, 3>;

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});

  int width() const { return width_; }
  int height() const { return height_; }
  const std::vector<uint8_t>& pixels() const { return pixels_; }  // row-major RGB
  Rgb at(int x, int y) const;

  void fill_rect(int x, int y, int w, int h, Rgb color);
  // Draws an HWC uint8 image (1 or 3 channels) with its top-left corner at (x, y), each source
  // pixel repeated `scale` times in both directions. Parts outside the canvas are clipped.
  void draw_image(int x, int y, const uint8_t* hwc, int h, int w, int channels, int scale);
  // Draws text whose top-left is (x, y), `pixel_height` tall. Returns the width drawn.
  int draw_text(int x, int y, const std::string& text, float pixel_height, Rgb color);
  int text_width(const std::string& text, float pixel_height) const;

  void write_png(const std::filesystem::path& path) const;

 private:
  int width_;
  int height_;
  std::vector<uint8_t> pixels_;
};

// The font the canvas draws with; throws naming the paths tried when none is installed.
const std::filesystem::path& canvas_font_path();

}  // namespace agilenn
