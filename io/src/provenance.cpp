// Reading back a result file's run attributes (file checksums: file_checksum.cpp).
#include "pearl/io/provenance.hpp"

#include <hdf5.h>

#include <vector>

#include "pearl/core/error.hpp"
#include "pearl/io/hdf5.hpp"

#include "hdf5_types.hpp"

namespace pearl::io {

namespace {

/// A variable- or fixed-length string attribute of `obj`, or "" when absent.
std::string string_attribute(hid_t obj, const char* name, const std::string& what) {
  if (H5Aexists(obj, name) <= 0) return {};
  Handle attr = check(H5Aopen(obj, name, H5P_DEFAULT), what + ": open attribute " + name);
  Handle type = check(H5Aget_type(attr.id()), what + ": type of attribute " + name);
  if (H5Tget_class(type.id()) != H5T_STRING) return {};
  if (H5Tis_variable_str(type.id()) > 0) {
    const Handle mem = detail::string_type(what + ": attribute " + name, 0, H5Tget_cset(type.id()));
    char* value = nullptr;
    check_status(H5Aread(attr.id(), mem.id(), &value), what + ": read attribute " + name);
    std::string out = value == nullptr ? "" : value;
    H5free_memory(value);
    return out;
  }
  std::vector<char> buf(H5Tget_size(type.id()) + 1, '\0');
  check_status(H5Aread(attr.id(), type.id(), buf.data()), what + ": read attribute " + name);
  return buf.data();
}

}  // namespace

std::optional<Provenance> read_provenance(const std::filesystem::path& file) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) return std::nullopt;
  const std::string what = file.string();
  Handle h5;
  H5E_BEGIN_TRY { h5 = Handle(H5Fopen(what.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT)); }
  H5E_END_TRY;
  if (!h5.valid()) return std::nullopt;
  Provenance p;
  p.job = string_attribute(h5.id(), "job", what);
  if (p.job.empty()) return std::nullopt;
  p.version = string_attribute(h5.id(), "pearl_version", what);
  p.parameters = string_attribute(h5.id(), "parameters", what);
  p.inputs = string_attribute(h5.id(), "inputs", what);
  p.started = string_attribute(h5.id(), "started", what);
  p.finished = string_attribute(h5.id(), "finished", what);
  return p;
}

}  // namespace pearl::io
