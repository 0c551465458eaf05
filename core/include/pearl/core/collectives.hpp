// pearl/core/collectives.hpp — the small collectives a job may use directly.
//
// Sums of counters and a small side table sent from one rank to all (sums of Eigen
// matrices: eigen_collectives.hpp). All are collective: every rank calls them in the same order.
// Each first agrees on failure (agreement.hpp), so a rank whose job code threw before
// reaching the collective makes every rank stop with its error instead of hanging.
//
//   const std::int64_t cases = pearl::allreduce_sum(comm, local_cases);  // the total on every rank
//   auto lookup = pearl::broadcast_table(comm, rows, 0);  // rank 0's vector on every rank
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "pearl/core/agreement.hpp"
#include "pearl/core/communicator.hpp"
#include "pearl/core/record.hpp"

namespace pearl {

inline double allreduce_sum(Communicator& comm, double v) {
  agree_on_failure(comm, nullptr);
  comm.allreduce(std::span<double>(&v, 1), ReduceOp::sum);
  return v;
}
inline std::int64_t allreduce_sum(Communicator& comm, std::int64_t v) {
  agree_on_failure(comm, nullptr);
  comm.allreduce(std::span<std::int64_t>(&v, 1), ReduceOp::sum);
  return v;
}
inline std::int64_t allreduce_max(Communicator& comm, std::int64_t v) {
  agree_on_failure(comm, nullptr);
  comm.allreduce(std::span<std::int64_t>(&v, 1), ReduceOp::max);
  return v;
}
inline std::int64_t allreduce_min(Communicator& comm, std::int64_t v) {
  agree_on_failure(comm, nullptr);
  comm.allreduce(std::span<std::int64_t>(&v, 1), ReduceOp::min);
  return v;
}

/// Rank `root`'s rows, on every rank. For side tables that fit in memory.
template <Record T>
std::vector<T> broadcast_table(Communicator& comm, const std::vector<T>& rows, int root = 0) {
  constexpr std::size_t rec = Codec<T>::size;
  agree_on_failure(comm, nullptr);
  std::vector<std::byte> bytes;
  if (comm.rank() == root) {
    bytes.resize(rows.size() * rec);
    for (std::size_t i = 0; i < rows.size(); ++i) Codec<T>::write(bytes.data() + i * rec, rows[i]);
  }
  comm.broadcast(bytes, root);
  std::vector<T> out(bytes.size() / rec);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = Codec<T>::read(bytes.data() + i * rec);
  return out;
}

/// Rank `root`'s string, on every rank.
inline std::string broadcast_string(Communicator& comm, const std::string& s, int root = 0) {
  agree_on_failure(comm, nullptr);
  std::vector<std::byte> bytes(reinterpret_cast<const std::byte*>(s.data()),
                               reinterpret_cast<const std::byte*>(s.data() + s.size()));
  comm.broadcast(bytes, root);
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace pearl
