// jobs/table/expression.hpp — the arithmetic of table.aggregate's --derive NAME=EXPR.
//
// An expression is numbers and column names joined by + - * / and parentheses, with the
// usual precedence (* and / before + and -, unary minus, left to right), and at most one
// comparison (< <= > >= == !=, lowest precedence) giving 1 or 0, so that --mean of
// `late=report_day-onset_day>7` is the share of late reports:
//
//   Derivation d = parse_derivation("delay=report_day - onset_day");
//   d.name;                 // "delay"
//   d.expression.columns(); // {"report_day", "onset_day"}, each with its position
//
// Parsing needs no input: it only checks the syntax. Which names are columns, and the
// result's type, are decided against the input's columns (derived_columns.hpp). Errors
// are InputErrors naming the option and the 1-based position in its value.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pearl::jobs::table_aggregate {

/// A parsed expression: nodes in an array, children before parents, the root last.
class Expression {
 public:
  enum class Op : std::uint8_t {
    column, integer, real,                                    // leaves
    add, subtract, multiply, divide, negate,                  // arithmetic
    less, less_equal, greater, greater_equal, equal, not_equal  // comparisons: 1 or 0
  };
  [[nodiscard]] static bool is_comparison(Op op) noexcept { return op >= Op::less; }
  /// " + ", " <= ", ...: the operator as text() and messages show it.
  [[nodiscard]] static const char* symbol(Op op) noexcept;
  struct Node {
    Op op = Op::integer;
    std::size_t left = 0;    // operands (node indices) of add .. negate
    std::size_t right = 0;
    std::int64_t integer = 0;  // Op::integer
    double real = 0;           // Op::real
    std::string column;        // Op::column
    std::size_t position = 0;  // 1-based position in the option's value, for messages
  };

  [[nodiscard]] const std::vector<Node>& nodes() const noexcept { return nodes_; }
  [[nodiscard]] std::size_t root() const noexcept { return nodes_.size() - 1; }
  /// The column references in order of appearance (Op::column nodes).
  [[nodiscard]] std::vector<const Node*> columns() const;
  /// The expression as text, fully parenthesised: "((report_day - onset_day) > 7)".
  [[nodiscard]] std::string text() const;

 private:
  friend class ExpressionParser;
  std::vector<Node> nodes_;
};

/// One --derive value: NAME=EXPR.
struct Derivation {
  std::string name;
  Expression expression;
  std::string source;  // the option's value as given, for messages
};

/// Most numbers, names and operators in one expression (evaluation recurses over them).
constexpr std::size_t kMaxExpressionNodes = 256;
/// Deepest nesting of parentheses and unary minus accepted (the parser recurses).
constexpr std::size_t kMaxExpressionDepth = 64;

/// Parses `NAME=EXPR`; throws InputError "table.aggregate: --derive 'VALUE': ... at
/// position N" for bad syntax. NAME is a column name: a letter or '_', then letters,
/// digits and '_'.
Derivation parse_derivation(std::string_view value);

}  // namespace pearl::jobs::table_aggregate
