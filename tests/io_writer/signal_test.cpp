// SIGTERM / SIGINT remove registered temporary outputs, and the process still dies of
// the signal. A plain program (no MPI): each case runs in a forked child.
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "pearl/io/atomic_output.hpp"

namespace fs = std::filesystem;

namespace {

int failures = 0;

void expect(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    ++failures;
  }
}

/// Runs `child` in a fork; returns the signal that ended it (0 if it exited).
template <class F>
int killed_by(F&& child) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    child();
    std::_Exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

}  // namespace

int main() {
  const fs::path dir = fs::path(PEARL_IO_WRITER_SCRATCH) / ("signal-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);

  // A registered path is unlinked on SIGTERM; an unregistered one survives.
  const fs::path registered = dir / "registered.tmp";
  const fs::path other = dir / "other.tmp";
  int sig = killed_by([&] {
    std::ofstream(registered) << "x";
    std::ofstream(other) << "y";
    pearl::io::remove_on_signal(registered);
    std::raise(SIGTERM);
  });
  expect(sig == SIGTERM, "child ended by SIGTERM (got " + std::to_string(sig) + ")");
  expect(!fs::exists(registered), "registered temp removed on SIGTERM");
  expect(fs::exists(other), "unregistered file kept");

  // AtomicOutput registers its temporary path itself; SIGINT removes it, the target never appears.
  const fs::path target = dir / "result.h5";
  sig = killed_by([&] {
    pearl::io::AtomicOutput out(target);
    std::ofstream(out.temp_path()) << "half";
    std::ofstream(dir / "temp-name") << out.temp_path().string();
    std::raise(SIGINT);
  });
  expect(sig == SIGINT, "child ended by SIGINT (got " + std::to_string(sig) + ")");
  std::string temp;
  std::getline(std::ifstream(dir / "temp-name"), temp);
  expect(!temp.empty() && !fs::exists(temp), "AtomicOutput temp removed on SIGINT");
  expect(!fs::exists(target), "no target after SIGINT");

  // After commit the path is forgotten: a later signal does not remove the result.
  sig = killed_by([&] {
    pearl::io::AtomicOutput out(target);
    std::ofstream(out.temp_path()) << "done";
    out.commit();
    std::raise(SIGTERM);
  });
  expect(sig == SIGTERM, "child ended by SIGTERM after commit");
  expect(fs::exists(target), "committed result survives a later SIGTERM");

  // forget_on_signal undoes remove_on_signal.
  sig = killed_by([&] {
    std::ofstream(registered) << "x";
    pearl::io::remove_on_signal(registered);
    pearl::io::forget_on_signal(registered);
    std::raise(SIGTERM);
  });
  expect(sig == SIGTERM && fs::exists(registered), "forgotten path survives SIGTERM");

  fs::remove_all(dir);
  if (failures == 0) std::printf("signal removal ok\n");
  return failures == 0 ? 0 : 1;
}
