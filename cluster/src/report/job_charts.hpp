// job_charts.hpp — what `pearl report` draws for one output table.
//
//   std::string html = job_charts("health.outbreak", frame);   // "" when it has no chart for it
//   html += generic_table(frame, true);                         // column summary + ranked bars
#pragma once

#include <string>
#include <vector>

#include "frame.hpp"

namespace pearl::cluster::report {

/// The charts of built-in job `job` for its table `f`; "" for other jobs and tables.
std::string job_charts(const std::string& job, const Frame& f);

/// A result's key columns: text columns and the contract's key names (a job's figures are
/// the other columns); the first column when there is none.
std::vector<const Column*> key_columns(const Frame& f);

/// Each row's key: the values of `keys` joined with " / ".
std::vector<std::string> row_labels(const Frame& f, const std::vector<const Column*>& keys);

/// Any table: a summary of each column and (with_chart) its last numeric column ranked
/// by its first.
std::string generic_table(const Frame& f, bool with_chart);

}  // namespace pearl::cluster::report
