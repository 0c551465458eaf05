// pearl/core/spilled_rows.hpp — an output table's rows moved to scratch in rounds.
//
// OutputTable::spill_past bounds the rows a job's output table holds in memory: each time
// they reach the limit they are appended here as one round and the table starts again.
// The output writers (pearl::io) read the rounds back one at a time, in order, before the
// rows still in memory, so an output larger than memory is written within it:
//
//   pearl::OutputTable flow = ctx.output_table("flow");
//   flow.spill_past(ctx.memory().lease("flow output rows", pearl::MemoryShare::job_buffer),
//                   engine.options().scratch);
//   ... flow.append(...) ...                       // moves full rounds to scratch
//   ctx.write(std::move(flow));
//
//   // io: round by round
//   pearl::OutputTable round(part.name(), part.specs());
//   for (std::size_t i = 0; i < part.spilled()->rounds(); ++i) part.spilled()->read(i, round);
//
// A round's file bytes are its columns one after another: numeric values as in memory,
// strings as their lengths (uint32) then their bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "pearl/core/scratch.hpp"
#include "pearl/core/table.hpp"

namespace pearl {

class SpilledRows {
 public:
  /// Nothing is created until the first round: then a private scratch directory under
  /// `scratch_parent` (empty: $TMPDIR or /tmp), removed with this object.
  SpilledRows(std::vector<ColumnSpec> specs, std::filesystem::path scratch_parent);
  SpilledRows(const SpilledRows&) = delete;
  SpilledRows& operator=(const SpilledRows&) = delete;
  ~SpilledRows();

  /// Appends `columns` (all of `rows` rows, types as the specs) as one round.
  void append(const std::vector<ColumnData>& columns, std::size_t rows);

  [[nodiscard]] std::size_t rounds() const noexcept { return rounds_.size(); }
  [[nodiscard]] std::uint64_t rows() const noexcept { return rows_; }
  [[nodiscard]] std::uint64_t rows(std::size_t round) const { return rounds_.at(round).rows; }
  /// Replaces the rows of `into` (a table with these specs) by round `round`'s.
  void read(std::size_t round, OutputTable& into) const;

 private:
  struct Round {
    std::uint64_t rows = 0;
    long offset = 0;
    std::size_t bytes = 0;
  };
  std::vector<ColumnSpec> specs_;
  std::filesystem::path parent_;
  std::unique_ptr<ScratchDir> dir_;
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::vector<Round> rounds_;
  std::uint64_t rows_ = 0;
  long end_ = 0;
  mutable std::vector<std::byte> buffer_;
};

}  // namespace pearl
