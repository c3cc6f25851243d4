// Where `promptwall audit ...` finds the trail: a positional DIR or `--dir DIR`, else `audit.dir`
// of `--config FILE`, else the state directory's audit/ (as `promptwall serve` would use).
#pragma once

#include <filesystem>
#include <string>

namespace promptwall::cli {

struct TrailOptions {
  std::string dir;     // --dir or positional
  std::string config;  // --config

  // Consumes argv[i] (and its value) when it is --dir or --config; returns false otherwise. Sets
  // `error` for an option missing its value.
  bool parse(int argc, char** argv, int& i, std::string& error);

  // The trail directory; throws std::runtime_error (config errors, no state directory).
  std::filesystem::path trail_dir() const;
};

}  // namespace promptwall::cli
