// pearl/core/internal/fault_point.hpp — a testing aid: kill one rank at a chosen point.
//
// The fault-injection tests (tests/faults) need a rank to die with SIGKILL at a known
// stage: during the map, between shuffle rounds, in the middle of writing the output.
// With PEARL_TEST_KILL_AT=<point>:<rank>[:<nth>] in the environment, rank <rank> sends
// itself SIGKILL the <nth> time (default 1) it passes `fault_point("<point>", rank)`.
// Points: "map" (before each input batch is read, as the map asks for it), "shuffle"
// (after each exchange round), "write" (after the output's columns are written, before
// the file is closed).
// Unset, a fault point costs one comparison of a cached flag.
//
//   pearl::internal::fault_point("map", comm.rank());
#pragma once

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pearl::internal {

struct FaultPlan {
  std::string point;
  int rank = -1;
  long nth = 1;
  long passed = 0;
};

inline FaultPlan* fault_plan() noexcept {
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

/// SIGKILLs this process when PEARL_TEST_KILL_AT names this point and rank (see above).
inline void fault_point(const char* point, int rank) noexcept {
  FaultPlan* plan = fault_plan();
  if (plan == nullptr || plan->rank != rank || plan->point != point) return;
  if (++plan->passed >= plan->nth) std::raise(SIGKILL);
}

}  // namespace pearl::internal
