// page.hpp — the head every page of `pearl report` shares (a job's report, a pipeline
// run's index): UTF-8, the title, one inline stylesheet; nothing loaded from elsewhere.
//
//   std::string html = page_head("nightly-health run", ".failed{color:#c00}") + body + "</body></html>\n";
#pragma once

#include <string>

namespace pearl::cluster::report {

/// "<!doctype html>...<body>" with the report's stylesheet and `css` added to it.
std::string page_head(const std::string& title, const std::string& css = "");

}  // namespace pearl::cluster::report
