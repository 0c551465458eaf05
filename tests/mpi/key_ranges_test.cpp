// Engine::agree_splitters and Engine::group_by_key_in_ranges: keys owned by range, so the
// ranks' groups concatenate in rank order into global key order; in memory and spilled,
// on 1-4 simulated ranks in-process and on the MPI world under mpirun.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <map>
#include <utility>
#include <vector>

#include "pearl/core/collectives.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/error.hpp"
#include "test_world.hpp"

namespace pearl {
namespace {

using pearl::testing::on_every_layout;

constexpr std::uint64_t kRows = 80'000;
/// Skewed keys: a third of the rows on key 7, the rest spread over 5,000 keys.
std::int64_t key_of(std::uint64_t i) { return i % 3 == 0 ? 7 : static_cast<std::int64_t>(mix64(i) % 5'000); }
std::int64_t value_of(std::uint64_t i) { return static_cast<std::int64_t>(mix64(i ^ 0xfaceULL) % 1'000); }

EngineOptions options(std::size_t memory) {
  EngineOptions o;
  o.memory.total = memory;
  o.threads = 1;
  return o;
}

TEST(KeyRanges, GroupsConcatenateInRankOrderIntoKeyOrder) {
  // (key, number of values, sum of value * position): a group split or out of order changes it.
  std::map<std::int64_t, std::vector<std::int64_t>> ref;
  for (std::uint64_t i = 0; i < kRows; ++i) ref[key_of(i)].push_back(value_of(i));
  std::vector<std::int64_t> expected;
  for (auto& [k, vs] : ref) {
    std::sort(vs.begin(), vs.end());
    std::int64_t weighted = 0;
    for (std::size_t j = 0; j < vs.size(); ++j) weighted += vs[j] * static_cast<std::int64_t>(j + 1);
    expected.insert(expected.end(), {k, static_cast<std::int64_t>(vs.size()), weighted});
  }
  for (const std::size_t memory : {std::size_t{64} << 20, std::size_t{1} << 20}) {  // in memory and spilling
    on_every_layout([&](Communicator& comm) {
      Engine engine(comm, options(memory));
      // Each rank samples every 40th of the rows it would read (any sample will do: the
      // ranges only balance the load, they never change the result).
      std::vector<std::int64_t> sample;
      for (std::uint64_t i = static_cast<std::uint64_t>(comm.rank()); i < kRows; i += 40 * static_cast<std::uint64_t>(comm.size())) {
        sample.push_back(key_of(i));
      }
      const std::vector<std::int64_t> splitters = engine.agree_splitters(sample);
      EXPECT_EQ(splitters.size(), static_cast<std::size_t>(comm.size() - 1));
      EXPECT_TRUE(std::is_sorted(splitters.begin(), splitters.end()));
      RangeSource src(comm, kRows, 4096);
      const auto groups = engine.group_by_key_in_ranges<std::int64_t, std::int64_t>(
          src, [](RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(key_of(i), value_of(i)); },
          splitters, GroupOptions{.sort_values = true});
      std::vector<std::int64_t> mine;
      groups.for_each_group([&](std::int64_t k, std::span<const std::int64_t> vs) {
        const auto r = static_cast<std::size_t>(comm.rank());
        if (r > 0) {
          EXPECT_GE(k, splitters[r - 1]);
        }
        if (r < splitters.size()) {
          EXPECT_LT(k, splitters[r]);
        }
        std::int64_t weighted = 0;
        for (std::size_t j = 0; j < vs.size(); ++j) weighted += vs[j] * static_cast<std::int64_t>(j + 1);
        mine.insert(mine.end(), {k, static_cast<std::int64_t>(vs.size()), weighted});
      });
      PEARL_AGREE_ON_FAILURE(comm);
      // Concatenated in rank order, as the ranks' parts of an output table are written.
      std::vector<std::vector<std::byte>> parts;
      comm.allgather(std::as_bytes(std::span<const std::int64_t>(mine)), parts);
      std::vector<std::int64_t> concatenated;
      for (const auto& part : parts) {
        const std::size_t at = concatenated.size();
        concatenated.resize(at + part.size() / sizeof(std::int64_t));
        std::memcpy(concatenated.data() + at, part.data(), part.size());
      }
      EXPECT_EQ(concatenated, expected) << "memory " << memory << ", " << comm.size() << " ranks";
    });
  }
}

TEST(KeyRanges, SplittersMustBeFewerThanRanksAndAscending) {
  on_every_layout([&](Communicator& comm) {
    Engine engine(comm, options(std::size_t{16} << 20));
    RangeSource src(comm, 100, 10);
    const auto map = [](RowRange r, auto& emit) { for (auto i = r.begin; i < r.end; ++i) emit(key_of(i), value_of(i)); };
    const std::vector<std::int64_t> too_many(static_cast<std::size_t>(comm.size()), 1);
    EXPECT_THROW((engine.group_by_key_in_ranges<std::int64_t, std::int64_t>(src, map, too_many)), Error);
    if (comm.size() > 2) {
      const std::vector<std::int64_t> descending{9, 3};
      EXPECT_THROW((engine.group_by_key_in_ranges<std::int64_t, std::int64_t>(src, map, descending)), Error);
    }
    // No sample anywhere: no splitters, every key on the first rank, still grouped.
    EXPECT_TRUE(engine.agree_splitters(std::vector<std::int64_t>{}).empty());
  });
}

}  // namespace
}  // namespace pearl
