// pearl/io/contract.hpp — the input tables of the data contract, as data.
//
// docs/contracts/tables.md (the input-table contract) defines every table
// the built-in jobs read: its name and its columns with their contract types. The same
// list lives here so `pearl inspect` can say whether a file's table matches, and so a
// caller can ask for a table's full contract projection without retyping it. Keep the
// two in step: a change to the contract is a change to this list.
//
//   const pearl::io::ContractTable* cases = pearl::io::find_contract_table("cases");
//   pearl::io::TableReader reader("cases-0.h5", "/cases");
//   auto columns = reader.read(cases->columns, 0, reader.rows());
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pearl/core/table.hpp"

namespace pearl::io {

/// One table of the contract: its name (the default path is "/" + name) and its
/// columns in the contract's order, each with the type a reader delivers.
struct ContractTable {
  std::string name;
  std::vector<ColumnSpec> columns;
};

/// Every contract table, in the order tables.md lists them (health, social security,
/// transport): cases, population, checkups, contributions, claims, deaths,
/// unemployment, labour_force, taps, stations, gps.
const std::vector<ContractTable>& contract_tables();

/// The contract table called `name`, or nullptr when the contract has none.
const ContractTable* find_contract_table(std::string_view name);

}  // namespace pearl::io
