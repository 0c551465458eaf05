// write_csv: rank 0 receives the rows in bounded rounds (gather_rounds) and formats them.
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <type_traits>

#include "output_writer_detail.hpp"
#include "pearl/core/agreement.hpp"
#include "pearl/io/atomic_output.hpp"
#include "pearl/io/output_writer.hpp"

namespace pearl::io {

namespace {

void put_field(std::string& out, std::string_view s) {
  const bool quote = s.find_first_of(",\"\r\n") != std::string_view::npos ||
                     (!s.empty() && (s.front() == ' ' || s.back() == ' '));
  if (!quote) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

template <class T>
void put_number(std::string& out, T v) {
  char buf[64];
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(v)) {
      out += "NaN";
      return;
    }
    if (std::isinf(v)) {
      out += v > 0 ? "inf" : "-inf";
      return;
    }
    // Shortest form that reads back to the same value of type T.
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  } else if constexpr (std::is_signed_v<T>) {
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::int64_t>(v));
    out.append(buf, r.ptr);
  } else {
    const auto r = std::to_chars(buf, buf + sizeof buf, static_cast<std::uint64_t>(v));
    out.append(buf, r.ptr);
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};
using FilePtr = std::unique_ptr<std::FILE, FileCloser>;

void put(std::FILE* f, const std::string& text, const std::string& what) {
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), f) != text.size()) {
    throw Error(what + ": write failed: " + std::strerror(errno));
  }
}

}  // namespace

void write_csv(Communicator& comm, const std::filesystem::path& dir, const std::vector<OutputTable>& parts,
               std::size_t gather_round_bytes) {
  std::vector<std::optional<AtomicOutput>> outputs(parts.size());
  std::vector<std::filesystem::path> files(parts.size());
  agreed(comm, [&] {
    if (comm.rank() != 0) return;
    for (std::size_t t = 0; t < parts.size(); ++t) {
      outputs[t].emplace(dir / (parts[t].name() + ".csv"));
      files[t] = outputs[t]->temp_path();
    }
  });
  write_csv_files(comm, files, parts, gather_round_bytes);
  // Every table is complete on disk: now they replace their targets.
  agreed(comm, [&] {
    for (auto& o : outputs) {
      if (o) o->commit();
    }
  });
}

void write_csv_files(Communicator& comm, const std::vector<std::filesystem::path>& files,
                     const std::vector<OutputTable>& parts, std::size_t gather_round_bytes) {
  const bool root = comm.rank() == 0;
  const std::string what = root && !files.empty() ? files.front().parent_path().string() : "CSV output";
  const detail::Plan plan = detail::make_plan(comm, parts, what);

  for (std::size_t t = 0; t < parts.size(); ++t) {
    const OutputTable& part = parts[t];
    const std::string at = root ? files.at(t).string() : part.name() + ".csv";
    FilePtr file;
    agreed(comm, [&] {
      if (!root) return;
      file.reset(std::fopen(files[t].c_str(), "wb"));
      if (!file) throw Error(at + ": cannot create: " + std::strerror(errno));
      std::string header;
      for (std::size_t c = 0; c < part.specs().size(); ++c) {
        if (c > 0) header += ',';
        put_field(header, part.specs()[c].name);
      }
      header += '\n';
      put(file.get(), header, at);
    });
    std::vector<std::size_t> cols(part.specs().size());
    for (std::size_t c = 0; c < cols.size(); ++c) cols[c] = c;
    std::string text;
    detail::gather_rounds(comm, part, cols, plan, t, gather_round_bytes,
                          [&](std::uint64_t, std::uint64_t rows, std::span<const ColumnData* const> columns,
                              std::size_t begin) {
                            text.clear();
                            for (std::size_t r = begin; r < begin + rows; ++r) {
                              for (std::size_t c = 0; c < columns.size(); ++c) {
                                if (c > 0) text += ',';
                                std::visit(
                                    [&](const auto& v) {
                                      using T = typename std::decay_t<decltype(v)>::value_type;
                                      if constexpr (std::is_same_v<T, std::string>) {
                                        put_field(text, v[r]);
                                      } else {
                                        put_number(text, v[r]);
                                      }
                                    },
                                    *columns[c]);
                              }
                              text += '\n';
                              if (text.size() >= (std::size_t{1} << 20)) {
                                put(file.get(), text, at);
                                text.clear();
                              }
                            }
                            put(file.get(), text, at);
                          });
    agreed(comm, [&] {
      if (!root) return;
      std::FILE* f = file.release();
      if (std::fflush(f) != 0 || std::ferror(f) != 0) {
        const int err = errno;
        std::fclose(f);
        throw Error(at + ": write failed: " + std::strerror(err));
      }
      if (std::fclose(f) != 0) throw Error(at + ": close failed: " + std::strerror(errno));
    });
  }
}

}  // namespace pearl::io
