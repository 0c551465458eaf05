// Derived columns of table.aggregate: resolving --derive names and types against the
// input, and computing the columns a batch at a time (a whole column per operation).
#include "derived_columns.hpp"

#include <limits>
#include <type_traits>
#include <utility>
#include <variant>

#include "pearl/job.hpp"

namespace pearl::jobs::table_aggregate {

namespace {

using Op = Expression::Op;
using Ints = std::vector<std::int64_t>;
using Reals = std::vector<double>;

Reals to_reals(ColumnData&& v) {
  if (auto* r = std::get_if<Reals>(&v)) return std::move(*r);
  const Ints& ints = std::get<Ints>(v);
  return {ints.begin(), ints.end()};
}

/// a op b row by row as 1 or 0 (NaN compares false, except with !=, as in pandas).
template <class T>
Ints compare_rows(Op op, const std::vector<T>& a, const std::vector<T>& b) {
  Ints out(a.size());
  for (std::size_t k = 0; k < a.size(); ++k) {
    bool v = false;
    switch (op) {
      case Op::less: v = a[k] < b[k]; break;
      case Op::less_equal: v = a[k] <= b[k]; break;
      case Op::greater: v = a[k] > b[k]; break;
      case Op::greater_equal: v = a[k] >= b[k]; break;
      case Op::equal: v = a[k] == b[k]; break;
      default: v = a[k] != b[k]; break;
    }
    out[k] = v ? 1 : 0;
  }
  return out;
}

/// A comparison of two evaluated operands: as integers when both are, else as doubles.
ColumnData compare(Op op, ColumnData&& l, ColumnData&& r) {
  if (std::holds_alternative<Ints>(l) && std::holds_alternative<Ints>(r)) {
    return compare_rows(op, std::get<Ints>(l), std::get<Ints>(r));
  }
  return compare_rows(op, to_reals(std::move(l)), to_reals(std::move(r)));
}

}  // namespace

DerivedColumns::DerivedColumns(std::vector<Derivation> derivations, const std::vector<ColumnSpec>& input,
                               std::string where)
    : input_(input), where_(std::move(where)) {
  for (auto& d : derivations) {
    const std::string who = "table.aggregate: --derive " + quote_value(d.source) + ": ";
    for (const auto& c : input_) {
      if (c.name == d.name) {
        throw InputError(who + "'" + d.name + "' is a column of " + where_ + "; give the derived column another name");
      }
    }
    if (type(d.name)) throw InputError(who + "'" + d.name + "' is derived twice");

    // Each node's type, children first (the nodes are stored in that order).
    const auto& nodes = d.expression.nodes();
    std::vector<DType> types(nodes.size(), DType::i64);
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const Expression::Node& n = nodes[i];
      switch (n.op) {
        case Op::integer: break;
        case Op::real: types[i] = DType::f64; break;
        case Op::column: {
          DType t = DType::str;
          bool found = false;
          if (const auto derived = type(n.column)) {
            t = *derived;
            found = true;
          }
          for (std::size_t k = 0; k < input_.size() && !found; ++k) {
            if (input_[k].name == n.column) {
              t = input_[k].type;
              found = true;
            }
          }
          const std::string at = " at position " + std::to_string(n.position);
          if (!found) {
            std::string names;
            for (const auto& c : input_) names += (names.empty() ? "" : ", ") + c.name;
            for (const auto& c : derivations_) names += ", " + c.derivation.name;
            throw InputError(who + "unknown column '" + n.column + "'" + at + " (columns: " + names + ")");
          }
          if (t == DType::str) throw InputError(who + "column '" + n.column + "'" + at + " is a string column");
          types[i] = dtype_is_float(t) ? DType::f64 : DType::i64;
          break;
        }
        case Op::negate: types[i] = types[n.left]; break;
        case Op::divide: types[i] = DType::f64; break;
        case Op::less:
        case Op::less_equal:
        case Op::greater:
        case Op::greater_equal:
        case Op::equal:
        case Op::not_equal: break;  // 1 or 0: int64
        default: types[i] = (types[n.left] == DType::f64 || types[n.right] == DType::f64) ? DType::f64 : DType::i64;
      }
    }
    derivations_.push_back({std::move(d), types.back()});
  }
}

std::optional<DType> DerivedColumns::type(const std::string& name) const {
  for (const auto& c : derivations_) {
    if (c.derivation.name == name) return c.type;
  }
  return std::nullopt;
}

std::vector<ColumnSpec> DerivedColumns::reads(const std::vector<ColumnSpec>& wanted) const {
  std::vector<ColumnSpec> out;
  for (const auto& w : wanted) {
    if (!type(w.name)) out.push_back(w);
  }
  for (const auto& c : derivations_) {
    for (const Expression::Node* n : c.derivation.expression.columns()) {
      if (type(n->column)) continue;
      bool have = false;
      for (const auto& o : out) have = have || o.name == n->column;
      if (have) continue;
      for (const auto& in : input_) {
        if (in.name == n->column) out.push_back({in.name, dtype_is_float(in.type) ? DType::f64 : DType::i64});
      }
    }
  }
  return out;
}

ColumnData DerivedColumns::evaluate(const Column& c, std::size_t i, const TableBatch& read,
                                    const std::vector<ColumnData>& done) const {
  const Expression::Node& n = c.derivation.expression.nodes()[i];
  const std::size_t rows = read.rows();
  const auto overflow = [&](std::size_t row, const std::string& what) {
    throw InputError("table.aggregate: --derive " + quote_value(c.derivation.source) + ": row " +
                     std::to_string(read.first_row() + row) + " of " + where_ + ": " + what +
                     " leaves the 64-bit integer range (beyond ±9223372036854775807)");
  };
  switch (n.op) {
    case Op::integer: return Ints(rows, n.integer);
    case Op::real: return Reals(rows, n.real);
    case Op::column: {
      const ColumnData* source = nullptr;
      for (std::size_t k = 0; k < done.size(); ++k) {
        if (derivations_[k].derivation.name == n.column) source = &done[k];
      }
      if (source == nullptr) source = &read.data(read.index_of(n.column));
      return std::visit(
          [&](const auto& v) -> ColumnData {
            using T = typename std::decay_t<decltype(v)>::value_type;
            if constexpr (std::is_floating_point_v<T>) {
              return Reals(v.begin(), v.end());
            } else if constexpr (std::is_integral_v<T>) {
              if constexpr (std::is_same_v<T, std::uint64_t>) {
                for (std::size_t r = 0; r < v.size(); ++r) {
                  if (v[r] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
                    overflow(r, "column '" + n.column + "' = " + std::to_string(v[r]));
                  }
                }
              }
              return Ints(v.begin(), v.end());
            } else {
              throw Error("table.aggregate: derived operand '" + n.column + "' is a string column");
            }
          },
          *source);
    }
    case Op::negate: {
      ColumnData v = evaluate(c, n.left, read, done);
      if (auto* ints = std::get_if<Ints>(&v)) {
        for (std::size_t r = 0; r < rows; ++r) {
          if ((*ints)[r] == std::numeric_limits<std::int64_t>::min()) overflow(r, "-(" + std::to_string((*ints)[r]) + ")");
          (*ints)[r] = -(*ints)[r];
        }
      } else {
        for (double& x : std::get<Reals>(v)) x = -x;
      }
      return v;
    }
    default: break;
  }
  ColumnData l = evaluate(c, n.left, read, done);
  ColumnData r = evaluate(c, n.right, read, done);
  if (Expression::is_comparison(n.op)) return compare(n.op, std::move(l), std::move(r));
  if (n.op == Op::divide || std::holds_alternative<Reals>(l) || std::holds_alternative<Reals>(r)) {
    Reals a = to_reals(std::move(l));
    const Reals b = to_reals(std::move(r));
    for (std::size_t k = 0; k < rows; ++k) {
      switch (n.op) {
        case Op::add: a[k] += b[k]; break;
        case Op::subtract: a[k] -= b[k]; break;
        case Op::multiply: a[k] *= b[k]; break;
        default: a[k] /= b[k]; break;  // x/0 is ±inf or NaN, as in pandas
      }
    }
    return a;
  }
  Ints a = std::get<Ints>(std::move(l));
  const Ints& b = std::get<Ints>(r);
  for (std::size_t k = 0; k < rows; ++k) {
    std::int64_t out = 0;
    const bool over = n.op == Op::add        ? __builtin_add_overflow(a[k], b[k], &out)
                      : n.op == Op::subtract ? __builtin_sub_overflow(a[k], b[k], &out)
                                             : __builtin_mul_overflow(a[k], b[k], &out);
    if (over) {
      overflow(k, std::to_string(a[k]) + Expression::symbol(n.op) + std::to_string(b[k]) + " (at position " +
                      std::to_string(n.position) + ")");
    }
    a[k] = out;
  }
  return a;
}

TableBatch DerivedColumns::derive(TableBatch&& read, const std::vector<ColumnSpec>& wanted) const {
  std::vector<ColumnData> done;
  done.reserve(derivations_.size());
  for (const auto& c : derivations_) done.push_back(evaluate(c, c.derivation.expression.root(), read, done));
  const std::string table = read.table();
  const std::uint64_t first_row = read.first_row();
  // The input columns of `wanted` are the first columns read, in the same order.
  std::vector<ColumnData> data = std::move(read).take_data();
  std::vector<ColumnData> out;
  out.reserve(wanted.size());
  std::size_t next_input = 0;
  for (const auto& w : wanted) {
    bool derived = false;
    for (std::size_t k = 0; k < derivations_.size() && !derived; ++k) {
      if (derivations_[k].derivation.name == w.name) {
        out.push_back(done[k]);
        derived = true;
      }
    }
    if (!derived) out.push_back(std::move(data.at(next_input++)));
  }
  return {table, first_row, wanted, std::move(out)};
}

}  // namespace pearl::jobs::table_aggregate
