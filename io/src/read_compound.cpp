// The table reader's compound read path: one memory compound type with only the
// requested members, packed, so HDF5 reads each record once and gathers just those
// fields (column projection); then each member is copied or converted out of the block.
// Variable-length string members are read from the file's bytes where that is possible.
#include <algorithm>
#include <cstring>
#include <string>
#include <type_traits>
#include <variant>

#include "checked_conversion.hpp"
#include "h5util.hpp"
#include "table_reader_impl.hpp"

namespace pearl::io {

void TableReader::Impl::read_compound(const TableInfo& info, const std::vector<detail::ReadPlan>& plans,
                                      std::uint64_t begin, std::uint64_t n, std::vector<ColumnData>& out) {
  // Variable-length strings from the file's bytes where the layout allows
  // (raw_vlen_strings.hpp): HDF5 then converts only the other members. If one of them
  // does not parse, all go through HDF5 as before.
  std::vector<bool> raw(plans.size(), false);
  for (std::size_t j = 0; j < plans.size(); ++j) {
    const detail::ReadPlan& p = plans[j];
    if (p.spec->type != DType::str || !info.columns[p.column].stored.variable) continue;
    if (read_raw_vlen(info, p.column, begin, n, std::get<std::vector<std::string>>(out[j]))) {
      raw[j] = true;
      continue;
    }
    for (std::size_t k = 0; k < j; ++k) {
      if (raw[k]) std::get<std::vector<std::string>>(out[k]).clear();
    }
    raw.assign(plans.size(), false);
    break;
  }
  read_compound_members(info, plans, raw, begin, n, out);
}

void TableReader::Impl::read_compound_members(const TableInfo& info, const std::vector<detail::ReadPlan>& plans,
                                              const std::vector<bool>& skip, std::uint64_t begin, std::uint64_t n,
                                              std::vector<ColumnData>& out) {
  const std::string where = info.where();
  // One memory compound with only the requested members, packed: HDF5 reads each
  // record once and gathers just these fields (column projection).
  struct Member {
    Handle type;  // owned memory type (strings); numeric members use HDF5's detail::native types
    hid_t id;
    std::size_t offset;
  };
  std::vector<Member> members;
  members.reserve(plans.size());
  std::size_t record = 0;
  bool has_vlen = false;
  for (std::size_t j = 0; j < plans.size(); ++j) {
    const detail::ReadPlan& p = plans[j];
    const ColumnInfo& col = info.columns[p.column];
    Member m{Handle(), H5I_INVALID_HID, record};
    std::size_t size = 0;
    if (skip[j]) {
      // read already: not in the memory type
    } else if (p.spec->type == DType::str) {
      m.type = detail::string_memory_type(types[p.column].id(), col.stored, where + ": column '" + col.name + "'");
      m.id = m.type.id();
      size = col.stored.variable ? sizeof(char*) : col.stored.size;
      has_vlen = has_vlen || col.stored.variable;
    } else if (p.conv != Conversion::exact) {
      detail::with_stored(col.stored, [&]<class S>(std::type_identity<S>) {
        m.id = detail::native<S>();
        size = sizeof(S);
      });
    } else {
      detail::with_numeric(p.spec->type, [&]<class T>(std::type_identity<T>) {
        m.id = detail::native<T>();
        size = sizeof(T);
      });
    }
    record += size;
    members.push_back(std::move(m));
  }
  if (record == 0) return;  // every member read already
  const Handle mem_type = io::check(H5Tcreate(H5T_COMPOUND, record), where + ": cannot create the memory type");
  for (std::size_t j = 0; j < plans.size(); ++j) {
    if (skip[j]) continue;
    check_status(H5Tinsert(mem_type.id(), plans[j].spec->name.c_str(), members[j].offset, members[j].id),
                 where + ": cannot add member '" + plans[j].spec->name + "' to the memory type");
  }

  for (std::size_t j = 0; j < plans.size(); ++j) {
    if (skip[j]) continue;
    std::visit(
        [&](auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::vector<std::string>>) {
            v.reserve(n);
          } else {
            v.resize(n);
          }
        },
        out[j]);
  }

  // The records as stored, when every member left is in the file as the memory type asks
  // for it (raw_records.hpp): their bytes are then taken from the stored records as they
  // are, without HDF5's conversion of each record into the packed type.
  if (!records_tried) {
    records_tried = true;
    records = detail::RawRecords::open(info.file, file->id(), compound.id(), info.rows);
  }
  std::vector<std::size_t> stored_at(plans.size(), 0);
  bool as_stored = records != nullptr;
  for (std::size_t j = 0; as_stored && j < plans.size(); ++j) {
    if (skip[j]) continue;
    stored_at[j] = records->offset_of(plans[j].spec->name, H5Tget_size(members[j].id));
    as_stored = stored_at[j] != detail::RawRecords::npos && H5Tequal(types[plans[j].column].id(), members[j].id) > 0 &&
                !(plans[j].spec->type == DType::str && info.columns[plans[j].column].stored.variable);
  }
  const std::size_t stored_record = as_stored ? records->record() : 0;

  const std::uint64_t block = std::min<std::uint64_t>(
      n, std::max<std::size_t>(1, detail::kCompoundBlockBytes / std::max(record, stored_record)));
  std::byte* const buf = staging(block * (record + stored_record));
  std::byte* const stored = buf + block * record;
  const hid_t dset = compound.id();
  for (std::uint64_t off = 0; off < n; off += block) {
    const std::uint64_t m = std::min(block, n - off);
    const bool raw = as_stored && records->read(begin + off, m, stored);
    if (!raw) {
      const detail::Selection sel = detail::select_rows(dset, begin + off, m, where);
      if (has_vlen) vlen_arena().reset();
      detail::read_rows(dset, mem_type.id(), sel, buf, where, begin + off, m,
                        has_vlen ? vlen_arena().transfer() : H5P_DEFAULT);
    }
    const std::size_t stride = raw ? stored_record : record;
    for (std::size_t j = 0; j < plans.size(); ++j) {
      if (skip[j]) continue;
      const detail::ReadPlan& p = plans[j];
      const ColumnInfo& col = info.columns[p.column];
      const std::byte* base = raw ? stored + stored_at[j] : buf + members[j].offset;
      if (p.spec->type == DType::str) {
        auto& values = std::get<std::vector<std::string>>(out[j]);
        for (std::uint64_t i = 0; i < m; ++i) {
          const std::byte* at = base + i * stride;
          if (col.stored.variable) {
            const char* s = nullptr;
            std::memcpy(&s, at, sizeof s);
            values.emplace_back(s != nullptr ? s : "");
          } else {
            values.push_back(detail::decode_fixed(reinterpret_cast<const char*>(at), col.stored.size, col.stored.pad));
          }
        }
        continue;
      }
      detail::with_numeric(p.spec->type, [&]<class T>(std::type_identity<T>) {
        T* dst = std::get<std::vector<T>>(out[j]).data() + off;
        if (p.conv == Conversion::exact) {
          detail::copy_strided<T>(base, stride, m, dst);
          return;
        }
        detail::with_stored(col.stored, [&]<class S>(std::type_identity<S>) {
          detail::convert_checked<T, S>(base, stride, m, dst, begin + off,
                                        detail::ColumnContext{where, col.name, p.spec->type});
        });
      });
    }
  }
  if (has_vlen) vlen_arena().reset();
}

}  // namespace pearl::io
