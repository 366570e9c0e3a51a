// The subcommand table of the agilenn command. Each cmd_<name>.cpp registers one subcommand on
// the root CLI11 app; its callback runs the command and stores the exit code in `exit_code`.
#pragma once

#include <CLI/CLI.hpp>

namespace agilenn::cli {

void add_data_command(CLI::App& root, int& exit_code);
void add_demo_command(CLI::App& root, int& exit_code);
void add_train_command(CLI::App& root, int& exit_code);  // train and eval
void add_bench_command(CLI::App& root, int& exit_code);
void add_export_command(CLI::App& root, int& exit_code);
void add_infer_command(CLI::App& root, int& exit_code);
void add_mcu_command(CLI::App& root, int& exit_code);    // mcu bench
void add_serve_command(CLI::App& root, int& exit_code);
// `bench serve` (bench_serve.cpp), registered by add_bench_command.
void add_bench_serve_command(CLI::App& bench, int& exit_code);

}  // namespace agilenn::cli
