// tests/support/test_world.hpp — the ranks a test runs on, and agreeing on failure
// before a collective.
//
// Under mpirun the test program's world is the MPI world. Run without a launcher (one
// rank), `on_every_layout` also runs the body on 1, 2, 3 and 4 simulated ranks, so the
// same test checks distributed behaviour in-process and under MPI.
//
// A failed assertion on one MPI rank must not leave the others waiting in a collective
// (an ASSERT returns from the body, an exception leaves it): put
// PEARL_AGREE_ON_FAILURE(comm) before every collective of a body (engine passes, gathers,
// barriers, the helpers that make them). Every rank then learns that some rank failed,
// records a failure itself, and returns; `on_every_layout` agrees once more at the end,
// which is where a rank that left the body early meets the others.
//
//   TEST(Engine, Sums) {
//     pearl::testing::on_every_layout([](pearl::Communicator& comm) {
//       ... EXPECT_...; ASSERT_...;
//       PEARL_AGREE_ON_FAILURE(comm);   // before the next collective
//       const auto all = result.gather(comm);
//     });
//   }
#pragma once

#include <functional>
#include <vector>

#include "pearl/core/communicator.hpp"

namespace pearl::testing {

/// The MPI world of this test program (size 1 when run without a launcher).
Communicator& world();

/// Rank counts `on_every_layout` simulates in-process.
inline const std::vector<int> simulated_ranks{1, 2, 3, 4};

/// Runs `body` on the MPI world when it has more than one rank; otherwise on 1, 2, 3
/// and 4 simulated ranks in turn. GoogleTest assertions inside count for the test.
/// An exception escaping the body is recorded as a failure of that rank (and agreed on).
void on_every_layout(const std::function<void(Communicator&)>& body);

/// Collective over `comm` (one allreduce, or none once a failure was agreed in this body):
/// whether any rank has failed an assertion since its `on_every_layout` body began. All
/// ranks get the same answer; one that did not fail itself records a failure naming the
/// lowest rank that did. Outside a body it counts the failures of the whole test.
bool any_rank_failed(Communicator& comm);

}  // namespace pearl::testing

/// Returns from the enclosing function (an `on_every_layout` body, or a void helper it
/// calls) on every rank when any rank of `comm` has failed. Use before each collective.
#define PEARL_AGREE_ON_FAILURE(comm)                                \
  do {                                                              \
    if (::pearl::testing::any_rank_failed(comm)) return;            \
  } while (false)
