// The output writer: checks, plan, gather rounds, serial HDF5 and attributes.
// The parallel-HDF5 phase lives in parallel_output_writer.cpp (the MPI unit).
#include "pearl/io/output_writer.hpp"

#include <sys/statvfs.h>

#include <algorithm>
#include <cstring>
#include <optional>
#include <set>
#include <string_view>
#include <type_traits>

#include "h5util.hpp"
#include "output_writer_detail.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/io/provenance.hpp"
#include "pearl/core/value_text.hpp"
#include "pearl/core/internal/fault_point.hpp"

#ifndef PEARL_VERSION_STRING
#define PEARL_VERSION_STRING "unknown"
#endif

namespace pearl::io {
namespace detail {

namespace {

std::span<const std::byte> as_bytes_of(const std::vector<std::uint64_t>& v) {
  return std::as_bytes(std::span<const std::uint64_t>(v));
}

std::vector<std::uint64_t> to_u64s(const std::vector<std::byte>& b) {
  std::vector<std::uint64_t> v(b.size() / sizeof(std::uint64_t));
  if (!v.empty()) std::memcpy(v.data(), b.data(), v.size() * sizeof(std::uint64_t));
  return v;
}

bool valid_name(const std::string& n) { return !n.empty() && n != "." && n.find('/') == std::string::npos; }

void check_local(const std::vector<OutputTable>& parts, const std::string& what, int rank) {
  // The rank is named with the row (a job's own strings; input strings are checked when
  // read, naming file and row): the runner's report adds "rank N:" before the message.
  const std::string part = " of rank " + std::to_string(rank) + "'s part";
  const std::string at = what + ": ";
  std::set<std::string> tables;
  for (const auto& t : parts) {
    if (!valid_name(t.name())) throw Error(at + "output table name '" + t.name() + "' is empty or holds '/'");
    if (!tables.insert(t.name()).second) throw Error(at + "output table '" + t.name() + "' is given twice");
    std::set<std::string> cols;
    const std::size_t rows = t.rows();
    for (std::size_t c = 0; c < t.specs().size(); ++c) {
      const auto& spec = t.specs()[c];
      const std::string col = at + "table '" + t.name() + "': column '" + spec.name + "': ";
      if (!valid_name(spec.name)) throw Error(col + "name is empty or holds '/'");
      if (!cols.insert(spec.name).second) throw Error(col + "declared twice");
      if (column_size(t.data(c)) != rows) {
        throw Error(col + "has " + std::to_string(column_size(t.data(c))) + " rows, column '" + t.specs()[0].name +
                    "' has " + std::to_string(rows));
      }
      if (spec.type != DType::str) continue;
      const auto& v = std::get<std::vector<std::string>>(t.data(c));
      for (std::size_t r = 0; r < v.size(); ++r) {
        if (v[r].find('\0') != std::string::npos) {
          throw Error(col + "row " + std::to_string(r) + part + " holds a NUL byte (HDF5 strings cannot): " +
                      quote_value(v[r]));
        }
        if (const std::size_t bad = invalid_utf8_at(v[r]); bad != std::string_view::npos) {
          throw Error(col + "row " + std::to_string(r) + part + " is not valid UTF-8 (byte " +
                      std::to_string(bad) + "): " + quote_value(v[r]));
        }
      }
    }
  }
}

std::string schema_of(const std::vector<OutputTable>& parts) {
  std::string s;
  for (const auto& t : parts) {
    if (!s.empty()) s += "; ";
    s += t.name() + "(";
    for (std::size_t c = 0; c < t.specs().size(); ++c) {
      if (c > 0) s += ", ";
      s += t.specs()[c].name + " " + std::string(dtype_name(t.specs()[c].type));
    }
    s += ")";
  }
  return s.empty() ? std::string("no tables") : s;
}

template <class F>
void for_type(DType t, F&& f) {
  switch (t) {
    case DType::u8: return f(std::uint8_t{});
    case DType::u16: return f(std::uint16_t{});
    case DType::u32: return f(std::uint32_t{});
    case DType::u64: return f(std::uint64_t{});
    case DType::i8: return f(std::int8_t{});
    case DType::i16: return f(std::int16_t{});
    case DType::i32: return f(std::int32_t{});
    case DType::i64: return f(std::int64_t{});
    case DType::f32: return f(float{});
    case DType::f64: return f(double{});
    case DType::str: return f(std::string{});
  }
}

// ---- attributes ---------------------------------------------------------------------

void string_attribute(hid_t obj, const char* name, const std::string& value, const std::string& what) {
  Handle type = string_type();
  Handle space = check(H5Screate(H5S_SCALAR), what + ": dataspace for attribute " + name);
  Handle attr = check(H5Acreate2(obj, name, type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
                      what + ": create attribute " + name);
  const char* p = value.c_str();
  check_status(H5Awrite(attr.id(), type.id(), &p), what + ": write attribute " + name);
}

void strings_attribute(hid_t obj, const char* name, const std::vector<std::string>& values, const std::string& what) {
  Handle type = string_type();
  const hsize_t n = values.size();
  Handle space = check(H5Screate_simple(1, &n, nullptr), what + ": dataspace for attribute " + name);
  Handle attr = check(H5Acreate2(obj, name, type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
                      what + ": create attribute " + name);
  std::vector<const char*> ptrs;
  for (const auto& v : values) ptrs.push_back(v.c_str());
  check_status(H5Awrite(attr.id(), type.id(), ptrs.data()), what + ": write attribute " + name);
}

template <class T>
void scalar_attribute(hid_t obj, const char* name, T value, hid_t file_t, hid_t mem_t, const std::string& what) {
  Handle space = check(H5Screate(H5S_SCALAR), what + ": dataspace for attribute " + name);
  Handle attr = check(H5Acreate2(obj, name, file_t, space.id(), H5P_DEFAULT, H5P_DEFAULT),
                      what + ": create attribute " + name);
  check_status(H5Awrite(attr.id(), mem_t, &value), what + ": write attribute " + name);
}

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

// ---- gather rounds ------------------------------------------------------------------

struct Piece {
  std::uint64_t first = 0, rows = 0, bytes = 0;
};

std::vector<Piece> split_pieces(const OutputTable& part, const std::vector<std::size_t>& cols, std::size_t budget) {
  std::vector<Piece> pieces;
  const std::uint64_t n = part.rows();
  if (n == 0 || cols.empty()) return pieces;
  std::uint64_t fixed = 0;
  std::vector<const std::vector<std::string>*> strings;
  for (std::size_t c : cols) {
    if (part.specs()[c].type == DType::str) {
      strings.push_back(&std::get<std::vector<std::string>>(part.data(c)));
      fixed += sizeof(std::uint32_t);
    } else {
      fixed += element_size(part.specs()[c].type);
    }
  }
  if (strings.empty()) {
    const std::uint64_t per = std::max<std::uint64_t>(1, budget / fixed);
    for (std::uint64_t r = 0; r < n; r += per) {
      const std::uint64_t k = std::min(per, n - r);
      pieces.push_back({r, k, k * fixed});
    }
    return pieces;
  }
  Piece cur;
  for (std::uint64_t r = 0; r < n; ++r) {
    std::uint64_t b = fixed;
    for (const auto* s : strings) b += (*s)[r].size();
    if (cur.rows > 0 && cur.bytes + b > budget) {
      pieces.push_back(cur);
      cur = {r, 0, 0};
    }
    cur.rows += 1;
    cur.bytes += b;
  }
  pieces.push_back(cur);
  return pieces;
}

void encode(const OutputTable& part, const std::vector<std::size_t>& cols, const Piece& p, std::vector<std::byte>& out) {
  for (std::size_t c : cols) {
    std::visit(
        [&](const auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_same_v<T, std::string>) {
            for (std::uint64_t r = p.first; r < p.first + p.rows; ++r) {
              const auto len = static_cast<std::uint32_t>(v[r].size());
              const std::size_t at = out.size();
              out.resize(at + sizeof len + len);
              std::memcpy(out.data() + at, &len, sizeof len);
              if (len > 0) std::memcpy(out.data() + at + sizeof len, v[r].data(), len);
            }
          } else {
            const std::size_t at = out.size();
            out.resize(at + p.rows * sizeof(T));
            if (p.rows > 0) std::memcpy(out.data() + at, v.data() + p.first, p.rows * sizeof(T));
          }
        },
        part.data(c));
  }
}

void decode_append(const std::byte*& at, std::uint64_t rows, ColumnData& dst) {
  std::visit(
      [&](auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          for (std::uint64_t r = 0; r < rows; ++r) {
            std::uint32_t len = 0;
            std::memcpy(&len, at, sizeof len);
            at += sizeof len;
            v.emplace_back(reinterpret_cast<const char*>(at), len);
            at += len;
          }
        } else {
          const std::size_t old = v.size();
          v.resize(old + rows);
          if (rows > 0) std::memcpy(v.data() + old, at, rows * sizeof(T));
          at += rows * sizeof(T);
        }
      },
      dst);
}

void append_local(const ColumnData& src, std::uint64_t first, std::uint64_t rows, ColumnData& dst) {
  std::visit(
      [&](auto& v) {
        using V = std::decay_t<decltype(v)>;
        const auto& s = std::get<V>(src);
        v.insert(v.end(), s.begin() + static_cast<std::ptrdiff_t>(first),
                 s.begin() + static_cast<std::ptrdiff_t>(first + rows));
      },
      dst);
}

}  // namespace

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

std::size_t element_size(DType t) noexcept {
  return t == DType::str ? sizeof(char*) : dtype_width(t);  // strings: one pointer each (vlen)
}

hid_t native_type(DType t) {
  switch (t) {
    case DType::u8: return H5T_NATIVE_UINT8;
    case DType::u16: return H5T_NATIVE_UINT16;
    case DType::u32: return H5T_NATIVE_UINT32;
    case DType::u64: return H5T_NATIVE_UINT64;
    case DType::i8: return H5T_NATIVE_INT8;
    case DType::i16: return H5T_NATIVE_INT16;
    case DType::i32: return H5T_NATIVE_INT32;
    case DType::i64: return H5T_NATIVE_INT64;
    case DType::f32: return H5T_NATIVE_FLOAT;
    case DType::f64: return H5T_NATIVE_DOUBLE;
    case DType::str: break;
  }
  throw Error("native_type: string columns have no fixed native type");
}

Handle string_type() {
  Handle t = check(H5Tcopy(H5T_C_S1), "copy string type");
  check_status(H5Tset_size(t.id(), H5T_VARIABLE), "variable-length string type");
  check_status(H5Tset_cset(t.id(), H5T_CSET_UTF8), "UTF-8 string type");
  return t;
}

Plan make_plan(Communicator& comm, const std::vector<OutputTable>& parts, const std::string& what) {
  agreed(comm, [&] { check_local(parts, what, comm.rank()); });

  // Same tables and columns everywhere: rank 0's schema against each rank's own.
  const std::string mine = schema_of(parts);
  std::vector<std::byte> reference(reinterpret_cast<const std::byte*>(mine.data()),
                                   reinterpret_cast<const std::byte*>(mine.data() + mine.size()));
  comm.broadcast(reference, 0);
  agreed(comm, [&] {
    const std::string ref(reinterpret_cast<const char*>(reference.data()), reference.size());
    if (ref != mine) {
      throw Error(what + ": ranks disagree on the output tables: rank " + std::to_string(comm.rank()) + " has " + mine +
                  ", rank 0 has " + ref);
    }
  });

  std::vector<std::uint64_t> counts;
  for (const auto& t : parts) counts.push_back(t.rows());
  std::vector<std::vector<std::byte>> all;
  comm.allgather(as_bytes_of(counts), all);
  Plan plan;
  plan.rows.assign(parts.size(), std::vector<std::uint64_t>(static_cast<std::size_t>(comm.size())));
  plan.total.assign(parts.size(), 0);
  for (std::size_t r = 0; r < all.size(); ++r) {
    const auto theirs = to_u64s(all[r]);
    for (std::size_t t = 0; t < parts.size(); ++t) {
      plan.rows[t][r] = theirs.at(t);
      plan.total[t] += theirs[t];
    }
  }
  return plan;
}

Handle create_file(const std::filesystem::path& path, hid_t fapl) {
  const std::string p = path.string();
  Handle fcpl = check(H5Pcreate(H5P_FILE_CREATE), p + ": file creation properties");
  check_status(H5Pset_link_creation_order(fcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               p + ": link creation order");
  return check(H5Fcreate(p.c_str(), H5F_ACC_TRUNC, fcpl.id(), fapl), p + ": cannot create HDF5 file");
}

Handle create_table(hid_t file, const OutputTable& table, std::uint64_t total, const WriteOptions& options,
                    std::vector<Handle>& datasets, const std::string& what) {
  const std::string at = what + ": table /" + table.name();
  Handle gcpl = check(H5Pcreate(H5P_GROUP_CREATE), at + ": group properties");
  check_status(H5Pset_link_creation_order(gcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
               at + ": link creation order");
  Handle group = check(H5Gcreate2(file, table.name().c_str(), H5P_DEFAULT, gcpl.id(), H5P_DEFAULT),
                       at + ": cannot create group");
  const hsize_t dims = total;
  Handle space = check(H5Screate_simple(1, &dims, nullptr), at + ": dataspace");
  Handle dcpl = check(H5Pcreate(H5P_DATASET_CREATE), at + ": dataset properties");
  if (options.chunk_rows > 0 && total > 0) {
    const hsize_t chunk = std::min<hsize_t>(options.chunk_rows, total);
    check_status(H5Pset_chunk(dcpl.id(), 1, &chunk), at + ": chunking");
    if (options.deflate_level > 0) {
      check_status(H5Pset_deflate(dcpl.id(), static_cast<unsigned>(std::min(options.deflate_level, 9))),
                   at + ": deflate");
    }
  }
  // Every numeric row is always written, so no fill pass for numbers. (HDF5 refuses
  // "never fill" for variable-length types: string datasets keep the default.)
  Handle numeric_dcpl = check(H5Pcopy(dcpl.id()), at + ": dataset properties");
  check_status(H5Pset_fill_time(numeric_dcpl.id(), H5D_FILL_TIME_NEVER), at + ": fill time");
  datasets.clear();
  Handle strings = string_type();
  for (const auto& spec : table.specs()) {
    const bool str = spec.type == DType::str;
    datasets.push_back(check(H5Dcreate2(group.id(), spec.name.c_str(), str ? strings.id() : detail::file_type(spec.type),
                                        space.id(), H5P_DEFAULT, str ? dcpl.id() : numeric_dcpl.id(), H5P_DEFAULT),
                             at + ": cannot create dataset for column '" + spec.name + "'"));
  }
  std::vector<std::string> names;
  for (const auto& spec : table.specs()) names.push_back(spec.name);
  strings_attribute(group.id(), "columns", names, at);
  scalar_attribute(group.id(), "rows", static_cast<std::uint64_t>(total), H5T_STD_U64LE, H5T_NATIVE_UINT64, at);
  return group;
}

void write_slab(hid_t dataset, hid_t mem_type, std::uint64_t first, std::uint64_t count, const void* buffer,
                hid_t dxpl, const std::string& what) {
  Handle fspace = check(H5Dget_space(dataset), what + ": dataspace");
  const hsize_t start = first;
  const hsize_t n = std::max<hsize_t>(count, 1);
  Handle mspace = check(H5Screate_simple(1, &n, nullptr), what + ": memory dataspace");
  if (count == 0) {
    check_status(H5Sselect_none(fspace.id()), what + ": empty selection");
    check_status(H5Sselect_none(mspace.id()), what + ": empty selection");
  } else {
    const hsize_t c = count;
    check_status(H5Sselect_hyperslab(fspace.id(), H5S_SELECT_SET, &start, nullptr, &c, nullptr),
                 what + ": select rows " + std::to_string(first) + ".." + std::to_string(first + count));
  }
  static const char dummy = 0;
  check_status(H5Dwrite(dataset, mem_type, mspace.id(), fspace.id(), dxpl, buffer != nullptr ? buffer : &dummy),
               what + ": write rows " + std::to_string(first) + ".." + std::to_string(first + count));
}

void write_column_rows(hid_t dataset, const ColumnData& column, std::size_t begin, std::uint64_t count,
                       std::uint64_t first, const std::string& what) {
  std::visit(
      [&](const auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          std::vector<const char*> ptrs(count);
          for (std::uint64_t i = 0; i < count; ++i) ptrs[i] = v[begin + i].c_str();
          Handle type = string_type();
          write_slab(dataset, type.id(), first, count, ptrs.data(), H5P_DEFAULT, what);
        } else {
          write_slab(dataset, native_type(dtype_of<T>()), first, count, v.data() + begin, H5P_DEFAULT, what);
        }
      },
      column);
}

void write_attributes(hid_t file, const std::vector<OutputTable>& parts, const Plan& plan, const OutputInfo& info,
                      const std::string& what) {
  (void)plan;
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
  for (const auto& t : parts) names.push_back(t.name());
  strings_attribute(file, "tables", names, what + ": root group");
  for (const auto& t : parts) {
    const std::string at = what + ": table /" + t.name();
    Handle group = check(H5Gopen2(file, t.name().c_str(), H5P_DEFAULT), at + ": open group");
    run_attributes(group.id(), info, parameters, inputs, at);
  }
}

void gather_rounds(Communicator& comm, const OutputTable& part, const std::vector<std::size_t>& cols,
                   const Plan& plan, std::size_t table, std::size_t round_bytes, const RoundSink& sink) {
  const std::size_t budget = std::max<std::size_t>(round_bytes, 1);
  const auto ranks = static_cast<std::size_t>(comm.size());
  const bool root = comm.rank() == 0;

  // Everyone's pieces (rows, bytes), so every rank derives the same schedule.
  std::vector<Piece> mine;
  agreed(comm, [&] { mine = split_pieces(part, cols, budget); });
  std::vector<std::uint64_t> flat;
  for (const auto& p : mine) flat.insert(flat.end(), {p.rows, p.bytes});
  std::vector<std::vector<std::byte>> all;
  comm.allgather(as_bytes_of(flat), all);

  struct Entry {
    std::size_t rank, piece;
    std::uint64_t first, rows;  // rows of that rank's part
  };
  std::vector<std::vector<Entry>> rounds;
  {
    std::uint64_t in_round = 0;
    for (std::size_t r = 0; r < ranks; ++r) {
      const auto theirs = to_u64s(all[r]);
      std::uint64_t first = 0;
      for (std::size_t i = 0; i + 1 < theirs.size(); i += 2) {
        const std::uint64_t rows = theirs[i], bytes = theirs[i + 1];
        if (rounds.empty() || (in_round > 0 && in_round + bytes > budget)) {
          rounds.emplace_back();
          in_round = 0;
        }
        rounds.back().push_back({r, i / 2, first, rows});
        in_round += bytes;
        first += rows;
      }
    }
  }
  all.clear();

  std::exception_ptr failure;
  std::vector<std::byte> send, recv;
  std::vector<std::size_t> send_counts(ranks, 0), recv_counts;
  // Round buffers live across rounds: fresh large allocations are fresh pages, and
  // faulting them in costs more than the copy itself.
  std::vector<ColumnData> data;
  if (root) {
    for (std::size_t c : cols) data.push_back(make_column(part.specs()[c].type));
  }
  for (const auto& round : rounds) {
    agreed(comm, [&] {
      if (failure) std::rethrow_exception(failure);
      send.clear();
      for (const auto& e : round) {
        if (e.rank == static_cast<std::size_t>(comm.rank()) && !root) encode(part, cols, mine[e.piece], send);
      }
    });
    send_counts[0] = send.size();
    comm.alltoallv(send, send_counts, recv, recv_counts);
    if (!root) continue;
    try {
      const std::uint64_t first = plan.offset(table, static_cast<int>(round.front().rank)) + round.front().first;
      std::uint64_t rows = 0;
      for (const auto& e : round) rows += e.rows;
      std::vector<const ColumnData*> views;
      const bool local_only = std::all_of(round.begin(), round.end(), [](const Entry& e) { return e.rank == 0; });
      if (local_only) {
        for (std::size_t c : cols) views.push_back(&part.data(c));
        sink(first, rows, views, static_cast<std::size_t>(round.front().first));
      } else {
        for (auto& d : data) std::visit([](auto& v) { v.clear(); }, d);
        const std::byte* at = recv.data();
        for (const auto& e : round) {
          if (e.rank == 0) {
            for (std::size_t k = 0; k < cols.size(); ++k) append_local(part.data(cols[k]), e.first, e.rows, data[k]);
          } else {
            for (auto& d : data) decode_append(at, e.rows, d);
          }
        }
        for (const auto& d : data) views.push_back(&d);
        sink(first, rows, views, 0);
      }
    } catch (...) {
      failure = std::current_exception();
    }
  }
  agree_on_failure(comm, failure);
}

}  // namespace detail

namespace {

std::vector<std::size_t> columns_where(const OutputTable& t, bool strings) {
  std::vector<std::size_t> cols;
  for (std::size_t c = 0; c < t.specs().size(); ++c) {
    if ((t.specs()[c].type == DType::str) == strings) cols.push_back(c);
  }
  return cols;
}

std::vector<std::size_t> all_columns(const OutputTable& t) {
  std::vector<std::size_t> cols(t.specs().size());
  for (std::size_t c = 0; c < cols.size(); ++c) cols[c] = c;
  return cols;
}

void close_file(Handle& file, const std::string& what) {
  if (!file.valid()) return;
  const hid_t id = file.release();
  check_status(H5Fclose(id), what + ": close failed");
}

/// Rank 0 writes `cols` of every table through gather rounds into the open `file`.
void gather_and_write(Communicator& comm, Handle& file, const std::vector<OutputTable>& parts,
                      const detail::Plan& plan, const WriteOptions& options, bool strings_only,
                      const std::string& what) {
  for (std::size_t t = 0; t < parts.size(); ++t) {
    const auto cols = strings_only ? columns_where(parts[t], true) : all_columns(parts[t]);
    if (cols.empty() || plan.total[t] == 0) continue;
    const std::string at = what + ": table /" + parts[t].name();
    std::vector<Handle> datasets(cols.size());
    agreed(comm, [&] {
      if (comm.rank() != 0) return;
      for (std::size_t k = 0; k < cols.size(); ++k) {
        const std::string path = "/" + parts[t].name() + "/" + parts[t].specs()[cols[k]].name;
        datasets[k] = check(H5Dopen2(file.id(), path.c_str(), H5P_DEFAULT), at + ": open " + path);
      }
    });
    detail::gather_rounds(comm, parts[t], cols, plan, t, options.gather_round_bytes,
                          [&](std::uint64_t first, std::uint64_t rows, std::span<const ColumnData* const> columns,
                              std::size_t begin) {
                            for (std::size_t k = 0; k < cols.size(); ++k) {
                              detail::write_column_rows(datasets[k].id(), *columns[k], begin, rows, first,
                                                        at + ": column '" + parts[t].specs()[cols[k]].name + "'");
                            }
                          });
  }
}

/// Refuses a write that cannot fit: the numeric columns alone (a lower bound of the
/// file's size) need more than the output's file system has free. A full disk found
/// this way is one clear error before the file exists; found by a failing parallel
/// write instead, it can leave the ranks deadlocked in HDF5 1.10's collective close
/// (tests/faults, test_full_output_file_system). A disk filling during the write is
/// still reported by the write itself.
void check_free_space(const std::filesystem::path& file, const std::vector<OutputTable>& parts,
                      const detail::Plan& plan) {
  std::uint64_t need = 0;
  for (std::size_t t = 0; t < parts.size(); ++t) {
    for (const auto& spec : parts[t].specs()) need += plan.total[t] * detail::element_size(spec.type);
  }
  std::filesystem::path dir = file.parent_path();
  if (dir.empty()) dir = ".";
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return;  // unknown: let the write tell
  const std::uint64_t free_bytes = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  if (need > free_bytes) {
    throw Error(dir.string() + ": No space left on device for the output: its columns need at least " +
                std::to_string(need) + " bytes, " + std::to_string(free_bytes) + " are free");
  }
}

}  // namespace

void write_tables(Communicator& comm, const std::filesystem::path& file, const std::vector<OutputTable>& parts,
                  const OutputInfo& info, const WriteOptions& options) {
  const std::string what = file.string();
  const detail::Plan plan = detail::make_plan(comm, parts, what);
  const bool parallel = comm.mpi_comm() != nullptr && comm.size() > 1 && !options.force_gather;
  const bool root = comm.rank() == 0;
  agreed(comm, [&] {
    if (root) check_free_space(file, parts, plan);
  });

  Handle h5;
  if (parallel) {
    detail::write_parallel_numeric(comm, file, parts, plan, options);
    agreed(comm, [&] {
      if (!root) return;
      h5 = check(H5Fopen(what.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), what + ": cannot reopen to finish");
      detail::write_attributes(h5.id(), parts, plan, info, what);
    });
    gather_and_write(comm, h5, parts, plan, options, true, what);
  } else {
    agreed(comm, [&] {
      if (!root) return;
      h5 = detail::create_file(file, H5P_DEFAULT);
      for (std::size_t t = 0; t < parts.size(); ++t) {
        std::vector<Handle> datasets;
        detail::create_table(h5.id(), parts[t], plan.total[t], options, datasets, what);
      }
      detail::write_attributes(h5.id(), parts, plan, info, what);
    });
    gather_and_write(comm, h5, parts, plan, options, false, what);
  }
  internal::fault_point("write", comm.rank());  // testing aid (tests/faults)
  agreed(comm, [&] { close_file(h5, what); });
}

}  // namespace pearl::io
