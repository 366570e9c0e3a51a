#include "data_report.h"

#include <algorithm>

namespace agilenn::cli {

nlohmann::json data_report(const data::DatasetLocation& location, const data::ImageSet& train,
                           const data::ImageSet& test) {
  const data::ChannelStats stats = data::channel_stats(train);
  nlohmann::json j;
  j["dataset"] = data::dataset_name(location.kind);
  j["format"] = data::format_name(location.format);
  j["root"] = location.root.string();
  j["image"] = {train.height, train.width, train.channels};
  j["classes"] = train.classes.size();
  j["class_names"] = data::class_display_names(location, train);
  j["splits"]["train"] = {{"count", train.size()}, {"per_class", data::class_counts(train)}};
  j["splits"]["test"] = {{"count", test.size()}, {"per_class", data::class_counts(test)}};
  j["mean"] = stats.mean;
  j["std"] = stats.std;
  return j;
}

void print_data_report(std::FILE* out, const nlohmann::json& r) {
  const auto& image = r["image"];
  std::fprintf(out, "dataset   %s (%s) at %s\n", r["dataset"].get<std::string>().c_str(),
               r["format"].get<std::string>().c_str(), r["root"].get<std::string>().c_str());
  std::fprintf(out, "image     %dx%dx%d\n", image[0].get<int>(), image[1].get<int>(), image[2].get<int>());
  std::fprintf(out, "classes   %zu\n", r["classes"].get<size_t>());
  std::fprintf(out, "train     %zu images\ntest      %zu images\n", r["splits"]["train"]["count"].get<size_t>(),
               r["splits"]["test"]["count"].get<size_t>());
  std::fprintf(out, "mean      ");
  for (const auto& m : r["mean"]) std::fprintf(out, "%.4f ", m.get<double>());
  std::fprintf(out, "\nstd       ");
  for (const auto& s : r["std"]) std::fprintf(out, "%.4f ", s.get<double>());
  std::fprintf(out, "\n\n  %-4s %-24s %8s %8s\n", "#", "class", "train", "test");
  const auto& names = r["class_names"];
  const auto& train = r["splits"]["train"]["per_class"];
  const auto& test = r["splits"]["test"]["per_class"];
  // Long class lists (Tiny ImageNet's 200) show the first and last few rows.
  const size_t n = names.size(), head = n > 24 ? 10 : n;
  for (size_t i = 0; i < n; ++i) {
    if (i == head && n > 24) {
      std::fprintf(out, "  ... %zu more classes ...\n", n - 2 * head);
      i = n - head;
    }
    std::fprintf(out, "  %-4zu %-24.24s %8zu %8zu\n", i, names[i].get<std::string>().c_str(),
                 train[i].get<size_t>(), test[i].get<size_t>());
  }
}

}  // namespace agilenn::cli
