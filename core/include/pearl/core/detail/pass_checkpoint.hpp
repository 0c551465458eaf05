// pearl/core/detail/pass_checkpoint.hpp — not API: an engine operation saved in the middle of its
// map phase, and resumed from there: Engine::save_pass and Engine::resume_pass, member
// templates included at the end of engine.hpp (not on their own).
//
//   if (savable) resume_pass(index, kind, source, sinks, spiller, at);   // in drive, first
//   ... at a meeting the ranks agreed to save at:
//   save_pass(index, kind, sinks, spiller, at);
//
// At a meeting every rank has finished its waves, so the pass's whole state is: every map
// thread's copy of a map that saves its own state (SavableMap: save_state, restore_state),
// every map thread's sink (tables with their exact slot layout, combine lanes, outboxes:
// reduce_sink.hpp, group_sink.hpp), the runs spilled so far, how many batches this rank
// took from its source, and the meeting schedule. Restoring all of it and moving the
// source past those batches (SeekableSource: no row is read again) continues the pass
// exactly as the uninterrupted run goes on from that meeting: the same pairs folded in the
// same order, so every result, floating-point sums included, is identical byte for byte.
// Batches go to ranks by the rank count, which the checkpoint's identity pins.
#pragma once

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/checkpoint.hpp"
#include "pearl/core/detail/pass_state.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/source.hpp"

namespace pearl {

namespace detail {

/// Whether a pass over `Source` with `map` can be saved at a meeting. A map with a
/// `finish(emit)` member keeps state across batches (in-mapper combining) that no
/// checkpoint holds, unless it saves that state itself (SavableMap) or says it keeps
/// none: `bool keeps_state_between_batches()`.
template <class Source, class Sink, class MapFn>
bool pass_savable([[maybe_unused]] const MapFn& map) {
  constexpr bool keeps_state = requires(std::decay_t<MapFn>& m, Sink& emit) { m.finish(emit); };
  if constexpr (SeekableSource<Source>) {
    if constexpr (!keeps_state || SavableMap<std::decay_t<MapFn>>) {
      return true;  // nothing kept across batches, or the map saves it itself
    } else if constexpr (requires { { map.keeps_state_between_batches() } -> std::convertible_to<bool>; }) {
      return !map.keeps_state_between_batches();
    }
  }
  return false;  // batches cannot be skipped, or the map keeps state no checkpoint holds
}

/// Changes whenever the state file's layout does (2: the map threads' own state).
inline constexpr std::uint64_t kPassStateVersion = 2;

/// The per-thread copies of a map (empty for a map the threads share, which keeps no
/// state of its own) into the state file: how many, then each one's state if it saves it.
template <class Map>
void put_maps(MapStateWriter& w, const std::vector<Map>& maps) {
  if constexpr (SavableMap<Map>) {
    w.put<std::uint64_t>(maps.size());
    for (const auto& m : maps) m.save_state(w);
  } else {
    w.put<std::uint64_t>(0);
  }
}

template <class Map>
void get_maps(MapStateReader& r, std::vector<Map>& maps) {
  const auto saved = r.get<std::uint64_t>();
  if constexpr (SavableMap<Map>) {
    if (saved != maps.size()) r.damaged("its map threads' state");
    for (auto& m : maps) m.restore_state(r);
  } else {
    if (saved != 0) r.damaged("its map threads' state");
  }
}

}  // namespace detail

template <class Map, class Sink, class K, class V>
void Engine::save_pass(std::size_t index, const char* kind, const std::vector<Map>& maps, std::vector<Sink>& sinks,
                       detail::Spiller<K, V>& spiller, const PassPosition& at) {
  write_pass_save(index, kind, detail::pair_size<K, V>, at.batches, spiller.files(), [&](MapStateWriter& w) {
    w.put<std::uint64_t>(detail::kPassStateVersion);
    w.put<std::uint64_t>(detail::pair_size<K, V>);
    w.put<std::uint64_t>(sinks.size());
    w.put<std::uint64_t>(at.batches);
    w.put<std::uint8_t>(at.more ? 1 : 0);
    w.put<std::uint64_t>(at.growth);
    w.put<std::int64_t>(waves_until_check_);
    w.put(stats_);
    detail::put_maps(w, maps);
    for (auto& s : sinks) s.save_state(w);  // may spill (draining a ring): before the runs are copied
    w.put<std::uint64_t>(spiller.runs());
    w.put<std::uint64_t>(spiller.bytes());
  });
}

template <class Source, class Map, class Sink, class K, class V>
bool Engine::resume_pass(std::size_t index, const char* kind, Source& source, std::vector<Map>& maps,
                         std::vector<Sink>& sinks, detail::Spiller<K, V>& spiller, PassPosition& at) {
  Checkpoint& cp = *options_.checkpoint;
  const SavedPass* saved = cp.saved_pass(index);
  if (saved == nullptr) return false;
  detail::check_saved_kind(cp, index, saved->kind, saved->pair_bytes, kind, detail::pair_size<K, V>);
  agreed(comm_, [&] {
    const auto file = cp.pass_file(index, saved->save, "state");
    MapStateReader r(detail::read_state_file(file), file);
    if (r.get<std::uint64_t>() != detail::kPassStateVersion || r.get<std::uint64_t>() != detail::pair_size<K, V> ||
        r.get<std::uint64_t>() != sinks.size()) {
      r.damaged("written by another pearl build or thread count");
    }
    at.batches = r.get<std::uint64_t>();
    at.more = r.get<std::uint8_t>() != 0;
    at.growth = r.get<std::uint64_t>();
    waves_until_check_ = static_cast<int>(r.get<std::int64_t>());
    stats_ = r.get<EngineStats>();
    detail::get_maps(r, maps);
    for (auto& s : sinks) s.load_state(r);
    const auto runs = r.get<std::uint64_t>();
    const auto bytes = r.get<std::uint64_t>();
    if (!r.done()) r.damaged("it has bytes past its end");
    std::vector<std::filesystem::path> files;
    for (std::uint64_t j = 0; j < runs; ++j) files.push_back(cp.pass_file(index, saved->save, "run-" + std::to_string(j)));
    spiller.adopt_copies(files, bytes);
    if (const std::uint64_t skipped = source.skip(at.batches); skipped != at.batches) {
      throw InputError("--resume: the checkpoint " + cp.dir().string() + " had mapped " + std::to_string(at.batches) +
                       " input batches on rank " + std::to_string(comm_.rank()) + ", but its input now has " +
                       std::to_string(skipped) + "; run without --resume to start over");
    }
  });
  cp.count_skipped(saved->all_batches);
  notice("resume: operation " + std::to_string(index) + " (" + kind + ") continues its pass from the checkpoint: " +
         std::to_string(saved->batches) + " input batches on rank 0 (" + std::to_string(saved->all_batches) +
         " on all ranks) not read again");
  return true;
}

}  // namespace pearl
