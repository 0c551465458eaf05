#include "pearl/core/memory.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>

#include "pearl/core/error.hpp"

namespace pearl {

std::size_t parse_bytes(std::string_view text) {
  const auto bad = [&] {
    return InputError("invalid size '" + std::string(text) +
                      "': expected a number with an optional unit, e.g. 512MiB, 2GiB, 1.5G");
  };
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) throw bad();
  double number = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, number);
  if (ec != std::errc{} || ptr != text.data() + i) throw bad();

  std::string unit;
  for (char c : text.substr(i)) {
    if (c != ' ') unit += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  double scale = 1;
  if (unit.empty() || unit == "B") {
    scale = 1;
  } else {
    const std::string powers = "KMGT";
    const auto p = powers.find(unit[0]);
    if (p == std::string::npos) throw bad();
    const std::string rest = unit.substr(1);
    double base = 0;
    if (rest.empty() || rest == "IB") base = 1024;  // K, KiB: binary
    else if (rest == "B") base = 1000;               // KB: decimal
    else throw bad();
    scale = std::pow(base, static_cast<double>(p + 1));
  }
  const double bytes = number * scale;
  if (!(bytes >= 1) || bytes > 1e18) throw bad();
  return static_cast<std::size_t>(bytes);
}

std::string format_bytes(std::size_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%zu B", bytes);
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

std::size_t peak_rss_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) {
      return static_cast<std::size_t>(std::stoull(line.substr(6))) * 1024;  // reported in kB
    }
  }
  return 0;
}

}  // namespace pearl
