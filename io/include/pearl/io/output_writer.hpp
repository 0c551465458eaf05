// pearl/io/output_writer.hpp — a job's result tables into one HDF5 file (and CSV).
//
// Every rank holds its part of each output table (rows in global key order across
// ranks: rank 0's rows first, then rank 1's, ...). `write_tables` is collective and
// writes one columnar group per table, in the layout of docs/contracts/tables.md
// ("Output tables"), so one job's output is another job's input:
//
//   /<table>                  group, attributes: columns, rows + the run's attributes
//   /<table>/<column>         1-D dataset per column, in declared order (link creation
//                             order is tracked, so h5py lists them in that order)
//   /                         root, attributes: the run's attributes and `tables`
//
// The run's attributes (on the root and on every table group):
//   job, job_version, pearl_version, started, finished   variable-length UTF-8 strings
//   plugin       JSON object string {"path", "name", "version", "headers_fingerprint"}
//                of the plugin the job came from; absent for a built-in job
//   ranks                                                int64
//   parameters   JSON object string {"name": "value", ...} in the job's declared order
//   inputs       JSON array string [{"table": ..., "path": ..., "bytes": N, "mtime": N,
//                "checksum": "xxh3:..."}, ...] (checksum: io::file_checksum, pearl/io/provenance.hpp;
//                what `pearl pipeline` compares to tell whether a result is up to date)
//   (read them with json.loads(f.attrs["parameters"]) in Python)
//   rejected_rows, rejected_by_reason   only with --on-bad-row skip (OutputInfo)
//   metrics      (root only) JSON object string of the run's key figures: rows read,
//                pairs, bytes shuffled, spills, peak RSS (the full record is OUT.metrics.json)
//
// Column types are stored exactly: uint8 as H5T_STD_U8LE, ..., float64 as H5T_IEEE_F64LE,
// string as variable-length UTF-8 (H5T_C_S1, H5T_VARIABLE, H5T_CSET_UTF8).
//
// How rows reach the file:
//   - MPI communicator with more than one rank: numeric columns are written with
//     parallel HDF5 (MPI-IO), every rank its own rows with a collective H5Dwrite at its
//     offset (exclusive prefix sum of the part sizes). Parallel HDF5 1.10 cannot write
//     variable-length data, so string columns and all attributes are written afterwards
//     by rank 0 with the file reopened serially; string rows travel to rank 0 in
//     bounded rounds (WriteOptions::gather_round_bytes at a time).
//   - simulated ranks (mpi_comm() is null) or one rank: all rows travel to rank 0 in
//     bounded rounds and rank 0 writes the file with serial HDF5. Only rank 0's thread
//     calls HDF5 (the library is not thread-safe).
// Writing is not atomic by itself: write to AtomicOutput::temp_path() and commit after
// every rank agreed that it succeeded (pearl/io/atomic_output.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/core/table.hpp"

namespace pearl::io {

/// One input file a job read.
struct InputFileInfo {
  InputFileInfo() = default;
  InputFileInfo(std::string table_, std::string path_, std::uint64_t bytes_, std::int64_t mtime_,
                std::string checksum_ = {})
      : table(std::move(table_)), path(std::move(path_)), bytes(bytes_), mtime(mtime_), checksum(std::move(checksum_)) {}
  std::string table;        ///< the input table it held
  std::string path;         ///< as given / resolved by the runner
  std::uint64_t bytes = 0;  ///< file size
  std::int64_t mtime = 0;   ///< modification time, seconds since the epoch
  std::string checksum;     ///< io::file_checksum of its bytes; empty: write_tables computes it
                            ///< ("" in the file when the input no longer exists)
};

/// What produced a result file: stored as attributes on the root and every table group.
struct OutputInfo {
  std::string job;      ///< job name, e.g. "health.incidence"
  std::string version;  ///< pearl's version, which versions the built-in jobs too (attribute
                        ///< `pearl_version`; empty: the version this library was built as)
  std::string job_version;  ///< the job's code: a plugin's version, or pearl's for a built-in
                            ///< job (attribute `job_version`; empty: as `pearl_version`)
  std::string plugin;       ///< JSON object naming the job's plugin (attribute `plugin`;
                            ///< empty: a built-in job, no attribute)
  std::vector<std::pair<std::string, std::string>> parameters;  ///< options, declared order
  std::vector<InputFileInfo> inputs;
  int ranks = 1;
  std::string started, finished;  ///< ISO-8601 UTC, e.g. "2024-03-01T08:00:00Z"
  /// --on-bad-row skip: the input rows set aside (attribute `rejected_rows`, int64) and
  /// the values per reason (`rejected_by_reason`, JSON object string {"reason": count}).
  /// Both attributes are absent when rows were not checked with skip.
  std::optional<std::int64_t> rejected_rows;
  std::vector<std::pair<std::string, std::int64_t>> rejected_by_reason;
  std::string metrics;            ///< JSON object of the run's key figures (root only; empty: none)
};

/// Storage choices. The defaults were measured (docs/performance-io-writer.md).
struct WriteOptions {
  /// 0: contiguous datasets (the default). Otherwise chunked with this many rows per
  /// chunk (fewer for smaller tables; empty datasets stay contiguous).
  std::uint64_t chunk_rows = 0;
  /// gzip level 1..9 on chunked datasets; 0 = none. Ignored when contiguous.
  int deflate_level = 0;
  /// Upper bound on the bytes rank 0 receives per gather round (one row at least).
  /// Small rounds keep the buffers in cache; 64 MiB rounds were 3-7x slower (measured).
  std::size_t gather_round_bytes = std::size_t{8} << 20;
  /// Never use parallel HDF5, even on an MPI communicator (for measurements and tests).
  bool force_gather = false;
};

/// Collective. Writes `parts` (this rank's part of each table; every rank passes the
/// same tables in the same order with the same columns, or every rank throws an error
/// naming the difference) to `file`, created or truncated. Throws pearl::Error naming
/// the file and what failed; every rank throws when any rank failed (no rank hangs,
/// except when MPI-IO itself fails on some ranks only inside a collective HDF5 call).
void write_tables(Communicator& comm, const std::filesystem::path& file, const std::vector<OutputTable>& parts,
                  const OutputInfo& info, const WriteOptions& options = {});

/// Collective. Writes one `<table>.csv` per table into `dir` (which must exist): a
/// header line with the column names, then the rows in rank order. Rank 0 receives the
/// rows in bounded rounds, writes every file to a temporary name beside its target and
/// renames them all once every table is complete (each file is replaced atomically; a
/// failure before the renames leaves no new file). Format: comma-separated, LF line ends, UTF-8; strings
/// quoted per RFC 4180 when they hold a comma, quote, CR or LF or start or end with a
/// space; integers in decimal; floats in the shortest form that reads back to the same
/// value (float32 from its own shortest form), NaN as `NaN`, infinities as `inf`/`-inf`,
/// all of which pandas.read_csv parses back exactly. Note: pandas reads an empty string
/// as NaN unless given keep_default_na=False.
void write_csv(Communicator& comm, const std::filesystem::path& dir, const std::vector<OutputTable>& parts,
               std::size_t gather_round_bytes = std::size_t{8} << 20);

/// Collective. The same CSV, table t written to `files[t]` on rank 0 (other ranks'
/// `files` are ignored) and nothing renamed: for a caller that commits several
/// artefacts together (OutputSet). The files are truncated if they exist.
void write_csv_files(Communicator& comm, const std::vector<std::filesystem::path>& files,
                     const std::vector<OutputTable>& parts, std::size_t gather_round_bytes = std::size_t{8} << 20);

}  // namespace pearl::io
