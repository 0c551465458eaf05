// cluster/src/pipeline_ini.hpp — the lines of a pipeline file, with their line numbers.
//
// Boost.Program_options' config parser reads the same syntax (pearl's --config files)
// but drops line numbers, and every error about a pipeline must name its line; so the
// file is read line by line here, with program_options' rules: [section], key = value,
// '#' comments, a key repeated to give several values. A line that starts with white
// space continues the value above it (long option lists).
//
//   Problems problems;
//   for (const auto& section : read_sections(text, problems)) ... section.entries[i].line ...
#pragma once

#include <string>
#include <vector>

#include "pearl/cluster/pipeline.hpp"

namespace pearl::cluster::pipeline {

struct Entry {
  int line;
  std::string key, value;
};
struct Section {
  int line;
  std::string kind, name;  // "step", "ingest" for [step ingest]
  std::vector<Entry> entries;
};

/// The sections of `text` in order; malformed lines are problems (and skipped).
std::vector<Section> read_sections(const std::string& text, Problems& problems);

/// `s` without leading and trailing blanks.
std::string trim(const std::string& s);

/// Text before a comment: '#' at the start or after white space.
std::string strip_comment(const std::string& s);

}  // namespace pearl::cluster::pipeline
