// The content checksums of a run's inputs, for its output's provenance: shared out over
// the ranks, and taken from the checksum cache for files an earlier run hashed
// (pearl/io/checksum_cache.hpp).
#pragma once

#include <cstddef>
#include <vector>

#include "pearl/core/communicator.hpp"
#include "pearl/io/checksum_cache.hpp"
#include "pearl/io/output_writer.hpp"

namespace pearl::cluster {

/// Collective. `files` with their checksums filled in: from `cache` where it knows the
/// file as it is (rank 0 looks, every rank learns the answer), the others hashed by all
/// ranks together and then remembered in `cache`. A file that has vanished or changed
/// size since the job read it gets none. `from_cache` is set to the number found there.
std::vector<io::InputFileInfo> with_checksums(Communicator& comm, std::vector<io::InputFileInfo> files,
                                              const io::ChecksumCache& cache, std::size_t& from_cache);

}  // namespace pearl::cluster
