// The --derive parser: recursive descent over NAME=EXPR (grammar in expression.hpp).
//   compare := expr [('<' | '<=' | '>' | '>=' | '==' | '!=') expr]
//   expr    := term (('+' | '-') term)*
//   term    := unary (('*' | '/') unary)*
//   unary   := '-' unary | primary
//   primary := number | name | '(' compare ')'
#include "expression.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <system_error>
#include <utility>

#include "pearl/job.hpp"

namespace pearl::jobs::table_aggregate {

namespace {

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool name_char(char c) { return name_start(c) || std::isdigit(static_cast<unsigned char>(c)) != 0; }
bool digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

}  // namespace

class ExpressionParser {
 public:
  ExpressionParser(std::string_view value, std::size_t start) : value_(value), at_(start) {}

  Expression parse() {
    skip_space();
    if (at_ == value_.size()) fail("an expression is missing after '='", at_);
    compare();
    skip_space();
    if (at_ != value_.size()) {
      fail(value_[at_] == ')' ? "a ')' without its '('" : "an operator (+ - * / < <= > >= == !=) or the end was expected",
           at_);
    }
    return std::move(out_);
  }

  [[noreturn]] void fail(const std::string& what, std::size_t offset) const {
    throw InputError("table.aggregate: --derive " + quote_value(value_) + ": " + what + " at position " +
                     std::to_string(offset + 1));
  }

 private:
  std::size_t add(Expression::Node n) {
    if (out_.nodes_.size() == kMaxExpressionNodes) {
      fail("more than " + std::to_string(kMaxExpressionNodes) + " numbers, names and operators", n.position - 1);
    }
    out_.nodes_.push_back(std::move(n));
    return out_.nodes_.size() - 1;
  }
  std::size_t binary(Expression::Op op, std::size_t l, std::size_t r, std::size_t position) {
    Expression::Node n;
    n.op = op;
    n.left = l;
    n.right = r;
    n.position = position + 1;
    return add(std::move(n));
  }

  void skip_space() {
    while (at_ < value_.size() && (value_[at_] == ' ' || value_[at_] == '\t')) ++at_;
  }
  bool take(char c) {
    skip_space();
    if (at_ < value_.size() && value_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }

  std::size_t compare() {
    const std::size_t l = expr();
    skip_space();
    const std::size_t op_at = at_;
    const auto [op, length] = comparison_here();
    if (length == 0) return l;
    at_ += length;
    const std::size_t r = expr();
    skip_space();
    if (comparison_here().second != 0) fail("comparisons do not chain (write (a < b) * (b < c))", at_);
    return binary(op, l, r, op_at);
  }

  /// The comparison operator at the current position and its length (0: none).
  std::pair<Expression::Op, std::size_t> comparison_here() const {
    const std::string_view rest = value_.substr(at_);
    using Op = Expression::Op;
    for (const auto& [text, op] : {std::pair{"<=", Op::less_equal}, std::pair{">=", Op::greater_equal},
                                   std::pair{"==", Op::equal}, std::pair{"!=", Op::not_equal}, std::pair{"<", Op::less},
                                   std::pair{">", Op::greater}}) {
      if (rest.starts_with(text)) return {op, std::string_view(text).size()};
    }
    if (rest.starts_with("=")) fail("'=' compares as '=='", at_);
    return {Op::column, 0};
  }

  std::size_t expr() { return left_to_right(&ExpressionParser::term, '+', Expression::Op::add, '-', Expression::Op::subtract); }
  std::size_t term() {
    return left_to_right(&ExpressionParser::unary, '*', Expression::Op::multiply, '/', Expression::Op::divide);
  }

  /// One level of precedence: operand ((op1 | op2) operand)*, grouped left to right.
  std::size_t left_to_right(std::size_t (ExpressionParser::*operand)(), char op1, Expression::Op kind1, char op2,
                            Expression::Op kind2) {
    std::size_t l = (this->*operand)();
    for (;;) {
      skip_space();
      const std::size_t op_at = at_;
      if (take(op1)) {
        l = binary(kind1, l, (this->*operand)(), op_at);
      } else if (take(op2)) {
        l = binary(kind2, l, (this->*operand)(), op_at);
      } else {
        return l;
      }
    }
  }

  std::size_t unary() {
    skip_space();
    const std::size_t op_at = at_;
    if (take('-')) {
      const Deeper d(*this, op_at);
      Expression::Node n;
    n.op = Expression::Op::negate;
      n.left = unary();
      n.position = op_at + 1;
      return add(std::move(n));
    }
    return primary();
  }

  std::size_t primary() {
    skip_space();
    if (at_ == value_.size()) fail("an operand was expected", at_);
    const std::size_t begin = at_;
    const char c = value_[at_];
    if (c == '(') {
      ++at_;
      const Deeper d(*this, begin);
      const std::size_t inner = compare();
      if (!take(')')) fail("the '(' is never closed", begin);
      return inner;
    }
    if (digit(c) || c == '.') return number();
    if (name_start(c)) {
      while (at_ < value_.size() && name_char(value_[at_])) ++at_;
      Expression::Node n;
    n.op = Expression::Op::column;
      n.column = std::string(value_.substr(begin, at_ - begin));
      n.position = begin + 1;
      return add(std::move(n));
    }
    fail("a number, a column name or '(' was expected", at_);
  }

  std::size_t number() {
    const std::size_t begin = at_;
    bool real = false;
    while (at_ < value_.size() && digit(value_[at_])) ++at_;
    if (at_ < value_.size() && value_[at_] == '.') {
      real = true;
      ++at_;
      while (at_ < value_.size() && digit(value_[at_])) ++at_;
    }
    if (at_ < value_.size() && (value_[at_] == 'e' || value_[at_] == 'E')) {
      real = true;
      ++at_;
      if (at_ < value_.size() && (value_[at_] == '+' || value_[at_] == '-')) ++at_;
      if (at_ == value_.size() || !digit(value_[at_])) fail("an exponent needs digits", at_);
      while (at_ < value_.size() && digit(value_[at_])) ++at_;
    }
    if (at_ < value_.size() && name_char(value_[at_])) fail("a number runs into a name", at_);
    const std::string_view text = value_.substr(begin, at_ - begin);
    if (text == ".") fail("a number was expected", begin);
    Expression::Node n;
    n.op = real ? Expression::Op::real : Expression::Op::integer;
    n.position = begin + 1;
    const char* first = text.data();
    const char* last = text.data() + text.size();
    const auto result = real ? std::from_chars(first, last, n.real) : std::from_chars(first, last, n.integer);
    if (result.ec == std::errc::result_out_of_range || (real && !std::isfinite(n.real))) {
      fail(std::string(real ? "the number " : "the integer ") + std::string(text) +
               (real ? " is out of range" : " does not fit 64 bits (write it as " + std::string(text) + ".0)"),
           begin);
    }
    if (result.ec != std::errc() || result.ptr != last) fail("'" + std::string(text) + "' is not a number", begin);
    return add(std::move(n));
  }

  /// One level of nesting, refused past kMaxExpressionDepth (the recursion's bound).
  class Deeper {
   public:
    Deeper(ExpressionParser& p, std::size_t at) : p_(p) {
      if (++p_.depth_ > kMaxExpressionDepth) {
        p_.fail("nesting deeper than " + std::to_string(kMaxExpressionDepth) + " levels", at);
      }
    }
    ~Deeper() { --p_.depth_; }
    Deeper(const Deeper&) = delete;
    Deeper& operator=(const Deeper&) = delete;

   private:
    ExpressionParser& p_;
  };

  std::string_view value_;
  std::size_t at_;
  std::size_t depth_ = 0;
  Expression out_;
};

std::vector<const Expression::Node*> Expression::columns() const {
  std::vector<const Node*> out;
  for (const auto& n : nodes_) {
    if (n.op == Op::column) out.push_back(&n);
  }
  // Nodes are stored children first; positions give the order of appearance.
  std::sort(out.begin(), out.end(), [](const Node* a, const Node* b) { return a->position < b->position; });
  return out;
}

const char* Expression::symbol(Op op) noexcept {
  switch (op) {
    case Op::add: return " + ";
    case Op::subtract: return " - ";
    case Op::multiply: return " * ";
    case Op::divide: return " / ";
    case Op::less: return " < ";
    case Op::less_equal: return " <= ";
    case Op::greater: return " > ";
    case Op::greater_equal: return " >= ";
    case Op::equal: return " == ";
    case Op::not_equal: return " != ";
    default: return " ? ";
  }
}

std::string Expression::text() const {
  std::string out;
  const auto show = [&](const auto& self, std::size_t i) -> void {
    const Node& n = nodes_[i];
    switch (n.op) {
      case Op::column: out += n.column; return;
      case Op::integer: out += std::to_string(n.integer); return;
      case Op::real: {
        char buf[32];
        const auto r = std::to_chars(buf, buf + sizeof buf, n.real);
        out.append(buf, r.ptr);
        return;
      }
      case Op::negate:
        out += "(-";
        self(self, n.left);
        out += ')';
        return;
      default: break;
    }
    out += '(';
    self(self, n.left);
    out += symbol(n.op);
    self(self, n.right);
    out += ')';
  };
  show(show, root());
  return out;
}

Derivation parse_derivation(std::string_view value) {
  const std::size_t eq = value.find('=');
  const auto fail = [&](const std::string& what, std::size_t offset) {
    ExpressionParser(value, 0).fail(what, offset);
  };
  if (eq == std::string_view::npos) fail("expected NAME=EXPRESSION (e.g. delay=report_day-onset_day)", 0);
  std::size_t b = 0;
  while (b < eq && value[b] == ' ') ++b;
  std::size_t e = eq;
  while (e > b && value[e - 1] == ' ') --e;
  if (b == e) fail("the name before '=' is missing", b);
  if (!name_start(value[b])) fail("a name starts with a letter or '_'", b);
  for (std::size_t i = b; i < e; ++i) {
    if (!name_char(value[i])) fail("a name has only letters, digits and '_'", i);
  }
  Derivation d;
  d.name = std::string(value.substr(b, e - b));
  d.expression = ExpressionParser(value, eq + 1).parse();
  d.source = std::string(value);
  return d;
}

}  // namespace pearl::jobs::table_aggregate
