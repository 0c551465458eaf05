// Unit tests of core's building blocks: sizes, records, hash table, scratch runs.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <tuple>

#include "pearl/core/error.hpp"
#include "pearl/core/hash_table.hpp"
#include "pearl/core/memory.hpp"
#include "pearl/core/record.hpp"
#include "pearl/core/scratch.hpp"
#include "pearl/core/source.hpp"

namespace pearl {
namespace {

TEST(Memory, ParsesUnitsAsUsersWriteThem) {
  EXPECT_EQ(parse_bytes("2GiB"), std::size_t{2} << 30);
  EXPECT_EQ(parse_bytes("512MiB"), std::size_t{512} << 20);
  EXPECT_EQ(parse_bytes("1.5G"), std::size_t{3} << 29);
  EXPECT_EQ(parse_bytes("800MB"), std::size_t{800'000'000});
  EXPECT_EQ(parse_bytes("4096"), 4096U);
  EXPECT_EQ(parse_bytes("2 gib"), std::size_t{2} << 30);
  EXPECT_THROW(parse_bytes("lots"), InputError);
  EXPECT_THROW(parse_bytes("2XB"), InputError);
  EXPECT_THROW(parse_bytes(""), InputError);
  EXPECT_EQ(format_bytes(std::size_t{3} << 29), "1.5 GiB");
}

TEST(Records, TuplesAndStringsRoundTrip) {
  using Key = std::tuple<std::int32_t, std::uint16_t, FixedString<6>>;
  static_assert(Codec<Key>::size == 4 + 2 + 6);
  static_assert(KeyRecord<Key>);
  const Key k{-5, 65000, FixedString<6>("B08.4")};
  std::byte buf[Codec<Key>::size];
  Codec<Key>::write(buf, k);
  EXPECT_EQ(Codec<Key>::read(buf), k);
  EXPECT_EQ(std::get<2>(k).view(), "B08.4");
  EXPECT_THROW(FixedString<3>("toolong"), Error);
  EXPECT_LT(FixedString<4>("ab"), FixedString<4>("abc"));
  EXPECT_EQ(KeyHash<Key>{}(k), KeyHash<Key>{}(Key{-5, 65000, FixedString<6>("B08.4")}));
}

TEST(Records, PartitionIsBalancedAndInRange) {
  std::vector<int> counts(3);
  for (std::uint64_t i = 0; i < 30'000; ++i) ++counts[static_cast<std::size_t>(partition_of(mix64(i), 3))];
  for (int c : counts) EXPECT_NEAR(c, 10'000, 500);
}

TEST(Source, SharesCoverTheRowsExactlyOnce) {
  for (int p = 1; p <= 7; ++p) {
    std::uint64_t next = 0;
    for (int r = 0; r < p; ++r) {
      const RowRange s = share_of(1003, r, p);
      EXPECT_EQ(s.begin, next);
      next = s.end;
    }
    EXPECT_EQ(next, 1003U);
  }
}

TEST(HashTable, MatchesStdMapThroughGrowth) {
  HashTable<std::uint64_t, std::int64_t> t;
  std::map<std::uint64_t, std::int64_t> ref;
  std::mt19937_64 rng(3);
  auto plus = std::plus<>{};
  for (int i = 0; i < 200'000; ++i) {
    const std::uint64_t k = rng() % 50'000;
    t.upsert(k, 1, KeyHash<std::uint64_t>{}(k), plus);
    ref[k] += 1;
  }
  EXPECT_EQ(t.size(), ref.size());
  const auto sorted = t.take_sorted();
  const std::vector<std::pair<std::uint64_t, std::int64_t>> expected(ref.begin(), ref.end());
  EXPECT_EQ(sorted, expected);
  EXPECT_TRUE(t.empty());
}

TEST(Scratch, RunsRoundTripAndTheDirectoryIsRemoved) {
  std::filesystem::path where;
  {
    ScratchDir dir(ScratchDir::default_parent(), "unit");
    where = dir.path();
    EXPECT_TRUE(std::filesystem::is_directory(where));
    const auto file = dir.new_file("run");
    RunWriter w(file, 8, 64);
    for (std::uint64_t i = 0; i < 1000; ++i) w.append(std::as_bytes(std::span(&i, 1)));
    w.close();
    RunReader r(file, 8, 64);
    std::uint64_t expect = 0;
    for (; r.current() != nullptr; r.advance(), ++expect) {
      std::uint64_t v;
      std::memcpy(&v, r.current(), 8);
      EXPECT_EQ(v, expect);
    }
    EXPECT_EQ(expect, 1000U);
  }
  EXPECT_FALSE(std::filesystem::exists(where));
}

TEST(Scratch, MissingParentIsAnInputError) {
  EXPECT_THROW(ScratchDir("/nonexistent/pearl", "x"), InputError);
}

}  // namespace
}  // namespace pearl
