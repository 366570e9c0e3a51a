#include "dataset_options.h"

#include <cstdio>

namespace agilenn::cli {

void add_dataset_options(CLI::App& cmd, DatasetOptions& options) {
  cmd.add_option("--dataset", options.dataset, "Data set kind")
      ->check(CLI::IsMember(data::dataset_names()))
      ->capture_default_str();
  cmd.add_option("--data", options.data_dir,
                 "Folder holding the data set (the folder itself or its parent). Default: "
                 "$AGILENN_DATA, else ./data, else the archives in ../shared/data extracted once "
                 "into .cache/data (or $AGILENN_CACHE)");
  cmd.add_option("--threads", options.threads, "Decoding threads (0 = all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

data::DatasetLocation resolve_dataset(const DatasetOptions& options) {
  std::optional<std::filesystem::path> dir;
  if (!options.data_dir.empty()) dir = options.data_dir;
  const data::DatasetLocation location = data::locate_dataset(
      data::parse_dataset_kind(options.dataset), data::LocateOptions::from_environment(dir));
  std::fprintf(stderr, "dataset %s: %s layout at %s\n", data::dataset_name(location.kind),
               data::format_name(location.format), location.root.string().c_str());
  return location;
}

}  // namespace agilenn::cli
