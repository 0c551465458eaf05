// Shared by the social.* jobs: calendar arithmetic, a near-exact float sum, and batch
// sources over local vectors and results (for multi-stage dataflows).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "pearl/job.hpp"

namespace pearl::jobs::social {


// ---- sums --------------------------------------------------------------------------------

/// A double-double accumulator (Knuth's TwoSum): about 106 bits, so the rounded total does
/// not depend on the order the engine folds partial sums in (which follows the number of
/// ranks) except in pathological cases. Trivially copyable, no padding: a record value.
struct Sum {
  double hi = 0;
  double lo = 0;
  void add(double x) noexcept {
    const double s = hi + x;
    const double bp = s - hi;
    const double e = (hi - (s - bp)) + (x - bp);
    hi = s;
    lo += e;
  }
  void add(const Sum& o) noexcept {
    add(o.hi);
    lo += o.lo;
    // renormalise so hi carries the rounded value
    const double s = hi + lo;
    lo = lo - (s - hi);
    hi = s;
  }
  [[nodiscard]] double value() const noexcept { return hi + lo; }
};

// ---- sources -------------------------------------------------------------------------------

/// A batch source over this rank's local vector of records (for feeding locally computed
/// rows, e.g. flags, into the engine).
template <class T>
class VectorSource {
 public:
  using Batch = std::span<const T>;
  explicit VectorSource(const std::vector<T>& rows, std::size_t batch = 1 << 16) : rows_(rows), batch_(batch) {}
  std::optional<Batch> next() {
    if (at_ >= rows_.size()) return std::nullopt;
    const std::size_t n = std::min(batch_, rows_.size() - at_);
    Batch b(rows_.data() + at_, n);
    at_ += n;
    return b;
  }

 private:
  const std::vector<T>& rows_;
  std::size_t batch_;
  std::size_t at_ = 0;
};

/// Two table inputs read one after the other, each batch tagged with which it came from:
/// the map of a join sees rows of both sides (tagged values into one group_by_key).
template <class A, class B>
class TwoSources {
 public:
  struct Batch {
    int side;  // 0: first, 1: second
    std::optional<typename A::Batch> a;
    std::optional<typename B::Batch> b;
  };
  TwoSources(A* first, B* second) : a_(first), b_(second) {}
  std::optional<Batch> next() {
    if (a_ != nullptr) {
      if (auto x = a_->next()) return Batch{0, std::move(x), std::nullopt};
      a_ = nullptr;
    }
    if (b_ != nullptr) {
      if (auto y = b_->next()) return Batch{1, std::nullopt, std::move(y)};
      b_ = nullptr;
    }
    return std::nullopt;
  }

 private:
  A* a_;
  B* b_;
};

}  // namespace pearl::jobs::social
