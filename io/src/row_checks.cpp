// Row checks: find the values outside their domain in a batch, then fail or set aside.
#include "pearl/io/row_checks.hpp"

#include <algorithm>
#include <iomanip>
#include <limits>
#include <sstream>
#include <type_traits>
#include <utility>

#include "pearl/core/error.hpp"
#include "pearl/core/value_text.hpp"

namespace pearl::io {

namespace {

/// Value i of a column as text: numbers exactly, strings quoted and shortened.
std::string value_text(const ColumnData& column, std::size_t i) {
  return std::visit(
      [i](const auto& v) -> std::string {
        using T = typename std::decay_t<decltype(v)>::value_type;
        if constexpr (std::is_same_v<T, std::string>) {
          return quote_value(v[i]);
        } else if constexpr (std::is_floating_point_v<T>) {
          std::ostringstream s;
          s << std::setprecision(std::numeric_limits<T>::max_digits10) << v[i];
          return s.str();
        } else {
          return std::to_string(v[i]);
        }
      },
      column);
}

/// Keeps the elements of v whose keep[i] is set, in order.
template <class T>
void compact(std::vector<T>& v, const std::vector<char>& keep) {
  std::size_t out = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (keep[i] != 0) {
      if (out != i) v[out] = std::move(v[i]);
      ++out;
    }
  }
  v.resize(out);
}

}  // namespace

BadRowPolicy parse_bad_row_policy(std::string_view text) {
  if (text == "fail") return BadRowPolicy::fail;
  if (text == "skip") return BadRowPolicy::skip;
  throw InputError("option --on-bad-row: '" + std::string(text) + "' is not one of: fail, skip");
}

void RejectLog::add(Reject r) {
  const std::lock_guard lock(mutex_);
  rows_.insert(std::move(r));
}

std::vector<Reject> RejectLog::rows() const {
  const std::lock_guard lock(mutex_);
  return {rows_.begin(), rows_.end()};
}

RowChecks::RowChecks(std::string input, std::string_view contract, const std::vector<ColumnSpec>& projection,
                     BadRowPolicy policy, std::shared_ptr<RejectLog> log)
    : input_(std::move(input)), projection_(projection), policy_(policy), log_(std::move(log)) {
  for (std::size_t c = 0; c < projection_.size(); ++c) {
    if (projection_[c].type == DType::str) {
      checks_.push_back({c, nullptr});
    } else if (const ColumnDomain* d = contract_domain(contract, projection_[c].name)) {
      checks_.push_back({c, d});
    }
  }
  if (policy_ == BadRowPolicy::skip && !log_) throw Error("RowChecks: --on-bad-row skip needs a reject log");
}

void RowChecks::apply(const std::string& where, const std::string& file, std::uint64_t first_row,
                      std::vector<ColumnData>& data) const {
  if (checks_.empty()) return;
  // (row in batch, check) for every bad value; empty on clean data after one pass per column.
  std::vector<std::pair<std::size_t, std::size_t>> bad;
  std::vector<std::size_t> rows;
  for (std::size_t k = 0; k < checks_.size(); ++k) {
    const ColumnData& column = data.at(checks_[k].column);
    rows.clear();
    if (checks_[k].domain != nullptr) {
      find_outside(*checks_[k].domain, column, rows);
    } else {
      find_string_faults(std::get<std::vector<std::string>>(column), rows, projection_[checks_[k].column].max_bytes);
    }
    for (const std::size_t i : rows) bad.emplace_back(i, k);
  }
  if (bad.empty()) return;
  std::sort(bad.begin(), bad.end());

  const auto reason = [&](std::size_t i, std::size_t k) -> std::string {
    if (checks_[k].domain != nullptr) return "is not " + checks_[k].domain->text;
    const std::string& s = std::get<std::vector<std::string>>(data[checks_[k].column])[i];
    if (const std::string_view fault = string_fault(s); !fault.empty()) return std::string(fault);
    // The reason is the same text for every such row, so --on-bad-row skip counts them together.
    return "is longer than the job's fixed width of " + std::to_string(projection_[checks_[k].column].max_bytes) + " bytes";
  };
  if (policy_ == BadRowPolicy::fail) {
    const auto [i, k] = bad.front();
    const std::string& column = projection_[checks_[k].column].name;
    throw InputError(where + ": row " + std::to_string(first_row + i) + ": column '" + column + "': value " +
                     value_text(data[checks_[k].column], i) + " " + reason(i, k) +
                     " (--on-bad-row skip sets such rows aside)");
  }
  std::vector<char> keep(column_size(data.front()), 1);
  for (const auto& [i, k] : bad) {
    keep[i] = 0;
    log_->add({input_, file, first_row + i, projection_[checks_[k].column].name, value_text(data[checks_[k].column], i),
               reason(i, k)});
  }
  for (auto& column : data) std::visit([&keep](auto& v) { compact(v, keep); }, column);
}

}  // namespace pearl::io
