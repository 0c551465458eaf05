// pearl/io/provenance.hpp — what a committed output says about how it was made, and the
// content checksum of a file, so a pipeline can tell whether a result is up to date.
//
//   auto rec = io::read_provenance("out/incidence.h5");   // nullopt: absent or no record
//   if (rec && rec->job == "health.incidence") { ... json in rec->parameters, rec->inputs ... }
//   std::string sum = io::file_checksum("data/cases-0000.h5");   // "h64:0123abcd..."
//
// The attributes themselves are written by write_tables (pearl/io/output_writer.hpp).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace pearl::io {

/// The run attributes on the root group of a pearl output file, as stored.
struct Provenance {
  std::string job;
  std::string version;     ///< attribute `pearl_version`
  std::string parameters;  ///< JSON object string
  std::string inputs;      ///< JSON array string
  std::string started, finished;
};

/// The run attributes of `file`, or nullopt when the file does not exist, is not HDF5 or
/// lacks them (not a pearl output). Never throws for those; throws pearl::Error only
/// when an attribute exists but cannot be read.
std::optional<Provenance> read_provenance(const std::filesystem::path& file);

/// A checksum of the file's bytes: "h64:" and 16 hex digits (pearl::hash_bytes over
/// 1 MiB blocks, chained). Reads the whole file once. Throws pearl::Error if unreadable.
std::string file_checksum(const std::filesystem::path& file);

}  // namespace pearl::io
