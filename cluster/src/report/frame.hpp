// frame.hpp — an output table read whole for `pearl report`: numbers as double, text as text.
//
//   Frame t = read_frame("out.h5", "incidence", 200000);
//   if (const Column* rate = t.find("rate")) chart(rate->num);
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pearl::cluster::report {

struct Column {
  std::string name;
  bool text = false;
  std::vector<double> num;       // when !text
  std::vector<std::string> str;  // when text
  /// Row i as text (numbers without trailing zeros).
  [[nodiscard]] std::string cell(std::size_t i) const;
};

struct Frame {
  std::string name;
  std::uint64_t rows = 0;     // in the file
  std::uint64_t read = 0;     // read here (at most the cap)
  std::vector<Column> columns;
  [[nodiscard]] const Column* find(const std::string& column) const;
};

/// Reads table `table` of `file` (its first `max_rows` rows); InputError naming the file.
Frame read_frame(const std::filesystem::path& file, const std::string& table, std::uint64_t max_rows);

/// The tables a pearl output lists in its root attribute `tables`, and the root's string
/// attribute `name` ("" when missing).
std::vector<std::string> output_tables(const std::filesystem::path& file);
std::string root_attribute(const std::filesystem::path& file, const std::string& name);

}  // namespace pearl::cluster::report
