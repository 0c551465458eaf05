// table.aggregate — group-by over any table (contract: docs/contracts/jobs.md).
//
// --by names integer or string columns; --sum/--mean/--min/--max name numeric columns.
// --derive NAME=EXPR adds columns computed from others (derived_columns.hpp), usable in
// all of these like input columns.
// Output table `aggregate`: the --by columns (their input types), `count` (int64), then
// sum_<c> for each --sum column, mean_<c> for each --mean column, min_<c>, max_<c>, each
// group in its option's list order. Integer sums are exact int64; everything else float64.
// NaN values are skipped as pandas does (sum of none = 0, mean/min/max of none = NaN).
//
// How: the --by columns are encoded into an order-preserving fixed-size byte key
// (group_key.hpp; keys of up to 8 bytes travel as one big-endian integer), the
// aggregates into a fixed array of 8-byte slots folded per slot kind, reduced by the
// engine, range-partitioned so rank parts concatenate in key order, and decoded into
// the output table on each rank. The map (aggregate_map.hpp) first counts rows in a
// dense array per thread when the --by columns are integers with small value ranges
// (dense_groups.hpp); when every row of every rank went into such arrays and together
// they are dense, the ranks fold them in one exchange whose blocks are already in key
// order (dense_reduce.hpp), and the engine's shuffle and sort are skipped; otherwise
// their groups join the engine's pairs.
#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <sstream>
#include <type_traits>
#include <variant>

#include "aggregate_map.hpp"
#include "dense_reduce.hpp"
#include "derived_columns.hpp"
#include "group_key.hpp"
#include "pearl/job.hpp"

namespace pearl::jobs {
namespace {

using namespace table_aggregate;

class Aggregate final : public Job {
 public:
  [[nodiscard]] std::string name() const override { return "table.aggregate"; }
  [[nodiscard]] std::string summary() const override {
    return "group-by over any table: count, sum, mean, min, max per key";
  }

  void declare(JobSpec& spec) override {
    spec.input("table", "the table to aggregate (any table; give its path: --input table=GLOB:/path)");
    spec.writes_output();
    spec.required("by", &by_, "grouping columns, comma-separated (integer or string columns)").names();
    spec.option("sum", &sum_, "", "columns to sum").names();
    spec.option("mean", &mean_, "", "columns to average").names();
    spec.option("min", &min_, "", "columns to take the minimum of").names();
    spec.option("max", &max_, "", "columns to take the maximum of").names();
    spec.repeated("derive", &derive_,
                  "NAME=EXPR: a column computed from numeric columns and constants with + - * / and "
                  "parentheses (delay=report_day-onset_day), usable in --by/--sum/--mean/--min/--max; "
                  "repeatable, later ones may use earlier ones. int64 when every operand is an integer and "
                  "nothing divides, else float64. One comparison (< <= > >= == !=) gives 1 or 0: "
                  "--mean of late=delay>7 is the share of late rows");
    spec.option("dense-array", &dense_array_, true,
                "count integer keys with small value ranges in a dense array per map thread before the "
                "engine sees them (false: every row through the engine's hash tables; same results)");
  }

  void run(JobContext& ctx) override {
    plan(ctx);
    const std::size_t key_bytes = layout_->bytes();
    const std::size_t slots = plan_.size();
    // The engine needs compile-time record sizes: pick the smallest that fits.
    dispatch_key(ctx, key_bytes, slots);
  }

 private:
  /// Resolves column names and types against the input, and lays out keys and slots.
  void plan(JobContext& ctx) {
    std::vector<Derivation> derivations;
    for (const auto& d : derive_) derivations.push_back(parse_derivation(d));
    derived_ = derivations.empty() ? DerivedColumns()
                                   : DerivedColumns(std::move(derivations), ctx.input_columns("table"),
                                                    ctx.input_location("table"));
    const auto type_of = [&](const std::string& column, const char* option) {
      if (const auto t = derived_.type(column)) return *t;
      return ctx.input_column_type("table", column, "table.aggregate: --" + std::string(option));
    };

    std::vector<ColumnSpec> by;
    for (const auto& c : split_list(by_)) {
      const DType t = type_of(c, "by");
      if (t == DType::f32 || t == DType::f64) {
        throw InputError("table.aggregate: --by column '" + c + "' is " + std::string(dtype_name(t)) +
                         "; group by integer or string columns");
      }
      by.push_back({c, t});
    }
    if (by.empty()) throw InputError("table.aggregate: --by needs at least one column");

    plan_ = {{Fold::count, 0}};
    outputs_.clear();
    const auto value_column = [&](const std::string& c, const char* option) {
      const DType t = type_of(c, option);
      if (t == DType::str) throw InputError("table.aggregate: --" + std::string(option) + " column '" + c + "' is a string column");
      const DType read_as = (t == DType::f32 || t == DType::f64) ? DType::f64 : DType::i64;
      for (std::size_t i = 0; i < values_.size(); ++i) {
        if (values_[i].name == c) return i;
      }
      values_.push_back({c, read_as});
      return values_.size() - 1;
    };
    for (const auto& c : split_list(sum_)) {
      const std::size_t v = value_column(c, "sum");
      const bool integer = values_[v].type == DType::i64;
      outputs_.push_back({"sum_" + c, integer ? DType::i64 : DType::f64, plan_.size(), 0});
      plan_.push_back({integer ? Fold::sum_int : Fold::sum_float, v});
    }
    for (const auto& c : split_list(mean_)) {
      const std::size_t v = value_column(c, "mean");
      const bool integer = values_[v].type == DType::i64;
      outputs_.push_back({"mean_" + c, DType::f64, plan_.size(), integer ? 0 : plan_.size() + 1});
      plan_.push_back({integer ? Fold::sum_int : Fold::sum_float, v});
      if (!integer) plan_.push_back({Fold::count_valid, v});
    }
    for (const auto& c : split_list(min_)) {
      outputs_.push_back({"min_" + c, DType::f64, plan_.size(), 0});
      plan_.push_back({Fold::min_float, value_column(c, "min")});
    }
    for (const auto& c : split_list(max_)) {
      outputs_.push_back({"max_" + c, DType::f64, plan_.size(), 0});
      plan_.push_back({Fold::max_float, value_column(c, "max")});
    }

    // String keys need their longest value to be laid out: one pass over those columns.
    std::vector<ColumnSpec> string_columns;
    for (const auto& c : by) {
      if (c.type == DType::str) string_columns.push_back(c);
    }
    std::vector<std::size_t> widths(by.size(), 0);
    if (!string_columns.empty()) {
      std::vector<std::int64_t> longest(string_columns.size(), 0);
      TableInput strings = ctx.input("table", string_columns);
      while (auto batch = strings.next()) {
        for (std::size_t s = 0; s < string_columns.size(); ++s) {
          for (const auto& v : batch->column<std::string>(string_columns[s].name)) {
            longest[s] = std::max(longest[s], static_cast<std::int64_t>(v.size()));
          }
        }
      }
      for (auto& l : longest) l = allreduce_max(ctx.comm(), l);
      for (std::size_t c = 0, s = 0; c < by.size(); ++c) {
        if (by[c].type == DType::str) widths[c] = static_cast<std::size_t>(longest[s++]);
      }
    }
    layout_.emplace(by, widths);
  }

  void dispatch_key(JobContext& ctx, std::size_t key_bytes, std::size_t slots) {
    if (key_bytes <= 8) return dispatch_value<PackedKey>(ctx, slots);
    if (key_bytes <= 16) return dispatch_value<FixedString<16>>(ctx, slots);
    if (key_bytes <= 32) return dispatch_value<FixedString<32>>(ctx, slots);
    if (key_bytes <= 64) return dispatch_value<FixedString<64>>(ctx, slots);
    if (key_bytes <= 256) return dispatch_value<FixedString<256>>(ctx, slots);
    throw InputError("table.aggregate: the --by columns need " + std::to_string(key_bytes) +
                     " bytes per key (long strings?); at most 256 are supported");
  }

  template <class Key>
  void dispatch_value(JobContext& ctx, std::size_t slots) {
    if (slots <= 1) return run_typed<Key, 1>(ctx);
    if (slots <= 2) return run_typed<Key, 2>(ctx);  // count and one sum, min or max: the common case
    if (slots <= 4) return run_typed<Key, 4>(ctx);
    if (slots <= 8) return run_typed<Key, 8>(ctx);
    if (slots <= 32) return run_typed<Key, 32>(ctx);
    throw InputError("table.aggregate: too many aggregates (" + std::to_string(slots - 1) + "); at most 31");
  }

  template <class Key, std::size_t M>
  void run_typed(JobContext& ctx) {
    using Value = Slots<M>;
    std::vector<ColumnSpec> read = layout_->columns();
    read.insert(read.end(), values_.begin(), values_.end());
    TableInput table = ctx.input("table", derived_.reads(read));
    DerivingSource input(table, derived_, read);

    const std::vector<SlotPlan> plan = plan_;
    // Counts and integer sums only (--by alone, or with --sum of integer columns): every
    // slot adds, unused ones hold zeros, so one loop without a switch folds them all.
    const bool all_add = std::all_of(plan.begin(), plan.end(), [](const SlotPlan& p) {
      return p.fold == Fold::count || p.fold == Fold::count_valid || p.fold == Fold::sum_int;
    });
    const auto fold = [plan, all_add](const Value& a, const Value& b) {
      Value r = a;
      if (all_add) {
        for (std::size_t s = 0; s < M; ++s) r[s] = add_checked(a[s], b[s]);  // unused slots hold zeros
        return r;
      }
      for (std::size_t s = 0; s < plan.size(); ++s) {
        switch (plan[s].fold) {
          case Fold::count:
          case Fold::count_valid:
          case Fold::sum_int: r[s] = add_checked(a[s], b[s]); break;
          case Fold::sum_float: r[s] = bits_of(as_double(a[s]) + as_double(b[s])); break;
          case Fold::min_float: {
            const double x = as_double(a[s]), y = as_double(b[s]);
            r[s] = bits_of(std::isnan(x) ? y : std::isnan(y) ? x : std::min(x, y));
            break;
          }
          case Fold::max_float: {
            const double x = as_double(a[s]), y = as_double(b[s]);
            r[s] = bits_of(std::isnan(x) ? y : std::isnan(y) ? x : std::max(x, y));
            break;
          }
        }
      }
      return r;
    };

    const auto counts = std::make_shared<MapCounts>();
    const auto kept = std::make_shared<KeptArrays<Value>>();
    const MemoryLease arrays = dense_array_ ? dense_lease(ctx) : MemoryLease();
    const std::size_t array_bytes = arrays.bytes() / static_cast<std::size_t>(ctx.engine().options().threads);
    AggregateMap<Key, M, decltype(fold)> map(plan, *layout_, fold, array_bytes, counts, kept);
    auto by_hash = ctx.engine().reduce_by_key<Key, Value>(input, map, fold);
    ctx.engine().progress("table.aggregate: " + std::to_string(counts->rows) + " rows, " +
                          std::to_string(counts->rows - counts->by_row) + " through the dense array (" +
                          std::to_string(counts->restarts) + " restarts), " + std::to_string(counts->by_row) +
                          " row by row (rank 0" + (map.dense() ? "" : dense_array_ ? "; keys not all integers of up to 8 bytes" : "; --dense-array=false") + ")");
    if constexpr (std::is_same_v<Key, PackedKey>) {
      if (map.dense()) {
        DenseReduce<Value> dense(ctx.comm(), std::move(kept->arrays), by_hash.local_size() > 0, sizeof(Key),
                                 map.empty_array(), fold);
        ctx.engine().progress(std::string("table.aggregate: groups ") +
                              (dense.exchanged() ? "of the dense arrays reduced in one exchange"
                                                 : "through the engine's shuffle and global sort"));
        if (dense.exchanged()) {
          // This rank's part of the sorted result, without the engine (dense_reduce.hpp).
          ctx.write(build_output<Key, M>([&](const auto& f) {
            const auto pack = map.packer();
            dense.for_each_group(
                [&](const std::int64_t* values, const Value& v) { f(dense.packed_key(values, pack), v); });
          }));
          return;
        }
        if (dense.any_groups()) {
          // The arrays' groups join the pairs the engine holds, in one more reduce.
          PairsThenResult<Key, Value> handoff(dense.template pairs<Key>(map.packer()), std::move(by_hash));
          by_hash = ctx.engine().reduce_by_key<Key, Value>(handoff, forward_pairs, fold);
        }
      }
    }
    const auto by_range = ctx.engine().sort_globally(std::move(by_hash));
    ctx.write(build_output<Key, M>([&](const auto& f) { by_range.for_each(f); }));
  }

  /// The output table from for_each_group(f), which calls f(key, slots) for this rank's
  /// groups in key order.
  template <class Key, std::size_t M, class ForEachGroup>
  OutputTable build_output(const ForEachGroup& for_each_group) const {
    std::vector<ColumnSpec> specs = layout_->columns();
    specs.push_back({"count", DType::i64});
    for (const auto& o : outputs_) specs.push_back({o.name, o.type});
    OutputTable out("aggregate", specs);
    const std::size_t key_columns = layout_->columns().size();
    std::array<unsigned char, KeyBytes<Key>::size> buf{};
    for_each_group([&](const Key& key, const Slots<M>& v) {
      const unsigned char* bytes = KeyBytes<Key>::bytes(key, buf);
      for (std::size_t c = 0; c < key_columns; ++c) layout_->decode(c, bytes, out.data(c));
      check_overflow(v, out);
      const auto count = static_cast<std::int64_t>(v[0]);
      out.column<std::int64_t>(key_columns).push_back(count);
      for (std::size_t o = 0; o < outputs_.size(); ++o) {
        const OutputColumn& col = outputs_[o];
        const std::size_t at = key_columns + 1 + o;
        const Fold f = plan_[col.slot].fold;
        if (col.type == DType::i64) {
          out.column<std::int64_t>(at).push_back(static_cast<std::int64_t>(v[col.slot]));
        } else if (col.name.rfind("mean_", 0) == 0) {
          const double sum = f == Fold::sum_int ? static_cast<double>(static_cast<std::int64_t>(v[col.slot]))
                                                : as_double(v[col.slot]);
          const auto n = col.count_slot != 0 ? static_cast<std::int64_t>(v[col.count_slot]) : count;
          out.column<double>(at).push_back(n == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / static_cast<double>(n));
        } else {
          out.column<double>(at).push_back(as_double(v[col.slot]));
        }
      }
    });
    return out;
  }

  /// An integer slot of the group just decoded into `out` (its last row's key columns)
  /// that overflowed: an input error naming the column and the group.
  template <std::size_t M>
  void check_overflow(const Slots<M>& v, const OutputTable& out) const {
    for (std::size_t s = 0; s < plan_.size(); ++s) {
      const Fold f = plan_[s].fold;
      if (v[s] != kOverflow || (f != Fold::count && f != Fold::sum_int && f != Fold::count_valid)) continue;
      std::string group;
      for (std::size_t c = 0; c < layout_->columns().size(); ++c) {
        std::visit(
            [&](const auto& column) {
              std::ostringstream text;
              if constexpr (std::is_same_v<std::decay_t<decltype(column.back())>, std::string>) {
                text << '\'' << column.back() << '\'';
              } else {
                text << +column.back();
              }
              group += (group.empty() ? "" : ", ") + layout_->columns()[c].name + "=" + text.str();
            },
            out.data(c));
      }
      const std::string what = f == Fold::sum_int ? "the sum of column '" + values_[plan_[s].column].name + "'"
                                                  : std::string("the row count");
      throw InputError("table.aggregate: " + what + " in group (" + group +
                       ") overflows a 64-bit integer (beyond ±9223372036854775807)");
    }
  }

  struct OutputColumn {
    std::string name;
    DType type;
    std::size_t slot;        // where the value (or the sum, for means) is
    std::size_t count_slot;  // means of float columns: the count of non-NaN values; 0 = use count
  };

  std::string by_, sum_, mean_, min_, max_;
  std::vector<std::string> derive_;
  DerivedColumns derived_;
  bool dense_array_ = true;
  std::vector<SlotPlan> plan_;
  std::vector<ColumnSpec> values_;  // value columns read, each once
  std::vector<OutputColumn> outputs_;
  std::optional<KeyLayout> layout_;
};

}  // namespace
PEARL_REGISTER_JOB(Aggregate);
}  // namespace pearl::jobs
