// The parallel-HDF5 phase of write_tables: io's MPI unit (the only io file, with the
// other parallel_* units, that may include <mpi.h>; tests/check_layering.sh).
//
// Every rank creates the file, groups and datasets collectively with identical
// arguments, then writes its own rows of each numeric column with a collective
// H5Dwrite at its offset (exclusive prefix sum of the part sizes, from the Plan).
// String datasets are created here too, so columns keep their declared order, but
// written later by rank 0 with the file reopened serially (parallel HDF5 1.10 cannot
// write variable-length data).
#include <mpi.h>

#include <algorithm>

#include "output_writer_detail.hpp"
#include "pearl/core/agreement.hpp"

namespace pearl::io::detail {

namespace {
/// Bytes per rank per collective write: MPI-IO counts are ints, so stay well below 2 GiB.
constexpr std::uint64_t kMaxWriteBytes = std::uint64_t{1} << 30;

/// An empty column of `type`: what a rank with fewer windows writes (empty selections).
const ColumnData& empty_column(DType type) {
  static const std::vector<ColumnData> empty = [] {
    std::vector<ColumnData> all;
    for (int t = 0; t <= static_cast<int>(DType::str); ++t) all.push_back(make_column(static_cast<DType>(t)));
    return all;
  }();
  return empty[static_cast<std::size_t>(type)];
}
}  // namespace

void write_parallel_numeric(Communicator& comm, const std::filesystem::path& file,
                            const std::vector<OutputTable>& parts, const Plan& plan, const WriteOptions& options) {
  const std::string what = file.string();
  const auto* native = static_cast<const MPI_Comm*>(comm.mpi_comm());
  if (native == nullptr) throw Error(what + ": parallel HDF5 needs an MPI communicator");
  const int me = comm.rank();
  const auto ranks = static_cast<std::size_t>(comm.size());

  Handle h5, dxpl;
  agreed(comm, [&] {
    Handle fapl = check(H5Pcreate(H5P_FILE_ACCESS), what + ": file access properties");
    check_status(H5Pset_fapl_mpio(fapl.id(), *native, MPI_INFO_NULL), what + ": MPI-IO file driver");
    // Metadata reads by one rank and broadcast; metadata written collectively.
    check_status(H5Pset_all_coll_metadata_ops(fapl.id(), true), what + ": collective metadata reads");
    check_status(H5Pset_coll_metadata_write(fapl.id(), true), what + ": collective metadata writes");
    h5 = create_file(file, fapl.id());
    dxpl = check(H5Pcreate(H5P_DATASET_XFER), what + ": transfer properties");
    check_status(H5Pset_dxpl_mpio(dxpl.id(), H5FD_MPIO_COLLECTIVE), what + ": collective transfer");
  });

  for (std::size_t t = 0; t < parts.size(); ++t) {
    const OutputTable& part = parts[t];
    const std::string at = what + ": table /" + part.name();
    std::vector<Handle> datasets;
    Handle group;
    agreed(comm, [&] { group = create_table(h5.id(), part, plan.total[t], options, datasets, what); });

    // Window by window (a part that spilled has several: pearl/core/spilled_rows.hpp),
    // each rank at its offset; every rank makes as many collective calls per window and
    // column as the rank with the most rows in that window needs.
    PartWindows windows(part);
    std::uint64_t offset = plan.offset(t, me);
    for (std::size_t w = 0; w < plan.max_windows(t); ++w) {
      const bool have = w < windows.count();
      const OutputTable* rows = nullptr;
      agreed(comm, [&] {
        if (have) rows = &windows.load(w);
      });
      for (std::size_t c = 0; c < part.specs().size(); ++c) {
        const DType type = part.specs()[c].type;
        if (type == DType::str || plan.total[t] == 0) continue;
        const std::uint64_t per = kMaxWriteBytes / element_size(type);
        std::uint64_t calls = 0;
        for (std::size_t r = 0; r < ranks; ++r) {
          const auto& theirs = plan.windows[t][r];
          if (w < theirs.size()) calls = std::max(calls, (theirs[w] + per - 1) / per);
        }
        const std::string col = at + ": column '" + part.specs()[c].name + "'";
        agreed(comm, [&] {
          std::visit(
              [&](const auto& v) {
                using T = typename std::decay_t<decltype(v)>::value_type;
                if constexpr (!std::is_same_v<T, std::string>) {
                  const std::uint64_t n = v.size();
                  for (std::uint64_t i = 0; i < calls; ++i) {
                    const std::uint64_t first = std::min(n, i * per);
                    const std::uint64_t count = std::min(per, n - first);
                    write_slab(datasets[c].id(), native_type(type), offset + first, count, v.data() + first,
                               dxpl.id(), col);
                  }
                }
              },
              rows != nullptr ? rows->data(c) : empty_column(type));
        });
      }
      if (have) offset += windows.rows(w);
    }
  }

  agreed(comm, [&] {
    dxpl.reset();
    const hid_t id = h5.release();
    check_status(H5Fclose(id), what + ": close after the parallel write failed");
  });
}

}  // namespace pearl::io::detail
