// The run's attributes on a result file (job, versions, parameters and inputs as JSON,
// ranks, times, rejected rows) and the HDF5 attribute writers they are made of.
#include "output_writer_detail.hpp"
#include "pearl/io/provenance.hpp"

#ifndef PEARL_VERSION_STRING
#define PEARL_VERSION_STRING "unknown"
#endif

namespace pearl::io::detail {

namespace {

void run_attributes(hid_t obj, const OutputInfo& info, const std::string& parameters, const std::string& inputs,
                    const std::string& what) {
  string_attribute(obj, "job", info.job, what);
  const std::string version = info.version.empty() ? std::string(PEARL_VERSION_STRING) : info.version;
  string_attribute(obj, "job_version", info.job_version.empty() ? version : info.job_version, what);
  string_attribute(obj, "pearl_version", version, what);
  if (!info.plugin.empty()) string_attribute(obj, "plugin", info.plugin, what);
  string_attribute(obj, "parameters", parameters, what);
  string_attribute(obj, "inputs", inputs, what);
  scalar_attribute(obj, "ranks", static_cast<std::int64_t>(info.ranks), H5T_STD_I64LE, H5T_NATIVE_INT64, what);
  string_attribute(obj, "started", info.started, what);
  string_attribute(obj, "finished", info.finished, what);
  if (info.rejected_rows) {
    scalar_attribute(obj, "rejected_rows", *info.rejected_rows, H5T_STD_I64LE, H5T_NATIVE_INT64, what);
    std::string reasons = "{";
    for (const auto& [reason, n] : info.rejected_by_reason) {
      reasons += (reasons.size() > 1 ? ", " : "") + json_quote(reason) + ": " + std::to_string(n);
    }
    string_attribute(obj, "rejected_by_reason", reasons + "}", what);
  }
}

}  // namespace

void string_attribute(hid_t obj, const char* name, const std::string& value, const std::string& what) {
  Handle type = string_type(what + ": attribute " + name);
  Handle space = check(H5Screate(H5S_SCALAR), what + ": dataspace for attribute " + name);
  Handle attr = check(H5Acreate2(obj, name, type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
                      what + ": create attribute " + name);
  const char* p = value.c_str();
  check_status(H5Awrite(attr.id(), type.id(), &p), what + ": write attribute " + name);
}

void strings_attribute(hid_t obj, const char* name, const std::vector<std::string>& values, const std::string& what) {
  Handle type = string_type(what + ": attribute " + name);
  const hsize_t n = values.size();
  Handle space = check(H5Screate_simple(1, &n, nullptr), what + ": dataspace for attribute " + name);
  Handle attr = check(H5Acreate2(obj, name, type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
                      what + ": create attribute " + name);
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  check_status(H5Awrite(attr.id(), type.id(), ptrs.data()), what + ": write attribute " + name);
}

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          static constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[c >> 4U];
          out += hex[c & 0xFU];
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

void write_attributes(hid_t file, const std::vector<OutputTable>& parts, const OutputInfo& info,
                      const std::string& what) {
  std::string parameters = "{";
  for (std::size_t i = 0; i < info.parameters.size(); ++i) {
    if (i > 0) parameters += ", ";
    parameters += json_quote(info.parameters[i].first) + ": " + json_quote(info.parameters[i].second);
  }
  parameters += "}";
  std::string inputs = "[";
  for (std::size_t i = 0; i < info.inputs.size(); ++i) {
    const auto& in = info.inputs[i];
    if (i > 0) inputs += ", ";
    // Rank 0 alone writes attributes; it reads each input once more for its checksum
    // (an input that has vanished since the job read it is recorded without one).
    std::error_code gone;
    const std::string checksum = !in.checksum.empty()                              ? in.checksum
                                 : std::filesystem::is_regular_file(in.path, gone) ? file_checksum(in.path)
                                                                                   : std::string();
    inputs += "{\"table\": " + json_quote(in.table) + ", \"path\": " + json_quote(in.path) +
              ", \"bytes\": " + std::to_string(in.bytes) + ", \"mtime\": " + std::to_string(in.mtime) +
              ", \"checksum\": " + json_quote(checksum) + "}";
  }
  inputs += "]";
  run_attributes(file, info, parameters, inputs, what + ": root group");
  if (!info.metrics.empty()) string_attribute(file, "metrics", info.metrics, what + ": root group");
  std::vector<std::string> names;
  names.reserve(parts.size());
  for (const auto& t : parts) names.push_back(t.name());
  strings_attribute(file, "tables", names, what + ": root group");
  for (const auto& t : parts) {
    const std::string at = what + ": table /" + t.name();
    Handle group = check(H5Gopen2(file, t.name().c_str(), H5P_DEFAULT), at + ": open group");
    run_attributes(group.id(), info, parameters, inputs, at);
  }
}

}  // namespace pearl::io::detail
