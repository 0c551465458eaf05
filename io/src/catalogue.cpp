// Input specs, glob expansion, shard validation, rank pieces and the broadcast format.
#include "pearl/io/catalogue.hpp"

#include <glob.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "pearl/core/error.hpp"
#include "pearl/io/table_reader.hpp"

namespace pearl::io {

namespace {
constexpr std::string_view kUsage = "expected NAME=GLOB[:/path], e.g. cases=data/cases-*.h5 or cases=all.h5:/health/cases";

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// The byte format: "PEARLCAT", format version, then per catalogue its spec strings and
// shards. Numbers are native-endian: the bytes only travel between ranks of one job,
// which share an architecture.
constexpr std::string_view kMagic = "PEARLCAT";
constexpr std::uint64_t kVersion = 1;

class Writer {
 public:
  void u64(std::uint64_t v) { raw(&v, sizeof v); }
  void str(const std::string& s) {
    u64(s.size());
    raw(s.data(), s.size());
  }
  void raw(const void* p, std::size_t n) {
    const auto* b = static_cast<const std::byte*>(p);
    bytes.insert(bytes.end(), b, b + n);
  }
  std::vector<std::byte> bytes;
};

class Reader {
 public:
  explicit Reader(std::span<const std::byte> b) : bytes_(b) {}
  std::uint64_t u64() {
    std::uint64_t v = 0;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  std::string str() {
    const std::uint64_t n = u64();
    if (n > bytes_.size() - pos_) bad();
    const auto* p = reinterpret_cast<const char*>(take(n));
    return std::string(p, n);
  }
  const std::byte* take(std::size_t n) {
    if (n > bytes_.size() - pos_) bad();
    const std::byte* p = bytes_.data() + pos_;
    pos_ += n;
    return p;
  }
  [[nodiscard]] bool done() const noexcept { return pos_ == bytes_.size(); }
  [[noreturn]] static void bad() { throw Error("catalogue bytes are truncated or not a serialised catalogue"); }

 private:
  std::span<const std::byte> bytes_;
  std::size_t pos_ = 0;
};

void write_catalogue(Writer& w, const Catalogue& c) {
  w.str(c.spec().name);
  w.str(c.spec().glob);
  w.str(c.spec().path);
  w.u64(c.shards().size());
  for (const auto& s : c.shards()) {
    w.str(s.file.string());
    w.u64(s.rows);
  }
}

Catalogue read_catalogue(Reader& r) {
  InputSpec spec;
  spec.name = r.str();
  spec.glob = r.str();
  spec.path = r.str();
  const std::uint64_t n = r.u64();
  std::vector<Shard> shards;
  for (std::uint64_t i = 0; i < n; ++i) {
    Shard s;
    s.file = r.str();
    s.rows = r.u64();
    shards.push_back(std::move(s));
  }
  return Catalogue(std::move(spec), std::move(shards));
}

void write_header(Writer& w, std::uint64_t count) {
  w.raw(kMagic.data(), kMagic.size());
  w.u64(kVersion);
  w.u64(count);
}

std::uint64_t read_header(Reader& r) {
  if (std::memcmp(r.take(kMagic.size()), kMagic.data(), kMagic.size()) != 0) Reader::bad();
  if (r.u64() != kVersion) throw Error("catalogue bytes have an unknown format version");
  return r.u64();
}
}  // namespace

InputSpec parse_input_spec(std::string_view text) {
  const std::string where = "--input '" + std::string(text) + "': ";
  const auto eq = text.find('=');
  if (eq == std::string_view::npos) throw InputError(where + std::string(kUsage));
  InputSpec spec;
  spec.name = std::string(text.substr(0, eq));
  if (spec.name.empty() || !std::all_of(spec.name.begin(), spec.name.end(), name_char)) {
    throw InputError(where + "the table name must be letters, digits and '_'; " + std::string(kUsage));
  }
  std::string_view rest = text.substr(eq + 1);
  // Only a ':' followed by '/' starts the in-file path, so globs may contain ':'.
  const auto colon = rest.rfind(':');
  if (colon != std::string_view::npos && colon + 1 < rest.size() && rest[colon + 1] == '/') {
    spec.path = std::string(rest.substr(colon + 1));
    rest = rest.substr(0, colon);
  } else {
    spec.path = "/" + spec.name;
  }
  spec.glob = std::string(rest);
  if (spec.glob.empty()) throw InputError(where + "no shard files given; " + std::string(kUsage));
  return spec;
}

std::vector<std::filesystem::path> expand_glob(const std::string& pattern) {
  glob_t g{};
  const int rc = ::glob(pattern.c_str(), 0, nullptr, &g);
  const std::unique_ptr<glob_t, void (*)(glob_t*)> guard(&g, ::globfree);
  if (rc == GLOB_NOMATCH) {
    if (pattern.find_first_of("*?[") == std::string::npos) throw InputError(pattern + ": no such file");
    throw InputError("no files match '" + pattern + "'");
  }
  if (rc != 0) throw InputError("cannot expand '" + pattern + "' (" + (rc == GLOB_NOSPACE ? "out of memory" : "read error") + ")");
  std::vector<std::string> names;
  names.reserve(g.gl_pathc);
  for (std::size_t i = 0; i < g.gl_pathc; ++i) names.emplace_back(g.gl_pathv[i]);
  // glob(3) sorts by the locale's collation; shard order must not depend on the locale.
  std::sort(names.begin(), names.end());
  return {names.begin(), names.end()};
}

Catalogue::Catalogue(InputSpec spec, std::vector<Shard> shards) : spec_(std::move(spec)), shards_(std::move(shards)) {
  for (auto& s : shards_) {
    s.first_row = total_rows_;
    total_rows_ += s.rows;
  }
}

Catalogue Catalogue::build(const InputSpec& spec, const std::vector<ColumnSpec>& required) {
  std::vector<std::filesystem::path> files;
  try {
    files = expand_glob(spec.glob);
  } catch (const InputError& e) {
    throw InputError("input '" + spec.name + "': " + e.what());
  }
  std::vector<Shard> shards;
  shards.reserve(files.size());
  for (auto& f : files) {
    TableReader reader(f, spec.path);
    reader.check(required);
    shards.push_back({std::move(f), reader.rows(), 0});
  }
  return Catalogue(spec, std::move(shards));
}

std::vector<Piece> Catalogue::pieces(RowRange range) const {
  std::vector<Piece> out;
  if (range.end > total_rows_) range.end = total_rows_;
  if (range.begin >= range.end) return out;
  // The first shard whose rows reach past range.begin.
  auto it = std::upper_bound(shards_.begin(), shards_.end(), range.begin,
                             [](std::uint64_t row, const Shard& s) { return row < s.first_row + s.rows; });
  for (; it != shards_.end() && it->first_row < range.end; ++it) {
    const std::uint64_t b = std::max(range.begin, it->first_row);
    const std::uint64_t e = std::min(range.end, it->first_row + it->rows);
    if (b < e) {
      out.push_back({static_cast<std::size_t>(it - shards_.begin()), b - it->first_row, e - it->first_row, b});
    }
  }
  return out;
}

std::vector<std::byte> Catalogue::serialise() const { return io::serialise(std::span<const Catalogue>(this, 1)); }

Catalogue Catalogue::deserialise(std::span<const std::byte> bytes) {
  std::vector<Catalogue> all = deserialise_catalogues(bytes);
  if (all.size() != 1) throw Error("catalogue bytes hold " + std::to_string(all.size()) + " catalogues, expected 1");
  return std::move(all.front());
}

std::vector<std::byte> serialise(std::span<const Catalogue> catalogues) {
  Writer w;
  write_header(w, catalogues.size());
  for (const auto& c : catalogues) write_catalogue(w, c);
  return std::move(w.bytes);
}

std::vector<Catalogue> deserialise_catalogues(std::span<const std::byte> bytes) {
  Reader r(bytes);
  const std::uint64_t n = read_header(r);
  std::vector<Catalogue> out;
  for (std::uint64_t i = 0; i < n; ++i) out.push_back(read_catalogue(r));
  if (!r.done()) Reader::bad();
  return out;
}

}  // namespace pearl::io
