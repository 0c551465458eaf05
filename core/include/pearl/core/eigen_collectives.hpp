// pearl/core/eigen_collectives.hpp — the collective over Eigen matrices (e.g. XᵀWX in
// IRLS), apart from collectives.hpp so that only the jobs that use Eigen depend on it:
// such a job links Eigen3::Eigen itself (pearl::core does not).
//
//   Eigen::MatrixXd xtwx = local_xtwx();
//   pearl::allreduce_sum(comm, xtwx);   // now the global XᵀWX on every rank
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <span>
#include <type_traits>

#include "pearl/core/agreement.hpp"
#include "pearl/core/collectives.hpp"
#include "pearl/core/communicator.hpp"

namespace pearl {

/// Element-wise sum of a dense double matrix or vector across ranks, in place.
/// Every rank must pass the same shape. Collective; agrees on failure first.
template <class Derived>
void allreduce_sum(Communicator& comm, Eigen::PlainObjectBase<Derived>& m) {
  static_assert(std::is_same_v<typename Derived::Scalar, double>, "allreduce_sum needs a double matrix");
  agree_on_failure(comm, nullptr);
  comm.allreduce(std::span<double>(m.data(), static_cast<std::size_t>(m.size())), ReduceOp::sum);
}

}  // namespace pearl
