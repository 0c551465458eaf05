// The output writer on every layout (1–4 simulated ranks; under mpirun the MPI world,
// i.e. the parallel-HDF5 path), read back by check_output.py with h5py and pandas.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/leftovers.hpp"
#include "pearl/io/atomic_output.hpp"
#include "pearl/io/output_set.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/output_writer.hpp"
#include "pearl/io/provenance.hpp"
#include "test_world.hpp"

namespace fs = std::filesystem;
using pearl::Communicator;
using pearl::DType;
using pearl::OutputTable;

namespace {

std::string broadcast_string(Communicator& comm, const std::string& s, int root = 0) {
  std::vector<std::byte> b(reinterpret_cast<const std::byte*>(s.data()),
                           reinterpret_cast<const std::byte*>(s.data() + s.size()));
  comm.broadcast(b, root);
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

/// A directory private to this test program (the same on every MPI rank).
const fs::path& scratch() {
  static const fs::path dir = [] {
    auto& w = pearl::testing::world();
    const std::string pid = broadcast_string(w, std::to_string(::getpid()));
    fs::path d = fs::path(PEARL_IO_WRITER_SCRATCH) / ("scratch-" + pid);
    if (w.rank() == 0) {
      fs::remove_all(d);
      fs::create_directories(d);
    }
    w.barrier();
    return d;
  }();
  return dir;
}

std::string layout_name(Communicator& comm) {
  return (comm.mpi_comm() != nullptr ? "mpi" : "sim") + std::to_string(comm.size());
}

// ---- the tables -------------------------------------------------------------------

std::uint64_t rows_on(int rank) {
  constexpr std::uint64_t sizes[] = {6, 0, 5, 2};
  return sizes[rank % 4];
}

const std::vector<std::string> kWords{"深圳北站", "", "a,b", "say \"hi\"", "two\nlines", " padded ", "plain", "ünïcödé 🚇"};

std::vector<pearl::ColumnSpec> every_type_specs() {
  return {{"u8", DType::u8},   {"u16", DType::u16}, {"u32", DType::u32}, {"u64", DType::u64},
          {"i8", DType::i8},   {"i16", DType::i16}, {"i32", DType::i32}, {"i64", DType::i64},
          {"f32", DType::f32}, {"f64", DType::f64}, {"name", DType::str}};
}

template <class T>
using lim = std::numeric_limits<T>;

void append_every_type(OutputTable& t, std::uint64_t g) {
  const auto gi = static_cast<std::int64_t>(g);
  const auto u8 = g == 0 ? lim<std::uint8_t>::max() : static_cast<std::uint8_t>((g * 37) % 256);
  const auto u16 = g == 0 ? lim<std::uint16_t>::max() : static_cast<std::uint16_t>(g * 1000);
  const auto u32 = g == 0 ? lim<std::uint32_t>::max() : static_cast<std::uint32_t>(440106 + g);
  const std::uint64_t u64 = g == 0 ? lim<std::uint64_t>::max() : g == 1 ? 0 : g * 1000000000000007ULL;
  const std::int8_t i8 = g == 0 ? lim<std::int8_t>::min() : g == 1 ? lim<std::int8_t>::max() : static_cast<std::int8_t>(-gi);
  const std::int16_t i16 =
      g == 0 ? lim<std::int16_t>::min() : g == 1 ? lim<std::int16_t>::max() : static_cast<std::int16_t>(-100 * gi);
  const std::int32_t i32 =
      g == 0 ? lim<std::int32_t>::min() : g == 1 ? lim<std::int32_t>::max() : static_cast<std::int32_t>(19000 + gi);
  const std::int64_t i64 = g == 0 ? lim<std::int64_t>::min() : g == 1 ? lim<std::int64_t>::max() : -gi * 1000000000000LL;
  const float f32 = g == 0   ? lim<float>::quiet_NaN()
                    : g == 1 ? lim<float>::infinity()
                    : g == 2 ? -lim<float>::infinity()
                    : g == 3 ? -0.0F
                             : 0.1F * static_cast<float>(g);
  const double f64 = g == 0   ? 1e-300
                     : g == 1 ? lim<double>::quiet_NaN()
                     : g == 2 ? -lim<double>::infinity()
                     : g == 3 ? lim<double>::denorm_min()
                     : g == 4 ? lim<double>::max()
                              : static_cast<double>(g) / 3.0;
  std::string name = kWords[g % kWords.size()];
  if (g >= kWords.size()) name += std::to_string(g);
  t.append(u8, u16, u32, u64, i8, i16, i32, i64, f32, f64, name);
}

/// This rank's parts: every_type (uneven, rank 1 empty), empty (no rows anywhere),
/// tail (rows on the last rank only). With `spill_bytes`, every_type and tail move their
/// rows to scratch in rounds of that many bytes (OutputTable::spill_past): rounds of a
/// row or two, as many as each rank has.
std::vector<OutputTable> make_parts(int rank, int size, std::size_t spill_bytes = 0) {
  std::vector<OutputTable> parts;
  parts.emplace_back("every_type", every_type_specs());
  if (spill_bytes > 0) parts.back().spill_past(spill_bytes, scratch());
  std::uint64_t first = 0;
  for (int r = 0; r < rank; ++r) first += rows_on(r);
  for (std::uint64_t i = 0; i < rows_on(rank); ++i) append_every_type(parts.back(), first + i);
  parts.emplace_back("empty", std::vector<pearl::ColumnSpec>{{"id", DType::u64}, {"label", DType::str}, {"x", DType::f32}});
  parts.emplace_back("tail", std::vector<pearl::ColumnSpec>{{"v", DType::i32}, {"s", DType::str}});
  if (spill_bytes > 0) parts.back().spill_past(spill_bytes, scratch());
  if (rank == size - 1) {
    for (int i = 0; i < 4; ++i) parts.back().append(static_cast<std::int32_t>(i - 2), std::string("广州") + std::to_string(i));
  }
  return parts;
}

pearl::io::OutputInfo make_info(int ranks) {
  pearl::io::OutputInfo info;
  info.job = "test.every_type";
  info.version = "1.2";
  info.parameters = {{"standard", "who2000"}, {"note", "quote \" backslash \\ 中文"}, {"alpha", "0.05"}};
  info.inputs = {{"cases", "/data/cases-0.h5", 123456, 1700000000}, {"population", "pop \"x\".h5", 0, -1}};
  info.ranks = ranks;
  info.started = "2024-03-01T08:00:00Z";
  info.finished = "2024-03-01T08:00:05Z";
  return info;
}

// ---- the expectation file for check_output.py ------------------------------------

std::string json_str(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

template <class T>
std::string json_value(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return json_str(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(v)) return "\"nan\"";
    if (std::isinf(v)) return v > 0 ? "\"inf\"" : "\"-inf\"";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(1, '"');  // appended: GCC 12 warns falsely on "\"" + string
    s.append(buf, r.ptr).append(1, '"');
    return s;
  } else {
    return std::to_string(static_cast<std::conditional_t<std::is_signed_v<T>, std::int64_t, std::uint64_t>>(v));
  }
}

/// Writes <h5>.expect.json: the full tables (all ranks' parts in order) and attributes.
void write_expectation(const fs::path& h5, const fs::path& csv_dir, int size, const pearl::io::OutputInfo& info) {
  std::vector<std::vector<OutputTable>> all;
  for (int r = 0; r < size; ++r) all.push_back(make_parts(r, size));
  std::ostringstream o;
  o << "{\"file\": " << json_str(h5.string()) << ", \"csv_dir\": " << json_str(csv_dir.string())
    << ", \"job\": " << json_str(info.job) << ", \"pearl_version\": " << json_str(info.version)
    << ", \"ranks\": " << info.ranks << ", \"started\": " << json_str(info.started)
    << ", \"finished\": " << json_str(info.finished) << ", \"parameters\": [";
  for (std::size_t i = 0; i < info.parameters.size(); ++i) {
    o << (i ? ", " : "") << "[" << json_str(info.parameters[i].first) << ", " << json_str(info.parameters[i].second)
      << "]";
  }
  o << "], \"inputs\": [";
  for (std::size_t i = 0; i < info.inputs.size(); ++i) {
    const auto& in = info.inputs[i];
    o << (i ? ", " : "") << "{\"table\": " << json_str(in.table) << ", \"path\": " << json_str(in.path)
      << ", \"bytes\": " << in.bytes << ", \"mtime\": " << in.mtime << ", \"checksum\": "
      << json_str(fs::is_regular_file(in.path) ? pearl::io::file_checksum(in.path) : std::string()) << "}";
  }
  o << "], \"tables\": [";
  for (std::size_t t = 0; t < all[0].size(); ++t) {
    o << (t ? ", " : "") << "{\"name\": " << json_str(all[0][t].name()) << ", \"columns\": [";
    for (std::size_t c = 0; c < all[0][t].specs().size(); ++c) {
      const auto& spec = all[0][t].specs()[c];
      o << (c ? ", " : "") << "{\"name\": " << json_str(spec.name) << ", \"dtype\": \""
        << pearl::dtype_name(spec.type) << "\", \"values\": [";
      bool first = true;
      for (int r = 0; r < size; ++r) {
        std::visit(
            [&](const auto& v) {
              for (const auto& x : v) {
                o << (first ? "" : ", ") << json_value(x);
                first = false;
              }
            },
            all[static_cast<std::size_t>(r)][t].data(c));
      }
      o << "]}";
    }
    o << "]}";
  }
  o << "]}\n";
  std::ofstream(h5.string() + ".expect.json") << o.str();
}

std::vector<fs::path> temp_files_in(const fs::path& dir) {
  std::vector<fs::path> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp@") != std::string::npos) found.push_back(e.path());
  }
  return found;
}

/// The runner's sequence: rank 0 owns the AtomicOutput, every rank writes to its
/// temporary path, rank 0 commits after every rank agreed.
void write_committed(Communicator& comm, const fs::path& target, const std::vector<OutputTable>& parts,
                     const pearl::io::OutputInfo& info, const pearl::io::WriteOptions& options) {
  std::optional<pearl::io::AtomicOutput> out;
  std::string temp;
  if (comm.rank() == 0) {
    out.emplace(target);
    temp = out->temp_path().string();
  }
  temp = broadcast_string(comm, temp);
  pearl::io::write_tables(comm, temp, parts, info, options);
  pearl::agreed(comm, [&] {
    if (out) out->commit();
  });
}

void write_layout(Communicator& comm, const std::string& variant, const pearl::io::WriteOptions& options,
                  std::size_t spill_bytes = 0) {
  PEARL_AGREE_ON_FAILURE(comm);  // an earlier layout failed: stop on every rank
  const fs::path dir = scratch() / (layout_name(comm) + "-" + variant);
  const fs::path csv = dir / "csv";
  if (comm.rank() == 0) fs::create_directories(csv);
  comm.barrier();
  const auto parts = make_parts(comm.rank(), comm.size(), spill_bytes);
  const auto info = make_info(comm.size());
  const fs::path h5 = dir / "out.h5";
  write_committed(comm, h5, parts, info, options);
  pearl::io::write_csv(comm, csv, parts, options.gather_round_bytes);
  if (comm.rank() == 0) {
    EXPECT_TRUE(fs::exists(h5));
    EXPECT_TRUE(temp_files_in(dir).empty());
    EXPECT_TRUE(temp_files_in(csv).empty());
    write_expectation(h5, csv, comm.size(), info);
  }
  PEARL_AGREE_ON_FAILURE(comm);
  comm.barrier();
}

void run_checker() {
  auto& w = pearl::testing::world();
  w.barrier();
  if (w.rank() != 0) return;
  const std::string cmd = std::string(PEARL_TEST_PYTHON) + " " + PEARL_IO_WRITER_CHECKER + " " + scratch().string();
  const int rc = std::system(cmd.c_str());
  EXPECT_EQ(rc, 0) << "check_output.py found differences (see its output above): " << cmd;
}

template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "no exception";
}

/// Removes the scratch directory when every test passed (kept for inspection otherwise).
class ScratchCleanup : public ::testing::Environment {
 public:
  void TearDown() override {
    auto& w = pearl::testing::world();
    w.barrier();
    if (w.rank() == 0 && ::testing::UnitTest::GetInstance()->failed_test_count() == 0) {
      std::error_code ec;
      fs::remove_all(scratch(), ec);
    }
  }
};
[[maybe_unused]] auto* const g_cleanup = ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

}  // namespace

TEST(OutputWriter, EveryTypeEveryLayoutReadByH5pyAndPandas) {
  pearl::io::init_hdf5();
  (void)scratch();
  pearl::testing::on_every_layout([](Communicator& comm) {
    write_layout(comm, "default", {});
    pearl::io::WriteOptions small;  // many gather rounds, chunked and compressed
    small.gather_round_bytes = 64;
    small.chunk_rows = 4;
    small.deflate_level = 1;
    write_layout(comm, "chunked-small-rounds", small);
    pearl::io::WriteOptions gather;
    gather.force_gather = true;
    write_layout(comm, "gather", gather);
    write_layout(comm, "spilled", {}, 100);
    write_layout(comm, "spilled-gather", gather, 100);
  });
  run_checker();
}

TEST(OutputWriter, RanksThatDisagreeOnTablesAllThrow) {
  pearl::io::init_hdf5();
  pearl::testing::on_every_layout([](Communicator& comm) {
    if (comm.size() < 2) return;
    const fs::path file = scratch() / (layout_name(comm) + "-disagree.h5");
    std::vector<OutputTable> parts;
    parts.emplace_back("t", std::vector<pearl::ColumnSpec>{{"a", DType::u8},
                                                          {"b", comm.rank() == 1 ? DType::f64 : DType::f32}});
    const std::string msg = error_of([&] { pearl::io::write_tables(comm, file, parts, make_info(comm.size())); });
    EXPECT_NE(msg.find("ranks disagree on the output tables: rank 1 has t(a uint8, b float64), rank 0 has t(a uint8, b float32)"),
              std::string::npos)
        << msg;
    // A missing table on one rank.
    if (comm.rank() == comm.size() - 1) parts.clear();
    PEARL_AGREE_ON_FAILURE(comm);
    const std::string msg2 = error_of([&] { pearl::io::write_csv(comm, scratch(), parts); });
    EXPECT_NE(msg2.find("ranks disagree"), std::string::npos) << msg2;
    EXPECT_FALSE(fs::exists(scratch() / "t.csv"));
  });
}

TEST(OutputWriter, BadPartsAndPathsFailOnEveryRank) {
  pearl::io::init_hdf5();
  pearl::testing::on_every_layout([](Communicator& comm) {
    const auto info = make_info(comm.size());
    // Columns of different lengths on the last rank.
    {
      std::vector<OutputTable> parts;
      parts.emplace_back("t", std::vector<pearl::ColumnSpec>{{"a", DType::u8}, {"b", DType::i64}});
      if (comm.rank() == comm.size() - 1) parts.back().column<std::uint8_t>(0).push_back(1);
      const std::string msg = error_of([&] { pearl::io::write_tables(comm, scratch() / "never.h5", parts, info); });
      EXPECT_NE(msg.find("column 'b': has 0 rows, column 'a' has 1"), std::string::npos) << msg;
    }
    PEARL_AGREE_ON_FAILURE(comm);
    // Invalid UTF-8 and NUL bytes.
    {
      std::vector<OutputTable> parts;
      parts.emplace_back("t", std::vector<pearl::ColumnSpec>{{"s", DType::str}});
      if (comm.rank() == 0) parts.back().append(std::string("ok"));
      if (comm.rank() == comm.size() - 1) parts.back().append(std::string("bad \xff byte"));
      std::string msg = error_of([&] { pearl::io::write_tables(comm, scratch() / "never.h5", parts, info); });
      EXPECT_NE(msg.find("is not valid UTF-8"), std::string::npos) << msg;
      PEARL_AGREE_ON_FAILURE(comm);
      parts.back().column<std::string>(0).assign(1, std::string("nul \0 byte", 10));
      msg = error_of([&] { pearl::io::write_tables(comm, scratch() / "never.h5", parts, info); });
      EXPECT_NE(msg.find("NUL byte"), std::string::npos) << msg;
    }
    EXPECT_FALSE(fs::exists(scratch() / "never.h5"));
    PEARL_AGREE_ON_FAILURE(comm);
    // A directory that does not exist: an error naming the path, on every rank.
    {
      const auto parts = make_parts(comm.rank(), comm.size());
      const fs::path missing = scratch() / "no-such-dir" / "out.h5";
      const std::string msg = error_of([&] { pearl::io::write_tables(comm, missing, parts, info); });
      EXPECT_NE(msg.find(missing.string() + ": cannot create HDF5 file"), std::string::npos) << msg;
      PEARL_AGREE_ON_FAILURE(comm);
      const std::string msg2 = error_of([&] { pearl::io::write_csv(comm, scratch() / "no-such-dir", parts); });
      EXPECT_NE(msg2.find("no-such-dir"), std::string::npos) << msg2;
    }
    // Still in step afterwards: a good write works.
    PEARL_AGREE_ON_FAILURE(comm);
    pearl::io::WriteOptions options;
    write_committed(comm, scratch() / (layout_name(comm) + "-after-errors.h5"), make_parts(comm.rank(), comm.size()),
                    info, options);
  });
}

TEST(AtomicOutput, DiscardLeavesNothing) {
  const fs::path dir = scratch() / ("atomic-discard-" + std::to_string(pearl::testing::world().rank()));
  fs::create_directories(dir);
  const fs::path target = dir / "result.h5";
  {
    pearl::io::AtomicOutput out(target);
    EXPECT_EQ(out.temp_path().parent_path(), dir);
    // .<name>.tmp@<host>+<pid>-<random>: a later run can tell whether its owner is gone.
    EXPECT_EQ(out.temp_path().filename().string().rfind(".result.h5.tmp@" + pearl::process_stamp() + "-", 0), 0U)
        << out.temp_path();
    std::ofstream(out.temp_path()) << "half-written";
    EXPECT_TRUE(fs::exists(out.temp_path()));
  }  // destroyed uncommitted: discarded
  EXPECT_FALSE(fs::exists(target));
  EXPECT_TRUE(fs::is_empty(dir));
  {
    pearl::io::AtomicOutput out(target);
    std::ofstream(out.temp_path()) << "x";
    out.discard();
    out.discard();  // idempotent
    EXPECT_FALSE(fs::exists(out.temp_path()));
    EXPECT_THROW(out.commit(), pearl::Error);
  }
  EXPECT_TRUE(fs::is_empty(dir));
  {
    pearl::io::AtomicOutput out(target);  // nothing written: commit fails, nothing appears
    EXPECT_THROW(out.commit(), pearl::Error);
  }
  EXPECT_TRUE(fs::is_empty(dir));
  EXPECT_THROW(pearl::io::AtomicOutput(dir / "missing" / "x.h5"), pearl::Error);
  EXPECT_THROW(pearl::io::AtomicOutput{dir}, pearl::Error);
}

TEST(OutputSet, CommitsEveryArtefactWithItsModeOrNone) {
  const fs::path dir = scratch() / ("output-set-" + std::to_string(pearl::testing::world().rank()));
  fs::create_directories(dir);
  const fs::path input = dir / "input.h5";
  std::ofstream(input) << "input";
  pearl::io::OutputPolicy policy{false, 0604, {input.string()}};
  {  // an uncommitted set leaves nothing: not the first artefact, not the second
    pearl::io::OutputSet set(policy);
    std::ofstream(set.add(dir / "a.h5", "--output")) << "a";
    std::ofstream(set.add(dir / "a.csv", "--csv")) << "b";
  }
  EXPECT_FALSE(fs::exists(dir / "a.h5"));
  EXPECT_TRUE(temp_files_in(dir).empty());
  {
    pearl::io::OutputSet set(policy);
    const auto h5 = set.add(dir / "a.h5", "--output");
    struct stat st {};
    ASSERT_EQ(::stat(h5.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600U);  // private while being written
    std::ofstream(h5) << "a";
    std::ofstream(set.add(dir / "a.csv", "--csv")) << "b";
    EXPECT_THROW(set.add(dir / "a.csv", "--csv"), pearl::InputError);  // twice in one run
    set.commit();
    for (const char* name : {"a.h5", "a.csv"}) {
      ASSERT_EQ(::stat((dir / name).c_str(), &st), 0);
      EXPECT_EQ(st.st_mode & 07777, 0604U) << name;
    }
  }
  EXPECT_TRUE(temp_files_in(dir).empty());
  pearl::io::OutputSet set(policy);
  EXPECT_THROW(set.add(dir / "a.h5", "--output"), pearl::InputError);  // exists, no --overwrite
  EXPECT_THROW(set.add(dir / ".." / dir.filename() / "input.h5", "--output"), pearl::InputError);  // an input
  ASSERT_EQ(::mkfifo((dir / "fifo").c_str(), 0600), 0);  // not a regular file (not /dev/null: never touch it)
  EXPECT_THROW(set.add(dir / "fifo", "--output"), pearl::InputError);
  policy.overwrite = true;
  pearl::io::OutputSet again(policy);
  EXPECT_THROW(again.add(input, "--output"), pearl::InputError);  // an input, even with --overwrite
  std::ofstream(again.add(dir / "a.h5", "--output")) << "new";
  again.commit();
  std::ifstream in(dir / "a.h5");
  std::string text;
  std::getline(in, text);
  EXPECT_EQ(text, "new");
}

TEST(AtomicOutput, CommitReplacesTargetAtomically) {
  const fs::path dir = scratch() / ("atomic-commit-" + std::to_string(pearl::testing::world().rank()));
  fs::create_directories(dir);
  const fs::path target = dir / "result.csv";
  std::ofstream(target) << "old\n";
  {
    pearl::io::AtomicOutput out(target);
    std::ofstream(out.temp_path()) << "new\n";
    // Until the commit a reader sees the old file, whole.
    std::ifstream in(target);
    std::string line;
    std::getline(in, line);
    EXPECT_EQ(line, "old");
    out.commit();
    EXPECT_TRUE(out.committed());
    EXPECT_FALSE(fs::exists(out.temp_path()));
    out.commit();  // no-op
  }
  std::ifstream in(target);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "new");
  EXPECT_TRUE(temp_files_in(dir).empty());
  // Moved-from outputs do not discard the moved-to one's file.
  pearl::io::AtomicOutput a(dir / "moved.txt");
  std::ofstream(a.temp_path()) << "m";
  pearl::io::AtomicOutput b(std::move(a));
  b.commit();
  EXPECT_TRUE(fs::exists(dir / "moved.txt"));
}
