// tests/support/test_world.hpp — the ranks a test runs on.
//
// Under mpirun the test program's world is the MPI world. Run without a launcher (one
// rank), `on_every_layout` also runs the body on 1, 2, 3 and 4 simulated ranks, so the
// same test checks distributed behaviour in-process and under MPI.
//
//   TEST(Engine, Sums) {
//     pearl::testing::on_every_layout([](pearl::Communicator& comm) { ... EXPECT_...; });
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
void on_every_layout(const std::function<void(Communicator&)>& body);

}  // namespace pearl::testing
