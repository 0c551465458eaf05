// pearl/core/spilling_buffer.hpp — records pushed one by one, read back as batches,
// spilling to scratch past a byte limit.
//
// For records a pass produces while walking a result (for_each_group only pushes) that
// the next engine pass reads as its BatchSource, without holding them all in memory:
//
//   pearl::SpillingBuffer<Trip> trips(engine.options().scratch, "od-trips",
//                                     ctx.memory().lease("od trips", pearl::MemoryShare::job_buffer));
//   cards.for_each_group([&](const CardId&, std::span<const Tap> taps) { ... trips.push(t); });
//   auto by_od = engine.group_by_key<OdHour, float>(trips, map);
//
// Records are kept in memory up to the limit and beyond it appended to one run file in a
// private scratch directory (removed with the buffer). The order they are handed back in
// is unspecified (file first, then memory): the next pass groups or reduces them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "pearl/core/error.hpp"
#include "pearl/core/record.hpp"
#include "pearl/core/scratch.hpp"

namespace pearl {

/// Records pushed one by one, then read back as batches (a BatchSource), spilling to
/// scratch past `memory_bytes`. Push everything first, then read; main thread only.
template <Record T>
class SpillingBuffer {
 public:
  using Batch = std::vector<T>;

  /// `scratch_parent` empty: $TMPDIR or /tmp. `tag` names the scratch directory.
  SpillingBuffer(std::filesystem::path scratch_parent, std::string tag, std::size_t memory_bytes,
                 std::size_t batch_records = std::size_t{1} << 15)
      : parent_(scratch_parent.empty() ? ScratchDir::default_parent() : std::move(scratch_parent)),
        tag_(std::move(tag)),
        limit_(std::max<std::size_t>(1024, memory_bytes / sizeof(T))),
        batch_(batch_records) {}
  /// The same within a lease from the rank's MemoryAccountant, kept as long as the buffer.
  SpillingBuffer(std::filesystem::path scratch_parent, std::string tag, MemoryLease share,
                 std::size_t batch_records = std::size_t{1} << 15)
      : SpillingBuffer(std::move(scratch_parent), std::move(tag), share.bytes(), batch_records) {
    share_ = std::move(share);
  }

  void push(const T& v) {
    if (reading_) throw Error("SpillingBuffer: push after reading started");
    // Address space for the memory run at once (up to 256 MiB: a budget larger than the
    // machine must not fail here): its pages are touched (and counted) only as records
    // arrive, and the run is not copied to a larger array as it grows (each doubling
    // faulted in fresh pages and moved every record: 12% of transport.flow's page faults).
    if (memory_.capacity() == 0) memory_.reserve(std::min(limit_, (std::size_t{256} << 20) / sizeof(T)));
    memory_.push_back(v);
    if (memory_.size() >= limit_) spill();
  }

  /// Records pushed so far (memory and disk).
  [[nodiscard]] std::size_t size() const noexcept { return spilled_ + memory_.size(); }
  /// Whether any record went to disk.
  [[nodiscard]] bool spilled() const noexcept { return spilled_ > 0; }

  std::optional<Batch> next() {
    if (!reading_) start_reading();
    Batch b;
    b.reserve(batch_);
    while (reader_ && b.size() < batch_) {
      const std::byte* rec = reader_->current();
      if (rec == nullptr) {
        reader_.reset();
        break;
      }
      b.push_back(Codec<T>::read(rec));
      reader_->advance();
    }
    while (b.size() < batch_ && pos_ < memory_.size()) b.push_back(memory_[pos_++]);
    if (b.empty()) {
      memory_ = {};  // release the memory run once everything was handed out
      return std::nullopt;
    }
    return b;
  }

 private:
  static constexpr std::size_t kRecord = Codec<T>::size;

  void spill() {
    if (!writer_) {
      dir_ = std::make_unique<ScratchDir>(parent_, tag_);
      writer_ = std::make_unique<RunWriter>(dir_->new_file(tag_), kRecord);
    }
    bytes_.resize(memory_.size() * kRecord);
    for (std::size_t i = 0; i < memory_.size(); ++i) Codec<T>::write(bytes_.data() + i * kRecord, memory_[i]);
    writer_->append(bytes_);
    spilled_ += memory_.size();
    memory_.clear();
  }

  void start_reading() {
    reading_ = true;
    bytes_ = {};
    if (writer_) {
      writer_->close();
      const std::filesystem::path file = writer_->file();
      writer_.reset();
      reader_ = std::make_unique<RunReader>(file, kRecord);
    }
  }

  std::filesystem::path parent_;
  std::string tag_;
  std::size_t limit_;
  std::size_t batch_;
  std::vector<T> memory_;
  std::size_t pos_ = 0;
  std::size_t spilled_ = 0;
  bool reading_ = false;
  std::vector<std::byte> bytes_;
  MemoryLease share_;                 // empty when made with a byte count
  std::unique_ptr<ScratchDir> dir_;  // declared before the writer/reader: destroyed after them
  std::unique_ptr<RunWriter> writer_;
  std::unique_ptr<RunReader> reader_;
};

}  // namespace pearl
