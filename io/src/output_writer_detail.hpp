// io/src/output_writer_detail.hpp — shared pieces of the output writers (not installed).
//
// output_writer.cpp (write_tables), output_plan.cpp (checks and the Plan), output_hdf5.cpp
// (file and dataset creation, serial writes), output_attributes.cpp, output_gather.cpp
// (the gather rounds), parallel_output_writer.cpp (the MPI-IO unit, the only one that
// includes <mpi.h>) and csv_writer.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/core/table.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/output_writer.hpp"

#include "hdf5_types.hpp"

namespace pearl::io::detail {

/// A part's rows in windows, in row order: the rounds it spilled to scratch
/// (OutputTable::spill_past), read back one at a time, then its rows in memory. A part
/// that never spilled is one window, the part itself (not copied).
class PartWindows {
 public:
  explicit PartWindows(const OutputTable& part) : part_(part) {}
  [[nodiscard]] std::size_t count() const noexcept;
  [[nodiscard]] std::uint64_t rows(std::size_t window) const;
  /// Window `window`'s rows: valid until the next load.
  const OutputTable& load(std::size_t window);

 private:
  const OutputTable& part_;
  std::optional<OutputTable> round_;
  std::size_t loaded_ = static_cast<std::size_t>(-1);
};

/// Rows per table per rank, known on every rank after `make_plan`.
struct Plan {
  std::vector<std::vector<std::uint64_t>> rows;  // [table][rank]
  std::vector<std::uint64_t> total;              // [table]
  std::vector<std::vector<std::vector<std::uint64_t>>> windows;  // [table][rank][window]: rows
  /// The most windows any rank has of `table` (the parallel writer's rounds).
  [[nodiscard]] std::size_t max_windows(std::size_t table) const {
    std::size_t n = 0;
    for (const auto& w : windows[table]) n = std::max(n, w.size());
    return n;
  }
  [[nodiscard]] std::uint64_t offset(std::size_t table, int rank) const {
    std::uint64_t o = 0;
    for (int r = 0; r < rank; ++r) o += rows[table][static_cast<std::size_t>(r)];
    return o;
  }
};

/// The bytes of a vector of counts, and counts back from bytes (what the plan and the
/// gather rounds send around).
inline std::span<const std::byte> as_bytes_of(const std::vector<std::uint64_t>& v) {
  return std::as_bytes(std::span<const std::uint64_t>(v));
}
inline std::vector<std::uint64_t> to_u64s(const std::vector<std::byte>& b) {
  std::vector<std::uint64_t> v(b.size() / sizeof(std::uint64_t));
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(std::uint64_t));
  return v;
}

/// Collective: checks every part locally (names, equal column lengths, strings free of
/// NUL bytes and valid UTF-8), checks that every rank passes the same tables and
/// columns as rank 0, and gathers the row counts. `what` prefixes error messages.
Plan make_plan(Communicator& comm, const std::vector<OutputTable>& parts, const std::string& what);

/// Creates (truncating) an HDF5 file whose root tracks link creation order.
/// `fapl` is H5P_DEFAULT for serial files.
Handle create_file(const std::filesystem::path& path, hid_t fapl);

/// Creates /<table> and its datasets (`total` rows each, declared order); returns the
/// group and fills `datasets`.
Handle create_table(hid_t file, const OutputTable& table, std::uint64_t total, const WriteOptions& options,
                    std::vector<Handle>& datasets, const std::string& what);

/// Writes rows [first, first + count) of `dataset` from `buffer` (memory type `mem_type`),
/// with transfer properties `dxpl`. count may be 0 (an empty selection, for collectives).
void write_slab(hid_t dataset, hid_t mem_type, std::uint64_t first, std::uint64_t count, const void* buffer,
                hid_t dxpl, const std::string& what);

/// Writes rows [begin, begin + count) of `column` at file row `first` (serial transfer).
void write_column_rows(hid_t dataset, const ColumnData& column, std::size_t begin, std::uint64_t count,
                       std::uint64_t first, const std::string& what);

/// The run's attributes on the root and every table group.
void write_attributes(hid_t file, const std::vector<OutputTable>& parts, const OutputInfo& info,
                      const std::string& what);

/// Attribute `name` on `obj`: one UTF-8 string, an array of them, or one number
/// (`file_t` stored, `mem_t` in memory).
void string_attribute(hid_t obj, const char* name, const std::string& value, const std::string& what);
void strings_attribute(hid_t obj, const char* name, const std::vector<std::string>& values, const std::string& what);
template <class T>
void scalar_attribute(hid_t obj, const char* name, T value, hid_t file_t, hid_t mem_t, const std::string& what) {
  Handle space = check(H5Screate(H5S_SCALAR), what + ": dataspace for attribute " + name);
  Handle attr = check(H5Acreate2(obj, name, file_t, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                      what + ": create attribute " + name);
  check_status(H5Awrite(attr.id(), mem_t, &value), what + ": write attribute " + name);
}

/// Receives, on rank 0, one round of rows: global rows [first, first + rows) of the
/// table; column k of the round is rows [begin, begin + rows) of *columns[k].
using RoundSink = std::function<void(std::uint64_t first, std::uint64_t rows,
                                     std::span<const ColumnData* const> columns, std::size_t begin)>;

/// Collective: brings columns `cols` of table `table` to rank 0 in global row order, in
/// rounds of at most `round_bytes` (one row at least), calling `sink` on rank 0 for each.
/// Rank 0's own rows are not copied when a round holds only them. Failures (also the
/// sink's) are agreed on before every round and at the end: on return every rank
/// knows that all rounds succeeded.
void gather_rounds(Communicator& comm, const OutputTable& part, const std::vector<std::size_t>& cols,
                   const Plan& plan, std::size_t table, std::size_t round_bytes, const RoundSink& sink);

/// The parallel-HDF5 phase (parallel_output_writer.cpp): collectively creates `file`
/// with every group and dataset and writes all numeric columns with MPI-IO. String
/// datasets are created (so columns keep their order) but left for rank 0 to fill.
/// Ends with the file closed on every rank and failures agreed on.
void write_parallel_numeric(Communicator& comm, const std::filesystem::path& file,
                            const std::vector<OutputTable>& parts, const Plan& plan, const WriteOptions& options);

/// JSON string literal of `s` (UTF-8 passed through, control characters escaped).
std::string json_quote(std::string_view s);

}  // namespace pearl::io::detail
