// The OpenMP region of the map phase (pearl/core/detail/parallel_wave.hpp): the only
// place in core that needs <omp.h>.
#include "pearl/core/detail/parallel_wave.hpp"

#include <omp.h>

namespace pearl::detail {

void run_wave(std::size_t n, int threads, void (*body)(void*, std::size_t, std::size_t), void* context) {
  const auto count = static_cast<long>(n);
#pragma omp parallel for num_threads(threads) schedule(static, 1) if (count > 1)
  for (long i = 0; i < count; ++i) {
    body(context, static_cast<std::size_t>(i), static_cast<std::size_t>(omp_get_thread_num()));
  }
}

}  // namespace pearl::detail
