// job_charts.hpp — what `pearl report` draws for one output table.
//
//   std::string html = job_charts("health.outbreak", frame);   // "" when it has no chart for it
//   html += generic_table(frame, true);                         // column summary + ranked bars
#pragma once

#include <string>

#include "frame.hpp"

namespace pearl::cluster::report {

/// The charts of built-in job `job` for its table `f`; "" for other jobs and tables.
std::string job_charts(const std::string& job, const Frame& f);

/// Any table: a summary of each column and (with_chart) its last numeric column ranked
/// by its first.
std::string generic_table(const Frame& f, bool with_chart);

}  // namespace pearl::cluster::report
