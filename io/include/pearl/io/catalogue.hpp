// pearl/io/catalogue.hpp — the shards of one input table and which rows each rank reads.
//
// `--input NAME=GLOB[:/path]` names a table and where its shards are. The catalogue
// expands the glob, sorts the shards, opens each one to validate it and count its
// rows, and lays the shards end to end as one global row space (shard order). Ranks
// then own balanced contiguous ranges of that space (`share_of` in core/source.hpp):
// a large shard is split across ranks, small ones are grouped on one rank. Everything
// is checked before any work, and the assignment depends only on the rank count.
//
// Building is local work (no MPI): every rank may build it, or rank 0 builds it and
// broadcasts `serialise()`'s bytes, which saves opening every shard on every rank:
//
//   auto spec = pearl::io::parse_input_spec("cases=data/cases-*.h5");    // path "/cases"
//   std::vector<std::byte> bytes;
//   if (comm.rank() == 0) bytes = pearl::io::Catalogue::build(spec, columns).serialise();
//   comm.broadcast(bytes, 0);   // (agree on failure first: build throws on bad input)
//   auto cat = pearl::io::Catalogue::deserialise(bytes);
//   for (const auto& piece : cat.pieces_for(comm.rank(), comm.size())) { ... }
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pearl/core/source.hpp"
#include "pearl/core/table.hpp"

namespace pearl::io {

/// One `--input` argument: NAME=GLOB[:/path].
struct InputSpec {
  std::string name;  // the table's name, as jobs ask for it ("cases")
  std::string glob;  // shard files, a glob(3) pattern ("data/cases-*.h5")
  std::string path;  // the table's path inside each shard; default "/" + name
  friend bool operator==(const InputSpec&, const InputSpec&) = default;
};

/// Parses "NAME=GLOB" or "NAME=GLOB:/path". The path is split off at the last ':' only
/// when what follows it starts with '/', so a glob may itself contain ':' ("a:b.h5").
/// NAME is letters, digits and '_'. Throws InputError on a malformed spec.
InputSpec parse_input_spec(std::string_view text);

/// The shard files matching `glob`, sorted lexicographically (byte order of the path:
/// "cases-10.h5" before "cases-2.h5"; zero-pad shard numbers to sort numerically).
/// Throws InputError naming the pattern when nothing matches.
std::vector<std::filesystem::path> expand_glob(const std::string& glob);

/// One shard of a table: its file and where its rows sit in the global row space.
struct Shard {
  std::filesystem::path file;
  std::uint64_t rows = 0;
  std::uint64_t first_row = 0;  // global row number of the shard's row 0
  friend bool operator==(const Shard&, const Shard&) = default;
};

/// Rows [begin, end) of shard `shard` (local row numbers), which are global rows
/// [global_begin, global_begin + end - begin).
struct Piece {
  std::size_t shard = 0;
  std::uint64_t begin = 0;
  std::uint64_t end = 0;
  std::uint64_t global_begin = 0;
  [[nodiscard]] std::uint64_t rows() const noexcept { return end - begin; }
  friend bool operator==(const Piece&, const Piece&) = default;
};

/// The shards of one input table, in order, with their row counts.
class Catalogue {
 public:
  Catalogue() = default;
  /// A catalogue of already counted shards (first_row is recomputed from the order).
  Catalogue(InputSpec spec, std::vector<Shard> shards);

  /// Expands the spec's glob, opens every shard and checks that the table is there and
  /// that every column of `required` exists and converts to its contract type.
  /// Throws InputError naming the pattern, file, table or column at the first problem.
  static Catalogue build(const InputSpec& spec, const std::vector<ColumnSpec>& required);

  [[nodiscard]] const InputSpec& spec() const noexcept { return spec_; }
  [[nodiscard]] const std::string& name() const noexcept { return spec_.name; }
  [[nodiscard]] const std::string& path() const noexcept { return spec_.path; }
  [[nodiscard]] const std::vector<Shard>& shards() const noexcept { return shards_; }
  [[nodiscard]] std::uint64_t total_rows() const noexcept { return total_rows_; }

  /// The global rows `range` as pieces of shards, in order, leaving out empty pieces.
  [[nodiscard]] std::vector<Piece> pieces(RowRange range) const;
  /// Rank `rank` of `ranks`' balanced contiguous share of all rows, as pieces.
  [[nodiscard]] std::vector<Piece> pieces_for(int rank, int ranks) const {
    return pieces(share_of(total_rows_, rank, ranks));
  }

  /// The catalogue as bytes (for a broadcast) and back. Deserialise checks the format
  /// and throws Error on bytes that are not a serialised catalogue.
  [[nodiscard]] std::vector<std::byte> serialise() const;
  static Catalogue deserialise(std::span<const std::byte> bytes);

  friend bool operator==(const Catalogue&, const Catalogue&) = default;

 private:
  InputSpec spec_;
  std::vector<Shard> shards_;
  std::uint64_t total_rows_ = 0;
};

/// Several catalogues (all `--input`s of a job) as one byte string, and back.
std::vector<std::byte> serialise(std::span<const Catalogue> catalogues);
std::vector<Catalogue> deserialise_catalogues(std::span<const std::byte> bytes);

}  // namespace pearl::io
