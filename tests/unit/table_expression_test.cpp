// table.aggregate's --derive parser (jobs/table/expression.*): precedence, numbers,
// names, and each syntax error naming the option and the position. Types and
// evaluation against data are checked end to end by job.table.aggregate.
#include <gtest/gtest.h>

#include <string>

#include "expression.hpp"
#include "pearl/core/error.hpp"

namespace {

using pearl::InputError;
using pearl::jobs::table_aggregate::Expression;
using pearl::jobs::table_aggregate::parse_derivation;

std::string parsed(const std::string& value) { return parse_derivation(value).expression.text(); }

/// The message of the InputError parsing `value` throws ("" if none).
std::string error_of(const std::string& value) {
  try {
    (void)parse_derivation(value);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(TableExpression, PrecedenceIsTheUsualOne) {
  EXPECT_EQ(parsed("d=a-b"), "(a - b)");
  EXPECT_EQ(parsed("d=a+b*c"), "(a + (b * c))");
  EXPECT_EQ(parsed("d=(a+b)*c"), "((a + b) * c)");
  EXPECT_EQ(parsed("d=a-b-c"), "((a - b) - c)");  // left to right
  EXPECT_EQ(parsed("d=a/b/2"), "((a / b) / 2)");
  EXPECT_EQ(parsed("d=-a*-(b+1)"), "((-a) * (-(b + 1)))");
  EXPECT_EQ(parsed(" late_days =\treport_day - onset_day - 7 "), "((report_day - onset_day) - 7)");
  // one comparison, below arithmetic; anywhere in parentheses
  EXPECT_EQ(parsed("late=report_day-onset_day>7"), "((report_day - onset_day) > 7)");
  EXPECT_EQ(parsed("d=a+1<=b*2"), "((a + 1) <= (b * 2))");
  EXPECT_EQ(parsed("d=(a<b)*(b>=c)+(a==1)-(b!=2)"), "((((a < b) * (b >= c)) + (a == 1)) - (b != 2))");
  EXPECT_EQ(parsed("d=-a<-1"), "((-a) < (-1))");
}

TEST(TableExpression, NameColumnsAndNumbers) {
  const auto d = parse_derivation("x_2=_a*2.5+b3/1e3-.5+7");
  EXPECT_EQ(d.name, "x_2");
  EXPECT_EQ(d.source, "x_2=_a*2.5+b3/1e3-.5+7");
  const auto columns = d.expression.columns();
  ASSERT_EQ(columns.size(), 2U);
  EXPECT_EQ(columns[0]->column, "_a");
  EXPECT_EQ(columns[0]->position, 5U);
  EXPECT_EQ(columns[1]->column, "b3");
  EXPECT_EQ(columns[1]->position, 12U);
  EXPECT_EQ(d.expression.text(), "((((_a * 2.5) + (b3 / 1000)) - 0.5) + 7)");
  const auto& root = d.expression.nodes()[d.expression.root()];
  EXPECT_EQ(root.op, Expression::Op::add);
  EXPECT_EQ(d.expression.nodes()[root.right].op, Expression::Op::integer);
  EXPECT_EQ(d.expression.nodes()[root.right].integer, 7);
  EXPECT_EQ(parsed("d=9223372036854775807"), "9223372036854775807");
}

TEST(TableExpression, SyntaxErrorsNameTheOptionAndPosition) {
  const struct {
    const char* value;
    const char* says;
  } cases[] = {
      {"delay", "expected NAME=EXPRESSION (e.g. delay=report_day-onset_day) at position 1"},
      {"=a-b", "the name before '=' is missing at position 1"},
      {"1d=a", "a name starts with a letter or '_' at position 1"},
      {"de-lay=a", "a name has only letters, digits and '_' at position 3"},
      {"d=", "an expression is missing after '=' at position 3"},
      {"d=a-", "an operand was expected at position 5"},
      {"d=a b", "an operator (+ - * / < <= > >= == !=) or the end was expected at position 5"},
      {"d=(a-b", "the '(' is never closed at position 3"},
      {"d=a-b)", "a ')' without its '(' at position 6"},
      {"d=a*%", "a number, a column name or '(' was expected at position 5"},
      {"d=2x", "a number runs into a name at position 4"},
      {"d=1e", "an exponent needs digits at position 5"},
      {"d=.", "a number was expected at position 3"},
      {"d=1.2.3", "an operator (+ - * / < <= > >= == !=) or the end was expected at position 6"},
      {"d=9223372036854775808", "the integer 9223372036854775808 does not fit 64 bits"},
      {"d=1e400", "the number 1e400 is out of range at position 3"},
      {"d=a<b<c", "comparisons do not chain (write (a < b) * (b < c)) at position 6"},
      {"d=a=1", "'=' compares as '==' at position 4"},
      {"d=a>", "an operand was expected at position 5"},
      {"d=a!1", "an operator (+ - * / < <= > >= == !=) or the end was expected at position 4"},
  };
  for (const auto& c : cases) {
    const std::string e = error_of(c.value);
    EXPECT_NE(e.find(std::string("table.aggregate: --derive '") + c.value + "': "), std::string::npos) << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << c.value << " gave: " << e;
  }
}

TEST(TableExpression, DepthAndSizeAreBounded) {
  std::string deep = "d=";
  for (int i = 0; i < 100; ++i) deep += "(";
  deep += "1";
  for (int i = 0; i < 100; ++i) deep += ")";
  EXPECT_NE(error_of(deep).find("nesting deeper than 64 levels at position 67"), std::string::npos) << error_of(deep);
  std::string negations = "d=" + std::string(100, '-') + "1";
  EXPECT_NE(error_of(negations).find("nesting deeper than 64"), std::string::npos);
  std::string many = "d=1";
  for (int i = 0; i < 200; ++i) many += "+1";
  EXPECT_NE(error_of(many).find("more than 256 numbers, names and operators"), std::string::npos) << error_of(many);
  std::string fits = "d=1";
  for (int i = 0; i < 127; ++i) fits += "+1";
  EXPECT_EQ(parse_derivation(fits).expression.nodes().size(), 255U);
}

}  // namespace
