// pearl/cluster/shard_inputs.hpp — the runner's InputProvider over `--input` shards.
//
// Rank 0 expands every `--input NAME=GLOB[:/path]`, opens each shard once to validate it
// and count its rows, and broadcasts the catalogues; every rank then reads its own
// balanced share of each table. Problems (empty glob, missing file, missing table or
// column, unconvertible type) are InputErrors raised before any work, on every rank.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/core/table_input.hpp"
#include "pearl/io/catalogue.hpp"
#include "pearl/io/output_writer.hpp"

namespace pearl::cluster {

class ShardInputs final : public InputProvider {
 public:
  /// Collective. `specs` are the `--input` arguments; `batch_bytes` bounds one batch.
  ShardInputs(Communicator& comm, const std::vector<std::string>& specs, std::size_t batch_bytes);

  [[nodiscard]] bool has(const std::string& table) const override;
  [[nodiscard]] std::string where(const std::string& table) const override;
  [[nodiscard]] std::vector<ColumnSpec> columns(const std::string& table) const override;
  TableInput open(const std::string& table, const std::vector<ColumnSpec>& columns) override;
  /// Collective: checks that every shard of `table` has `columns`, each convertible to
  /// its type without loss; throws InputError naming file, table and column otherwise.
  void validate(const std::string& table, const std::vector<ColumnSpec>& columns);

  /// Every shard read, with size and modification time, for the output's attributes.
  [[nodiscard]] std::vector<io::InputFileInfo> files() const;
  [[nodiscard]] std::vector<std::string> names() const;

 private:
  [[nodiscard]] const io::Catalogue& catalogue(const std::string& table) const;
  Communicator& comm_;
  std::size_t batch_bytes_;
  std::vector<io::Catalogue> catalogues_;
  mutable std::map<std::string, std::vector<ColumnSpec>> columns_cache_;
  std::vector<std::pair<std::string, std::vector<ColumnSpec>>> validated_;
};

}  // namespace pearl::cluster
