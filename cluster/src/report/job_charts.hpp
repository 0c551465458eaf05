// job_charts.hpp — what `pearl report` draws for one output table.
//
//   std::string html = job_charts("health.outbreak", frame, parameters);   // "" when it has no chart for it
//   html += generic_table(frame, true);                         // column summary + ranked bars
#pragma once

#include <map>
#include <string>
#include <vector>

#include "frame.hpp"

namespace pearl::cluster::report {

/// A job's options as its output records them (attribute `parameters`): name -> value.
using Parameters = std::map<std::string, std::string>;

/// The charts of built-in job `job` for its table `f`; "" for other jobs and tables.
std::string job_charts(const std::string& job, const Frame& f, const Parameters& parameters);

/// A result's key columns: text columns and the contract's key names (a job's figures are
/// the other columns); the first column when there is none.
std::vector<const Column*> key_columns(const Frame& f);

/// Each row's key: the values of `keys` joined with " / ".
std::vector<std::string> row_labels(const Frame& f, const std::vector<const Column*>& keys);

/// Any table: a summary of each column and (with_chart) its last numeric column ranked
/// by its first.
std::string generic_table(const Frame& f, bool with_chart);

}  // namespace pearl::cluster::report
