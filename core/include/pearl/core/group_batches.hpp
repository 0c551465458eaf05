// pearl/core/group_batches.hpp — a group_by_key result read by the next pass as whole
// groups: a batch source whose batches never split a key's values.
//
//   auto by_vehicle = engine.group_by_key<VehicleId, Fix>(gps, map, {.sort_values = true});
//   pearl::GroupBatches<VehicleId, Fix> vehicles(by_vehicle);
//   auto by_cell = engine.group_by_key<CellKey, Obs>(vehicles, [](const auto& batch, auto& emit) {
//     // batch: (vehicle, fix) pairs, each vehicle's fixes together and in order
//   });
//
// Instead of walking the first result with for_each_group and pushing what the next pass
// needs into a SpillingBuffer (a second copy of the data, faulted in page by page), the
// next pass's map reads the groups themselves; batches may be mapped in parallel, since
// each holds whole groups.
#pragma once

#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

#include "pearl/core/record.hpp"
#include "pearl/core/results.hpp"

namespace pearl {

/// A batch source (source.hpp) over this rank's pairs of a GroupedResult, in its order,
/// in batches of about `batch_pairs` pairs cut only between keys (a larger group is one
/// batch of its own). The result must outlive the source.
template <KeyRecord K, Record V>
class GroupBatches {
 public:
  using Batch = std::vector<std::pair<K, V>>;
  explicit GroupBatches(const GroupedResult<K, V>& result, std::size_t batch_pairs = std::size_t{1} << 15)
      : cursor_(result), batch_(batch_pairs == 0 ? 1 : batch_pairs) {
    have_ = cursor_.next(pending_);
  }

  std::optional<Batch> next() {
    if (!have_) return std::nullopt;
    Batch b = std::move(spare_);
    b.clear();
    b.reserve(batch_);
    // Whole groups until the batch is full: the pending pair starts a new key here.
    while (have_ && (b.size() < batch_ || pending_.first == b.back().first)) {
      b.push_back(pending_);
      have_ = cursor_.next(pending_);
    }
    return b;
  }
  /// A mapped batch's memory, reused for the next (RecyclingSource).
  void recycle(Batch&& b) { spare_ = std::move(b); }

 private:
  typename GroupedResult<K, V>::Cursor cursor_;
  std::size_t batch_;
  std::pair<K, V> pending_{};
  bool have_ = false;
  Batch spare_;
};

}  // namespace pearl
