#include "train/data/tiny_imagenet.h"

#include <algorithm>
#include <map>
#include <sstream>
#include <stdexcept>

#include "host/file_io.h"
#include "train/data/image_decode.h"

namespace agilenn::data {
namespace fs = std::filesystem;
namespace {

std::vector<std::string> read_wnids(const fs::path& root) {
  const fs::path file = root / "wnids.txt";
  std::istringstream in(read_text_file(file));
  std::vector<std::string> wnids;
  std::string line;
  while (std::getline(in, line)) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) wnids.push_back(line);
  }
  if (wnids.empty()) throw std::runtime_error(file.string() + ": no class ids");
  std::sort(wnids.begin(), wnids.end());
  if (std::adjacent_find(wnids.begin(), wnids.end()) != wnids.end()) {
    throw std::runtime_error(file.string() + ": duplicate class id " +
                             *std::adjacent_find(wnids.begin(), wnids.end()));
  }
  return wnids;
}

}  // namespace

FileIndex index_tiny_imagenet(const fs::path& root, Split split) {
  FileIndex index;
  index.classes = read_wnids(root);
  std::map<std::string, int32_t> label_of;
  for (size_t i = 0; i < index.classes.size(); ++i) label_of[index.classes[i]] = static_cast<int32_t>(i);

  if (split == Split::kTrain) {
    for (size_t label = 0; label < index.classes.size(); ++label) {
      const fs::path dir = root / "train" / index.classes[label] / "images";
      if (!fs::is_directory(dir)) {
        throw std::runtime_error(dir.string() + ": missing (wnids.txt lists " + index.classes[label] + ")");
      }
      std::vector<fs::path> images;
      for (const fs::directory_entry& e : fs::directory_iterator(dir)) {
        if (e.is_regular_file() && is_image_file_name(e.path())) images.push_back(e.path());
      }
      std::sort(images.begin(), images.end());
      for (fs::path& p : images) index.files.push_back({std::move(p), static_cast<int32_t>(label)});
    }
  } else {
    const fs::path annotations = root / "val" / "val_annotations.txt";
    std::istringstream in(read_text_file(annotations));
    std::string line;
    size_t line_no = 0;
    while (std::getline(in, line)) {
      ++line_no;
      if (line.empty() || line == "\r") continue;
      std::istringstream fields(line);
      std::string file, wnid;
      if (!std::getline(fields, file, '\t') || !std::getline(fields, wnid, '\t') || file.empty()) {
        throw std::runtime_error(annotations.string() + ":" + std::to_string(line_no) +
                                 ": expected '<file>\\t<wnid>\\t...'");
      }
      const auto it = label_of.find(wnid);
      if (it == label_of.end()) {
        throw std::runtime_error(annotations.string() + ":" + std::to_string(line_no) +
                                 ": class id '" + wnid + "' is not in wnids.txt");
      }
      index.files.push_back({root / "val" / "images" / file, it->second});
    }
    std::sort(index.files.begin(), index.files.end(),
              [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
  }
  if (index.files.empty()) {
    throw std::runtime_error(root.string() + ": no " + split_name(split) + " images found");
  }
  return index;
}

std::vector<std::string> tiny_imagenet_class_names(const fs::path& root,
                                                   const std::vector<std::string>& wnids) {
  std::map<std::string, std::string> words;
  const fs::path file = root / "words.txt";
  if (fs::exists(file)) {
    std::istringstream in(read_text_file(file));
    std::string line;
    while (std::getline(in, line)) {
      const size_t tab = line.find('\t');
      if (tab == std::string::npos) continue;
      std::string name = line.substr(tab + 1);
      name = name.substr(0, name.find(','));  // first synonym only
      while (!name.empty() && (name.back() == '\r' || name.back() == ' ')) name.pop_back();
      words[line.substr(0, tab)] = name;
    }
  }
  std::vector<std::string> names;
  for (const std::string& wnid : wnids) {
    const auto it = words.find(wnid);
    names.push_back(it != words.end() && !it->second.empty() ? it->second : wnid);
  }
  return names;
}

}  // namespace agilenn::data
