// jobs/health/risk_model/row_blocks.hpp — a rank's rows of a few float64 columns, in
// fixed blocks of rows, held in memory up to a byte limit and beyond it in a scratch file.
//
// health.risk_model walks its rows once per IRLS iteration. Holding them all cost 8 bytes
// per value per row outside --memory (245 MiB at 1 rank on 130 MiB of checkups at a 16 MiB
// budget); here the first blocks stay in memory up to the job's share and the rest are
// read back from scratch, a few blocks at a time, on every walk:
//
//   RowBlocks rows(5, 2048, share.bytes(), ctx.engine().options().scratch);   // share: a MemoryLease
//   rows.push(values);                       // one row: a value per column
//   rows.seal();                             // the last, partial block
//   rows.for_each_chunk([&](std::span<const RowBlocks::Block> blocks) { ... });
//   rows.transform([&](RowBlocks::Block block) { ... });   // rewrites every block in place
//
// A block holds its rows column by column (column c of block b at data + c * block_rows),
// so a block's column is one contiguous span, as Eigen's maps want. Blocks are full but
// the last one. Walks visit blocks in order, so sums taken block by block add in row
// order, exactly as over whole columns.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "pearl/job.hpp"

namespace pearl::jobs {

class RowBlocks {
 public:
  /// A block: `rows` rows (block_rows but for the last), column c at data + c * stride.
  struct Block {
    double* data;
    std::size_t rows;
    std::size_t stride;
    [[nodiscard]] double* column(std::size_t c) const noexcept { return data + c * stride; }
  };

  /// `memory_bytes`: what the blocks and the read buffer may hold in memory together.
  RowBlocks(std::size_t columns, std::size_t block_rows, std::size_t memory_bytes, std::filesystem::path scratch_parent)
      : columns_(columns),
        block_rows_(block_rows),
        block_values_(columns * block_rows),
        scratch_parent_(scratch_parent.empty() ? ScratchDir::default_parent() : std::move(scratch_parent)) {
    const std::size_t block_bytes = block_values_ * sizeof(double);
    // An eighth of the share (at least one block) reads spilled blocks back; the rest keeps
    // the first blocks.
    chunk_blocks_ = std::max<std::size_t>(1, memory_bytes / 8 / block_bytes);
    memory_blocks_ = memory_bytes / block_bytes > chunk_blocks_ ? memory_bytes / block_bytes - chunk_blocks_ : 0;
  }
  RowBlocks(const RowBlocks&) = delete;
  RowBlocks& operator=(const RowBlocks&) = delete;
  ~RowBlocks() {
    if (file_ != nullptr) std::fclose(file_);
  }

  /// Appends one row (`row[c]` for column c).
  void push(std::span<const double> row) {
    if (filling_.empty()) filling_.resize(block_values_);
    for (std::size_t c = 0; c < columns_; ++c) filling_[c * block_rows_ + fill_] = row[c];
    ++rows_;
    if (++fill_ == block_rows_) store();
  }
  /// Stores the last, partial block; call once after the last push.
  void seal() {
    if (fill_ > 0) store();
    filling_ = {};
  }

  [[nodiscard]] std::size_t rows() const noexcept { return rows_; }
  /// Whether any block went to scratch.
  [[nodiscard]] bool spilled() const noexcept { return spilled_blocks_ > 0; }

  /// Calls f(std::span<const Block>) on consecutive runs of blocks, in order: the blocks in
  /// memory as one run, then the spilled ones a read buffer at a time.
  template <class F>
  void for_each_chunk(F&& f) {
    std::vector<Block> run;
    for (auto& b : memory_) run.push_back(block_at(b.data(), b.size()));
    if (!run.empty()) f(std::span<const Block>(run));
    walk_spilled([&](std::span<const Block> blocks) { f(blocks); }, false);
  }

  /// Calls f(Block) on every block, in order, and keeps what f changed (spilled blocks
  /// are written back where they were).
  template <class F>
  void transform(F&& f) {
    for (auto& b : memory_) f(block_at(b.data(), b.size()));
    walk_spilled(
        [&](std::span<const Block> blocks) {
          for (const Block& b : blocks) f(b);
        },
        true);
  }

 private:
  [[nodiscard]] Block block_at(double* data, std::size_t values) const noexcept {
    return {data, values / columns_, values / columns_};
  }

  void store() {
    // A partial block is packed to its rows, so column c starts at c * fill_.
    std::vector<double> block(columns_ * fill_);
    for (std::size_t c = 0; c < columns_; ++c) {
      std::copy_n(filling_.data() + c * block_rows_, fill_, block.data() + c * fill_);
    }
    fill_ = 0;
    if (memory_.size() < memory_blocks_ && spilled_blocks_ == 0) {
      memory_.push_back(std::move(block));
      return;
    }
    if (file_ == nullptr) {
      dir_ = std::make_unique<ScratchDir>(scratch_parent_, "risk-model");
      path_ = dir_->new_file("rows");
      file_ = std::fopen(path_.c_str(), "w+b");
      if (file_ == nullptr) throw Error("health.risk_model: cannot create the scratch file " + path_.string());
    }
    if (std::fseek(file_, 0, SEEK_END) != 0 ||
        std::fwrite(block.data(), sizeof(double), block.size(), file_) != block.size()) {
      throw Error("health.risk_model: cannot write the scratch file " + path_.string());
    }
    spilled_sizes_.push_back(block.size());
    ++spilled_blocks_;
  }

  /// Reads the spilled blocks back a chunk at a time; with `write_back`, writes each chunk
  /// back after f (which may change it).
  template <class F>
  void walk_spilled(F&& f, bool write_back) {
    if (file_ == nullptr) return;
    std::vector<double> buffer;
    std::vector<Block> blocks;
    long offset = 0;
    for (std::size_t first = 0; first < spilled_blocks_; first += chunk_blocks_) {
      const std::size_t last = std::min(spilled_blocks_, first + chunk_blocks_);
      std::size_t values = 0;
      for (std::size_t b = first; b < last; ++b) values += spilled_sizes_[b];
      buffer.resize(values);
      if (std::fseek(file_, offset, SEEK_SET) != 0 || std::fread(buffer.data(), sizeof(double), values, file_) != values) {
        throw Error("health.risk_model: cannot read the scratch file " + path_.string());
      }
      blocks.clear();
      std::size_t at = 0;
      for (std::size_t b = first; b < last; ++b) {
        blocks.push_back(block_at(buffer.data() + at, spilled_sizes_[b]));
        at += spilled_sizes_[b];
      }
      f(std::span<const Block>(blocks));
      if (write_back && (std::fseek(file_, offset, SEEK_SET) != 0 ||
                         std::fwrite(buffer.data(), sizeof(double), values, file_) != values)) {
        throw Error("health.risk_model: cannot write the scratch file " + path_.string());
      }
      offset += static_cast<long>(values * sizeof(double));
    }
  }

  std::size_t columns_, block_rows_, block_values_;
  std::size_t chunk_blocks_ = 1, memory_blocks_ = 0;
  std::filesystem::path scratch_parent_;
  std::vector<double> filling_;
  std::size_t fill_ = 0, rows_ = 0;
  std::vector<std::vector<double>> memory_;
  std::unique_ptr<ScratchDir> dir_;  // before file_: the file is closed (destructor body) first
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::vector<std::size_t> spilled_sizes_;  // values per spilled block, in file order
  std::size_t spilled_blocks_ = 0;
};

}  // namespace pearl::jobs
