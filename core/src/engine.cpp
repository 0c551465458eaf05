#include "pearl/core/engine.hpp"

#include <cstdio>
#include <ctime>

#include "pearl/core/detail/pass_state.hpp"

namespace pearl {

Engine::Engine(Communicator& comm, EngineOptions options) : comm_(comm), options_(std::move(options)) {
  if (options_.threads < 1) throw InputError("--threads must be at least 1");
  if (options_.memory.total < (std::size_t{1} << 20)) {
    throw InputError("--memory " + format_bytes(options_.memory.total) + " is too small: give at least 1MiB per rank");
  }
  if (!options_.accountant) options_.accountant = std::make_shared<MemoryAccountant>(options_.memory.total);
}

void Engine::begin_pass() {
  pass_ = {};
  MemoryAccountant& budget = memory();
  agreed(comm_, [&] {
    const std::size_t rounds = budget.share(MemoryShare::shuffle_rounds);
    const std::size_t staging = budget.share(MemoryShare::shuffle_staging);
    pass_.rounds = budget.lease("shuffle rounds", rounds, rounds);
    pass_.staging = budget.lease("shuffle staging", staging, staging);
    pass_.tables = budget.lease("engine tables", MemoryShare::engine_tables,
                                MemoryAccountant::kSmallestLease * static_cast<std::size_t>(threads()));
  });
}

std::function<std::shared_ptr<ScratchDir>()> Engine::scratch_factory() const {
  return [parent = options_.scratch, rank = comm_.rank()] {
    return std::make_shared<ScratchDir>(parent, "rank" + std::to_string(rank));
  };
}

double Engine::process_cpu_seconds() noexcept {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

void Engine::record_operation(const char* kind) {
  const auto now = std::chrono::steady_clock::now();
  OperationRecord r;
  r.kind = kind;
  r.started = std::chrono::duration<double>(operation_started_ - started_).count();
  r.seconds = std::chrono::duration<double>(now - operation_started_).count();
  r.cpu_seconds = process_cpu_seconds() - operation_cpu_started_;
  r.stats = stats_;
  history_.push_back(std::move(r));
}

void Engine::progress(const std::string& line) const {
  if (!options_.verbose || comm_.rank() != 0) return;
  // Seconds since the engine started: a run's stages can be read off its log.
  const double at = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  std::fprintf(stderr, "pearl: [%8.3f s] %s\n", at, line.c_str());
}

void Engine::log_restored(std::size_t index) const {
  const SavedOperation& saved = *options_.checkpoint->saved(index);
  notice("resume: operation " + std::to_string(index) + " (" + saved.kind + ") restored from the checkpoint: " +
         std::to_string(saved.batches) + " input batches on rank 0 not read again, " + std::to_string(saved.pairs) +
         " result pairs; " + std::to_string(options_.checkpoint->restored()) + " operations restored so far");
}

void Engine::write_pass_save(std::size_t index, const char* kind, std::size_t pair_bytes, std::uint64_t batches,
                             const std::vector<std::filesystem::path>& runs,
                             const std::function<void(MapStateWriter&)>& fill) {
  Checkpoint& cp = *options_.checkpoint;
  const std::uint64_t save = cp.next_pass_save(index);
  agreed(comm_, [&] {
    if (comm_.rank() != 0) return;
    std::filesystem::remove_all(cp.pass_dir(index, save));  // a save a crash interrupted
    std::filesystem::create_directories(cp.pass_dir(index, save));
  });
  agreed(comm_, [&] {
    MapStateWriter w;
    fill(w);
    for (std::size_t j = 0; j < runs.size(); ++j) {
      std::filesystem::copy_file(runs[j], cp.pass_file(index, save, "run-" + std::to_string(j)));
    }
    detail::write_state_file(cp.pass_file(index, save, "state"), w.bytes());
  });
  std::int64_t all[2] = {comm_.rank() == 0 ? static_cast<std::int64_t>(batches) : 0, static_cast<std::int64_t>(batches)};
  comm_.allreduce(std::span<std::int64_t>(all, 2), ReduceOp::sum);
  agreed(comm_, [&] {
    cp.commit_pass({index, save, kind, pair_bytes, static_cast<std::uint64_t>(all[0]), static_cast<std::uint64_t>(all[1])});
  });
  progress("checkpoint: operation " + std::to_string(index) + " (" + kind + ") saved in its pass after " +
           std::to_string(all[1]) + " input batches (all ranks)");
  cp.saved_now(true, index);
}

void Engine::notice(const std::string& line) const {
  if (comm_.rank() == 0) std::fprintf(stderr, "pearl: %s\n", line.c_str());
}

}  // namespace pearl
