// Options every data-reading command shares: --dataset, --data, --threads.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "train/data/dataset.h"

namespace agilenn::cli {

struct DatasetOptions {
  std::string dataset = "cifar10";  // --dataset: cifar10|tinyimagenet|cifar100|svhn|imagefolder|idx
  std::string data_dir;             // --data: folder holding the data set; "" = search (see --help)
  int threads = 0;                  // --threads: decoding threads, 0 = all cores
};

void add_dataset_options(CLI::App& cmd, DatasetOptions& options);

// Resolves the options to a data set on disk (extracting shipped archives on first use) and says
// on stderr which one is used.
data::DatasetLocation resolve_dataset(const DatasetOptions& options);

}  // namespace agilenn::cli
