// The table reader's columnar read path: one 1-D dataset per column, read straight into
// the result when the stored type is the contract type, else in blocks at the stored
// width and converted (checked_conversion.hpp); strings in blocks, fixed or variable.
#include <algorithm>
#include <string>
#include <type_traits>
#include <variant>

#include "checked_conversion.hpp"
#include "h5util.hpp"
#include "table_reader_impl.hpp"

namespace pearl::io {

detail::RawVlenStrings* TableReader::Impl::raw_vlen(const TableInfo& info, std::size_t column) {
  if (raw_tried.size() != info.columns.size()) {
    raw_tried.assign(info.columns.size(), false);
    raw_strings.resize(info.columns.size());
  }
  if (!raw_tried[column]) {
    raw_tried[column] = true;
    raw_strings[column] =
        info.layout == Layout::compound
            ? detail::RawVlenStrings::open_member(info.file, file->id(), compound.id(), info.rows, info.columns[column].name)
            : detail::RawVlenStrings::open(info.file, file->id(), datasets[column].id(), info.rows);
  }
  return raw_strings[column].get();
}

bool TableReader::Impl::read_raw_vlen(const TableInfo& info, std::size_t column, std::uint64_t begin, std::uint64_t n,
                                      std::vector<std::string>& out) {
  detail::RawVlenStrings* raw = raw_vlen(info, column);
  if (raw == nullptr) return false;
  if (raw->read(begin, n, out)) return true;
  if (const auto& d = raw->damage()) {
    throw InputError(info.where() + ": column '" + info.columns[column].name + "': corrupt: the string at row " +
                     std::to_string(d->row) + " claims " + std::to_string(d->length) +
                     " bytes, more than the whole file");
  }
  return false;
}

bool TableReader::Impl::read_direct(const TableInfo& info, std::size_t column, hid_t mem_type, std::uint64_t begin,
                                    std::uint64_t n, void* out) {
  if (direct_tried.size() != info.columns.size()) {
    direct_tried.assign(info.columns.size(), false);
    direct.resize(info.columns.size());
  }
  const ColumnInfo& col = info.columns[column];
  if (!direct_tried[column]) {
    direct_tried[column] = true;
    if (!col.stored.variable) direct[column] = detail::DirectChunks::open(datasets[column].id(), col.storage, col.stored.size, info.rows);
  }
  detail::DirectChunks* chunks = direct[column].get();
  // The bytes are the file's: only when the file type is the one asked for (byte order too).
  return chunks != nullptr && chunks->covers(begin, n) && H5Tequal(types[column].id(), mem_type) > 0 &&
         chunks->read(begin, n, static_cast<std::byte*>(out));
}

void TableReader::Impl::read_columnar(const TableInfo& info, const detail::ReadPlan& p, std::uint64_t begin,
                                      std::uint64_t n, ColumnData& out) {
  const ColumnInfo& col = info.columns[p.column];
  const hid_t dset = datasets[p.column].id();
  const std::string where = info.where();
  const std::string what = where + ": column '" + col.name + "'";

  if (p.spec->type == DType::str) {
    auto& values = std::get<std::vector<std::string>>(out);
    values.reserve(n);
    const Handle mt = detail::string_memory_type(types[p.column].id(), col.stored, what);
    const std::uint64_t block = std::min(n, detail::kBlockRows);
    if (col.stored.variable) {
      if (read_raw_vlen(info, p.column, begin, n, values)) return;
      std::vector<char*> buf(block);
      detail::VlenArena& arena = vlen_arena();
      for (std::uint64_t off = 0; off < n; off += block) {
        const std::uint64_t m = std::min(block, n - off);
        const detail::Selection sel = detail::select_rows(dset, begin + off, m, what);
        arena.reset();
        detail::read_rows(dset, mt.id(), sel, buf.data(), what, begin + off, m, arena.transfer());
        for (std::uint64_t i = 0; i < m; ++i) values.emplace_back(buf[i] != nullptr ? buf[i] : "");
      }
      arena.reset();
    } else {
      const std::size_t size = col.stored.size;
      if (std::byte* all = staging(n * size); read_direct(info, p.column, mt.id(), begin, n, all)) {
        const auto* text = reinterpret_cast<const char*>(all);
        for (std::uint64_t i = 0; i < n; ++i) values.push_back(detail::decode_fixed(text + i * size, size, col.stored.pad));
        return;
      }
      std::vector<char> buf(block * size);
      for (std::uint64_t off = 0; off < n; off += block) {
        const std::uint64_t m = std::min(block, n - off);
        const detail::Selection sel = detail::select_rows(dset, begin + off, m, what);
        detail::read_rows(dset, mt.id(), sel, buf.data(), what, begin + off, m);
        for (std::uint64_t i = 0; i < m; ++i)
          values.push_back(detail::decode_fixed(buf.data() + i * size, size, col.stored.pad));
      }
    }
    return;
  }

  detail::with_numeric(p.spec->type, [&]<class T>(std::type_identity<T>) {
    auto& values = std::get<std::vector<T>>(out);
    values.resize(n);
    if (p.conv == Conversion::exact) {
      // The contract type as stored (byte order aside): HDF5 reads straight into the result.
      if (read_direct(info, p.column, detail::native<T>(), begin, n, values.data())) return;
      const detail::Selection sel = detail::select_rows(dset, begin, n, what);
      detail::read_rows(dset, detail::native<T>(), sel, values.data(), what, begin, n);
      return;
    }
    detail::with_stored(col.stored, [&]<class S>(std::type_identity<S>) {
      const detail::ColumnContext ctx{where, col.name, p.spec->type};
      if (auto* all = staging(n * sizeof(S)); read_direct(info, p.column, detail::native<S>(), begin, n, all)) {
        detail::convert_checked<T, S>(all, sizeof(S), n, values.data(), begin, ctx);
        return;
      }
      const std::uint64_t block = std::min(n, detail::kBlockRows);
      // operator new's alignment suits every numeric S
      S* buf = reinterpret_cast<S*>(staging(block * sizeof(S)));
      for (std::uint64_t off = 0; off < n; off += block) {
        const std::uint64_t m = std::min(block, n - off);
        const detail::Selection sel = detail::select_rows(dset, begin + off, m, what);
        detail::read_rows(dset, detail::native<S>(), sel, buf, what, begin + off, m);
        detail::convert_checked<T, S>(reinterpret_cast<const std::byte*>(buf), sizeof(S), m, values.data() + off,
                              begin + off, ctx);
      }
    });
  });
}

}  // namespace pearl::io
