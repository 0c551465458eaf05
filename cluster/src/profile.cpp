// Cluster profiles: finding them (user, then shipped) and parsing `key = value` files.
#include "pearl/cluster/profile.hpp"

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <functional>
#include <regex>
#include <sstream>

#include "pearl/cluster/cli.hpp"
#include "pearl/core/error.hpp"

namespace pearl::cluster {

namespace fs = std::filesystem;

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r") - b + 1);
}

std::vector<std::string> words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw InputError("cannot read profile '" + path.string() + "'");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

fs::path user_profile_dir() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x != nullptr && *x != '\0') return fs::path(x) / "pearl/profiles";
  if (const char* h = std::getenv("HOME"); h != nullptr && *h != '\0') return fs::path(h) / ".config/pearl/profiles";
  return {};
}

/// One field: how to parse its value into the profile. Throws std::string on a bad value.
using Setter = std::function<void(Profile&, const std::string&)>;

bool parse_bool(const std::string& v) {
  if (v == "true" || v == "yes") return true;
  if (v == "false" || v == "no") return false;
  throw std::string("expected true or false");
}

int parse_count(const std::string& v, int low, int high) {
  std::size_t used = 0;
  int n = 0;
  try {
    n = std::stoi(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty() || n < low || n > high) {
    throw std::string("expected a whole number from " + std::to_string(low) + " to " + std::to_string(high));
  }
  return n;
}

std::vector<std::string> parse_candidates(const std::string& v) {
  auto w = words(v);
  if (w.empty()) throw std::string("expected one or more command names");
  return w;
}

const std::map<std::string, Setter>& fields() {
  static const std::map<std::string, Setter> f{
      {"description", [](Profile& p, const std::string& v) { p.description = v; }},
      {"scheduler",
       [](Profile& p, const std::string& v) {
         if (v != "slurm" && v != "none") throw std::string("expected slurm or none");
         p.scheduler = v;
       }},
      {"submit", [](Profile& p, const std::string& v) { p.submit = parse_candidates(v); }},
      {"queue", [](Profile& p, const std::string& v) { p.queue = parse_candidates(v); }},
      {"cancel", [](Profile& p, const std::string& v) { p.cancel = parse_candidates(v); }},
      {"control", [](Profile& p, const std::string& v) { p.control = parse_candidates(v); }},
      {"accounting", [](Profile& p, const std::string& v) { p.accounting = parse_candidates(v); }},
      {"launcher", [](Profile& p, const std::string& v) { p.launcher = parse_candidates(v); }},
      {"launcher-args", [](Profile& p, const std::string& v) { p.launcher_args = words(v); }},
      {"partition", [](Profile& p, const std::string& v) { p.partition = v; }},
      {"partition-required", [](Profile& p, const std::string& v) { p.partition_required = parse_bool(v); }},
      {"partition-flag",
       [](Profile& p, const std::string& v) {
         if (v != "-p" && v != "--partition") throw std::string("expected -p or --partition");
         p.partition_flag = v;
       }},
      {"account", [](Profile& p, const std::string& v) { p.account = v; }},
      {"cores-per-node", [](Profile& p, const std::string& v) { p.cores_per_node = parse_count(v, 0, 100000); }},
      {"exclusive", [](Profile& p, const std::string& v) { p.exclusive = parse_bool(v); }},
      {"time",
       [](Profile& p, const std::string& v) {
         if (parse_slurm_time(v) <= 0) throw std::string("expected a Slurm time limit (HH:MM:SS, D-HH:MM:SS or minutes)");
         p.time = v;
       }},
      {"signal",
       [](Profile& p, const std::string& v) {
         if (v != "USR1" && v != "TERM") throw std::string("expected USR1 or TERM (pearl checkpoints on either)");
         p.signal = v;
       }},
      {"signal-seconds", [](Profile& p, const std::string& v) { p.signal_seconds = parse_count(v, 0, 65535); }},
      {"log-dir",
       [](Profile& p, const std::string& v) {
         if (v.empty()) throw std::string("expected a directory");
         p.log_dir = v;
       }},
      // Repeatable: each line adds one; a profile's first line replaces its base's list.
      {"setup", [](Profile& p, const std::string& v) { p.setup.push_back(v); }},
      {"env",
       [](Profile& p, const std::string& v) {
         const auto eq = v.find('=');
         const std::string name = trim(v.substr(0, eq));
         if (eq == std::string::npos || !std::regex_match(name, std::regex("[A-Za-z_][A-Za-z0-9_]*"))) {
           throw std::string("expected NAME=VALUE");
         }
         std::erase_if(p.environment, [&](const auto& kv) { return kv.first == name; });
         p.environment.emplace_back(name, trim(v.substr(eq + 1)));
       }},
  };
  return f;
}

}  // namespace

std::string Profile::origin_of(const std::string& key) const {
  const auto it = origins.find(key);
  return it == origins.end() ? "built-in default" : it->second;
}

long parse_slurm_time(const std::string& text) {
  static const std::regex form(R"((?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?)");
  std::smatch m;
  if (!std::regex_match(text, m, form)) return -1;
  auto num = [&](int i) { return m[i].matched ? std::stol(m[i].str()) : 0L; };
  if (m[1].matched) return ((num(1) * 24 + num(2)) * 60 + num(3)) * 60 + num(4);  // D-H[:M[:S]]
  if (m[4].matched) return (num(2) * 60 + num(3)) * 60 + num(4);                  // H:M:S
  return num(2) * 60 + num(3);                                                    // M or M:S
}

Profile parse_profile(const std::string& text, const std::string& file, Profile base) {
  Profile p = std::move(base);
  std::istringstream in(text);
  bool setup_seen = false;
  int line_no = 0;
  for (std::string raw; std::getline(in, raw);) {
    ++line_no;
    const std::string where = file + ":" + std::to_string(line_no);
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find('=');
    if (eq == std::string::npos) throw InputError(where + ": expected 'key = value', got '" + line + "'");
    const std::string key = trim(line.substr(0, eq));
    const std::string value = trim(line.substr(eq + 1));
    if (key == "base") continue;  // resolved by load_profile before parsing
    const auto& f = fields();
    const auto it = f.find(key);
    if (it == f.end()) {
      std::vector<std::string> names{"base"};
      for (const auto& [name, setter] : f) names.push_back(name);
      std::string message = where + ": unknown key '" + key + "'";
      const std::string guess = closest_match(key, names);
      if (!guess.empty()) message += "; did you mean '" + guess + "'?";
      throw InputError(message);
    }
    if (key == "setup" && !setup_seen) {
      p.setup.clear();
      setup_seen = true;
      if (value.empty()) {  // `setup =` alone: no setup lines at all
        p.origins[key] = where;
        continue;
      }
    }
    try {
      it->second(p, value);
    } catch (const std::string& problem) {
      throw InputError(where + ": " + key + " = '" + value + "': " + problem);
    }
    // env lines are told apart by their variable: "env NAME".
    p.origins[key == "env" ? "env " + trim(value.substr(0, value.find('='))) : key] = where;
  }
  p.files.push_back(file);
  return p;
}

fs::path share_dir() {
  if (const char* env = std::getenv("PEARL_SHARE_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    fs::path dir = exe.parent_path().parent_path() / "share/pearl";
    if (fs::is_directory(dir / "profiles")) return dir;
  }
  throw Error("cannot find pearl's profiles: no share/pearl/profiles beside " + exe.parent_path().string() +
              "/.. (set PEARL_SHARE_DIR to the directory holding profiles/)");
}

std::vector<std::pair<std::string, fs::path>> list_profiles() {
  std::map<std::string, fs::path> found;
  std::error_code ec;
  for (const fs::path& dir : {share_dir() / "profiles", user_profile_dir()}) {
    if (dir.empty() || !fs::is_directory(dir, ec)) continue;
    for (const auto& e : fs::directory_iterator(dir, ec)) {
      const std::string name = e.path().filename().string();
      if (e.is_regular_file() && name.find('.') == std::string::npos) found[name] = e.path();
    }
  }
  return {found.begin(), found.end()};
}

namespace {

/// The file of profile `name`: a path as given, else the user's, else the shipped one.
/// `exclude` is skipped, so a user profile `tianhe2` with `base = tianhe2` finds the
/// shipped tianhe2 beneath it.
fs::path find_profile(const std::string& name, const fs::path& exclude) {
  if (name.find('/') != std::string::npos || fs::is_regular_file(name)) {
    if (!fs::is_regular_file(name)) throw InputError("--profile " + name + ": no such file");
    return name;
  }
  const fs::path user = user_profile_dir();
  for (const fs::path& candidate : {user.empty() ? fs::path() : user / name, share_dir() / "profiles" / name}) {
    if (!candidate.empty() && candidate != exclude && fs::is_regular_file(candidate)) return candidate;
  }
  std::vector<std::string> names;
  std::string all;
  for (const auto& [known, path] : list_profiles()) {
    names.push_back(known);
    all += (all.empty() ? "" : ", ") + known;
  }
  std::string message = "unknown profile '" + name + "'";
  const std::string guess = closest_match(name, names);
  if (!guess.empty()) message += "; did you mean '" + guess + "'?";
  throw InputError(message + " (known: " + all + "; 'pearl profiles' lists them)");
}

/// The `base = NAME` line of a profile, if any.
std::string base_of(const std::string& text) {
  std::istringstream in(text);
  for (std::string raw; std::getline(in, raw);) {
    const std::string line = trim(raw);
    const auto eq = line.find('=');
    if (!line.empty() && line[0] != '#' && eq != std::string::npos && trim(line.substr(0, eq)) == "base") {
      return trim(line.substr(eq + 1));
    }
  }
  return "";
}

Profile load_chain(const std::string& name, const fs::path& exclude, int depth) {
  if (depth > 8) throw InputError("profile '" + name + "': its 'base' lines form a loop");
  const fs::path path = find_profile(name, exclude);
  const std::string text = read_file(path);
  const std::string base = base_of(text);
  Profile start = base.empty() ? Profile{} : load_chain(base, path, depth + 1);
  return parse_profile(text, path.string(), std::move(start));
}

}  // namespace

Profile load_profile(const std::string& name_or_path) {
  Profile p = load_chain(name_or_path, {}, 0);
  p.name = name_or_path;
  return p;
}

}  // namespace pearl::cluster
