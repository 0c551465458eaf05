// How each shard is stored: the generator varies layout, stored widths, compression and
// string kinds across shards so that readers meet every variation the contract allows.
#include <fstream>

#include "common.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs::data {

std::vector<std::uint64_t> split_rows(std::uint64_t n, std::uint64_t shards) {
  std::vector<std::uint64_t> w(shards);
  std::uint64_t total = 0;
  for (std::uint64_t k = 0; k < shards; ++k) total += w[k] = (shards >= 5 && k == 3) ? 0 : 3 + k % 3;
  std::vector<std::uint64_t> bounds{0};
  std::uint64_t acc = 0;
  for (std::uint64_t k = 0; k < shards; ++k) {
    acc += w[k];
    // floor(n · acc / total) without overflowing n · acc.
    bounds.push_back(n / total * acc + n % total * acc / total);
  }
  return bounds;
}

ShardOptions storage_for(const std::string& table, std::uint64_t k) {
  ShardOptions o;
  o.layout = k % 2 == 1 ? ShardLayout::compound : ShardLayout::columnar;
  if (k % 3 == 2) {
    o.chunk_rows = 4096;
    o.gzip_level = 4;
  }
  // Strings: variable-length on shards 0 and 1 mod 4, fixed-length on 2 and 3 mod 4.
  if (k % 4 >= 2) o.fixed_string_bytes = 16;
  auto& s = o.stored_types;
  const bool odd = k % 2 == 1;
  if (table == "cases") {
    if (k % 4 == 1) s["age_years"] = DType::i16;
    if (k % 4 == 2) s = {{"region_code", DType::i64}, {"sex", DType::i32}};
    if (k % 4 == 3) s = {{"onset_day", DType::i64}, {"report_day", DType::i64}, {"age_years", DType::u16}};
  } else if (table == "checkups") {
    if (odd) s = {{"age_years", DType::i16}, {"smoker", DType::i8}, {"diabetes", DType::i64}};
    if (k % 3 == 1) s.insert({{"bmi", DType::f64}, {"systolic_bp", DType::f64}});
  } else if (table == "population") {
    s = {{"year", DType::i32}, {"population", DType::u32}};
  } else if (table == "contributions") {
    if (odd) s = {{"region_code", DType::i64}, {"industry", DType::u16}, {"insurance", DType::i32}, {"month", DType::i64}};
  } else if (table == "claims") {
    if (odd) s = {{"region_code", DType::i64}, {"benefit", DType::i16}};
    if (k % 3 == 2) s["claim_day"] = DType::i64;
  } else if (table == "unemployment") {
    if (odd) s = {{"region_code", DType::i64}, {"end_day", DType::i64}};
  } else if (table == "deaths") {
    s = {{"death_day", DType::i64}};
  } else if (table == "labour_force") {
    s = {{"region_code", DType::u64}, {"employed", DType::i32}};
  } else if (table == "taps") {
    if (odd) s = {{"station_id", DType::u16}, {"line_id", DType::i32}, {"tap_type", DType::i8}};
  } else if (table == "gps") {
    if (odd) s = {{"speed_kmh", DType::f64}, {"occupied", DType::i8}};
  } else if (table == "stations") {
    // One shard: a compound dataset with fixed-length UTF-8 names, as h5py writes from NumPy.
    o.layout = ShardLayout::compound;
    o.fixed_string_bytes = 24;
    s = {{"station_id", DType::u16}, {"line_id", DType::u8}};
  }
  return o;
}

std::string iso_date(std::int32_t day) {
  const Date d = date_of(day);
  auto two = [](int v) { return std::string(v < 10 ? "0" : "") + std::to_string(v); };
  std::string s = std::to_string(d.y);
  s.append(1, '-').append(two(d.m)).append(1, '-').append(two(d.d));
  return s;
}

void write_text_file(const std::filesystem::path& file, const std::string& text) {
  std::string name(1, '.');  // built by appending: GCC 12 warns falsely on "." + string
  name.append(file.filename().string()).append(".tmp");
  const std::filesystem::path temp = file.parent_path() / name;
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw Error(file.string() + ": cannot write (temporary " + temp.string() + ")");
  }
  std::error_code ec;
  std::filesystem::rename(temp, file, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    throw Error("cannot rename " + temp.string() + " to " + file.string());
  }
}

}  // namespace pearl::jobs::data
