// pearl/core/detail/parallel_wave.hpp — not API: one wave of the map phase on the map
// threads. The OpenMP region lives in core/src/parallel_wave.cpp, so a job or plugin
// compiles without <omp.h> or -fopenmp; a wave costs one indirect call per batch.
//
//   detail::parallel_wave(batches.size(), threads, [&](std::size_t i, std::size_t thread) {
//     map(batches[i], sinks[thread]);   // must not throw: catch and keep the exception
//   });
#pragma once

#include <cstddef>
#include <type_traits>

namespace pearl::detail {

/// Calls body(context, i, thread) for i in [0, n), batch i on thread i % threads (static
/// schedule, chunks of one), in parallel when n > 1. `body` must not throw.
void run_wave(std::size_t n, int threads, void (*body)(void* context, std::size_t i, std::size_t thread),
              void* context);

/// The same with a callable `body(i, thread)`.
template <class Body>
void parallel_wave(std::size_t n, int threads, Body&& body) {
  run_wave(
      n, threads,
      [](void* context, std::size_t i, std::size_t thread) { (*static_cast<std::remove_reference_t<Body>*>(context))(i, thread); },
      static_cast<void*>(&body));
}

}  // namespace pearl::detail
