#include "pearl/core/leftovers.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <fstream>
#include <system_error>

namespace pearl {
namespace fs = std::filesystem;

namespace {

std::string host_name() {
  char buf[HOST_NAME_MAX + 1] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "unknown-host";
  return buf;
}

/// A killed process whose parent has not reaped it yet (a rank whose mpiexec was killed
/// too, in a container whose init does not reap) still answers kill(pid, 0): it is gone
/// all the same. Linux: state Z or X in /proc/<pid>/stat.
bool is_zombie(long pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  const auto close = text.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos || close + 2 >= text.size()) return false;
  return text[close + 2] == 'Z' || text[close + 2] == 'X';
}

}  // namespace

const std::string& process_stamp() {
  // '+', not ':': MPI-IO (ROMIO, in MPICH and Open MPI) reads "name:" as a file-system
  // prefix, so a ':' in a temporary output's name made every parallel write fail.
  static const std::string stamp = host_name() + "+" + std::to_string(::getpid());
  return stamp;
}

std::optional<NameStamp> parse_stamp(std::string_view name) {
  const auto at = name.rfind('@');
  if (at == std::string_view::npos || at == 0) return std::nullopt;
  const auto colon = name.find('+', at);  // host names hold no '+'
  if (colon == std::string_view::npos || colon == at + 1) return std::nullopt;
  const auto dash = name.find('-', colon);
  if (dash == std::string_view::npos) return std::nullopt;
  NameStamp s;
  const auto r = std::from_chars(name.data() + colon + 1, name.data() + dash, s.pid);
  if (r.ec != std::errc() || r.ptr != name.data() + dash || s.pid <= 0) return std::nullopt;
  s.prefix = name.substr(0, at);
  s.host = name.substr(at + 1, colon - at - 1);
  return s;
}

bool owner_is_gone(const NameStamp& stamp) {
  static const std::string here = host_name();
  if (stamp.host != here) return false;
  if (stamp.pid == static_cast<long>(::getpid())) return false;
  if (::kill(static_cast<pid_t>(stamp.pid), 0) != 0) return errno == ESRCH;
  return is_zombie(stamp.pid);
}

std::vector<Leftover> remove_leftovers(const fs::path& dir, const std::function<bool(std::string_view)>& is_ours) {
  std::vector<Leftover> removed;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto stamp = parse_stamp(name);
    if (!stamp || !is_ours(stamp->prefix) || !owner_is_gone(*stamp)) continue;
    std::error_code gone;
    if (fs::remove_all(it->path(), gone) > 0 && !gone) removed.push_back({it->path(), *stamp});
  }
  return removed;
}

}  // namespace pearl
