// The data-set summary shared by `agilenn data info` and `agilenn demo`: JSON and a table.
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>

#include "train/data/dataset.h"

namespace agilenn::cli {

// {"dataset", "format", "root", "image": [H, W, C], "classes": N, "class_names": [...],
//  "splits": {"train": {"count", "per_class"}, "test": {...}}, "mean": [...], "std": [...]}
// mean/std are per channel over the train split, pixel values scaled to [0, 1].
nlohmann::json data_report(const data::DatasetLocation& location, const data::ImageSet& train,
                           const data::ImageSet& test);

void print_data_report(std::FILE* out, const nlohmann::json& report);

}  // namespace agilenn::cli
