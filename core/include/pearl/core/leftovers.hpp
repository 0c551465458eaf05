// pearl/core/leftovers.hpp — temporaries and scratch of runs that died, found and removed.
//
// A run's temporary outputs and spill directories carry its host and process id in
// their names, `<prefix>@<host>+<pid>-<rest>`, so a later run can tell whether their
// owner is gone. A leftover is removed only when it was made on this host and its
// process no longer exists: a run on another host, or one still alive here, may be
// writing it (age is no evidence: a run creates its temporary output at the start and
// writes it hours later). pid reuse can only make a dead run look alive (its leftover
// then stays until a later run), never the other way round.
//
//   auto gone = pearl::remove_leftovers(dir, [](std::string_view prefix) {
//     return prefix.starts_with("pearl-");
//   });
//   for (const auto& l : gone) std::cerr << "removed " << l.path << '\n';
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pearl {

/// "<host>+<pid>" of this process (host from gethostname).
const std::string& process_stamp();

/// A name's owner: `<prefix>@<host>+<pid>-<rest>` split up.
struct NameStamp {
  std::string prefix;
  std::string host;
  long pid = 0;
};

/// The stamp in `name`, or nothing if it has none. The prefix ends at the last '@'
/// (host names have none), the pid at the '-' after the '+'.
std::optional<NameStamp> parse_stamp(std::string_view name);

/// Whether the process that stamped a name is gone: made on this host, and no process
/// with its pid exists (kill(pid, 0) says ESRCH) or it is a zombie (killed, not reaped).
bool owner_is_gone(const NameStamp& stamp);

/// One removed leftover.
struct Leftover {
  std::filesystem::path path;
  NameStamp owner;
};

/// Removes the entries of `dir` (files or whole directories) whose names carry a stamp
/// with a prefix that `is_ours` accepts and whose owner is gone; returns them. Entries
/// that cannot be removed (permissions, a concurrent removal) are skipped silently.
std::vector<Leftover> remove_leftovers(const std::filesystem::path& dir,
                                       const std::function<bool(std::string_view prefix)>& is_ours);

}  // namespace pearl
