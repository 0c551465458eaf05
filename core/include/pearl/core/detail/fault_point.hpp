// pearl/core/detail/fault_point.hpp — not API: a testing aid, kill one rank at a chosen point.
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
//   pearl::detail::fault_point("map", comm.rank());
//
// Used by core, io and cluster, never by jobs; defined in core/src/fault_point.cpp.
#pragma once

namespace pearl::detail {

/// SIGKILLs this process when PEARL_TEST_KILL_AT names this point and rank (see above).
void fault_point(const char* point, int rank) noexcept;

}  // namespace pearl::detail
