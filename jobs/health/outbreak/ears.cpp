#include "ears.hpp"

#include <algorithm>
#include <boost/math/distributions/normal.hpp>
#include <cmath>
#include <limits>

namespace pearl::jobs::ears {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// R's pmax(a, b) for one pair: NaN if either is NaN (std::max would drop it).
double pmax(double a, double b) noexcept {
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  return std::max(a, b);
}

struct Window {
  double mean;
  double sd;
};

/// mean and n-1 sd of y[begin, begin+n) the way R computes them: mean.default sums in
/// long double and adds a correction pass; var (cov.c) uses that mean and long double
/// sums of squares. For counts this is exact to the last bit or two either way, but
/// mirroring R keeps the 1e-9 agreement independent of the data's size.
Window window(std::span<const double> y, std::size_t begin, std::size_t n) {
  long double s = 0;
  for (std::size_t i = begin; i < begin + n; ++i) s += y[i];
  s /= static_cast<long double>(n);
  long double t = 0;
  for (std::size_t i = begin; i < begin + n; ++i) t += y[i] - s;
  s += t / static_cast<long double>(n);
  const auto mean = static_cast<double>(s);
  long double ss = 0;
  for (std::size_t i = begin; i < begin + n; ++i) {
    const double d = y[i] - mean;  // a double product added to a long double sum, as cov.c
    ss += d * d;
  }
  return {mean, std::sqrt(static_cast<double>(ss / static_cast<long double>(n - 1)))};
}

/// C2's reference window for t: the `baseline` days ending 3 days before t.
Window c2_window(std::span<const double> y, std::size_t t, std::size_t b) { return window(y, t - b - 2, b); }

}  // namespace

const char* method_name(Method m) noexcept {
  switch (m) {
    case Method::C1: return "C1";
    case Method::C2: return "C2";
    case Method::C3: return "C3";
  }
  return "?";
}

std::size_t first_defined(Method m, int baseline) noexcept {
  const auto b = static_cast<std::size_t>(baseline);
  switch (m) {
    case Method::C1: return b;
    case Method::C2: return b + 2;
    case Method::C3: return b + 4;
  }
  return b;
}

double z_quantile(double alpha) {
  // R evaluates 1 - alpha in double first; do the same, then the normal quantile.
  return boost::math::quantile(boost::math::normal_distribution<double>(), 1.0 - alpha);
}

std::vector<double> upperbounds(Method m, std::span<const double> y, int baseline, double z, double min_sigma) {
  const std::size_t first = first_defined(m, baseline);
  const auto b = static_cast<std::size_t>(baseline);
  std::vector<double> out;
  if (y.size() <= first) return out;
  out.reserve(y.size() - first);
  if (m == Method::C3) {
    // C2 statistic at s (R: (y - mean) / pmax(sd, minSigma)); ±Inf or NaN on a flat window.
    const auto c2 = [&](std::size_t s) {
      const Window w = c2_window(y, s, b);
      return (y[s] - w.mean) / pmax(w.sd, min_sigma);
    };
    for (std::size_t t = first; t < y.size(); ++t) {
      const double lag2 = pmax(0.0, c2(t - 2) - 1);
      const double lag1 = pmax(0.0, c2(t - 1) - 1);
      const Window w = c2_window(y, t, b);
      out.push_back(pmax(0.0, y[t] + pmax(w.sd, min_sigma) * (z - (lag2 + lag1))));
    }
    return out;
  }
  for (std::size_t t = first; t < y.size(); ++t) {
    const Window w = m == Method::C1 ? window(y, t - b, b) : c2_window(y, t, b);
    out.push_back(w.mean + z * pmax(w.sd, min_sigma));
  }
  return out;
}

}  // namespace pearl::jobs::ears
