// The global options of `pearl run` (those every job takes) and the --config file read
// as command-line tokens, so that both go through one parser with one set of messages.
#include <fstream>
#include <thread>

#include "cli_parts.hpp"
#include "pearl/cluster/cli.hpp"
#include "pearl/core/error.hpp"

namespace pearl::cluster {
namespace {

/// --threads' upper bound: 4 x the hardware threads (oversubscription beyond that only
/// costs memory: each thread has its own buffers and, in some jobs, arrays).
int max_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return 4 * static_cast<int>(hw == 0 ? 1 : hw);
}

std::vector<std::string> long_names(const po::options_description& d) {
  std::vector<std::string> names;
  for (const auto& o : d.options()) names.push_back(o->long_name());
  return names;
}

InputError unknown_option_error(const std::string& raw, const po::options_description& d, const std::string& where) {
  std::string name = raw;
  while (!name.empty() && name.front() == '-') name.erase(0, 1);
  std::string message = "unknown option '" + raw + "'" + where;
  const std::string guess = closest_match(name, long_names(d));
  if (!guess.empty()) message += "; did you mean '--" + guess + "'?";
  return InputError(message + " (see 'pearl run JOB --help')");
}

}  // namespace

po::options_description global_options(GlobalOptions& g) {
  po::options_description d("Global options");
  d.add_options()
      ("input", po::value(&g.inputs)->composing(),
       "input table NAME=GLOB[:/path/in/file] (path default /NAME); repeat for several tables")
      ("output", po::value(&g.output), "result file (HDF5), written atomically; never an input, never over an existing file")
      ("overwrite", po::bool_switch(&g.overwrite),
       "replace an existing --output (and --csv files): only regular files the user may write, never an input")
      ("output-mode", po::value(&g.output_mode)->default_value("0640")->value_name("OCTAL"),
       "permissions of the files written (--output, --csv), e.g. 0600; the umask does not apply")
      ("csv", po::value(&g.csv), "also write each output table as DIR/<table>.csv")
      ("hdf5-file-locking", po::value(&g.hdf5_locking)->default_value(true),
       "HDF5 file locking (false on parallel file systems without locks; HDF5_USE_FILE_LOCKING wins)")
      ("memory", po::value(&g.memory)->default_value("1GiB"),
       "memory budget per rank (e.g. 512MiB, 2GiB); data beyond it spills to --scratch")
      ("threads", in_range(&g.threads, 1, max_threads())->default_value(1),
       "map threads per rank (OpenMP); at most 4 x the hardware threads")
      ("scratch", po::value(&g.scratch)->default_value(""), "directory for spill files (default $TMPDIR, else /tmp)")
      ("config", po::value(&g.config),
       "options file: global options at the top, job options in a [JOB] section; the command line wins")
      ("resume", po::bool_switch(&g.resume),
       "continue from the checkpoint beside --output (OUT.checkpoint/); none there: start over and say so")
      ("checkpoint-every", po::value(&g.checkpoint_every)->default_value("5min"),
       "save finished operations to the checkpoint at most this often (0: at each one; off: never)")
      ("on-bad-row", po::value(&g.on_bad_row)->default_value("fail"),
       "a value outside its column's domain (age 0..120, sex, region code, UTF-8, ...): fail (exit 2 naming it) "
       "or skip (drop the row, count it, list it in the output's 'rejects' table)")
      ("verbose,v", po::bool_switch(&g.verbose), "progress and timings on stderr (progress from every rank)")
      ("quiet,q", po::bool_switch(&g.quiet), "no progress lines (errors only)")
      ("progress-every", at_least(&g.progress_every, 0.0)->default_value(30),
       "seconds between progress lines when stderr is not a terminal (0: none)")
      ("metrics", po::value(&g.metrics),
       "write the run's metrics (JSON) here; default OUT.metrics.json beside --output")
      ("help,h", po::bool_switch(&g.help), "show this job's options");
  return d;
}

std::vector<std::string> config_tokens(const std::string& file, const std::string& job, const po::options_description& all) {
  std::ifstream in(file);
  if (!in) throw InputError("cannot read config file '" + file + "'");
  po::options_description none;
  po::parsed_options parsed(&none);
  try {
    parsed = po::parse_config_file(in, none, /*allow_unregistered=*/true);
  } catch (const po::error& e) {
    throw InputError("config file '" + file + "': " + option_error_text(e));
  }
  std::vector<std::string> tokens;
  for (const auto& o : parsed.options) {
    std::string key = o.string_key;
    if (key.rfind(job + ".", 0) == 0) {
      key = key.substr(job.size() + 1);
    } else if (key.find('.') != std::string::npos) {
      continue;  // another job's section
    }
    // An empty key (" = 1") matches every option as a prefix: Boost throws "ambiguous"
    // (found by tests/fuzz, config_file).
    if (key.empty()) throw InputError("config file '" + file + "': an option without a name");
    const auto* known = all.find_nothrow(key, /*approx=*/false);
    if (known == nullptr) throw unknown_option_error(key, all, " in config file '" + file + "'");
    if (known->semantic()->max_tokens() == 0) {  // a switch: "verbose = true"
      if (!o.value.empty() && (o.value[0] == "true" || o.value[0] == "1" || o.value[0] == "yes")) tokens.push_back("--" + key);
      continue;
    }
    tokens.push_back("--" + key);
    for (const auto& v : o.value) tokens.push_back(v);
  }
  return tokens;
}

void store_tokens(const std::vector<std::string>& tokens, const po::options_description& all, po::variables_map& vm,
                  const std::string& where) {
  try {
    const auto style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
    auto parsed = po::command_line_parser(tokens).options(all).style(style).run();
    for (const auto& o : parsed.options) {
      if (o.position_key >= 0) throw InputError("unexpected argument '" + o.value.front() + "'" + where);
    }
    po::store(parsed, vm);
  } catch (const po::unknown_option& e) {
    throw unknown_option_error(e.get_option_name(), all, where);
  } catch (const po::error& e) {
    throw InputError(option_error_text(e) + where);
  }
}

}  // namespace pearl::cluster
