// The output writer: write_tables, which plans (output_plan.cpp), writes the numeric
// columns in parallel (parallel_output_writer.cpp) or creates the file on rank 0
// (output_hdf5.cpp), adds the run's attributes (output_attributes.cpp) and brings the
// remaining columns to rank 0 (output_gather.cpp).
#include "pearl/io/output_writer.hpp"

#include <sys/statvfs.h>

#include "output_writer_detail.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/core/detail/fault_point.hpp"

namespace pearl::io {

namespace {

std::vector<std::size_t> columns_where(const OutputTable& t, bool strings) {
  std::vector<std::size_t> cols;
  for (std::size_t c = 0; c < t.specs().size(); ++c) {
    if ((t.specs()[c].type == DType::str) == strings) cols.push_back(c);
  }
  return cols;
}

std::vector<std::size_t> all_columns(const OutputTable& t) {
  std::vector<std::size_t> cols(t.specs().size());
  for (std::size_t c = 0; c < cols.size(); ++c) cols[c] = c;
  return cols;
}

void close_file(Handle& file, const std::string& what) {
  if (!file.valid()) return;
  const hid_t id = file.release();
  check_status(H5Fclose(id), what + ": close failed");
}

/// Rank 0 writes `cols` of every table through gather rounds into the open `file`.
void gather_and_write(Communicator& comm, Handle& file, const std::vector<OutputTable>& parts,
                      const detail::Plan& plan, const WriteOptions& options, bool strings_only,
                      const std::string& what) {
  for (std::size_t t = 0; t < parts.size(); ++t) {
    const auto cols = strings_only ? columns_where(parts[t], true) : all_columns(parts[t]);
    if (cols.empty() || plan.total[t] == 0) continue;
    const std::string at = what + ": table /" + parts[t].name();
    std::vector<Handle> datasets(cols.size());
    agreed(comm, [&] {
      if (comm.rank() != 0) return;
      for (std::size_t k = 0; k < cols.size(); ++k) {
        const std::string path = "/" + parts[t].name() + "/" + parts[t].specs()[cols[k]].name;
        datasets[k] = check(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), at + ": open " + path);
      }
    });
    detail::gather_rounds(comm, parts[t], cols, plan, t, options.gather_round_bytes,
                          [&](std::uint64_t first, std::uint64_t rows, std::span<const ColumnData* const> columns,
                              std::size_t begin) {
                            for (std::size_t k = 0; k < cols.size(); ++k) {
                              detail::write_column_rows(datasets[k].id(), *columns[k], begin, rows, first,
                                                        at + ": column '" + parts[t].specs()[cols[k]].name + "'");
                            }
                          });
  }
}

/// Refuses a write that cannot fit: the numeric columns alone (a lower bound of the
/// file's size) need more than the output's file system has free. A full disk found
/// this way is one clear error before the file exists; found by a failing parallel
/// write instead, it can leave the ranks deadlocked in HDF5 1.10's collective close
/// (tests/faults, test_full_output_file_system). A disk filling during the write is
/// still reported by the write itself.
void check_free_space(const std::filesystem::path& file, const std::vector<OutputTable>& parts,
                      const detail::Plan& plan) {
  std::uint64_t need = 0;
  for (std::size_t t = 0; t < parts.size(); ++t) {
    for (const auto& spec : parts[t].specs()) need += plan.total[t] * detail::element_size(spec.type);
  }
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return;  // unknown: let the write tell
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (need > free_bytes) {
    throw Error(dir.string() + ": No space left on device for the output: its columns need at least " +
                std::to_string(need) + " bytes, " + std::to_string(free_bytes) + " are free");
  }
}

}  // namespace

void write_tables(Communicator& comm, const std::filesystem::path& file, const std::vector<OutputTable>& parts,
                  const OutputInfo& info, const WriteOptions& options) {
  const std::string what = file.string();
  const detail::Plan plan = detail::make_plan(comm, parts, what);
  const bool parallel = comm.mpi_comm() != nullptr && comm.size() > 1 && !options.force_gather;
  const bool root = comm.rank() == 0;
  agreed(comm, [&] {
    if (root) check_free_space(file, parts, plan);
  });

  Handle h5;
  if (parallel) {
    detail::write_parallel_numeric(comm, file, parts, plan, options);
    agreed(comm, [&] {
      if (!root) return;
      h5 = check(H5Fopen(what.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), what + ": cannot reopen to finish");
      detail::write_attributes(h5.id(), parts, info, what);
    });
    gather_and_write(comm, h5, parts, plan, options, true, what);
  } else {
    agreed(comm, [&] {
      if (!root) return;
      h5 = detail::create_file(file, H5P_DEFAULT);
      for (std::size_t t = 0; t < parts.size(); ++t) {
        std::vector<Handle> datasets;
        detail::create_table(h5.id(), parts[t], plan.total[t], options, datasets, what);
      }
      detail::write_attributes(h5.id(), parts, info, what);
    });
    gather_and_write(comm, h5, parts, plan, options, false, what);
  }
  pearl::detail::fault_point("write", comm.rank());  // testing aid (tests/faults)
  agreed(comm, [&] { close_file(h5, what); });
}

}  // namespace pearl::io