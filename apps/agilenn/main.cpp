// agilenn: train, export, deploy, serve and evaluate AgileNN split models. This file holds only
// the subcommand table; each subcommand lives in cmd_<name>.cpp.
#include <cstdio>
#include <exception>
#include <string>

#include "commands.h"
#include "host/memory.h"
#include "train/backend.h"

int main(int argc, char** argv) {
  agilenn::keep_freed_memory();
  agilenn::train::set_compute_threads(0);
  CLI::App app{
      "agilenn: agile neural-network offloading for microcontrollers (AgileNN, MobiCom '22).\n"
      "Run 'agilenn <command> --help' for the options of each command."};
  app.set_version_flag("--version", "agilenn " AGILENN_VERSION);
  app.require_subcommand(1);
  int exit_code = 0;
  agilenn::cli::add_demo_command(app, exit_code);
  agilenn::cli::add_data_command(app, exit_code);
  agilenn::cli::add_train_command(app, exit_code);
  agilenn::cli::add_bench_command(app, exit_code);
  agilenn::cli::add_export_command(app, exit_code);
  agilenn::cli::add_infer_command(app, exit_code);
  agilenn::cli::add_mcu_command(app, exit_code);
  agilenn::cli::add_serve_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    // LibTorch's errors carry a C++ backtrace after the message: keep the message.
    std::string message = e.what();
    message = message.substr(0, message.find("\nException raised from"));
    std::fprintf(stderr, "agilenn: error: %s\n", message.c_str());
    return 1;
  }
  return exit_code;
}
