// bench/engine.cpp — group-by-sum of N (int64 key, double value) pairs: pearl's
// reduce_by_key against a hand-written single-threaded hash-map loop.
//
//   engine --mode baseline --keys 1000 [--pairs 50000000] [--repeat 3] [--huge-pages 1]
//   mpirun -np 2 engine --mode pearl --keys 1000 [--memory 4GiB] [--threads 1] [--batch 65536]
//
// The pairs are the same in both modes: row i (0 <= i < N) has
//     key   = mix64(i) % K
//     value = (mix64(i ^ 0x9e3779b97f4a7c15) % 1000) / 8
// Every rank writes its share of rows (pearl::share_of, as RangeSource hands them out)
// into two arrays BEFORE the clock starts; the map then only reads them. The values are
// multiples of 1/8 below 125, so every sum is exact in a double whatever the summation
// order, and both modes print the same checksum.
//
// Timed, pearl: from a barrier to reduce_by_key's return, the result sorted by key on
// every rank (its maximum over ranks). Timed, baseline: building the hash map (from an
// empty table that grows, as pearl's does) and, separately, extracting and sorting the
// entries by key with std::sort; both figures are printed. Each measurement is repeated
// --repeat times and the best is kept; the process CPU time of the best repetition is
// printed too (max over ranks), to tell work from waiting on a shared machine.
// bench/engine.sh runs the modes and computes the ratios.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <iostream>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "pearl/cluster/mpi_session.hpp"
#include "pearl/core/engine.hpp"
#include "pearl/core/hash_table.hpp"
#include "pearl/core/memory.hpp"
#include "pearl/core/record.hpp"
#include "pearl/core/source.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using Pair = std::pair<std::int64_t, double>;

struct Options {
  std::string mode;
  std::uint64_t pairs = 50'000'000;
  std::uint64_t keys = 1000;
  int repeat = 3;
  std::size_t memory = std::size_t{4} << 30;
  int threads = 1;
  std::uint64_t batch = 1 << 16;
  bool huge_pages = false;  // baseline: ask for transparent huge pages, as pearl's tables do
};

[[noreturn]] void usage(const std::string& why) {
  throw std::invalid_argument(why + "\nusage: engine --mode baseline|pearl [--pairs N] [--keys K] [--repeat R] "
                                    "[--memory 4GiB] [--threads T] [--batch ROWS] [--huge-pages 0|1]");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) usage("missing value after " + a);
    const std::string v = argv[++i];
    if (a == "--mode") o.mode = v;
    else if (a == "--pairs") o.pairs = std::stoull(v);
    else if (a == "--keys") o.keys = std::stoull(v);
    else if (a == "--repeat") o.repeat = std::stoi(v);
    else if (a == "--memory") o.memory = pearl::parse_bytes(v);
    else if (a == "--threads") o.threads = std::stoi(v);
    else if (a == "--batch") o.batch = std::stoull(v);
    else if (a == "--huge-pages") o.huge_pages = v == "1" || v == "yes";
    else usage("unknown option " + a);
  }
  if (o.mode != "baseline" && o.mode != "pearl") usage("--mode must be baseline or pearl");
  if (o.keys == 0 || o.repeat < 1 || o.threads < 1) usage("--keys, --repeat and --threads must be positive");
  return o;
}

std::int64_t key_of(std::uint64_t i, std::uint64_t keys) { return static_cast<std::int64_t>(pearl::mix64(i) % keys); }
double value_of(std::uint64_t i) { return static_cast<double>(pearl::mix64(i ^ 0x9e3779b97f4a7c15ULL) % 1000) / 8.0; }

/// This process's rows, generated before any clock starts.
struct Data {
  pearl::RowRange rows;
  std::vector<std::int64_t> keys;
  std::vector<double> values;
};

Data generate(pearl::RowRange rows, std::uint64_t keys) {
  Data d{rows, std::vector<std::int64_t>(rows.size()), std::vector<double>(rows.size())};
  for (std::uint64_t i = rows.begin; i < rows.end; ++i) {
    d.keys[i - rows.begin] = key_of(i, keys);
    d.values[i - rows.begin] = value_of(i);
  }
  return d;
}

/// Order-independent digest of a result: (keys, sum of values, 32-bit hash sum).
struct Digest {
  std::int64_t keys = 0;
  double sum = 0;
  std::int64_t hash = 0;
  bool sorted = true;
  std::int64_t last = 0;
  void add(std::int64_t k, double v) {
    if (keys > 0 && !(last < k)) sorted = false;
    last = k;
    ++keys;
    sum += v;
    hash += static_cast<std::int64_t>(pearl::mix64(static_cast<std::uint64_t>(k) ^ pearl::mix64(std::bit_cast<std::uint64_t>(v))) >> 32);
  }
};

// ---- the hand-written baseline ------------------------------------------------------

/// Open addressing: power-of-two array of (key, value) slots, linear probing, an empty
/// key sentinel, mix64 as hash (pearl's hash of int64 keys), at most half full. With
/// `huge_pages`, large arrays are advised to use transparent huge pages before first
/// touch (the same hint pearl's tables use); otherwise a plain new[].
class FlatSumMap {
 public:
  static constexpr std::int64_t empty = INT64_MIN;
  struct Slot {
    std::int64_t key;
    double value;
  };

  explicit FlatSumMap(bool huge_pages) : huge_pages_(huge_pages) { allocate(16); }

  void add(std::int64_t key, double value) {
    if (2 * (size_ + 1) > capacity_) grow();
    for (std::size_t i = pearl::mix64(static_cast<std::uint64_t>(key)) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.key == key) {
        s.value += value;
        return;
      }
      if (s.key == empty) {
        s = {key, value};
        ++size_;
        return;
      }
    }
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::size_t bytes() const noexcept { return capacity_ * sizeof(Slot); }

  template <class F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].key != empty) f(slots_[i].key, slots_[i].value);
    }
  }

 private:
  void allocate(std::size_t capacity) {
    slots_ = std::make_unique_for_overwrite<Slot[]>(capacity);
    if (huge_pages_) pearl::detail::advise_huge_pages(slots_.get(), capacity * sizeof(Slot));
    for (std::size_t i = 0; i < capacity; ++i) slots_[i].key = empty;
    capacity_ = capacity;
    mask_ = capacity - 1;
    size_ = 0;
  }
  void grow() {
    auto old = std::move(slots_);
    const std::size_t old_capacity = capacity_;
    const std::size_t entries = size_;
    allocate(2 * old_capacity);
    for (std::size_t j = 0; j < old_capacity; ++j) {
      if (old[j].key == empty) continue;
      std::size_t i = pearl::mix64(static_cast<std::uint64_t>(old[j].key)) & mask_;
      while (slots_[i].key != empty) i = (i + 1) & mask_;
      slots_[i] = old[j];
    }
    size_ = entries;
  }

  bool huge_pages_;
  std::unique_ptr<Slot[]> slots_;
  std::size_t capacity_ = 0;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

/// CPU time of this process (all threads), for telling work from waiting on a busy machine.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

void print_result(const Options& o, const char* mode, int ranks, double best, const Digest& d,
                  const std::vector<std::int64_t>& rss, const std::vector<std::int64_t>& rss_data,
                  const std::string& extra) {
  std::string peak, data;
  for (std::size_t r = 0; r < rss.size(); ++r) {
    if (r > 0) {
      peak += ',';
      data += ',';
    }
    peak += std::to_string(rss[r]);
    data += std::to_string(rss_data[r]);
  }
  std::printf("RESULT mode=%s ranks=%d threads=%d pairs=%llu keys=%llu best_s=%.4f pairs_per_s=%.4e "
              "result_keys=%lld sum=%.3f hash=%lld peak_rss=%s rss_after_data=%s%s\n",
              mode, ranks, o.threads, static_cast<unsigned long long>(o.pairs), static_cast<unsigned long long>(o.keys),
              best, static_cast<double>(o.pairs) / best, static_cast<long long>(d.keys), d.sum,
              static_cast<long long>(d.hash), peak.c_str(), data.c_str(), extra.c_str());
  std::fflush(stdout);
}

int run_baseline(const Options& o) {
  const Data data = generate({0, o.pairs}, o.keys);
  const auto rss_data = static_cast<std::int64_t>(pearl::peak_rss_bytes());
  double best_build = 1e300, best_total = 1e300;
  Digest digest;
  std::size_t table_bytes = 0;
  double best_cpu = 1e300;
  for (int rep = 0; rep < o.repeat; ++rep) {
    const double c0 = cpu_seconds();
    const auto t0 = Clock::now();
    FlatSumMap map(o.huge_pages);
    const std::int64_t* k = data.keys.data();
    const double* v = data.values.data();
    const std::size_t n = data.keys.size();
    for (std::size_t i = 0; i < n; ++i) map.add(k[i], v[i]);
    const double build = seconds_since(t0);
    std::vector<Pair> out;
    out.reserve(map.size());
    if (o.huge_pages) pearl::detail::advise_huge_pages(out.data(), map.size() * sizeof(Pair));
    map.for_each([&](std::int64_t key, double value) { out.emplace_back(key, value); });
    std::sort(out.begin(), out.end(), [](const Pair& a, const Pair& b) { return a.first < b.first; });
    const double total = seconds_since(t0);
    const double cpu = cpu_seconds() - c0;
    best_cpu = std::min(best_cpu, cpu);
    table_bytes = map.bytes();
    std::printf("rep %d baseline: build %.4f s, build+sort %.4f s (cpu %.4f s)\n", rep + 1, build, total, cpu);
    best_build = std::min(best_build, build);
    best_total = std::min(best_total, total);
    digest = {};
    for (const auto& [key, value] : out) digest.add(key, value);
  }
  if (!digest.sorted) throw std::runtime_error("baseline result not sorted");
  print_result(o, o.huge_pages ? "baseline_huge" : "baseline", 1, best_total, digest, {static_cast<std::int64_t>(pearl::peak_rss_bytes())}, {rss_data},
               " build_s=" + std::to_string(best_build) + " build_pairs_per_s=" +
                   std::to_string(static_cast<double>(o.pairs) / best_build) + " table_bytes=" + std::to_string(table_bytes) + " best_cpu_s=" + std::to_string(best_cpu));
  return 0;
}

std::vector<std::int64_t> gather_int(pearl::Communicator& comm, std::int64_t mine) {
  std::vector<std::vector<std::byte>> all;
  comm.allgather(std::as_bytes(std::span<const std::int64_t>(&mine, 1)), all);
  std::vector<std::int64_t> out;
  for (const auto& b : all) {
    std::int64_t x;
    std::memcpy(&x, b.data(), sizeof x);
    out.push_back(x);
  }
  return out;
}

int run_pearl(const Options& o, pearl::Communicator& comm) {
  const Data data = generate(pearl::share_of(o.pairs, comm.rank(), comm.size()), o.keys);
  const auto rss_data = gather_int(comm, static_cast<std::int64_t>(pearl::peak_rss_bytes()));
  pearl::EngineOptions eo;
  eo.memory.total = o.memory;
  eo.threads = o.threads;
  pearl::Engine engine(comm, eo);
  double best = 1e300, best_cpu = 1e300;
  Digest digest;
  std::uint64_t spilled = 0, exchanges = 0, rounds = 0, bytes_sent = 0;
  for (int rep = 0; rep < o.repeat; ++rep) {
    pearl::RangeSource rows(comm, o.pairs, o.batch);
    if (rows.share().begin != data.rows.begin || rows.share().end != data.rows.end) throw std::logic_error("share mismatch");
    comm.barrier();
    const double c0 = cpu_seconds();
    const auto t0 = Clock::now();
    const auto result = engine.reduce_by_key<std::int64_t, double>(
        rows,
        [&](pearl::RowRange r, auto& emit) {
          const std::int64_t* k = data.keys.data() + (r.begin - data.rows.begin);
          const double* v = data.values.data() + (r.begin - data.rows.begin);
          const std::size_t n = r.size();
          for (std::size_t i = 0; i < n; ++i) emit(k[i], v[i]);
        },
        std::plus<>{});
    double times[2] = {seconds_since(t0), cpu_seconds() - c0};
    comm.allreduce(std::span<double>(times, 2), pearl::ReduceOp::max);
    best = std::min(best, times[0]);
    best_cpu = std::min(best_cpu, times[1]);
    if (comm.rank() == 0) std::printf("rep %d pearl, %d rank(s): %.4f s (cpu, max over ranks, %.4f s)\n", rep + 1, comm.size(), times[0], times[1]);
    Digest mine;
    result.for_each([&](std::int64_t k, double v) { mine.add(k, v); });
    if (!mine.sorted) throw std::runtime_error("pearl result not sorted on rank " + std::to_string(comm.rank()));
    double sum = mine.sum;
    comm.allreduce(std::span<double>(&sum, 1), pearl::ReduceOp::sum);
    std::int64_t counts[2] = {mine.keys, mine.hash};
    comm.allreduce(std::span<std::int64_t>(counts, 2), pearl::ReduceOp::sum);
    digest = {};
    digest.keys = counts[0];
    digest.hash = counts[1];
    digest.sum = sum;
    spilled = result.spilled_runs();
    const auto& s = engine.last_stats();
    exchanges = s.exchanges;
    rounds = s.rounds;
    bytes_sent = s.bytes_sent;
  }
  const auto rss = gather_int(comm, static_cast<std::int64_t>(pearl::peak_rss_bytes()));
  std::int64_t spills = static_cast<std::int64_t>(spilled);
  comm.allreduce(std::span<std::int64_t>(&spills, 1), pearl::ReduceOp::sum);
  if (comm.rank() == 0) {
    print_result(o, "pearl", comm.size(), best, digest, rss, rss_data,
                 " spilled_runs=" + std::to_string(spills) + " exchanges=" + std::to_string(exchanges) +
                     " rounds=" + std::to_string(rounds) + " bytes_sent_rank0=" + std::to_string(bytes_sent) + " best_cpu_s=" + std::to_string(best_cpu));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  pearl::cluster::MpiSession mpi(argc, argv);
  try {
    const Options o = parse(argc, argv);
    auto world = mpi.world();
    if (o.mode == "baseline") {
      if (world.size() != 1) throw std::invalid_argument("--mode baseline runs as one process");
      return run_baseline(o);
    }
    return run_pearl(o, world);
  } catch (const std::exception& e) {
    std::cerr << "engine: " << e.what() << '\n';
    return 2;
  }
}
