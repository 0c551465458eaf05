// pearl/core/shard_output.hpp — writing input-style shards from a job (data generators).
//
// Most jobs write one result file through the runner (JobContext::write). A generator
// instead writes many shards, each rank its own, in the layouts of the input contract,
// so that the reader's flexibility is exercised: columnar groups or compound datasets,
// stored integer widths other than the contract's, compression.
//
//   pearl::ShardOptions opts;
//   opts.layout = pearl::ShardLayout::compound;
//   opts.stored_types = {{"age_years", pearl::DType::i16}};   // stored wider than uint8
//   ctx.write_shard(out_dir / "cases-0003.h5", {cases_part}, opts);
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "pearl/core/table.hpp"

namespace pearl {

enum class ShardLayout { columnar, compound };

struct ShardOptions {
  ShardLayout layout = ShardLayout::columnar;
  /// Columns stored with another type than their OutputTable type (values must fit).
  std::map<std::string, DType> stored_types;
  /// Chunk rows (0: contiguous) and gzip level (0: none; needs chunking); shuffle with gzip.
  std::size_t chunk_rows = 0;
  int gzip_level = 0;
  /// Strings as fixed-length (null-padded, this many bytes) instead of variable-length.
  std::size_t fixed_string_bytes = 0;
};

/// Implemented by the io layer. Local (not collective): each rank writes its own files.
class ShardWriterBase {
 public:
  ShardWriterBase() = default;
  ShardWriterBase(const ShardWriterBase&) = delete;
  ShardWriterBase& operator=(const ShardWriterBase&) = delete;
  virtual ~ShardWriterBase() = default;
  /// Writes `tables` (each at /<name>) to `file`, replacing it atomically.
  virtual void write(const std::filesystem::path& file, const std::vector<OutputTable>& tables,
                     const ShardOptions& options) = 0;
};

}  // namespace pearl
