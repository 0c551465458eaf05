// The untyped parts of saving and restoring an engine operation's result
// (pearl/core/detail/checkpoint_ops.hpp): agreements, run files and the manifest.
#include "pearl/core/detail/checkpoint_ops.hpp"

#include <span>
#include <string>

#include "pearl/core/stop.hpp"

namespace pearl::detail {

const SavedOperation* saved_operation(Checkpoint* cp, std::size_t index, const char* kind, std::size_t pair_bytes,
                                      bool restorable) {
  if (cp == nullptr || !restorable) return nullptr;
  const SavedOperation* saved = cp->saved(index);
  if (saved == nullptr) return nullptr;
  check_saved_kind(*cp, index, saved->kind, saved->pair_bytes, kind, pair_bytes);
  return saved;
}

void check_saved_kind(const Checkpoint& cp, std::size_t index, const std::string& saved_kind, std::size_t saved_pair_bytes,
                      const char* kind, std::size_t pair_bytes) {
  if (saved_kind == kind && saved_pair_bytes == pair_bytes) return;
  throw InputError("--resume: operation " + std::to_string(index) + " in the checkpoint " + cp.dir().string() + " is a " +
                   saved_kind + " of " + std::to_string(saved_pair_bytes) + "-byte pairs, the job now does a " + kind +
                   " of " + std::to_string(pair_bytes) + "-byte pairs (another pearl build?); run without --resume");
}

void restore_spilled_runs(const Checkpoint& cp, std::size_t index,
                          const std::function<std::shared_ptr<ScratchDir>()>& make_scratch,
                          std::vector<std::filesystem::path>& files, std::shared_ptr<ScratchDir>& scratch) {
  for (std::size_t j = 0;; ++j) {
    const auto from = cp.rank_file(index, "run-" + std::to_string(j));
    if (!std::filesystem::exists(from)) break;
    if (!scratch) scratch = make_scratch();
    files.push_back(scratch->new_file("restored"));
    std::filesystem::copy_file(from, files.back());
  }
}

void save_operation_runs(Communicator& comm, Checkpoint* cp, std::size_t index, const char* kind, bool restorable,
                         std::size_t pair_bytes, std::uint64_t batches, const std::vector<std::filesystem::path>& files,
                         const std::function<std::uint64_t(const std::filesystem::path&)>& write_memory_run) {
  if (cp == nullptr) return;
  std::int64_t wanted[2] = {cp->due() ? 1 : 0, stop_points_active() ? stop_requested() : 0};
  {
    const DeferStop finish_the_save;
    agree_on_failure(comm, nullptr, std::span<std::int64_t>(wanted, 2));
    if (restorable && (wanted[0] != 0 || wanted[1] != 0)) {
      agreed(comm, [&] {
        if (comm.rank() == 0) {
          std::filesystem::remove_all(cp->op_dir(index));  // a save a crash interrupted
          std::filesystem::create_directories(cp->op_dir(index));
        }
      });
      std::int64_t pairs = 0;
      agreed(comm, [&] {
        pairs = static_cast<std::int64_t>(write_memory_run(cp->rank_file(index, "mem")));
        for (std::size_t j = 0; j < files.size(); ++j) {
          std::filesystem::copy_file(files[j], cp->rank_file(index, "run-" + std::to_string(j)));
          pairs += static_cast<std::int64_t>(std::filesystem::file_size(files[j]) / pair_bytes);
        }
      });
      comm.allreduce(std::span<std::int64_t>(&pairs, 1), ReduceOp::sum);
      agreed(comm, [&] { cp->commit({index, kind, pair_bytes, batches, static_cast<std::uint64_t>(pairs)}); });
      cp->saved_now();
    }
  }
  if (wanted[1] != 0) agree_on_failure(comm, nullptr);  // stop points open: throws StopRequested everywhere
}

}  // namespace pearl::detail
