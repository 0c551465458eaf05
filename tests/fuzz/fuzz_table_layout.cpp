// Fuzz target: the table reader's layout detection on mutated HDF5 shards. The input is
// written to a file and opened the way `pearl inspect` and the input catalogue do: every
// table found (columnar group, compound dataset, pandas table) is opened by the reader,
// checked against its own columns and read. Refusals are InputErrors naming the file; a
// crash inside libhdf5 itself is an HDF5 defect (the stack shows H5* frames only).
#include <cstddef>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <sstream>
#include <vector>

#include "fuzz_support.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/inspect.hpp"
#include "pearl/io/table_reader.hpp"

namespace {

// Bounds the rows read per table, so a header claiming 2^60 rows is refused by the
// reader's checks or costs a bounded read, not the fuzzer's memory.
constexpr std::uint64_t kMaxRows = 4096;

// The contract type a job reading the column as stored would ask for.
pearl::DType natural(const pearl::io::StoredType& s) {
  using pearl::DType;
  switch (s.cls) {
    case pearl::io::TypeClass::integer:
      if (s.size <= 1) return s.is_signed ? DType::i8 : DType::u8;
      if (s.size <= 2) return s.is_signed ? DType::i16 : DType::u16;
      if (s.size <= 4) return s.is_signed ? DType::i32 : DType::u32;
      return s.is_signed ? DType::i64 : DType::u64;
    case pearl::io::TypeClass::floating: return s.size <= 4 ? DType::f32 : DType::f64;
    default: return DType::str;
  }
}

void read_tables(const std::filesystem::path& path) {
  std::ostringstream out;
  pearl::fuzz::expect_clean_failure([&] { pearl::io::inspect({path}, out); });
  pearl::fuzz::expect_clean_failure([&] {
    auto file = std::make_shared<const pearl::io::File>(pearl::io::File::open_read(path));
    for (const auto& found : pearl::io::find_tables(file)) {
      if (!found.info) continue;
      pearl::fuzz::expect_clean_failure([&] {
        pearl::io::TableReader reader(file, found.path);
        std::vector<pearl::ColumnSpec> columns;
        for (const auto& c : reader.info().columns) columns.push_back({c.name, natural(c.stored)});
        (void)pearl::io::match_contract(reader.info());
        const std::uint64_t rows = std::min<std::uint64_t>(reader.rows(), kMaxRows);
        // Each column in its natural type (what a job asking for it sees), then as a
        // string or an int8 (the conversion checks' refusals), then all at once.
        for (const auto& c : columns) {
          for (const pearl::DType t : {c.type, pearl::DType::str, pearl::DType::i8}) {
            pearl::fuzz::expect_clean_failure([&] { (void)reader.read({{c.name, t}}, 0, rows); });
          }
        }
        pearl::fuzz::expect_clean_failure([&] { (void)reader.read(columns, 0, rows); });
        (void)reader.chunk_rows(columns);
      });
    }
  });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool init = [] {
    pearl::io::init_hdf5(false);  // no file locks: the fuzzer rewrites one file
    return true;
  }();
  (void)init;
  static pearl::fuzz::ScratchFile file("shard.h5");
  read_tables(file.write(data, size));
  return 0;
}
