// The fault points of pearl/core/detail/fault_point.hpp (tests/faults).
#include "pearl/core/detail/fault_point.hpp"

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pearl::detail {

namespace {

struct FaultPlan {
  std::string point;
  int rank = -1;
  long nth = 1;
  long passed = 0;
};

FaultPlan* fault_plan() noexcept {
  static FaultPlan* plan = []() -> FaultPlan* {
    const char* text = std::getenv("PEARL_TEST_KILL_AT");
    if (text == nullptr || *text == '\0') return nullptr;
    static FaultPlan p;
    const std::string s = text;
    const auto a = s.find(':');
    if (a == std::string::npos) return nullptr;
    const auto b = s.find(':', a + 1);
    p.point = s.substr(0, a);
    p.rank = std::atoi(s.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1).c_str());
    if (b != std::string::npos) p.nth = std::atol(s.c_str() + b + 1);
    return &p;
  }();
  return plan;
}

}  // namespace

/// SIGKILLs this process when PEARL_TEST_KILL_AT names this point and rank (see above).
void fault_point(const char* point, int rank) noexcept {
  FaultPlan* plan = fault_plan();
  if (plan == nullptr || plan->rank != rank || plan->point != point) return;
  if (++plan->passed >= plan->nth) std::raise(SIGKILL);
}

}  // namespace pearl::detail
