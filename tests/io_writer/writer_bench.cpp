// io_writer_bench — times write_tables on a large numeric table (docs/performance-io-writer.md).
//
//   mpirun -n 2 tests/io_writer/io_writer_bench ROWS DIR [REPEATS] [CHUNK_ROWS] [DEFLATE] [ROUND_MIB]
//
// ROWS rows in total (split evenly over the ranks) of three columns (uint64 id, float64
// value, int32 day); writes DIR/bench.h5 with the parallel path (MPI-IO) and with the
// gather path (rows sent to rank 0), REPEATS times each, and prints the times on rank 0.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "pearl/cluster/mpi_session.hpp"
#include "pearl/io/hdf5.hpp"
#include "pearl/io/output_writer.hpp"

int main(int argc, char** argv) {
  pearl::cluster::MpiSession mpi(argc, argv);
  auto world = mpi.world();
  if (argc < 3) {
    if (world.rank() == 0) std::fprintf(stderr, "usage: io_writer_bench ROWS DIR [REPEATS] [CHUNK_ROWS] [DEFLATE] [ROUND_MIB]\n");
    return 2;
  }
  pearl::io::init_hdf5();
  const std::uint64_t rows = std::strtoull(argv[1], nullptr, 10);
  const std::filesystem::path dir = argv[2];
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  pearl::io::WriteOptions base;
  base.chunk_rows = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 0;
  base.deflate_level = argc > 5 ? std::atoi(argv[5]) : 0;
  if (argc > 6) base.gather_round_bytes = std::strtoull(argv[6], nullptr, 10) << 20;

  const auto n = static_cast<std::uint64_t>(world.size());
  const auto r = static_cast<std::uint64_t>(world.rank());
  const std::uint64_t first = rows * r / n, mine = rows * (r + 1) / n - first;
  std::vector<pearl::OutputTable> parts;
  parts.emplace_back("bench", std::vector<pearl::ColumnSpec>{{"id", pearl::DType::u64},
                                                            {"value", pearl::DType::f64},
                                                            {"day", pearl::DType::i32}});
  auto& id = parts[0].column<std::uint64_t>(0);
  auto& value = parts[0].column<double>(1);
  auto& day = parts[0].column<std::int32_t>(2);
  for (std::uint64_t i = first; i < first + mine; ++i) {
    id.push_back(i * 2654435761ULL);
    value.push_back(static_cast<double>(i % 100003) * 0.37);
    day.push_back(static_cast<std::int32_t>(19000 + i % 1000));
  }
  pearl::io::OutputInfo info;
  info.job = "bench";
  info.ranks = world.size();

  // Modes alternate, and every run starts with no dirty pages (sync) so that one mode's
  // writeback does not slow the next; "+fsync" adds the fsync a commit does.
  const std::filesystem::path file = dir / "bench.h5";
  std::vector<double> times[2], synced[2];
  for (int k = 0; k < repeats; ++k) {
    for (const int gather : {0, 1}) {
      pearl::io::WriteOptions options = base;
      options.force_gather = gather == 1;
      if (world.rank() == 0) ::sync();
      world.barrier();
      const auto t0 = std::chrono::steady_clock::now();
      pearl::io::write_tables(world, file, parts, info, options);
      world.barrier();
      const auto t1 = std::chrono::steady_clock::now();
      if (world.rank() == 0) {
        const int fd = ::open(file.c_str(), O_RDONLY);
        ::fsync(fd);
        ::close(fd);
      }
      world.barrier();
      const auto t2 = std::chrono::steady_clock::now();
      times[gather].push_back(std::chrono::duration<double>(t1 - t0).count());
      synced[gather].push_back(std::chrono::duration<double>(t2 - t0).count());
    }
  }
  for (const int gather : {0, 1}) {
    auto& t = times[gather];
    auto& ts = synced[gather];
    std::sort(t.begin(), t.end());
    std::sort(ts.begin(), ts.end());
    if (world.rank() == 0) {
      struct stat st {};
      ::stat(file.c_str(), &st);
      const double mb = static_cast<double>(rows) * 20.0 / 1e6;
      std::printf("%-8s ranks=%d rows=%llu chunk=%llu deflate=%d  median %.3f s (best %.3f, %.0f MB/s)  +fsync median %.3f s  file %.1f MB\n",
                  gather ? "gather" : "parallel", world.size(), static_cast<unsigned long long>(rows),
                  static_cast<unsigned long long>(base.chunk_rows), base.deflate_level, t[t.size() / 2], t.front(),
                  mb / t[t.size() / 2], ts[ts.size() / 2], static_cast<double>(st.st_size) / 1e6);
    }
  }
  if (world.rank() == 0) std::filesystem::remove(file);
  return 0;
}
