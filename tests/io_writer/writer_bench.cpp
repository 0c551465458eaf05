// io_writer_bench — times write_tables on a large numeric table (docs/performance-io-writer.md).
//
//   mpirun -n 2 tests/io_writer/io_writer_bench ROWS DIR [REPEATS] [CHUNK_ROWS] [DEFLATE]
//
// ROWS rows in total (split evenly over the ranks) of three columns (uint64 id, float64
// value, int32 day); writes DIR/bench.h5 with the parallel path (MPI-IO) and with the
// gather path (rows sent to rank 0), REPEATS times each, and prints the times on rank 0.
#include <sys/stat.h>

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
    if (world.rank() == 0) std::fprintf(stderr, "usage: io_writer_bench ROWS DIR [REPEATS] [CHUNK_ROWS] [DEFLATE]\n");
    return 2;
  }
  pearl::io::init_hdf5();
  const std::uint64_t rows = std::strtoull(argv[1], nullptr, 10);
  const std::filesystem::path dir = argv[2];
  const int repeats = argc > 3 ? std::atoi(argv[3]) : 3;
  pearl::io::WriteOptions base;
  base.chunk_rows = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 0;
  base.deflate_level = argc > 5 ? std::atoi(argv[5]) : 0;

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

  const std::filesystem::path file = dir / "bench.h5";
  for (const bool gather : {false, true}) {
    pearl::io::WriteOptions options = base;
    options.force_gather = gather;
    std::vector<double> times;
    for (int k = 0; k < repeats; ++k) {
      world.barrier();
      const auto t0 = std::chrono::steady_clock::now();
      pearl::io::write_tables(world, file, parts, info, options);
      world.barrier();
      times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(times.begin(), times.end());
    if (world.rank() == 0) {
      struct stat st {};
      ::stat(file.c_str(), &st);
      const double mb = static_cast<double>(rows) * 20.0 / 1e6;
      std::printf("%-8s ranks=%d rows=%llu chunk=%llu deflate=%d  best %.3f s  median %.3f s  (%.0f MB/s)  file %.1f MB\n",
                  gather ? "gather" : "parallel", world.size(), static_cast<unsigned long long>(rows),
                  static_cast<unsigned long long>(options.chunk_rows), options.deflate_level, times.front(),
                  times[times.size() / 2], mb / times.front(), static_cast<double>(st.st_size) / 1e6);
    }
  }
  if (world.rank() == 0) std::filesystem::remove(file);
  return 0;
}
