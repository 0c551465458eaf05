// Unit tests of core's building blocks: sizes, records, hash table, scratch runs.
#include <gtest/gtest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <random>
#include <tuple>

#include "pearl/core/error.hpp"
#include "pearl/core/hash_table.hpp"
#include "pearl/core/leftovers.hpp"
#include "pearl/core/options.hpp"
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

TEST(Scratch, IsPrivateAndStampedWithHostAndPid) {
  ScratchDir dir(ScratchDir::default_parent(), "unit");
  struct stat st {};
  ASSERT_EQ(::stat(dir.path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700U);
  const auto stamp = parse_stamp(dir.path().filename().string());
  ASSERT_TRUE(stamp.has_value());
  EXPECT_EQ(stamp->prefix, "pearl-unit");
  EXPECT_EQ(stamp->pid, static_cast<long>(::getpid()));
  EXPECT_FALSE(owner_is_gone(*stamp));  // this process
}

TEST(Scratch, ParentMustBeAWritableDirectory) {
  EXPECT_THROW(ScratchDir::check_parent("/nonexistent/pearl"), InputError);
  EXPECT_THROW(ScratchDir::check_parent("/proc/self"), InputError);  // exists, but no directory can be made there
  EXPECT_NO_THROW(ScratchDir::check_parent(ScratchDir::default_parent()));
}

TEST(Leftovers, StampsParseFromTheRight) {
  const auto s = parse_stamp(".a@b.h5.tmp@node-07.cluster+4242-0123abcd");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->prefix, ".a@b.h5.tmp");
  EXPECT_EQ(s->host, "node-07.cluster");
  EXPECT_EQ(s->pid, 4242);
  EXPECT_FALSE(parse_stamp("pearl-rank0-Xy12Ab").has_value());  // an old-style name: not ours to judge
  EXPECT_FALSE(parse_stamp("x@host+12x-a").has_value());
  EXPECT_FALSE(parse_stamp("x@host+-a").has_value());
}

TEST(Leftovers, OnlyThoseOfDeadProcessesOnThisHostAreRemoved) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ::waitpid(child, nullptr, 0);  // now a pid of no process
  const std::string host = process_stamp().substr(0, process_stamp().rfind('+'));
  ScratchDir dir(ScratchDir::default_parent(), "leftovers");
  const auto make = [&](const std::string& name) {
    std::ofstream(dir.path() / name) << "x";
    return dir.path() / name;
  };
  const auto dead = make("pearl-x@" + host + "+" + std::to_string(child) + "-aaaaaa");
  const auto alive = make("pearl-x@" + host + "+" + std::to_string(::getpid()) + "-bbbbbb");
  const auto elsewhere = make("pearl-x@another-host:" + std::to_string(child) + "-cccccc");
  const auto not_ours = make("other@" + host + "+" + std::to_string(child) + "-dddddd");
  const auto removed = remove_leftovers(dir.path(), [](std::string_view p) { return p.starts_with("pearl-"); });
  ASSERT_EQ(removed.size(), 1U);
  EXPECT_EQ(removed[0].path, dead);
  EXPECT_EQ(removed[0].owner.pid, static_cast<long>(child));
  EXPECT_FALSE(std::filesystem::exists(dead));
  for (const auto& p : {alive, elsewhere, not_ours}) EXPECT_TRUE(std::filesystem::exists(p)) << p;
}

TEST(OptionDomain, ParsesStrictlyAndNamesTheDomain) {
  EXPECT_EQ(parse_in_domain<unsigned long>("42", 1, 100, false), 42U);
  EXPECT_EQ(parse_in_domain<int>("+7", -1, 10, false), 7);
  EXPECT_EQ(parse_in_domain<int>("-1", -1, 10, false), -1);
  EXPECT_DOUBLE_EQ(parse_in_domain<double>("2.5e3", 0.0, 1e9, true), 2500.0);
  const auto message = [](auto parse) {
    try {
      parse();
    } catch (const OptionValueError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message([] { parse_in_domain<unsigned long>("-5", 0, ~0UL, false); }).find("'-5' is negative (domain N>=0)"),
            std::string::npos);
  EXPECT_NE(message([] { parse_in_domain<int>("0", 1, 64, false); }).find("(domain 1..64)"), std::string::npos);
  EXPECT_NE(message([] { parse_in_domain<int>("5x", 1, 64, false); }).find("is not a number"), std::string::npos);
  EXPECT_NE(message([] { parse_in_domain<long>("99999999999999999999", 0, 10, false); }).find("out of range"),
            std::string::npos);
  EXPECT_NE(message([] { parse_in_domain<double>("0", 0.0, 1e300, true); }).find("not allowed (domain 0<X<=1e+300)"), std::string::npos);
  EXPECT_NE(message([] { parse_in_domain<double>("inf", 0.0, 1e300, true); }).find("finite"), std::string::npos);
  EXPECT_NE(message([] { parse_in_domain<double>("nan", 0.0, 1e300, true); }).find("finite"), std::string::npos);
  EXPECT_EQ(domain_text<int>(1, 64, false), "1..64");
  EXPECT_EQ(domain_text<unsigned long>(0, ~0UL, false), "N>=0");
  EXPECT_EQ(domain_text<double>(0.0, std::numeric_limits<double>::max(), true), "X>0");
}

TEST(OptionDomain, RepeatedNamesAreRefused) {
  EXPECT_EQ(parse_names("sum", " a, b ").size(), 2U);
  EXPECT_THROW(parse_names("sum", "a,b,a"), InputError);
  EXPECT_THROW(parse_choices("by", "x,x", {"x", "y"}), InputError);
}

}  // namespace
}  // namespace pearl
