#include "train/data/dataset.h"

#include <cstdlib>
#include <stdexcept>

#include "host/file_io.h"
#include "train/data/archive.h"
#include "train/data/cifar_binary.h"
#include "train/data/file_index.h"
#include "train/data/idx.h"
#include "train/data/image_folder.h"
#include "train/data/svhn.h"
#include "train/data/tiny_imagenet.h"

namespace agilenn::data {
namespace fs = std::filesystem;
namespace {

struct KindInfo {
  DatasetKind kind;
  const char* name;
  std::vector<std::string> subfolders;  // tried below each search folder, after the folder itself
  std::vector<std::string> archives;    // shipped archives in ../shared/data, if any
  const char* top_folder;               // what the archives extract to
  const char* download;
};

const std::vector<KindInfo>& kinds() {
  static const std::vector<KindInfo> table = {
      {DatasetKind::kCifar10, "cifar10", {"cifar10", "cifar-10-batches-bin", "cifar-10"},
       {"cifar10-jpg.tar.gz"}, "cifar10",
       "CIFAR-10 binary version: https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz "
       "(extract to DIR/cifar-10-batches-bin), or an ImageFolder copy as DIR/cifar10/{train,test}/<class>/*.jpg"},
      {DatasetKind::kCifar100, "cifar100", {"cifar100", "cifar-100-binary"}, {}, "",
       "CIFAR-100 binary version: https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz "
       "(extract to DIR/cifar-100-binary)"},
      {DatasetKind::kTinyImageNet, "tinyimagenet", {"tiny-imagenet-200", "tinyimagenet"},
       {"tiny-imagenet-200.part1.tar.gz", "tiny-imagenet-200.part2.tar.gz"}, "tiny-imagenet-200",
       "Tiny ImageNet: http://cs231n.stanford.edu/tiny-imagenet-200.zip (unzip to DIR/tiny-imagenet-200)"},
      {DatasetKind::kSvhn, "svhn", {"svhn", "SVHN"}, {}, "",
       "SVHN format 2: http://ufldl.stanford.edu/housenumbers/train_32x32.mat and test_32x32.mat "
       "(save to DIR/svhn/)"},
      {DatasetKind::kImageFolder, "imagefolder", {}, {}, "",
       "an ImageFolder tree: DIR/train/<class>/*.jpg|png and DIR/test/<class>/*.jpg|png"},
      {DatasetKind::kIdx, "idx", {"mnist", "fashion-mnist", "idx"}, {}, "",
       "MNIST: http://yann.lecun.com/exdb/mnist/ (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
       "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in DIR/mnist/); Fashion-MNIST and KMNIST "
       "use the same names"},
  };
  return table;
}

const KindInfo& info(DatasetKind kind) {
  for (const KindInfo& k : kinds()) {
    if (k.kind == kind) return k;
  }
  throw std::logic_error("unknown dataset kind");
}

bool has_files(const fs::path& dir, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (!fs::exists(dir / n)) return false;
  }
  return true;
}

bool has_image_folder_splits(const fs::path& dir) {
  return fs::is_directory(dir / "train") && fs::is_directory(dir / "test");
}

// The layout of `kind` found exactly in `dir`.
std::optional<Format> format_in(DatasetKind kind, const fs::path& dir) {
  if (!fs::is_directory(dir)) return std::nullopt;
  switch (kind) {
    case DatasetKind::kCifar10:
      if (has_files(dir, {"data_batch_1.bin", "test_batch.bin"})) return Format::kCifar10Binary;
      if (has_image_folder_splits(dir)) return Format::kImageFolder;
      return std::nullopt;
    case DatasetKind::kCifar100:
      if (has_files(dir, {"train.bin", "test.bin"})) return Format::kCifar100Binary;
      if (has_image_folder_splits(dir)) return Format::kImageFolder;
      return std::nullopt;
    case DatasetKind::kTinyImageNet:
      if (has_files(dir, {"wnids.txt", "train", "val"})) return Format::kTinyImageNet;
      return std::nullopt;
    case DatasetKind::kSvhn:
      if (has_files(dir, {"train_32x32.mat", "test_32x32.mat"})) return Format::kSvhnMat;
      return std::nullopt;
    case DatasetKind::kImageFolder:
      if (has_image_folder_splits(dir)) return Format::kImageFolder;
      return std::nullopt;
    case DatasetKind::kIdx:
      try {
        find_idx_files(dir, Split::kTrain);
        find_idx_files(dir, Split::kTest);
        return Format::kIdx;
      } catch (const std::runtime_error&) {
        return std::nullopt;
      }
  }
  return std::nullopt;
}

}  // namespace

const char* dataset_name(DatasetKind kind) { return info(kind).name; }

const char* format_name(Format format) {
  switch (format) {
    case Format::kImageFolder: return "imagefolder";
    case Format::kTinyImageNet: return "tinyimagenet";
    case Format::kCifar10Binary: return "cifar10-binary";
    case Format::kCifar100Binary: return "cifar100-binary";
    case Format::kSvhnMat: return "svhn-mat";
    case Format::kIdx: return "idx";
  }
  return "?";
}

const std::vector<std::string>& dataset_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const KindInfo& k : kinds()) v.push_back(k.name);
    return v;
  }();
  return names;
}

DatasetKind parse_dataset_kind(const std::string& name) {
  for (const KindInfo& k : kinds()) {
    if (name == k.name) return k.kind;
  }
  std::string valid;
  for (const std::string& n : dataset_names()) valid += (valid.empty() ? "" : "|") + n;
  throw std::invalid_argument("unknown dataset '" + name + "', expected one of " + valid);
}

std::string dataset_download_hint(DatasetKind kind) { return info(kind).download; }

LocateOptions LocateOptions::from_environment(std::optional<fs::path> data_dir) {
  LocateOptions o;
  o.data_dir = std::move(data_dir);
  if (const char* env = std::getenv("AGILENN_DATA"); env && *env) o.env_dir = fs::path(env);
  const char* cache = std::getenv("AGILENN_CACHE");
  o.cache_dir = cache && *cache ? fs::path(cache) : source_dir() / ".cache" / "data";
  o.archive_dirs = {source_dir().parent_path() / "shared" / "data", fs::path("..") / "shared" / "data"};
  return o;
}

std::optional<DatasetLocation> probe_dataset(DatasetKind kind, const fs::path& dir) {
  if (auto f = format_in(kind, dir)) return DatasetLocation{kind, *f, dir};
  for (const std::string& sub : info(kind).subfolders) {
    if (auto f = format_in(kind, dir / sub)) return DatasetLocation{kind, *f, dir / sub};
  }
  return std::nullopt;
}

DatasetLocation locate_dataset(DatasetKind kind, const LocateOptions& options) {
  const KindInfo& k = info(kind);
  std::vector<std::string> tried;
  auto try_dir = [&](const fs::path& dir, const char* why) -> std::optional<DatasetLocation> {
    tried.push_back(dir.string() + " (" + why + ")");
    return probe_dataset(kind, dir);
  };
  auto fail = [&]() -> DatasetLocation {
    std::string message = std::string("no ") + k.name + " data found; tried:";
    for (const std::string& t : tried) message += "\n  " + t;
    message += "\nget it from " + std::string(k.download) + "\nand pass --data DIR or set AGILENN_DATA=DIR";
    throw std::runtime_error(message);
  };

  if (options.data_dir) {
    if (auto loc = try_dir(*options.data_dir, "--data")) return *loc;
    return fail();
  }
  if (options.env_dir) {
    if (auto loc = try_dir(*options.env_dir, "$AGILENN_DATA")) return *loc;
    return fail();
  }
  if (auto loc = try_dir(options.cwd_dir, "./data")) return *loc;
  if (!k.archives.empty()) {
    if (auto loc = try_dir(options.cache_dir / k.top_folder, "extracted cache")) return *loc;
    for (const fs::path& dir : options.archive_dirs) {
      std::vector<fs::path> archives;
      for (const std::string& a : k.archives) archives.push_back(dir / a);
      bool all = true;
      for (const fs::path& a : archives) all = all && fs::is_regular_file(a);
      tried.push_back(dir.string() + " (shipped archives " + (all ? "found" : "missing") + ")");
      if (!all) continue;
      const fs::path extracted = extract_archives_once(archives, options.cache_dir, k.top_folder);
      if (auto loc = probe_dataset(kind, extracted)) return *loc;
      throw std::runtime_error(extracted.string() + ": extracted archives do not hold the " +
                               k.name + " layout");
    }
  }
  return fail();
}

ImageSet load_split(const DatasetLocation& location, Split split, const LoadOptions& options) {
  DecodeOptions decode;
  decode.threads = options.threads;
  if (options.progress) decode.progress_label = std::string("decode ") + split_name(split);
  switch (location.format) {
    case Format::kImageFolder: {
      const fs::path dir = location.root / split_name(split);
      return decode_file_index(index_image_folder(dir), decode);
    }
    case Format::kTinyImageNet:
      return decode_file_index(index_tiny_imagenet(location.root, split), decode);
    case Format::kCifar10Binary:
      return read_cifar10_binary(location.root, split);
    case Format::kCifar100Binary:
      return read_cifar100_binary(location.root, split);
    case Format::kSvhnMat:
      return read_svhn_mat(location.root / (split == Split::kTrain ? "train_32x32.mat" : "test_32x32.mat"));
    case Format::kIdx: {
      const auto [images, labels] = find_idx_files(location.root, split);
      return read_idx(images, labels);
    }
  }
  throw std::logic_error("unknown format");
}

std::vector<std::string> class_display_names(const DatasetLocation& location, const ImageSet& set) {
  if (location.format == Format::kTinyImageNet) return tiny_imagenet_class_names(location.root, set.classes);
  return set.classes;
}

}  // namespace agilenn::data
