// pearl/cluster/mpi_communicator.hpp — pearl::Communicator over an MPI communicator.
//
// Move-only; owns a duplicated MPI_Comm (freed on destruction) with MPI_ERRORS_RETURN,
// and checks every call: a failure throws pearl::Error naming the call, the rank and
// MPI_Error_string. Standard MPI-3 only (Open MPI and MPICH alike).
#pragma once

#include <mpi.h>

#include "pearl/cluster/communicator_overrides.hpp"
#include "pearl/core/communicator.hpp"

namespace pearl::cluster {

class MpiCommunicator final : public Communicator {
 public:
  /// Duplicates `comm` (the original stays the caller's).
  explicit MpiCommunicator(MPI_Comm comm);
  MpiCommunicator(MpiCommunicator&& other) noexcept;
  MpiCommunicator& operator=(MpiCommunicator&& other) noexcept;
  ~MpiCommunicator() override;

  [[nodiscard]] int rank() const override { return rank_; }
  [[nodiscard]] int size() const override { return size_; }
  PEARL_COMMUNICATOR_COLLECTIVES

  [[nodiscard]] const void* mpi_comm() const noexcept override { return &comm_; }

 private:
  void check(int code, const char* call) const;
  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace pearl::cluster
