#include "pearl/cluster/shard_inputs.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "pearl/core/agreement.hpp"
#include "pearl/core/error.hpp"
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

std::vector<std::byte> encode_columns(const std::vector<ColumnSpec>& columns) {
  std::vector<std::byte> out;
  for (const auto& c : columns) {
    out.push_back(static_cast<std::byte>(c.type));
    for (char ch : c.name) out.push_back(static_cast<std::byte>(ch));
    out.push_back(std::byte{0});
  }
  return out;
}

std::vector<ColumnSpec> decode_columns(const std::vector<std::byte>& bytes) {
  std::vector<ColumnSpec> out;
  for (std::size_t i = 0; i < bytes.size();) {
    ColumnSpec c{"", static_cast<DType>(bytes[i++])};
    while (bytes[i] != std::byte{0}) c.name += static_cast<char>(bytes[i++]);
    ++i;
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace

ShardInputs::ShardInputs(Communicator& comm, const std::vector<std::string>& specs, std::size_t batch_bytes)
    : comm_(comm), batch_bytes_(batch_bytes) {
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
    // The contract table: by input name, else by the last part of the in-file path.
    const io::ContractTable* contract = io::find_contract_table(cat.name());
    if (contract == nullptr) contract = io::find_contract_table(cat.path().substr(cat.path().rfind('/') + 1));
    std::vector<ColumnSpec> merged;
    for (const auto& shard : cat.shards()) {
      const io::TableReader reader(shard.file, cat.path());
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
    return encode_columns(merged);
  });
  return columns_cache_[table] = decode_columns(bytes);
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

TableInput ShardInputs::open(const std::string& table, const std::vector<ColumnSpec>& columns) {
  const io::Catalogue& cat = catalogue(table);
  // Validate every shard against the projection before anyone reads a row.
  validate(table, columns);
  const std::uint64_t rows = io::TableSource::rows_for_budget(columns, batch_bytes_);
  struct Reader final : TableReaderBase {
    Reader(io::TableSource s, ReadCounters& c) : source(std::move(s)), counters(c) {}
    std::optional<TableBatch> next() override {
      auto batch = source.next();
      if (batch) {
        counters.rows += batch->rows();
        counters.bytes += batch_bytes(*batch);
      }
      return batch;
    }
    void recycle(TableBatch&& batch) override { source.recycle(std::move(batch)); }
    io::TableSource source;
    ReadCounters& counters;
  };
  for (const auto& piece : cat.pieces_for(comm_.rank(), comm_.size())) counters_.rows_expected += piece.rows();
  counters_.rows_total += cat.total_rows();
  return TableInput(std::make_unique<Reader>(io::TableSource(cat, columns, comm_, rows), counters_), cat.total_rows());
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

std::vector<std::string> ShardInputs::names() const {
  std::vector<std::string> out;
  for (const auto& c : catalogues_) out.push_back(c.name());
  return out;
}

}  // namespace pearl::cluster
