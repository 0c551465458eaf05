#include "pearl/cluster/shard_inputs.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "pearl/core/agreement.hpp"
#include "pearl/core/error.hpp"
#include "pearl/core/detail/fault_point.hpp"
#include "pearl/io/column_domains.hpp"
#include "pearl/io/contract.hpp"
#include "pearl/io/table_reader.hpp"
#include "pearl/io/table_source.hpp"

namespace pearl::cluster {

namespace {

/// Rank 0 computes bytes (which may throw), then every rank gets them or the error.
template <class Compute>
std::vector<std::byte> computed_on_root(Communicator& comm, Compute&& compute) {
  std::vector<std::byte> bytes;
  agreed(comm, [&] {
    if (comm.rank() == 0) bytes = compute();
  });
  comm.broadcast(bytes, 0);
  return bytes;
}

}  // namespace

DType natural_type(const io::StoredType& s) {
  switch (s.cls) {
    case io::TypeClass::string: return DType::str;
    case io::TypeClass::floating: return s.size <= 4 ? DType::f32 : DType::f64;
    case io::TypeClass::integer: {
      static constexpr DType signed_types[] = {DType::i8, DType::i16, DType::i32, DType::i64};
      static constexpr DType unsigned_types[] = {DType::u8, DType::u16, DType::u32, DType::u64};
      const std::size_t i = s.size <= 1 ? 0 : s.size <= 2 ? 1 : s.size <= 4 ? 2 : 3;
      return s.is_signed ? signed_types[i] : unsigned_types[i];
    }
    case io::TypeClass::other: break;
  }
  return DType::str;  // unreadable; the reader reports it when the column is opened
}

namespace {

DType wider(DType a, DType b) {
  if (a == b) return a;
  if (a == DType::str || b == DType::str) return DType::str;  // mixed: the reader reports the mismatch
  if (dtype_is_float(a) || dtype_is_float(b)) return DType::f64;
  // Integers: the widest; a signed/unsigned mix needs a signed type twice the unsigned width.
  const auto width = [](DType t) { return static_cast<int>(dtype_width(t)); };
  const bool sa = dtype_is_signed(a), sb = dtype_is_signed(b);
  int w = std::max(width(a), width(b));
  if (sa != sb) w = std::min(8, std::max(sa ? width(a) : width(b), 2 * (sa ? width(b) : width(a))));
  if (sa || sb) return w <= 1 ? DType::i8 : w <= 2 ? DType::i16 : w <= 4 ? DType::i32 : DType::i64;
  return w <= 1 ? DType::u8 : w <= 2 ? DType::u16 : w <= 4 ? DType::u32 : DType::u64;
}

/// Marks an unsupported column in the encoding: its name, then its stored type's text.
constexpr std::byte kUnsupported{0xFF};

void put_text(std::vector<std::byte>& out, const std::string& text) {
  for (char ch : text) out.push_back(static_cast<std::byte>(ch));
  out.push_back(std::byte{0});
}

std::string take_text(const std::vector<std::byte>& bytes, std::size_t& i) {
  std::string text;
  while (bytes[i] != std::byte{0}) text += static_cast<char>(bytes[i++]);
  ++i;
  return text;
}

std::vector<std::byte> encode_columns(const std::vector<ColumnSpec>& columns,
                                      const std::map<std::string, std::string>& unsupported) {
  std::vector<std::byte> out;
  for (const auto& c : columns) {
    out.push_back(static_cast<std::byte>(c.type));
    put_text(out, c.name);
  }
  for (const auto& [name, type] : unsupported) {
    out.push_back(kUnsupported);
    put_text(out, name);
    put_text(out, type);
  }
  return out;
}

std::vector<ColumnSpec> decode_columns(const std::vector<std::byte>& bytes, std::map<std::string, std::string>& unsupported) {
  std::vector<ColumnSpec> out;
  for (std::size_t i = 0; i < bytes.size();) {
    const std::byte tag = bytes[i++];
    std::string name = take_text(bytes, i);
    if (tag == kUnsupported) {
      unsupported[name] = take_text(bytes, i);
    } else {
      out.push_back({std::move(name), static_cast<DType>(tag)});
    }
  }
  return out;
}

}  // namespace

ShardInputs::ShardInputs(Communicator& comm, const std::vector<std::string>& specs, std::size_t batch_bytes,
                         io::BadRowPolicy on_bad_row)
    : comm_(comm), batch_bytes_(batch_bytes), on_bad_row_(on_bad_row), rejects_(std::make_shared<io::RejectLog>()) {
  const auto bytes = computed_on_root(comm, [&] {
    std::vector<io::Catalogue> built;
    for (const auto& text : specs) {
      const io::InputSpec spec = io::parse_input_spec(text);
      for (const auto& c : built) {
        if (c.name() == spec.name) throw InputError("--input " + spec.name + " is given twice");
      }
      built.push_back(io::Catalogue::build(spec, {}));
    }
    return io::serialise(built);
  });
  catalogues_ = io::deserialise_catalogues(bytes);
}

bool ShardInputs::has(const std::string& table) const {
  return std::any_of(catalogues_.begin(), catalogues_.end(), [&](const auto& c) { return c.name() == table; });
}

std::string ShardInputs::where(const std::string& table) const {
  const io::Catalogue& cat = catalogue(table);
  return "input '" + table + "' (" + cat.spec().glob + ":" + cat.path() + ")";
}

const io::Catalogue& ShardInputs::catalogue(const std::string& table) const {
  for (const auto& c : catalogues_) {
    if (c.name() == table) return c;
  }
  throw InputError("this job needs the input table '" + table + "': add --input " + table + "=GLOB[:/path]");
}

std::vector<ColumnSpec> ShardInputs::columns(const std::string& table) const {
  if (const auto it = columns_cache_.find(table); it != columns_cache_.end()) return it->second;
  const io::Catalogue& cat = catalogue(table);
  const auto bytes = computed_on_root(comm_, [&] {
    const io::ContractTable* contract = io::find_contract_table(cat.name(), cat.path());
    std::vector<ColumnSpec> merged;
    std::map<std::string, std::string> unsupported;
    for (const auto& shard : cat.shards()) {
      const io::TableReader reader(shard.file, cat.path());
      for (const auto& col : reader.info().unsupported) unsupported.emplace(col.name, col.stored.name());
      for (const auto& col : reader.info().columns) {
        DType t = natural_type(col.stored);
        if (contract != nullptr) {
          for (const auto& cc : contract->columns) {
            if (cc.name == col.name) t = cc.type;
          }
        }
        auto it = std::find_if(merged.begin(), merged.end(), [&](const ColumnSpec& m) { return m.name == col.name; });
        if (it == merged.end()) merged.push_back({col.name, t});
        else it->type = wider(it->type, t);
      }
    }
    return encode_columns(merged, unsupported);
  });
  return columns_cache_[table] = decode_columns(bytes, unsupported_cache_[table]);
}

std::string ShardInputs::unsupported_type(const std::string& table, const std::string& column) const {
  (void)columns(table);  // fills the cache on every rank alike
  const auto& types = unsupported_cache_[table];
  const auto it = types.find(column);
  return it == types.end() ? std::string() : it->second;
}

void ShardInputs::validate(const std::string& table, const std::vector<ColumnSpec>& columns) {
  const io::Catalogue& cat = catalogue(table);
  // Every rank makes the same calls, so every rank skips the same repeated checks.
  for (const auto& [t, c] : validated_) {
    if (t == table && c == columns) return;
  }
  agreed(comm_, [&] {
    if (comm_.rank() == 0) (void)io::Catalogue::build(cat.spec(), columns);
  });
  validated_.emplace_back(table, columns);
}

namespace {
/// A batch's size in memory: fixed-width columns by their type, strings by their characters.
std::uint64_t batch_bytes(const TableBatch& batch) {
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < batch.specs().size(); ++i) {
    std::visit(
        [&](const auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_same_v<T, std::string>) {
            for (std::size_t r = 0; r < batch.rows(); ++r) bytes += v[r].size();
          } else {
            bytes += batch.rows() * sizeof(T);
          }
        },
        batch.data(i));
  }
  return bytes;
}
}  // namespace

void ShardInputs::check_always(const std::string& table, const std::vector<ColumnSpec>& columns) {
  const io::Catalogue& cat = catalogue(table);
  const io::ContractTable* contract = io::find_contract_table(cat.name(), cat.path());
  if (contract == nullptr) return;
  auto& always = always_checked_[table];
  for (const auto& c : columns) {
    if (io::contract_domain(contract->name, c.name) != nullptr && std::find(always.begin(), always.end(), c) == always.end()) {
      always.push_back(c);
    }
  }
}

TableInput ShardInputs::open(const std::string& table, const std::vector<ColumnSpec>& requested) {
  const io::Catalogue& cat = catalogue(table);
  // The requested columns, then those checked on every read that were not requested:
  // a row is then set aside alike by every pass over the input, whatever it reads.
  std::vector<ColumnSpec> columns = requested;
  if (const auto it = always_checked_.find(table); it != always_checked_.end()) {
    for (const auto& c : it->second) {
      const auto same_name = [&](const ColumnSpec& r) { return r.name == c.name; };
      if (std::none_of(columns.begin(), columns.end(), same_name)) columns.push_back(c);
    }
  }
  // Validate every shard against the projection before anyone reads a row.
  validate(table, columns);
  const std::uint64_t rows = io::TableSource::rows_for_budget(columns, batch_bytes_);
  struct Reader final : TableReaderBase {
    Reader(io::TableSource s, int r, ReadCounters& c) : source(std::move(s)), rank(r), counters(c) {}
    std::optional<TableBatch> next() override {
      pearl::detail::fault_point("map", rank);  // testing aid (tests/faults): batches are read as the map goes
      auto batch = source.next();
      if (batch) {
        counters.rows += batch->rows();
        counters.bytes += batch_bytes(*batch);
      }
      return batch;
    }
    void recycle(TableBatch&& batch) override { source.recycle(std::move(batch)); }
    std::uint64_t skip(std::uint64_t batches) override { return source.skip(batches); }  // reads no rows
    io::TableSource source;
    int rank;
    ReadCounters& counters;
  };
  for (const auto& piece : cat.pieces_for(comm_.rank(), comm_.size())) counters_.rows_expected += piece.rows();
  counters_.rows_total += cat.total_rows();
  io::TableSource source(cat, columns, comm_, rows);
  const io::ContractTable* contract = io::find_contract_table(cat.name(), cat.path());
  source.check_rows(io::RowChecks(table, contract != nullptr ? std::string_view(contract->name) : std::string_view(),
                                  columns, on_bad_row_, rejects_));
  return TableInput(std::make_unique<Reader>(std::move(source), comm_.rank(), counters_), cat.total_rows());
}

std::vector<io::InputFileInfo> ShardInputs::files() const {
  std::vector<io::InputFileInfo> out;
  for (const auto& cat : catalogues_) {
    for (const auto& shard : cat.shards()) {
      struct stat st {};
      io::InputFileInfo info{cat.name(), shard.file.string(), 0, 0};
      if (::stat(shard.file.c_str(), &st) == 0) {
        info.bytes = static_cast<std::uint64_t>(st.st_size);
        info.mtime = static_cast<std::int64_t>(st.st_mtime);
      }
      out.push_back(std::move(info));
    }
  }
  return out;
}

}  // namespace pearl::cluster
