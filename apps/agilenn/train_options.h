// The options of `agilenn train`, shared with `agilenn bench train-step`: every TrainConfig
// field as a flag; flags given on the command line override the chosen preset's values.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "train/train_config.h"

namespace agilenn::cli {

struct TrainArgs {
  std::string preset = "quick";
  bool resume = false;
  std::vector<std::pair<CLI::Option*, std::function<void(train::TrainConfig&)>>> fields;

  // The preset's values with the given flags applied.
  train::TrainConfig resolve() const;
};

void add_train_options(CLI::App* cmd, TrainArgs& args);

}  // namespace agilenn::cli
