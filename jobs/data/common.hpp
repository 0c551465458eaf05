// jobs/data/common.hpp — shared pieces of the data generator (data.generate).
//
// Determinism: every value is drawn from a counter-based generator (splitmix64 over
// pearl::mix64) keyed by the seed and by *what* is drawn (table, shard, row or person
// index), never by the rank, so the output is the same for any rank count.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "pearl/job.hpp"

namespace pearl::jobs::data {

/// FNV-1a of a name, to key generators by table or purpose.
constexpr std::uint64_t tag(std::string_view s) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

/// A key from several parts (seed, tags, indices).
inline std::uint64_t key(std::initializer_list<std::uint64_t> parts) noexcept {
  std::uint64_t h = 0x6a09e667f3bcc909ULL;
  for (const auto p : parts) h = mix64(h ^ mix64(p + 0x9e3779b97f4a7c15ULL));
  return h;
}

/// splitmix64: small, fast, portable (no std distributions, whose output varies by library).
class Rng {
 public:
  explicit Rng(std::uint64_t k) noexcept : s_(k) {}
  std::uint64_t next() noexcept {
    s_ += 0x9e3779b97f4a7c15ULL;
    return mix64(s_);
  }
  /// Uniform in [0, 1).
  double uniform() noexcept { return static_cast<double>(next() >> 11U) * 0x1.0p-53; }
  /// Uniform in [0, n).
  std::uint64_t below(std::uint64_t n) noexcept { return n == 0 ? 0 : next() % n; }
  /// Uniform integer in [lo, hi].
  int between(int lo, int hi) noexcept {
    return lo + static_cast<int>(below(static_cast<std::uint64_t>(hi - lo + 1)));
  }
  bool chance(double p) noexcept { return uniform() < p; }
  /// Standard normal (Box–Muller).
  double normal() noexcept {
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }
  /// Standard normal truncated to [-limit, limit] (by clamping).
  double normal_clamped(double limit) noexcept { return std::clamp(normal(), -limit, limit); }

 private:
  std::uint64_t s_;
};

/// Cumulative weights; `sample(u)` picks index i with probability w_i / Σw.
class Weighted {
 public:
  Weighted() = default;
  explicit Weighted(const std::vector<double>& w) {
    double s = 0;
    for (const double x : w) cum_.push_back(s += x);
  }
  [[nodiscard]] std::size_t sample(double u) const {
    const auto it = std::upper_bound(cum_.begin(), cum_.end(), u * cum_.back());
    return std::min(static_cast<std::size_t>(it - cum_.begin()), cum_.size() - 1);
  }
  [[nodiscard]] std::size_t pick(Rng& r) const { return sample(r.uniform()); }
  [[nodiscard]] double total() const { return cum_.empty() ? 0.0 : cum_.back(); }
  [[nodiscard]] std::size_t size() const { return cum_.size(); }

 private:
  std::vector<double> cum_;
};

// ---- calendar (days since 1970-01-01) ---------------------------------------------

/// Days since 1970-01-01 of a civil date (pearl/core/calendar.hpp).
constexpr std::int32_t day_of(int y, int m, int d) noexcept {
  return static_cast<std::int32_t>(days_from_civil(y, static_cast<unsigned>(m), static_cast<unsigned>(d)));
}
struct Date {
  int y, m, d;
};
constexpr Date date_of(std::int32_t z) noexcept {
  const Civil c = civil_from_days(z);
  return {c.year, static_cast<int>(c.month), static_cast<int>(c.day)};
}
/// yyyymm → first day / last day.
constexpr std::int32_t month_first(int yyyymm) noexcept { return day_of(yyyymm / 100, yyyymm % 100, 1); }
constexpr std::int32_t month_last(int yyyymm) noexcept {
  const int y = yyyymm / 100, m = yyyymm % 100;
  return (m == 12 ? day_of(y + 1, 1, 1) : day_of(y, m + 1, 1)) - 1;
}
constexpr int month_of(std::int32_t day) noexcept {
  const Date d = date_of(day);
  return d.y * 100 + d.m;
}
constexpr int add_months(int yyyymm, int n) noexcept {
  const int k = (yyyymm / 100) * 12 + (yyyymm % 100 - 1) + n;
  return (k / 12) * 100 + k % 12 + 1;
}
std::string iso_date(std::int32_t day);

// ---- generation plan --------------------------------------------------------------

struct Params {
  std::string domain;
  std::uint64_t rows = 0;    // rows of the domain's main table
  std::uint64_t shards = 1;  // shards per big table
  std::uint64_t seed = 1;
  // A shard's rows past this many bytes wait on scratch for the write (0: never), so a
  // shard larger than --memory is written within it (OutputTable::spill_past).
  std::size_t spill_bytes = 0;
  std::filesystem::path scratch;
};

/// An empty shard of a big table, spilling as `p` says.
inline OutputTable shard_table(const Params& p, std::string name, std::vector<ColumnSpec> specs) {
  OutputTable t(std::move(name), std::move(specs));
  if (p.spill_bytes > 0) t.spill_past(p.spill_bytes, p.scratch);
  return t;
}

/// Row ranges of `shards` shards over `n` rows: deliberately uneven (weights 3, 4, 5, 3, ...)
/// and, with 5 or more shards, shard 3 empty (so readers meet a zero-row shard).
/// Returns shards + 1 boundaries.
std::vector<std::uint64_t> split_rows(std::uint64_t n, std::uint64_t shards);

/// One table of a domain: how many shards and how to make shard k.
struct TableTask {
  std::string table;
  std::uint64_t shards = 1;
  std::function<OutputTable(std::uint64_t k)> make;
};

/// A domain: its tables and its ground-truth side files (written by rank 0).
struct Domain {
  std::vector<TableTask> tables;
  std::function<std::vector<std::string>(const std::filesystem::path& dir)> sidecars;  // returns file names
};

Domain health_domain(const Params& p);
Domain social_domain(const Params& p);
Domain transport_domain(const Params& p);

/// Storage variation per table and shard (layouts, stored widths, compression, strings).
ShardOptions storage_for(const std::string& table, std::uint64_t k);

/// Writes `text` to `file` via a temporary name and a rename.
void write_text_file(const std::filesystem::path& file, const std::string& text);

/// "%.2f"-style rounding of money to cents.
inline double cents(double v) { return std::round(v * 100.0) / 100.0; }

}  // namespace pearl::jobs::data
