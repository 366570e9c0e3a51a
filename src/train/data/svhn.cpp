#include "train/data/svhn.h"

#include <stdexcept>

#ifdef AGILENN_HAVE_MATIO
#include <matio.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace agilenn::data {
namespace fs = std::filesystem;
namespace {

struct MatCloser {
  void operator()(mat_t* m) const { Mat_Close(m); }
};
struct VarFreer {
  void operator()(matvar_t* v) const { Mat_VarFree(v); }
};
using MatFile = std::unique_ptr<mat_t, MatCloser>;
using MatVar = std::unique_ptr<matvar_t, VarFreer>;

// matio allocates the size a variable's header claims before it reads the data, so a corrupt
// header could ask for gigabytes (or more than an ASan build can allocate, which aborts). Check
// the claim against what the file can hold first: zlib inflates at most ~1032:1, and MATLAB may
// store a class in a narrower type (integer-valued doubles as uint8: 8x).
void check_claimed_size(mat_t* mat, const char* name, const fs::path& file) {
  const MatVar info(Mat_VarReadInfo(mat, name));
  if (!info) throw std::runtime_error(file.string() + ": no readable variable '" + name + "'");
  const size_t element = Mat_SizeOfClass(info->class_type);
  if (element == 0 || info->isComplex || info->rank < 0 || (info->rank > 0 && info->dims == nullptr)) {
    throw std::runtime_error(file.string() + ": variable '" + name + "' is not a real numeric array");
  }
  size_t bytes = element;
  bool overflow = false;
  for (int d = 0; d < info->rank; ++d) overflow = overflow || __builtin_mul_overflow(bytes, info->dims[d], &bytes);
  const uintmax_t file_size = fs::file_size(file);
  const uintmax_t limit = file_size * 1032 * 8 + 4096;
  if (overflow || bytes > limit) {
    throw std::runtime_error(file.string() + ": variable '" + name + "' claims " +
                             (overflow ? std::string("more than 2^64") : std::to_string(bytes)) +
                             " bytes of data, more than a " + std::to_string(file_size) +
                             "-byte file can hold (corrupt header)");
  }
}

MatVar read_var(mat_t* mat, const char* name, const fs::path& file) {
  check_claimed_size(mat, name, file);
  MatVar var(Mat_VarRead(mat, name));
  if (!var) throw std::runtime_error(file.string() + ": no readable variable '" + name + "'");
  if (var->isComplex || var->data == nullptr) {
    throw std::runtime_error(file.string() + ": variable '" + name + "' is not a real numeric array");
  }
  return var;
}

// Label i of a numeric MATLAB array of any real class.
double numeric_at(const matvar_t* var, size_t i) {
  switch (var->class_type) {
    case MAT_C_DOUBLE: return static_cast<const double*>(var->data)[i];
    case MAT_C_SINGLE: return static_cast<const float*>(var->data)[i];
    case MAT_C_UINT8: return static_cast<const uint8_t*>(var->data)[i];
    case MAT_C_INT8: return static_cast<const int8_t*>(var->data)[i];
    case MAT_C_UINT16: return static_cast<const uint16_t*>(var->data)[i];
    case MAT_C_INT16: return static_cast<const int16_t*>(var->data)[i];
    case MAT_C_UINT32: return static_cast<const uint32_t*>(var->data)[i];
    case MAT_C_INT32: return static_cast<const int32_t*>(var->data)[i];
    default: return std::nan("");
  }
}

}  // namespace

ImageSet read_svhn_mat(const fs::path& file) {
  if (!fs::exists(file)) throw std::runtime_error(file.string() + ": file not found");
  MatFile mat(Mat_Open(file.c_str(), MAT_ACC_RDONLY));
  if (!mat) throw std::runtime_error(file.string() + ": not a MATLAB .mat file");

  const MatVar x = read_var(mat.get(), "X", file);
  if (x->class_type != MAT_C_UINT8 || x->rank != 4 || x->dims[2] != 3) {
    throw std::runtime_error(file.string() + ": X must be HxWx3xN uint8 (SVHN format 2)");
  }
  const size_t h = x->dims[0], w = x->dims[1], n = x->dims[3];
  const size_t plane = h * w, image = plane * 3;
  if (x->nbytes != image * n) {
    throw std::runtime_error(file.string() + ": X holds " + std::to_string(x->nbytes) +
                             " bytes, expected " + std::to_string(image * n) + " (truncated?)");
  }

  const MatVar y = read_var(mat.get(), "y", file);
  size_t y_count = 1;
  for (int d = 0; d < y->rank; ++d) y_count *= y->dims[d];
  if (y_count != n) {
    throw std::runtime_error(file.string() + ": y has " + std::to_string(y_count) +
                             " labels, X has " + std::to_string(n) + " images");
  }

  ImageSet set;
  set.height = static_cast<int>(h);
  set.width = static_cast<int>(w);
  set.channels = 3;
  for (int d = 0; d < 10; ++d) set.classes.push_back(std::to_string(d));
  set.labels.resize(n);
  set.pixels.resize(image * n);
  const auto* src = static_cast<const uint8_t*>(x->data);
  for (size_t i = 0; i < n; ++i) {
    const double label = numeric_at(y.get(), i);
    if (!(label >= 1 && label <= 10) || label != std::floor(label)) {
      throw std::runtime_error(file.string() + ": y(" + std::to_string(i + 1) + ") = " +
                               std::to_string(label) + ", expected an integer 1..10");
    }
    set.labels[i] = static_cast<int32_t>(label) % 10;
    // Column-major X(r, c, ch, i) -> row-major HWC.
    uint8_t* dst = set.pixels.data() + i * image;
    const uint8_t* img = src + i * image;
    for (size_t r = 0; r < h; ++r) {
      for (size_t c = 0; c < w; ++c) {
        for (size_t ch = 0; ch < 3; ++ch) dst[(r * w + c) * 3 + ch] = img[ch * plane + c * h + r];
      }
    }
  }
  set.validate(file.string());
  return set;
}

}  // namespace agilenn::data

#else  // built with AGILENN_WITH_MATIO=OFF

namespace agilenn::data {

ImageSet read_svhn_mat(const std::filesystem::path& file) {
  throw std::runtime_error(file.string() + ": this build reads no SVHN .mat files (configured with "
                           "AGILENN_WITH_MATIO=OFF); rebuild with libmatio (docs/building.md)");
}

}  // namespace agilenn::data
#endif
