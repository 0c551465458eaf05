#include "pearl/cluster/mpi_communicator.hpp"

#include <climits>
#include <string>
#include <utility>

#include "pearl/core/error.hpp"

namespace pearl::cluster {

namespace {
MPI_Op to_mpi(ReduceOp op) {
  switch (op) {
    case ReduceOp::sum: return MPI_SUM;
    case ReduceOp::min: return MPI_MIN;
    case ReduceOp::max: return MPI_MAX;
  }
  return MPI_SUM;
}

int to_int(std::size_t n, const char* what) {
  if (n > static_cast<std::size_t>(INT_MAX)) {
    throw Error(std::string(what) + ": " + std::to_string(n) + " bytes exceed MPI's int count limit");
  }
  return static_cast<int>(n);
}
}  // namespace

MpiCommunicator::MpiCommunicator(MPI_Comm comm) {
  check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
  check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

MpiCommunicator::MpiCommunicator(MpiCommunicator&& other) noexcept
    : comm_(std::exchange(other.comm_, MPI_COMM_NULL)), rank_(other.rank_), size_(other.size_) {}

MpiCommunicator& MpiCommunicator::operator=(MpiCommunicator&& other) noexcept {
  if (this != &other) {
    if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
    comm_ = std::exchange(other.comm_, MPI_COMM_NULL);
    rank_ = other.rank_;
    size_ = other.size_;
  }
  return *this;
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (comm_ != MPI_COMM_NULL && finalized == 0) MPI_Comm_free(&comm_);
}

void MpiCommunicator::check(int code, const char* call) const {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, text, &len);
  throw Error(std::string(call) + " failed on rank " + std::to_string(rank_) + ": " + std::string(text, static_cast<std::size_t>(len)));
}

void MpiCommunicator::barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

void MpiCommunicator::allreduce(std::span<double> data, ReduceOp op) {
  check(MPI_Allreduce(MPI_IN_PLACE, data.data(), to_int(data.size(), "MPI_Allreduce"), MPI_DOUBLE, to_mpi(op), comm_),
        "MPI_Allreduce");
}

void MpiCommunicator::allreduce(std::span<std::int64_t> data, ReduceOp op) {
  check(MPI_Allreduce(MPI_IN_PLACE, data.data(), to_int(data.size(), "MPI_Allreduce"), MPI_INT64_T, to_mpi(op), comm_),
        "MPI_Allreduce");
}

void MpiCommunicator::broadcast(std::vector<std::byte>& data, int root) {
  std::int64_t n = static_cast<std::int64_t>(data.size());
  check(MPI_Bcast(&n, 1, MPI_INT64_T, root, comm_), "MPI_Bcast");
  data.resize(static_cast<std::size_t>(n));
  check(MPI_Bcast(data.data(), to_int(data.size(), "MPI_Bcast"), MPI_BYTE, root, comm_), "MPI_Bcast");
}

void MpiCommunicator::allgather(std::span<const std::byte> mine, std::vector<std::vector<std::byte>>& all) {
  const int mine_n = to_int(mine.size(), "MPI_Allgatherv");
  std::vector<int> counts(static_cast<std::size_t>(size_)), displs(static_cast<std::size_t>(size_));
  check(MPI_Allgather(&mine_n, 1, MPI_INT, counts.data(), 1, MPI_INT, comm_), "MPI_Allgather");
  std::size_t total = 0;
  for (int r = 0; r < size_; ++r) {
    displs[static_cast<std::size_t>(r)] = to_int(total, "MPI_Allgatherv");
    total += static_cast<std::size_t>(counts[static_cast<std::size_t>(r)]);
  }
  std::vector<std::byte> flat(total);
  check(MPI_Allgatherv(mine.data(), mine_n, MPI_BYTE, flat.data(), counts.data(), displs.data(), MPI_BYTE, comm_),
        "MPI_Allgatherv");
  all.assign(static_cast<std::size_t>(size_), {});
  for (int r = 0; r < size_; ++r) {
    const auto d = static_cast<std::size_t>(displs[static_cast<std::size_t>(r)]);
    all[static_cast<std::size_t>(r)].assign(flat.begin() + static_cast<std::ptrdiff_t>(d),
                                            flat.begin() + static_cast<std::ptrdiff_t>(d + static_cast<std::size_t>(counts[static_cast<std::size_t>(r)])));
  }
}

void MpiCommunicator::alltoallv(std::span<const std::byte> send, std::span<const std::size_t> send_counts,
                                std::vector<std::byte>& recv, std::vector<std::size_t>& recv_counts) {
  const auto p = static_cast<std::size_t>(size_);
  std::vector<int> scounts(p), sdispls(p), rcounts(p), rdispls(p);
  std::size_t off = 0;
  for (std::size_t r = 0; r < p; ++r) {
    scounts[r] = to_int(send_counts[r], "MPI_Alltoallv");
    sdispls[r] = to_int(off, "MPI_Alltoallv");
    off += send_counts[r];
  }
  check(MPI_Alltoall(scounts.data(), 1, MPI_INT, rcounts.data(), 1, MPI_INT, comm_), "MPI_Alltoall");
  std::size_t total = 0;
  recv_counts.resize(p);
  for (std::size_t r = 0; r < p; ++r) {
    rdispls[r] = to_int(total, "MPI_Alltoallv");
    recv_counts[r] = static_cast<std::size_t>(rcounts[r]);
    total += recv_counts[r];
  }
  recv.resize(total);
  check(MPI_Alltoallv(send.data(), scounts.data(), sdispls.data(), MPI_BYTE, recv.data(), rcounts.data(),
                      rdispls.data(), MPI_BYTE, comm_),
        "MPI_Alltoallv");
}

}  // namespace pearl::cluster
