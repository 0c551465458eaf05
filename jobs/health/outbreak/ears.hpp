// jobs/health/outbreak/ears.hpp — the EARS C1/C2/C3 statistics of one daily series,
// exactly as R surveillance::earsC 1.20.3 computes them (docs/jobs/health.outbreak.md).
//
// Pure arithmetic, no engine: health.outbreak feeds it one key's zero-filled series.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace pearl::jobs::ears {

enum class Method : std::uint8_t { C1 = 1, C2 = 2, C3 = 3 };  // the value orders the output

/// "C1", "C2", "C3".
const char* method_name(Method m) noexcept;

/// The first (0-based) position of a series at which `m` is defined: it needs `baseline`
/// reference days before t (C1), ending 3 days before t (C2), and C2 at t-1 and t-2 (C3).
std::size_t first_defined(Method m, int baseline) noexcept;

/// z_{1-alpha}, R's qnorm(1 - alpha).
double z_quantile(double alpha);

/// Upperbounds of `m` at positions first_defined(m, baseline) .. y.size()-1 (empty if the
/// series is shorter). NaN where R gives NaN (C3 with a 0/0 C2 term).
std::vector<double> upperbounds(Method m, std::span<const double> y, int baseline, double z, double min_sigma);

/// R's `observed > upperbound`, with NA (a NaN bound) as no alarm.
inline bool alarm(double observed, double upperbound) noexcept { return observed > upperbound; }

}  // namespace pearl::jobs::ears
