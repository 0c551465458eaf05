// Reading the lines of a pipeline file (pipeline_ini.hpp).
#include "pipeline_ini.hpp"

#include <sstream>

namespace pearl::cluster::pipeline {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

/// Text before a comment: '#' at the start or after white space.
std::string strip_comment(const std::string& s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '#' && (i == 0 || s[i - 1] == ' ' || s[i - 1] == '\t')) return s.substr(0, i);
  }
  return s;
}

std::vector<Section> read_sections(const std::string& text, Problems& problems) {
  std::vector<Section> sections;
  std::istringstream in(text);
  std::string raw;
  int line = 0;
  while (std::getline(in, raw)) {
    ++line;
    const bool continued = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    const std::string s = trim(strip_comment(raw));
    if (s.empty()) continue;
    if (continued && !sections.empty() && !sections.back().entries.empty() && s.front() != '[') {
      sections.back().entries.back().value += " " + s;
      continue;
    }
    if (s.front() == '[') {
      if (s.back() != ']') {
        problems.push_back({line, "", "section header '" + s + "' lacks its closing ']'"});
        continue;
      }
      std::istringstream words(s.substr(1, s.size() - 2));
      Section sec{line, "", "", {}};
      words >> sec.kind >> sec.name;
      std::string extra;
      if (words >> extra) problems.push_back({line, sec.name, "section header '" + s + "' has more than two words"});
      sections.push_back(std::move(sec));
      continue;
    }
    const auto eq = s.find('=');
    if (eq == std::string::npos) {
      problems.push_back({line, sections.empty() ? "" : sections.back().name, "expected 'key = value', got '" + s + "'"});
      continue;
    }
    if (sections.empty()) sections.push_back({0, "", "", {}});
    sections.back().entries.push_back({line, trim(s.substr(0, eq)), trim(s.substr(eq + 1))});
  }
  return sections;
}

}  // namespace pearl::cluster::pipeline
