// bench/io.cpp — the I/O benchmark's C++ side (driven by bench/io.sh; never a CTest).
//
//   io read FILE PATH [--batch-bytes N] [--repeat R]
//       (a) pearl's reader against plain HDF5, in one process, interleaved: R times
//       `H5Dread` of k1 and k2 whole into preallocated (already touched) buffers, and R
//       times io::TableSource over {k1:i32, k2:i32} for rank 0 of 1 in batches of
//       TableSource::rows_for_budget(cols, N) rows, N defaulting to what the runner
//       gives one map thread of a 1 GiB budget (1 GiB / 8). Best of R each.
//   io loop FILE PATH [--repeat R]
//       (b, d) the hand-written baseline: k1 and k2 read with `H5Dread` in chunk-sized
//       blocks into reused buffers, groups counted in an open-addressing hash map
//       (linear probing, multiplicative hash, power-of-two capacity). Best of R.
//   io scan FILE PATH --columns NAME:TYPE,... [--batch-bytes N] [--repeat R]
//       io::TableSource over any projection of one shard (FILE may be a glob: then each
//       matching shard is timed alone, and all of them together), as the runner sizes
//       batches; for timing the read path on real inputs (data.generate's layouts:
//       columnar, compound, gzip chunks, variable-length strings). Best of R.
//   io checksum FILE... [--repeat R]
//       io::file_checksum of each file (the output's input provenance). Best of R.
//
// Output: `key=value` lines (times in seconds, peak RSS in bytes from VmHWM, reset
// between phases through /proc/self/clear_refs), read by bench/io.py.
#include <hdf5.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "pearl/io/catalogue.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/provenance.hpp"
#include "pearl/io/table_source.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

std::uint64_t vm_hwm() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

/// Resets VmHWM to the current RSS (Linux >= 4.0), so a phase's peak can be read alone.
void reset_hwm() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

void need(bool ok, const std::string& what) {
  if (!ok) {
    std::cerr << "io: " << what << "\n";
    std::exit(1);
  }
}

struct Dataset {
  hid_t id = H5I_INVALID_HID;
  hsize_t rows = 0;
  hsize_t chunk = 0;  // 0: contiguous
  Dataset(hid_t file, const std::string& path) {
    id = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
    need(id >= 0, "cannot open " + path);
    const hid_t space = H5Dget_space(id);
    H5Sget_simple_extent_dims(space, &rows, nullptr);
    H5Sclose(space);
    const hid_t dcpl = H5Dget_create_plist(id);
    if (H5Pget_layout(dcpl) == H5D_CHUNKED) H5Pget_chunk(dcpl, 1, &chunk);
    H5Pclose(dcpl);
  }
  Dataset(const Dataset&) = delete;
  Dataset& operator=(const Dataset&) = delete;
  ~Dataset() { H5Dclose(id); }

  /// Rows [begin, begin + n) into out, as native int32.
  void read(hsize_t begin, hsize_t n, std::int32_t* out) const {
    const hid_t fs = H5Dget_space(id);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &begin, nullptr, &n, nullptr);
    const hid_t ms = H5Screate_simple(1, &n, nullptr);
    need(H5Dread(id, H5T_NATIVE_INT32, ms, fs, H5P_DEFAULT, out) >= 0, "H5Dread failed");
    H5Sclose(ms);
    H5Sclose(fs);
  }
};

std::string path_join(const std::string& group, const char* name) {
  return group == "/" ? std::string("/") + name : group + "/" + name;
}

/// Open-addressing group counter for (k1, k2) pairs.
class Counter {
 public:
  Counter() { resize(1 << 16); }
  void add(std::int32_t a, std::int32_t b) {
    const std::uint64_t key = (std::uint64_t{static_cast<std::uint32_t>(a)} << 32) | static_cast<std::uint32_t>(b);
    std::size_t i = (key * 0x9E3779B97F4A7C15ull) >> shift_;
    for (;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.count == 0) {
        s.key = key;
        s.count = 1;
        if (++size_ * 2 > slots_.size()) resize(slots_.size() * 2);
        return;
      }
      if (s.key == key) {
        ++s.count;
        return;
      }
    }
  }
  [[nodiscard]] std::size_t size() const { return size_; }
  /// Groups and sum over groups of count * (k1 * 131 + k2): the same check as io.py's.
  [[nodiscard]] std::int64_t checksum() const {
    std::int64_t sum = 0;
    for (const auto& s : slots_) {
      if (s.count == 0) continue;
      const auto k1 = static_cast<std::int32_t>(s.key >> 32);
      const auto k2 = static_cast<std::int32_t>(s.key & 0xffffffffu);
      sum += static_cast<std::int64_t>(s.count) * (std::int64_t{k1} * 131 + k2);
    }
    return sum;
  }

 private:
  struct Slot {
    std::uint64_t key;
    std::uint64_t count;  // 0: empty
  };
  void resize(std::size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{0, 0});
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    size_ = 0;
    for (const auto& s : old) {
      if (s.count == 0) continue;
      std::size_t i = (s.key * 0x9E3779B97F4A7C15ull) >> shift_;
      while (slots_[i].count != 0) i = (i + 1) & mask_;
      slots_[i] = s;
      ++size_;
    }
  }
  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

int read_bench(const std::string& file, const std::string& group, std::size_t batch_bytes, int repeat) {
  const std::vector<pearl::ColumnSpec> cols{{"k1", pearl::DType::i32}, {"k2", pearl::DType::i32}};
  const pearl::io::Catalogue cat = pearl::io::Catalogue::build(pearl::io::parse_input_spec("t=" + file + ":" + group), cols);
  const std::uint64_t batch_rows = pearl::io::TableSource::rows_for_budget(cols, batch_bytes);
  const std::uint64_t rows = cat.total_rows();
  const double bytes = static_cast<double>(rows) * 8.0;

  double best_h5 = 1e300, best_src = 1e300;
  std::uint64_t hwm_h5 = 0, hwm_src = 0, batches = 0;
  for (int r = 0; r < repeat; ++r) {
    {  // plain H5Dread, whole datasets, into preallocated buffers (touched before timing)
      std::vector<std::int32_t> a(rows, 1), b(rows, 1);
      const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
      need(f >= 0, "cannot open " + file);
      reset_hwm();
      const auto t0 = Clock::now();
      {
        const Dataset k1(f, path_join(group, "k1")), k2(f, path_join(group, "k2"));
        k1.read(0, rows, a.data());
        k2.read(0, rows, b.data());
      }
      best_h5 = std::min(best_h5, since(t0));
      hwm_h5 = std::max(hwm_h5, vm_hwm());
      H5Fclose(f);
      need(a[rows / 2] != 1 || b[rows / 2] != 1 || rows == 0, "H5Dread read nothing?");
    }
    {  // pearl's reader, as the runner sizes its batches
      reset_hwm();
      const auto t0 = Clock::now();
      pearl::io::TableSource source(cat, cols, 0, 1, batch_rows);
      std::uint64_t seen = 0;
      batches = 0;
      while (auto batch = source.next()) {
        seen += batch->rows();
        ++batches;
      }
      best_src = std::min(best_src, since(t0));
      hwm_src = std::max(hwm_src, vm_hwm());
      need(seen == rows, "TableSource delivered " + std::to_string(seen) + " of " + std::to_string(rows) + " rows");
    }
  }
  std::cout << "rows=" << rows << "\nbatch_rows=" << batch_rows << "\nbatches=" << batches
            << "\nh5dread_s=" << best_h5 << "\nh5dread_gbps=" << bytes / best_h5 / 1e9
            << "\nh5dread_peak_rss=" << hwm_h5 << "\nsource_s=" << best_src
            << "\nsource_gbps=" << bytes / best_src / 1e9 << "\nsource_peak_rss=" << hwm_src
            << "\nratio=" << best_h5 / best_src << "\n";
  return 0;
}

int loop_bench(const std::string& file, const std::string& group, int repeat) {
  double best = 1e300;
  std::size_t groups = 0;
  std::int64_t checksum = 0;
  hsize_t rows = 0, chunk = 0;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    const hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    need(f >= 0, "cannot open " + file);
    {
      const Dataset k1(f, path_join(group, "k1")), k2(f, path_join(group, "k2"));
      rows = k1.rows;
      chunk = k1.chunk != 0 ? k1.chunk : hsize_t{1} << 18;
      std::vector<std::int32_t> a(chunk), b(chunk);
      Counter counter;
      for (hsize_t off = 0; off < rows; off += chunk) {
        const hsize_t n = std::min(chunk, rows - off);
        k1.read(off, n, a.data());
        k2.read(off, n, b.data());
        for (hsize_t i = 0; i < n; ++i) counter.add(a[i], b[i]);
      }
      groups = counter.size();
      checksum = counter.checksum();
    }
    H5Fclose(f);
    best = std::min(best, since(t0));
  }
  std::cout << "rows=" << rows << "\nchunk_rows=" << chunk << "\nloop_s=" << best
            << "\nloop_mrows=" << static_cast<double>(rows) / best / 1e6 << "\ngroups=" << groups
            << "\nchecksum=" << checksum << "\npeak_rss=" << vm_hwm() << "\n";
  return 0;
}

/// "region_code:u32,disease:str" as column specs.
std::vector<pearl::ColumnSpec> parse_columns(const std::string& text) {
  std::vector<pearl::ColumnSpec> cols;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find(',', at);
    if (end == std::string::npos) end = text.size();
    const std::string item = text.substr(at, end - at);
    const std::size_t colon = item.find(':');
    need(colon != std::string::npos, "--columns: " + item + " is not NAME:TYPE");
    cols.push_back({item.substr(0, colon), pearl::parse_dtype(item.substr(colon + 1))});
    at = end + 1;
  }
  return cols;
}

/// Best of `repeat` passes of TableSource over `spec` (all its shards, rank 0 of 1).
double scan_once(const std::string& spec, const std::vector<pearl::ColumnSpec>& cols, std::size_t batch_bytes,
                 int repeat, std::uint64_t& rows) {
  const pearl::io::Catalogue cat = pearl::io::Catalogue::build(pearl::io::parse_input_spec(spec), cols);
  const std::uint64_t batch_rows = pearl::io::TableSource::rows_for_budget(cols, batch_bytes);
  double best = 1e300;
  for (int r = 0; r < repeat; ++r) {
    const auto t0 = Clock::now();
    pearl::io::TableSource source(cat, cols, 0, 1, batch_rows);
    rows = 0;
    while (auto batch = source.next()) {
      rows += batch->rows();
      source.recycle(std::move(*batch));
    }
    best = std::min(best, since(t0));
  }
  return best;
}

int scan_bench(const std::string& file, const std::string& path, const std::string& columns, std::size_t batch_bytes,
               int repeat) {
  const auto cols = parse_columns(columns);
  const auto shards = pearl::io::expand_glob(file);
  std::uint64_t rows = 0;
  for (const auto& shard : shards) {
    const double s = scan_once("t=" + shard.string() + ":" + path, cols, batch_bytes, repeat, rows);
    std::cout << "shard=" << shard.string() << " rows=" << rows << " scan_s=" << s << "\n";
  }
  const double all = scan_once("t=" + file + ":" + path, cols, batch_bytes, repeat, rows);
  std::cout << "rows=" << rows << "\nscan_s=" << all << "\nscan_mrows=" << static_cast<double>(rows) / all / 1e6
            << "\n";
  return 0;
}

int checksum_bench(const std::vector<std::string>& files, int repeat) {
  double total = 0;
  double bytes = 0;
  for (const auto& f : files) {
    double best = 1e300;
    std::string sum;
    for (int r = 0; r < repeat; ++r) {
      const auto t0 = Clock::now();
      sum = pearl::io::file_checksum(f);
      best = std::min(best, since(t0));
    }
    const auto size = static_cast<double>(std::filesystem::file_size(f));
    std::cout << "file=" << f << " checksum=" << sum << " checksum_s=" << best << "\n";
    total += best;
    bytes += size;
  }
  std::cout << "checksum_s=" << total << "\nchecksum_gbps=" << bytes / total / 1e9 << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::string(argv[1]) == "checksum") {
    std::vector<std::string> files;
    int repeat = 3;
    for (int i = 2; i < argc; ++i) {
      if (std::string(argv[i]) == "--repeat" && i + 1 < argc) repeat = std::stoi(argv[++i]);
      else files.emplace_back(argv[i]);
    }
    return checksum_bench(files, repeat);
  }
  if (argc < 4) {
    std::cerr << "usage: io read|loop|scan FILE PATH [--columns NAME:TYPE,...] [--batch-bytes N] [--repeat R]\n"
                 "       io checksum FILE... [--repeat R]\n";
    return 2;
  }
  const std::string mode = argv[1], file = argv[2], group = argv[3];
  std::size_t batch_bytes = (std::size_t{1} << 30) / 8;  // runner: memory.total / 8 / threads
  int repeat = 3;
  std::string columns;
  for (int i = 4; i + 1 < argc; i += 2) {
    const std::string opt = argv[i];
    if (opt == "--columns") columns = argv[i + 1];
    else if (opt == "--batch-bytes") batch_bytes = std::stoull(argv[i + 1]);
    else if (opt == "--repeat") repeat = std::stoi(argv[i + 1]);
    else need(false, "unknown option " + opt);
  }
  pearl::io::init_hdf5();
  try {
    if (mode == "read") return read_bench(file, group, batch_bytes, repeat);
    if (mode == "loop") return loop_bench(file, group, repeat);
    if (mode == "scan") return scan_bench(file, group, columns, batch_bytes, repeat);
  } catch (const std::exception& e) {
    std::cerr << "io: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "io: unknown mode " << mode << "\n";
  return 2;
}
