// pearl/io/shard_writer.hpp — input-style shards, written with serial HDF5 (one file per call).
//
// Implements pearl::ShardWriterBase (core/shard_output.hpp) for data generators: each rank
// writes its own shard files, no MPI involved. Every OutputTable goes to /<name> in the
// chosen layout of the input contract (tables.md):
//
//   columnar  group /<name>, one 1-D dataset per column in declared order (link creation
//             order tracked), attribute-free
//   compound  1-D dataset /<name> of a packed compound type, one member per column in
//             declared order (what h5py writes for a NumPy structured array)
//
// Types: a column is stored as its OutputTable type (little-endian H5T_STD_* / IEEE), or as
// `ShardOptions::stored_types[column]`: another integer width/signedness or float width.
// Values are converted on write and must fit exactly (integers in range; integer → float
// exactly representable; float64 → float32 round-trips; NaN passes); otherwise pearl::Error
// names the file, table, column and row. Numbers ↔ strings and floats → integers are refused.
// Strings: variable-length UTF-8 (the default), or fixed-length null-padded UTF-8 of
// `fixed_string_bytes` bytes (a longer value is an error). In a compound dataset strings are
// fixed-length when fixed_string_bytes > 0, else variable-length members.
// Storage: contiguous, or chunked with `chunk_rows` rows (capped at the table's rows);
// gzip (`gzip_level` 1..9) implies chunking (65536 rows when chunk_rows is 0) and adds
// the shuffle filter before it. Zero-row tables are written as empty contiguous datasets.
//
// Atomic: the file is written under a temporary name beside the target and renamed onto it
// (io::AtomicOutput), so a shard appears whole or not at all.
//
//   pearl::io::ShardFileWriter shards;
//   pearl::JobContext ctx(engine, out, inputs, &shards);   // the runner does this
//   ctx.write_shard(dir / "cases-0003.h5", {part}, opts);   // a job does this
#pragma once

#include <filesystem>
#include <vector>

#include "pearl/core/shard_output.hpp"
#include "pearl/core/table.hpp"

namespace pearl::io {

class ShardFileWriter final : public pearl::ShardWriterBase {
 public:
  ShardFileWriter() = default;
  /// Writes `tables` to `file` (replacing it atomically). Throws pearl::Error naming the
  /// file and table on any failure; the target is then left as it was.
  void write(const std::filesystem::path& file, const std::vector<OutputTable>& tables,
             const ShardOptions& options) override;
};

}  // namespace pearl::io
