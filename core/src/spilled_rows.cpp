// SpilledRows and OutputTable's spill_past: an output table's rows moved to scratch in
// rounds (pearl/core/spilled_rows.hpp).
#include "pearl/core/spilled_rows.hpp"

#include <cstring>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "pearl/core/error.hpp"

namespace pearl {

namespace {

/// Bytes a string takes in memory beyond its std::string: none within the small-string
/// buffer, else its allocation.
std::size_t heap_bytes(const std::string& s) noexcept { return s.capacity() > 15 ? s.capacity() + 1 : 0; }

}  // namespace

SpilledRows::SpilledRows(std::vector<ColumnSpec> specs, std::filesystem::path scratch_parent)
    : specs_(std::move(specs)),
      parent_(scratch_parent.empty() ? ScratchDir::default_parent() : std::move(scratch_parent)) {}

SpilledRows::~SpilledRows() {
  if (file_ != nullptr) std::fclose(file_);
}

void SpilledRows::append(const std::vector<ColumnData>& columns, std::size_t rows) {
  buffer_.clear();
  const auto put = [&](const void* data, std::size_t bytes) {
    const std::size_t at = buffer_.size();
    buffer_.resize(at + bytes);
    if (bytes > 0) std::memcpy(buffer_.data() + at, data, bytes);
  };
  for (const auto& column : columns) {
    std::visit(
        [&](const auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_same_v<T, std::string>) {
            for (const auto& s : v) {
              const auto len = static_cast<std::uint32_t>(s.size());
              put(&len, sizeof len);
            }
            for (const auto& s : v) put(s.data(), s.size());
          } else {
            put(v.data(), v.size() * sizeof(T));
          }
        },
        column);
  }
  if (file_ == nullptr) {
    dir_ = std::make_unique<ScratchDir>(parent_, "output");
    path_ = dir_->new_file("rows");
    file_ = std::fopen(path_.c_str(), "w+b");
    if (file_ == nullptr) throw Error("cannot create the output's scratch file " + path_.string());
  }
  if (std::fseek(file_, end_, SEEK_SET) != 0 || std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    throw Error("cannot write the output's scratch file " + path_.string() + " (is its file system full?)");
  }
  rounds_.push_back({rows, end_, buffer_.size()});
  end_ += static_cast<long>(buffer_.size());
  rows_ += rows;
  buffer_ = {};  // a round's bytes are not kept between rounds
}

void SpilledRows::read(std::size_t round, OutputTable& into) const {
  const Round& r = rounds_.at(round);
  buffer_.resize(r.bytes);
  if (std::fflush(file_) != 0 || std::fseek(file_, r.offset, SEEK_SET) != 0 ||
      std::fread(buffer_.data(), 1, r.bytes, file_) != r.bytes) {
    throw Error("cannot read the output's scratch file " + path_.string());
  }
  const std::byte* at = buffer_.data();
  for (std::size_t c = 0; c < specs_.size(); ++c) {
    std::visit(
        [&](auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          v.clear();
          if constexpr (std::is_same_v<T, std::string>) {
            const std::byte* text = at + r.rows * sizeof(std::uint32_t);
            v.reserve(r.rows);
            for (std::uint64_t i = 0; i < r.rows; ++i) {
              std::uint32_t len = 0;
              std::memcpy(&len, at + i * sizeof len, sizeof len);
              v.emplace_back(reinterpret_cast<const char*>(text), len);
              text += len;
            }
            at = text;
          } else {
            v.resize(r.rows);
            if (r.rows > 0) std::memcpy(v.data(), at, r.rows * sizeof(T));
            at += r.rows * sizeof(T);
          }
        },
        into.data(c));
  }
  buffer_ = {};
}

void OutputTable::spill_past(std::size_t bytes, std::filesystem::path scratch_parent) {
  spill_limit_ = std::max<std::size_t>(bytes, 1);
  spill_parent_ = std::move(scratch_parent);
  // Numeric columns reserve the rows that fit the limit once: address space only, pages
  // are touched as rows come. Grown by doubling, every column was copied into fresh
  // pages at each doubling (transport.flow, 1.6M rows: 7K of its 198K page faults).
  std::size_t row_bytes = 0;
  for (const auto& spec : specs_) row_bytes += spec.type == DType::str ? sizeof(std::string) : dtype_width(spec.type);
  const std::size_t rows = spill_limit_ / std::max<std::size_t>(row_bytes, 1) + 1;
  for (auto& d : data_) {
    std::visit(
        [&](auto& v) {
          if constexpr (!std::is_same_v<typename std::decay_t<decltype(v)>::value_type, std::string>) {
            try {
              v.reserve(rows);
            } catch (const std::bad_alloc&) {  // no address space to spare: grow as rows come
            }
          }
        },
        d);
  }
}

void OutputTable::spill_past(MemoryLease share, std::filesystem::path scratch_parent) {
  spill_past(share.bytes(), std::move(scratch_parent));
  share_ = std::make_shared<MemoryLease>(std::move(share));
}

void OutputTable::spill_if_full() {
  if (spill_limit_ == 0) return;
  const std::size_t n = rows();
  // Count what the rows appended since the last check take: fixed widths, and for strings
  // their objects and allocations (counted once, as they come).
  for (std::size_t c = 0; c < specs_.size(); ++c) {
    if (const auto* v = std::get_if<std::vector<std::string>>(&data_[c])) {
      for (std::size_t r = counted_rows_; r < n && r < v->size(); ++r) {
        counted_bytes_ += sizeof(std::string) + heap_bytes((*v)[r]);
      }
    } else {
      counted_bytes_ += (n - counted_rows_) * dtype_width(specs_[c].type);
    }
  }
  counted_rows_ = n;
  if (counted_bytes_ < spill_limit_ || n == 0) return;
  for (const auto& d : data_) {
    if (column_size(d) != n) throw Error("output table '" + name_ + "': columns differ in length");
  }
  if (!spilled_) spilled_ = std::make_shared<SpilledRows>(specs_, spill_parent_);
  spilled_->append(data_, n);
  // Numeric columns keep their capacity for the next round; strings give theirs back.
  for (auto& d : data_) {
    std::visit(
        [](auto& v) {
          using T = typename std::decay_t<decltype(v)>::value_type;
          if constexpr (std::is_same_v<T, std::string>) {
            v = {};
          } else {
            v.clear();
          }
        },
        d);
  }
  counted_rows_ = counted_bytes_ = 0;
}

std::uint64_t OutputTable::spilled_rows() const noexcept { return spilled_ ? spilled_->rows() : 0; }

}  // namespace pearl
