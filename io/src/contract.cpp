// The contract tables of tables.md, transcribed column by column.
#include "pearl/io/contract.hpp"

namespace pearl::io {

namespace {
std::vector<ContractTable> make_contract() {
  using enum DType;
  return {
      // Health
      {"cases",
       {{"case_id", u64}, {"person_id", u64}, {"sex", u8}, {"age_years", u8}, {"region_code", u32},
        {"disease", str}, {"onset_day", i32}, {"report_day", i32}}},
      {"population", {{"region_code", u32}, {"year", u16}, {"sex", u8}, {"age_group", u8}, {"population", i64}}},
      {"checkups",
       {{"person_id", u64}, {"exam_day", i32}, {"sex", u8}, {"age_years", u8}, {"bmi", f32}, {"systolic_bp", f32},
        {"fasting_glucose", f32}, {"smoker", u8}, {"diabetes", u8}}},
      // Social security
      {"contributions",
       {{"person_id", u64}, {"employer_id", u64}, {"region_code", u32}, {"industry", u8}, {"month", i32},
        {"insurance", u8}, {"wage_base", f64}, {"due", f64}, {"paid", f64}}},
      {"claims",
       {{"claim_id", u64}, {"person_id", u64}, {"region_code", u32}, {"benefit", u8}, {"claim_day", i32},
        {"amount", f64}}},
      {"deaths", {{"person_id", u64}, {"death_day", i32}}},
      {"unemployment", {{"person_id", u64}, {"region_code", u32}, {"start_day", i32}, {"end_day", i32}}},
      {"labour_force", {{"region_code", u32}, {"month", i32}, {"employed", i64}}},
      // Transport
      {"taps",
       {{"card_id", u64}, {"tap_time", i64}, {"station_id", u32}, {"line_id", u16}, {"tap_type", u8}, {"fare", f64}}},
      {"stations", {{"station_id", u32}, {"line_id", u16}, {"name", str}, {"lon", f64}, {"lat", f64}}},
      {"gps",
       {{"vehicle_id", u64}, {"time", i64}, {"lon", f64}, {"lat", f64}, {"speed_kmh", f32}, {"occupied", u8}}},
  };
}
}  // namespace

const std::vector<ContractTable>& contract_tables() {
  static const std::vector<ContractTable> tables = make_contract();
  return tables;
}

const ContractTable* find_contract_table(std::string_view name) {
  for (const auto& t : contract_tables()) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

const ContractTable* find_contract_table(std::string_view input, std::string_view path) {
  if (const ContractTable* t = find_contract_table(input)) return t;
  const auto slash = path.rfind('/');
  return find_contract_table(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

}  // namespace pearl::io
