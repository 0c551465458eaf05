// Unit tests of jobs/health/local_counts.hpp: the health maps' string codes and counting
// table (strings held in the key up to 7 bytes, coded beyond; counts, drain, limits).
#include "../local_counts.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>

namespace pearl::jobs {
namespace {

using Counted = std::map<std::tuple<std::uint64_t, std::string, std::uint32_t>, std::int64_t>;

Counted drained(CodedCounts& counts) {
  Counted out;
  counts.drain([&](std::uint64_t word, std::string_view text, std::uint32_t low, std::int64_t n) {
    EXPECT_TRUE(out.emplace(std::tuple{word, std::string(text), low}, n).second) << "a key drained twice";
  });
  return out;
}

TEST(StringCodes, CodesByFirstSightAndBack) {
  StringCodes codes;
  EXPECT_EQ(codes.code("J11"), 0U);
  EXPECT_EQ(codes.code("B08.4"), 1U);
  EXPECT_EQ(codes.code("J11"), 0U);  // not the last value: found in the map
  EXPECT_EQ(codes.code("J11"), 0U);  // the last value
  EXPECT_EQ(codes.value(1), "B08.4");
  EXPECT_EQ(codes.size(), 2U);
  EXPECT_EQ(codes.longest(), 5U);
  codes.clear();
  EXPECT_EQ(codes.size(), 0U);
  EXPECT_EQ(codes.code("B08.4"), 0U);  // codes start again after clear
  EXPECT_EQ(codes.longest(), 5U);      // the longest is kept
}

TEST(CodedCounts, ShortLongEmptyAndOddStringsCountApart) {
  CodedCounts counts;
  const std::string nul("A\0B", 3);  // an embedded NUL is a byte like any other
  const std::string seven = "1234567", eight = "12345678", chinese = "登革热";  // 9 bytes
  for (int i = 0; i < 3; ++i) counts.add(1, "J11", 7);
  counts.add(1, "J11", 8);  // another low
  counts.add(2, "J11", 7);  // another word
  counts.add(1, "J1", 7);   // a prefix
  counts.add(1, "", 7);
  counts.add(1, nul, 7);
  counts.add(1, "A", 7);  // nul's prefix up to the NUL
  counts.add(1, seven, 7);
  counts.add(1, eight, 7);
  counts.add(1, eight, 7);
  counts.add(1, chinese, 0xFFFFFFFFU);
  EXPECT_EQ(counts.longest(), 9U);
  const Counted want = {
      {{1, "J11", 7}, 3}, {{1, "J11", 8}, 1}, {{2, "J11", 7}, 1}, {{1, "J1", 7}, 1},  {{1, "", 7}, 1},
      {{1, nul, 7}, 1},   {{1, "A", 7}, 1},   {{1, seven, 7}, 1}, {{1, eight, 7}, 2}, {{1, chinese, 0xFFFFFFFFU}, 1}};
  EXPECT_EQ(drained(counts), want);
  EXPECT_TRUE(drained(counts).empty());  // drain forgets
  counts.add(3, eight, 1);               // long strings are coded afresh after a drain
  EXPECT_EQ(drained(counts), (Counted{{{3, eight, 1}, 1}}));
}

TEST(CodedCounts, FullAtTheLimitOfKeysOrLongStrings) {
  CodedCounts keys;
  for (std::uint64_t w = 0; w < 9; ++w) keys.add(w, "A00", 0);
  EXPECT_FALSE(keys.full(10));
  keys.add(9, "A00", 0);
  EXPECT_TRUE(keys.full(10));

  CodedCounts strings;  // ten long strings on one word: the dictionary's limit
  for (int i = 0; i < 10; ++i) strings.add(0, "a long disease name " + std::to_string(i), 0);
  EXPECT_TRUE(strings.full(10));
  EXPECT_EQ(drained(strings).size(), 10U);
  EXPECT_FALSE(strings.full(10));
}

TEST(CodedCounts, SavedCountsRestoreToTheSameCounts) {
  CodedCounts counts;
  const std::string eight = "12345678", nul("A\0B", 3);
  for (int i = 0; i < 4; ++i) counts.add(1, "J11", 7);
  counts.add(1, eight, 7);
  counts.add(1, eight, 7);
  counts.add(2, nul, 0xFFFFFFFFU);
  counts.add(3, "", 0);
  pearl::MapStateWriter w;
  counts.save_state(w);
  CodedCounts restored;
  restored.add(9, "other", 9);
  pearl::MapStateReader into_counting(w.bytes(), "rank-0.state");
  EXPECT_THROW(restored.restore_state(into_counting), InputError);  // only into an empty table
  (void)drained(restored);
  pearl::MapStateReader r(w.bytes(), "rank-0.state");
  restored.restore_state(r);
  EXPECT_TRUE(r.done());
  EXPECT_EQ(restored.longest(), 8U);
  restored.add(1, "J11", 7);  // counting goes on from the restored counts
  const Counted want = {{{1, "J11", 7}, 5}, {{1, eight, 7}, 2}, {{2, nul, 0xFFFFFFFFU}, 1}, {{3, "", 0}, 1}};
  EXPECT_EQ(drained(restored), want);
}

}  // namespace
}  // namespace pearl::jobs
