// Runs the agilenn binary (AGILENN_BIN, set by the test target) with `args`, capturing stdout and
// stderr (through a file in `dir`) and the exit code. Shared by the CLI contract tests.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "host/file_io.h"
#include "support/format_writers.h"

namespace agilenn::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

inline CommandResult run_agilenn(const std::string& args, const std::filesystem::path& dir) {
  const std::filesystem::path err_file = dir / "stderr.txt";
  const std::string command = std::string(AGILENN_BIN) + " " + args + " 2>" + err_file.string();
  CommandResult r;
  FILE* pipe = popen(command.c_str(), "r");
  char buf[4096];
  size_t n = 0;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) r.out.append(buf, n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_text_file(err_file);
  return r;
}

inline CommandResult run_agilenn(const std::string& args, const TempDir& dir) { return run_agilenn(args, dir.path()); }

}  // namespace agilenn::testing
