// tests/io/fixtures.hpp — where make_fixtures.py put its files, and comparing what the
// reader delivers with the values Python wrote (expected/<fixture>/<column>.txt).
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "pearl/core/error.hpp"
#include "pearl/core/table.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/table_reader.hpp"

namespace pearl::io::testing {

/// HDF5 set up as the runner does it: errors become exception text, not stderr output.
class Hdf5Environment : public ::testing::Environment {
 public:
  void SetUp() override { init_hdf5(); }
};
inline ::testing::Environment* const hdf5_environment = ::testing::AddGlobalTestEnvironment(new Hdf5Environment);

/// The fixture directory (CMake passes it; the io_fixtures test fills it first).
inline std::filesystem::path fixtures() { return PEARL_IO_FIXTURES; }
inline std::filesystem::path fixture(const std::string& name) { return fixtures() / name; }

/// The expected values of one column, one text line each.
inline std::vector<std::string> expected(const std::string& fixture_name, const std::string& column) {
  const auto path = fixtures() / "expected" / fixture_name / (column + ".txt");
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing " << path;
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

/// Checks that `data` equals lines [begin, begin + size) of `want`: integers compared as
/// decimal text, floats as the exact double Python wrote, strings as UTF-8 text.
inline void expect_values(const ColumnData& data, const std::vector<std::string>& want, std::size_t begin,
                          const std::string& label) {
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        ASSERT_LE(begin + v.size(), want.size()) << label;
        for (std::size_t i = 0; i < v.size(); ++i) {
          const std::string& w = want[begin + i];
          if constexpr (std::is_same_v<T, std::string>) {
            ASSERT_EQ(v[i], w) << label << " row " << begin + i;
          } else if constexpr (std::is_floating_point_v<T>) {
            ASSERT_EQ(static_cast<double>(v[i]), std::strtod(w.c_str(), nullptr)) << label << " row " << begin + i;
          } else {
            ASSERT_EQ(std::to_string(v[i]), w) << label << " row " << begin + i;
          }
        }
      },
      data);
}

/// Rows [begin, end) of `cols` read by `r` are the fixture's expected values, each column
/// of its spec's type.
inline void expect_table(TableReader& r, const std::string& fixture_name, const std::vector<ColumnSpec>& cols,
                         std::uint64_t begin, std::uint64_t end) {
  const auto data = r.read(cols, begin, end);
  ASSERT_EQ(data.size(), cols.size());
  for (std::size_t i = 0; i < cols.size(); ++i) {
    ASSERT_EQ(column_size(data[i]), end - begin) << cols[i].name;
    EXPECT_EQ(data[i].index(), make_column(cols[i].type).index()) << cols[i].name;
    expect_values(data[i], expected(fixture_name, cols[i].name), begin,
                  fixture_name + "/" + cols[i].name + " rows " + std::to_string(begin) + ".." + std::to_string(end));
  }
}

/// The InputError message `f` throws ("" and a test failure when it throws none).
template <class F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError thrown";
  return {};
}

inline void expect_contains(const std::string& text, const std::vector<std::string>& parts) {
  for (const auto& p : parts) EXPECT_NE(text.find(p), std::string::npos) << "'" << p << "' not in: " << text;
}

}  // namespace pearl::io::testing
