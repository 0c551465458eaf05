// io::ChecksumCache: an entry is found only for the same file with the same size and
// times; any change (rewrite of the same size with the old mtime put back, replacement by
// another file under the name) is a miss; a file still changing is not remembered; a
// missing or unwritable cache is no cache, and a corrupt entry is a miss.
#include "pearl/io/checksum_cache.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>

#include "pearl/io/provenance.hpp"

namespace pearl::io {
namespace {

namespace fs = std::filesystem;

class ChecksumCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("pearl-checksum-cache-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "data");
    file_ = dir_ / "data" / "a.h5";
    write(file_, "first content");
  }
  void TearDown() override { fs::remove_all(dir_); }

  /// Linux before 6.13 stamps file times with the kernel's tick (4 ms at HZ=250), so two
  /// changes within one tick can carry the same ctime. The cache never trusts a file
  /// changed in the last 2 s, so that cannot fool it; these tests trust at once (settle
  /// 0), so they wait out a tick before changing a file they have stamped.
  static void past_a_clock_tick() { std::this_thread::sleep_for(std::chrono::milliseconds(30)); }
  static void write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::trunc) << text; }
  /// The cache in dir_/cache, trusting changes as soon as they are made (settle 0).
  [[nodiscard]] ChecksumCache cache() const { return ChecksumCache(dir_ / "cache", 0); }

  /// Hashes file_ and remembers it, as the runner does.
  std::string hash_and_remember(const ChecksumCache& c) const {
    const auto before = FileStamp::of(file_);
    EXPECT_TRUE(before.has_value());
    std::string sum = file_checksum(file_);
    EXPECT_TRUE(c.remember(file_, *before, sum));
    return sum;
  }

  fs::path dir_, file_;
};

TEST_F(ChecksumCacheTest, RemembersAndFindsTheSameFileUnchanged) {
  const auto c = cache();
  EXPECT_EQ(c.find(*FileStamp::of(file_)), "");
  const std::string sum = hash_and_remember(c);
  EXPECT_EQ(c.find(*FileStamp::of(file_)), sum);
  EXPECT_EQ(ChecksumCache(dir_ / "cache").find(*FileStamp::of(file_)), sum);  // another run
}

TEST_F(ChecksumCacheTest, ARewriteOfTheSameSizeWithItsOldMtimePutBackIsAMiss) {
  const auto c = cache();
  hash_and_remember(c);
  struct stat st {};
  ASSERT_EQ(::stat(file_.c_str(), &st), 0);
  past_a_clock_tick();
  write(file_, "other content");  // same size
  const struct timespec times[2] = {st.st_atim, st.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, file_.c_str(), times, 0), 0);  // mtime as before; ctime moves
  const auto now = FileStamp::of(file_);
  EXPECT_EQ(now->mtime_ns, std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec);
  EXPECT_EQ(c.find(*now), "");
}

TEST_F(ChecksumCacheTest, AnotherFileUnderTheNameIsAMiss) {
  const auto c = cache();
  hash_and_remember(c);
  const fs::path other = dir_ / "data" / "b.h5";
  write(other, "first content");
  fs::rename(other, file_);
  EXPECT_EQ(c.find(*FileStamp::of(file_)), "");
}

TEST_F(ChecksumCacheTest, AFileChangedWhileHashedOrJustChangedIsNotRemembered) {
  const auto c = cache();
  const auto before = FileStamp::of(file_);
  past_a_clock_tick();
  write(file_, "first CONTENT");  // during the hashing
  EXPECT_FALSE(c.remember(file_, *before, "xxh3:0000000000000000"));
  EXPECT_EQ(c.find(*FileStamp::of(file_)), "");
  // With the real settling time a file written a moment ago is not trusted yet.
  const ChecksumCache settling(dir_ / "cache");
  const auto fresh = FileStamp::of(file_);
  EXPECT_FALSE(settling.remember(file_, *fresh, file_checksum(file_)));
  EXPECT_EQ(settling.find(*fresh), "");
}

TEST_F(ChecksumCacheTest, NoCacheAnUnwritableOneAndACorruptEntryAreMisses) {
  const ChecksumCache none{fs::path()};
  EXPECT_FALSE(none.enabled());
  EXPECT_FALSE(none.remember(file_, *FileStamp::of(file_), "xxh3:0000000000000000"));
  EXPECT_EQ(none.find(*FileStamp::of(file_)), "");

  write(dir_ / "not-a-dir", "x");
  const ChecksumCache blocked(dir_ / "not-a-dir" / "cache", 0);
  EXPECT_FALSE(blocked.remember(file_, *FileStamp::of(file_), "xxh3:0000000000000000"));

  const auto c = cache();
  hash_and_remember(c);
  for (const auto& e : fs::directory_iterator(dir_ / "cache")) write(e.path(), "pearl-checksum 1 garbage");
  EXPECT_EQ(c.find(*FileStamp::of(file_)), "");
}

TEST_F(ChecksumCacheTest, DefaultDirFollowsTheEnvironment) {
  // Put back as found: other tests in this binary may read them.
  const auto saved = [](const char* name) {
    const char* v = std::getenv(name);
    return v ? std::optional<std::string>(v) : std::nullopt;
  };
  const auto restore = [](const char* name, const std::optional<std::string>& v) {
    if (v)
      ::setenv(name, v->c_str(), 1);
    else
      ::unsetenv(name);
  };
  const auto cache_var = saved("PEARL_CHECKSUM_CACHE"), xdg = saved("XDG_CACHE_HOME");
  ::setenv("PEARL_CHECKSUM_CACHE", "off", 1);
  EXPECT_TRUE(ChecksumCache::default_dir().empty());
  ::setenv("PEARL_CHECKSUM_CACHE", "/somewhere/sums", 1);
  EXPECT_EQ(ChecksumCache::default_dir(), fs::path("/somewhere/sums"));
  ::unsetenv("PEARL_CHECKSUM_CACHE");
  ::setenv("XDG_CACHE_HOME", "/xdg", 1);
  EXPECT_EQ(ChecksumCache::default_dir(), fs::path("/xdg/pearl/checksums"));
  restore("PEARL_CHECKSUM_CACHE", cache_var);
  restore("XDG_CACHE_HOME", xdg);
}

}  // namespace
}  // namespace pearl::io
