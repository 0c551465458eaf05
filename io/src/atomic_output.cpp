#include "pearl/io/atomic_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <random>
#include <string>
#include <utility>

#include "pearl/core/error.hpp"
#include "pearl/core/leftovers.hpp"

namespace pearl::io {

namespace {

// ---- signal-time removal ----------------------------------------------------------
// Slots hold NUL-terminated paths in fixed buffers; the handler reads only slots whose
// state is `ready` (lock-free atomics are async-signal-safe) and calls unlink.

constexpr std::size_t kMaxSlots = 16;
constexpr std::size_t kMaxPath = 4096;
enum SlotState : int { free_slot = 0, ready = 1, busy = 2 };

struct Slot {
  std::atomic<int> state{free_slot};
  char path[kMaxPath]{};
};
std::array<Slot, kMaxSlots> g_slots;
static_assert(std::atomic<int>::is_always_lock_free, "signal handler needs lock-free atomics");

std::mutex g_register_mutex;  // registration only (never taken in the handler)
bool g_installed = false;
struct sigaction g_previous_int{};
struct sigaction g_previous_term{};

extern "C" void remove_registered_and_reraise(int sig) {
  const int saved = errno;
  remove_registered_temporaries();
  // Back to what was there before us (normally SIG_DFL), then let the signal end us.
  ::sigaction(sig, sig == SIGINT ? &g_previous_int : &g_previous_term, nullptr);
  errno = saved;
  ::raise(sig);
}

void install_handlers() {
  struct sigaction action {};
  action.sa_handler = remove_registered_and_reraise;
  sigemptyset(&action.sa_mask);
  sigaddset(&action.sa_mask, SIGINT);
  sigaddset(&action.sa_mask, SIGTERM);
  action.sa_flags = 0;
  for (int sig : {SIGINT, SIGTERM}) {
    struct sigaction& previous = sig == SIGINT ? g_previous_int : g_previous_term;
    if (::sigaction(sig, nullptr, &previous) != 0) continue;
    if (previous.sa_handler == SIG_IGN) continue;  // the process ignores it: it will not die of it
    // The program handles it itself (the `pearl` program: cluster/signals.cpp stops the
    // run at a safe point and removes the temporaries when forced): leave it the owner.
    if (previous.sa_handler != SIG_DFL || (previous.sa_flags & SA_SIGINFO) != 0) continue;
    ::sigaction(sig, &action, nullptr);
  }
  g_installed = true;
}

std::string random_suffix() {
  std::random_device rd;
  const std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32U) ^ rd();
  static constexpr char hex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 12; ++i) s += hex[(v >> (4U * static_cast<unsigned>(i))) & 0xFU];
  return s;
}

std::string sys_error(const std::string& what, int err) { return what + ": " + std::strerror(err); }

void fsync_path(const std::filesystem::path& p, bool directory) {
  const int fd = ::open(p.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) throw Error(sys_error(p.string() + ": cannot open to sync", errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  // Some file systems cannot sync a directory; the rename itself has happened then.
  if (rc != 0 && !(directory && (err == EINVAL || err == ENOTSUP || err == EROFS))) {
    throw Error(sys_error(p.string() + ": fsync failed", err));
  }
}

}  // namespace

void remove_registered_temporaries() noexcept {
  for (auto& s : g_slots) {
    if (s.state.load(std::memory_order_acquire) == ready) ::unlink(s.path);
  }
}

void remove_on_signal(const std::filesystem::path& path) {
  const std::string p = path.string();
  if (p.size() >= kMaxPath) throw Error(p + ": path too long to register for removal on signal");
  std::lock_guard lock(g_register_mutex);
  if (!g_installed) install_handlers();
  for (auto& s : g_slots) {
    int expected = free_slot;
    if (s.state.compare_exchange_strong(expected, busy, std::memory_order_acq_rel)) {
      std::memcpy(s.path, p.c_str(), p.size() + 1);
      s.state.store(ready, std::memory_order_release);
      return;
    }
  }
  throw Error(p + ": more than " + std::to_string(kMaxSlots) + " temporary outputs registered for removal on signal");
}

void forget_on_signal(const std::filesystem::path& path) noexcept {
  const std::string p = path.string();
  std::lock_guard lock(g_register_mutex);
  for (auto& s : g_slots) {
    if (s.state.load(std::memory_order_acquire) == ready && p == s.path) {
      s.state.store(free_slot, std::memory_order_release);
      return;
    }
  }
}

namespace {
const char* const kTempMarker = ".tmp";  // .<name>.tmp@<host>+<pid>-<random>

/// rename(2) that refuses to replace an existing target when `replace` is false
/// (renameat2 RENAME_NOREPLACE; where the file system lacks it, link(2), which never
/// replaces, then unlink the temporary).
int rename_into_place(const std::filesystem::path& from, const std::filesystem::path& to, bool replace) {
  if (replace) return ::rename(from.c_str(), to.c_str());
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) return -1;
  if (::link(from.c_str(), to.c_str()) != 0) return -1;
  ::unlink(from.c_str());
  return 0;
}
}  // namespace

std::vector<std::filesystem::path> remove_dead_temporaries(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> removed;
  for (const auto& l : remove_leftovers(dir, [](std::string_view prefix) {
         return prefix.size() > 5 && prefix.front() == '.' && prefix.ends_with(kTempMarker);
       })) {
    removed.push_back(l.path);
  }
  return removed;
}

AtomicOutput::AtomicOutput(std::filesystem::path target, unsigned mode, bool replace)
    : target_(std::move(target)), mode_(mode), replace_(replace) {
  if (target_.filename().empty()) throw Error(target_.string() + ": output path names no file");
  std::error_code ec;
  if (std::filesystem::is_directory(target_, ec)) throw Error(target_.string() + ": output path is a directory");
  const std::filesystem::path dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(dir, ec)) {
    throw Error(target_.string() + ": output directory " + dir.string() + " does not exist");
  }
  std::string name(1, '.');  // built by appending: GCC 12 warns falsely on "." + string
  name.append(target_.filename().string()).append(kTempMarker).append(1, '@').append(process_stamp());
  name.append(1, '-').append(random_suffix());
  temp_ = dir / name;
  remove_on_signal(temp_);
  active_ = true;
}

AtomicOutput::AtomicOutput(AtomicOutput&& other) noexcept
    : target_(std::move(other.target_)),
      temp_(std::move(other.temp_)),
      mode_(other.mode_),
      replace_(other.replace_),
      prepared_(other.prepared_),
      committed_(other.committed_),
      active_(std::exchange(other.active_, false)) {}

AtomicOutput& AtomicOutput::operator=(AtomicOutput&& other) noexcept {
  if (this != &other) {
    discard();
    target_ = std::move(other.target_);
    temp_ = std::move(other.temp_);
    mode_ = other.mode_;
    replace_ = other.replace_;
    prepared_ = other.prepared_;
    committed_ = other.committed_;
    active_ = std::exchange(other.active_, false);
  }
  return *this;
}

AtomicOutput::~AtomicOutput() { discard(); }

void AtomicOutput::create() {
  const int fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw Error(sys_error(target_.string() + ": cannot create the temporary file " + temp_.string(), errno));
  ::close(fd);
}

void AtomicOutput::prepare() {
  if (prepared_) return;
  if (!active_) throw Error(target_.string() + ": commit of a discarded output");
  try {
    struct stat st {};
    if (::stat(temp_.c_str(), &st) != 0) {
      throw Error(sys_error(target_.string() + ": nothing to commit (temporary file " + temp_.string() + ")", errno));
    }
    // The mode asked for, exactly (the umask does not apply), before anyone can see it.
    if (::chmod(temp_.c_str(), static_cast<mode_t>(mode_)) != 0) {
      throw Error(sys_error(target_.string() + ": cannot set the mode of " + temp_.string(), errno));
    }
    fsync_path(temp_, false);
  } catch (...) {
    discard();
    throw;
  }
  prepared_ = true;
}

void AtomicOutput::commit() {
  if (committed_) return;
  prepare();
  if (rename_into_place(temp_, target_, replace_) != 0) {
    const int err = errno;
    discard();
    if (err == EEXIST) throw InputError(target_.string() + " appeared while pearl was writing it; not replaced (--overwrite replaces)");
    throw Error(sys_error("cannot rename " + temp_.string() + " to " + target_.string(), err));
  }
  committed_ = true;
  active_ = false;
  forget_on_signal(temp_);
  fsync_path(target_.has_parent_path() ? target_.parent_path() : std::filesystem::path("."), true);
}

void AtomicOutput::discard() noexcept {
  if (!active_) return;
  active_ = false;
  ::unlink(temp_.c_str());  // ENOENT (nothing written yet) is fine
  forget_on_signal(temp_);
}

}  // namespace pearl::io
