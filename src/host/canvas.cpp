#include "host/canvas.h"

#include <png.h>
#include <stb_truetype.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <mutex>
#include <stdexcept>

#include "host/file_io.h"

namespace agilenn {
namespace fs = std::filesystem;
namespace {

struct Font {
  std::vector<uint8_t> bytes;
  stbtt_fontinfo info{};
};

const Font& font() {
  static std::once_flag once;
  static Font loaded;
  std::call_once(once, [] {
    loaded.bytes = read_file(canvas_font_path());
    if (!stbtt_InitFont(&loaded.info, loaded.bytes.data(),
                        stbtt_GetFontOffsetForIndex(loaded.bytes.data(), 0))) {
      throw std::runtime_error(canvas_font_path().string() + ": not a TrueType font");
    }
  });
  return loaded;
}

}  // namespace

const fs::path& canvas_font_path() {
  static const fs::path found = [] {
    const fs::path candidates[] = {
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/TTF/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    };
    std::string tried;
    for (const fs::path& p : candidates) {
      if (fs::exists(p)) return p;
      tried += "\n  " + p.string();
    }
    throw std::runtime_error("no DejaVu Sans font found; tried:" + tried +
                             "\ninstall Debian's fonts-dejavu-core");
  }();
  return found;
}

Canvas::Canvas(int width, int height, Rgb background) : width_(width), height_(height) {
  if (width <= 0 || height <= 0) {
    throw std::invalid_argument("canvas size must be positive, got " + std::to_string(width) +
                                "x" + std::to_string(height));
  }
  pixels_.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  for (size_t i = 0; i < pixels_.size(); i += 3) {
    pixels_[i] = background[0];
    pixels_[i + 1] = background[1];
    pixels_[i + 2] = background[2];
  }
}

Rgb Canvas::at(int x, int y) const {
  const size_t i = (static_cast<size_t>(y) * static_cast<size_t>(width_) + static_cast<size_t>(x)) * 3;
  return {pixels_.at(i), pixels_.at(i + 1), pixels_.at(i + 2)};
}

void Canvas::fill_rect(int x, int y, int w, int h, Rgb color) {
  const int x0 = std::max(x, 0), x1 = std::min(x + w, width_);
  const int y0 = std::max(y, 0), y1 = std::min(y + h, height_);
  for (int yy = y0; yy < y1; ++yy) {
    for (int xx = x0; xx < x1; ++xx) {
      uint8_t* p = &pixels_[(static_cast<size_t>(yy) * static_cast<size_t>(width_) + static_cast<size_t>(xx)) * 3];
      p[0] = color[0];
      p[1] = color[1];
      p[2] = color[2];
    }
  }
}

void Canvas::draw_image(int x, int y, const uint8_t* hwc, int h, int w, int channels, int scale) {
  if (channels != 1 && channels != 3) {
    throw std::invalid_argument("draw_image: channels must be 1 or 3, got " + std::to_string(channels));
  }
  for (int dy = 0; dy < h * scale; ++dy) {
    const int yy = y + dy;
    if (yy < 0 || yy >= height_) continue;
    for (int dx = 0; dx < w * scale; ++dx) {
      const int xx = x + dx;
      if (xx < 0 || xx >= width_) continue;
      const uint8_t* src = hwc + (static_cast<size_t>(dy / scale) * static_cast<size_t>(w) + static_cast<size_t>(dx / scale)) * static_cast<size_t>(channels);
      uint8_t* dst = &pixels_[(static_cast<size_t>(yy) * static_cast<size_t>(width_) + static_cast<size_t>(xx)) * 3];
      for (int c = 0; c < 3; ++c) dst[c] = src[channels == 3 ? c : 0];
    }
  }
}

int Canvas::text_width(const std::string& text, float pixel_height) const {
  const Font& f = font();
  const float scale = stbtt_ScaleForPixelHeight(&f.info, pixel_height);
  float width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    int advance = 0, lsb = 0;
    stbtt_GetCodepointHMetrics(&f.info, static_cast<unsigned char>(text[i]), &advance, &lsb);
    width += static_cast<float>(advance) * scale;
    if (i + 1 < text.size()) {
      width += scale * static_cast<float>(stbtt_GetCodepointKernAdvance(
                           &f.info, static_cast<unsigned char>(text[i]), static_cast<unsigned char>(text[i + 1])));
    }
  }
  return static_cast<int>(std::ceil(width));
}

int Canvas::draw_text(int x, int y, const std::string& text, float pixel_height, Rgb color) {
  const Font& f = font();
  const float scale = stbtt_ScaleForPixelHeight(&f.info, pixel_height);
  int ascent = 0, descent = 0, line_gap = 0;
  stbtt_GetFontVMetrics(&f.info, &ascent, &descent, &line_gap);
  const int baseline = y + static_cast<int>(std::lround(static_cast<float>(ascent) * scale));
  float pen = static_cast<float>(x);
  for (size_t i = 0; i < text.size(); ++i) {
    const int cp = static_cast<unsigned char>(text[i]);
    int advance = 0, lsb = 0;
    stbtt_GetCodepointHMetrics(&f.info, cp, &advance, &lsb);
    int gw = 0, gh = 0, xoff = 0, yoff = 0;
    unsigned char* glyph = stbtt_GetCodepointBitmap(&f.info, scale, scale, cp, &gw, &gh, &xoff, &yoff);
    const int gx = static_cast<int>(std::lround(pen)) + xoff;
    const int gy = baseline + yoff;
    for (int row = 0; row < gh; ++row) {
      for (int col = 0; col < gw; ++col) {
        const int xx = gx + col, yy = gy + row;
        if (xx < 0 || xx >= width_ || yy < 0 || yy >= height_) continue;
        const int a = glyph[row * gw + col];
        uint8_t* p = &pixels_[(static_cast<size_t>(yy) * static_cast<size_t>(width_) + static_cast<size_t>(xx)) * 3];
        for (int c = 0; c < 3; ++c) p[c] = static_cast<uint8_t>((color[static_cast<size_t>(c)] * a + p[c] * (255 - a)) / 255);
      }
    }
    stbtt_FreeBitmap(glyph, nullptr);
    pen += static_cast<float>(advance) * scale;
    if (i + 1 < text.size()) {
      pen += scale * static_cast<float>(stbtt_GetCodepointKernAdvance(&f.info, cp, static_cast<unsigned char>(text[i + 1])));
    }
  }
  return static_cast<int>(std::lround(pen)) - x;
}

void Canvas::write_png(const fs::path& path) const {
  write_file_atomic(path, [&](const fs::path& tmp) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = static_cast<png_uint_32>(width_);
    image.height = static_cast<png_uint_32>(height_);
    image.format = PNG_FORMAT_RGB;
    if (!png_image_write_to_file(&image, tmp.c_str(), 0, pixels_.data(), width_ * 3, nullptr)) {
      const std::string message = image.message;
      png_image_free(&image);
      throw std::runtime_error(path.string() + ": cannot write PNG: " + message);
    }
  });
}

}  // namespace agilenn
