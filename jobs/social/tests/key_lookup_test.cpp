// Unit tests of jobs/social/key_lookup.hpp: social.anomalies' replicated side tables
// (KeyLookup: find, the prefetched find a block of probes uses, emplace) and the bitmap of
// persons in front of them (PersonBits: never a "no" for a person added).
#include "../key_lookup.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace pearl::jobs::social {
namespace {

using PersonMonth = std::pair<std::uint64_t, std::int32_t>;

TEST(KeyLookup, FindsWhatItWasBuiltFromByEitherFind) {
  std::vector<std::pair<PersonMonth, std::uint8_t>> pairs;
  for (std::uint64_t p = 0; p < 5000; ++p) pairs.emplace_back(PersonMonth{p * 7919, 202301 + static_cast<int>(p % 12)}, 1);
  pairs.emplace_back(pairs.front().first, 2);  // a later duplicate is ignored
  const KeyLookup<PersonMonth, std::uint8_t> lookup(pairs);
  EXPECT_EQ(lookup.size(), 5000U);
  for (std::size_t i = 0; i + 1 < pairs.size(); ++i) {
    const auto& key = pairs[i].first;
    const auto h = KeyLookup<PersonMonth, std::uint8_t>::hash(key);
    lookup.prefetch(h);
    ASSERT_NE(lookup.find(key, h), nullptr);
    EXPECT_EQ(*lookup.find(key, h), 1);
    EXPECT_EQ(lookup.find(key), lookup.find(key, h));
  }
  for (std::uint64_t p = 0; p < 5000; ++p) {  // same persons, other months; other persons
    const PersonMonth other_month{p * 7919, 202401};
    const PersonMonth other_person{p * 7919 + 1, 202301};
    EXPECT_FALSE(lookup.contains(other_month));
    EXPECT_EQ(lookup.find(other_person, KeyLookup<PersonMonth, std::uint8_t>::hash(other_person)), nullptr);
  }
}

TEST(KeyLookup, EmplaceAddsOnceAndGrows) {
  KeyLookup<std::uint64_t, std::uint32_t> groups;
  for (std::uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(groups.emplace(i * 31, i), i);
  for (std::uint32_t i = 0; i < 1000; ++i) EXPECT_EQ(groups.emplace(i * 31, 99999), i);  // found, not replaced
  EXPECT_EQ(groups.size(), 1000U);
}

TEST(PersonBits, NeverSaysNoForAnAddedPersonAndRarelyYesForOthers) {
  for (const std::size_t persons : {std::size_t{0}, std::size_t{1000}, std::size_t{200000}}) {
    PersonBits bits(persons);
    for (std::uint64_t p = 0; p < persons; ++p) bits.add(p * 0x9e3779b97f4a7c15ULL);
    for (std::uint64_t p = 0; p < persons; ++p) ASSERT_TRUE(bits.may_contain(p * 0x9e3779b97f4a7c15ULL)) << p;
    std::size_t yes = 0;
    constexpr std::size_t kOthers = 100000;
    for (std::uint64_t p = 0; p < kOthers; ++p) yes += bits.may_contain(~p) ? 1 : 0;
    // At least 16 bits a person: about 1 in 16 or fewer others answer yes.
    EXPECT_LT(yes, kOthers / 10) << persons << " persons";
    if (persons == 0) {
      EXPECT_EQ(yes, 0U);
    }
  }
}

}  // namespace
}  // namespace pearl::jobs::social
