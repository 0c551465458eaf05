#include "pearl/core/table.hpp"

#include <array>

namespace pearl {

namespace {
constexpr std::array<std::string_view, 11> kNames{"uint8", "uint16", "uint32",  "uint64",  "int8",  "int16",
                                                  "int32", "int64",  "float32", "float64", "string"};
}

std::string_view dtype_name(DType t) noexcept { return kNames[static_cast<std::size_t>(t)]; }

DType parse_dtype(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<DType>(i);
  }
  throw InputError("unknown column type '" + std::string(name) + "'");
}

std::size_t dtype_width(DType t) noexcept {
  switch (t) {
    case DType::u8: case DType::i8: return 1;
    case DType::u16: case DType::i16: return 2;
    case DType::u32: case DType::i32: case DType::f32: return 4;
    case DType::u64: case DType::i64: case DType::f64: return 8;
    case DType::str: return 0;
  }
  return 0;
}

bool dtype_is_integer(DType t) noexcept { return !dtype_is_float(t) && t != DType::str; }
bool dtype_is_float(DType t) noexcept { return t == DType::f32 || t == DType::f64; }
bool dtype_is_signed(DType t) noexcept {
  return t == DType::i8 || t == DType::i16 || t == DType::i32 || t == DType::i64;
}

ColumnData make_column(DType t) {
  switch (t) {
    case DType::u8: return std::vector<std::uint8_t>{};
    case DType::u16: return std::vector<std::uint16_t>{};
    case DType::u32: return std::vector<std::uint32_t>{};
    case DType::u64: return std::vector<std::uint64_t>{};
    case DType::i8: return std::vector<std::int8_t>{};
    case DType::i16: return std::vector<std::int16_t>{};
    case DType::i32: return std::vector<std::int32_t>{};
    case DType::i64: return std::vector<std::int64_t>{};
    case DType::f32: return std::vector<float>{};
    case DType::f64: return std::vector<double>{};
    case DType::str: return std::vector<std::string>{};
  }
  return std::vector<std::uint8_t>{};
}

std::size_t column_size(const ColumnData& c) noexcept {
  return std::visit([](const auto& v) { return v.size(); }, c);
}

TableBatch::TableBatch(std::string table, std::uint64_t first_row, std::vector<ColumnSpec> specs,
                       std::vector<ColumnData> data)
    : table_(std::move(table)), first_row_(first_row), specs_(std::move(specs)), data_(std::move(data)) {
  if (specs_.size() != data_.size()) throw Error("table '" + table_ + "': batch has mismatched columns");
  rows_ = data_.empty() ? 0 : column_size(data_.front());
  for (const auto& d : data_) {
    if (column_size(d) != rows_) throw Error("table '" + table_ + "': batch columns differ in length");
  }
}

std::size_t TableBatch::index_of(std::string_view name) const {
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    if (specs_[i].name == name) return i;
  }
  throw Error("table '" + table_ + "': column '" + std::string(name) + "' was not read (declare it in the job's inputs)");
}

OutputTable::OutputTable(std::string name, std::vector<ColumnSpec> specs) : name_(std::move(name)), specs_(std::move(specs)) {
  if (specs_.empty()) throw Error("output table '" + name_ + "' has no columns");
  for (const auto& s : specs_) data_.push_back(make_column(s.type));
}

}  // namespace pearl
