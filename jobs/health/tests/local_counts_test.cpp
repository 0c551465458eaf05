// Unit tests of jobs/health/local_counts.hpp and local_row_counts.hpp: the health maps'
// string codes and counting tables (strings held in the key up to 7 bytes, coded beyond;
// counts, drain, limits, saved state).
#include "../local_counts.hpp"
#include "../local_row_counts.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>

namespace pearl::jobs {
namespace {

using Counted = std::map<std::tuple<std::uint64_t, std::string, std::uint32_t>, std::int64_t>;

template <class Counts>
Counted drained(Counts& counts) {
  Counted out;
  counts.drain([&](std::uint64_t word, std::string_view text, std::uint32_t low, std::int64_t n) {
    EXPECT_TRUE(out.emplace(std::tuple{word, std::string(text), low}, n).second) << "a key drained twice";
  });
  return out;
}

/// Saves `counts` and restores the state into `restored`, which counts something else at
/// first: refused then (only into an empty table), and taken once drained.
template <class Counts>
void restore_into(const Counts& counts, Counts& restored) {
  pearl::MapStateWriter w;
  counts.save_state(w);
  restored.add(9, "other", 9);
  pearl::MapStateReader into_counting(w.bytes(), "rank-0.state");
  EXPECT_THROW(restored.restore_state(into_counting), InputError);
  (void)drained(restored);
  pearl::MapStateReader r(w.bytes(), "rank-0.state");
  restored.restore_state(r);
  EXPECT_TRUE(r.done());
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
  CodedCounts restored;
  restore_into(counts, restored);
  EXPECT_EQ(restored.longest(), 8U);
  restored.add(1, "J11", 7);  // counting goes on from the restored counts
  const Counted want = {{{1, "J11", 7}, 5}, {{1, eight, 7}, 2}, {{2, nul, 0xFFFFFFFFU}, 1}, {{3, "", 0}, 1}};
  EXPECT_EQ(drained(restored), want);
}

TEST(CodedText, EveryShortLengthComesBackAsItWent) {
  CodedText text;
  const std::string bytes("\xff\x01\x00\x80\x7f\x02\x03\x04", 8);  // high and zero bytes, no terminator
  for (std::size_t n = 0; n <= bytes.size(); ++n) {
    for (std::size_t at = 0; at + n <= bytes.size(); ++at) {
      const std::string_view s(bytes.data() + at, n);
      const std::uint64_t word = text.word(s);
      EXPECT_EQ(text.text(word), s) << n << " bytes at " << at;
      if (n > 0) {
        EXPECT_NE(word, text.word(std::string(n, 'x'))) << n << " bytes at " << at;  // other bytes
      }
    }
  }
}

TEST(CodedRowCounts, CountsEachRowsIndicesApart) {
  CodedRowCounts<18> counts;
  const std::string eight = "12345678", nul("A\0B", 3);
  for (int i = 0; i < 3; ++i) counts.add(1, "J11", 17);
  counts.add(1, "J11", 0);
  counts.add(1, "A15", 0, 4);
  counts.add(1, eight, 5);
  counts.add(1, "12345679", 5);  // a long string that differs in its last byte
  counts.add(2, nul, 5);
  counts.add(2, "", 5);
  EXPECT_EQ(counts.longest(), 8U);
  const Counted want = {{{1, "J11", 17}, 3}, {{1, "J11", 0}, 1},  {{1, "A15", 0}, 4},       {{1, eight, 5}, 1},
                        {{1, "12345679", 5}, 1}, {{2, nul, 5}, 1}, {{2, "", 5}, 1}};
  EXPECT_EQ(drained(counts), want);
  EXPECT_TRUE(drained(counts).empty());  // drained means forgotten
  counts.add(1, "J11", 3);
  EXPECT_EQ(drained(counts), (Counted{{{1, "J11", 3}, 1}}));
}

TEST(CodedRowCounts, FullAtTheLimitOfRowsNotOfIndices) {
  CodedRowCounts<18> counts;
  for (std::size_t i = 0; i < 18; ++i) counts.add(1, "J11", i);  // one row, 18 counts
  EXPECT_FALSE(counts.full(2));
  counts.add(2, "J11", 0);
  EXPECT_TRUE(counts.full(2));
}

TEST(CodedRowCounts, SavedCountsRestoreToTheSameCountsAndReadCodedCounts) {
  CodedRowCounts<18> counts;
  const std::string eight = "12345678";
  for (int i = 0; i < 4; ++i) counts.add(1, "J11", 7);
  counts.add(1, eight, 17, 2);
  counts.add(3, "", 0);
  CodedRowCounts<18> restored;
  restore_into(counts, restored);
  EXPECT_EQ(restored.longest(), 8U);
  restored.add(1, "J11", 7);  // counting goes on from the restored counts
  const Counted want = {{{1, "J11", 7}, 5}, {{1, eight, 17}, 2}, {{3, "", 0}, 1}};
  EXPECT_EQ(drained(restored), want);

  // The same entries as a CodedCounts saves: either table reads the other's state; an
  // index beyond the row's N is a damaged state, not a count out of bounds.
  CodedCounts coded;
  coded.add(1, "J11", 7, 5);
  pearl::MapStateWriter cw;
  coded.save_state(cw);
  pearl::MapStateReader cr(cw.bytes(), "rank-0.state");
  restored.restore_state(cr);
  EXPECT_EQ(drained(restored), (Counted{{{1, "J11", 7}, 5}}));
  CodedCounts beyond;
  beyond.add(1, "J11", 18);
  pearl::MapStateWriter bw;
  beyond.save_state(bw);
  pearl::MapStateReader br(bw.bytes(), "rank-0.state");
  EXPECT_THROW(restored.restore_state(br), InputError);
}

}  // namespace
}  // namespace pearl::jobs
