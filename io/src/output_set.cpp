#include "pearl/io/output_set.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "pearl/core/error.hpp"

namespace pearl::io {

namespace {

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

std::string octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

unsigned parse_output_mode(const std::string& text) {
  unsigned mode = 0;
  const auto r = std::from_chars(text.data(), text.data() + text.size(), mode, 8);
  if (text.empty() || r.ec != std::errc() || r.ptr != text.data() + text.size() || mode > 0777) {
    throw InputError("option '--output-mode': '" + text + "' is not an octal permission mode (domain 0000..0777, e.g. 0640)");
  }
  return mode;
}

void check_output_target(const std::filesystem::path& target, const std::string& option, const OutputPolicy& policy) {
  const std::string named = option + " " + target.string();
  struct stat link {};
  if (::lstat(target.c_str(), &link) != 0) {
    if (errno == ENOENT) return;  // a new file: it cannot be an input
    throw InputError(named + ": cannot check it: " + std::strerror(errno));
  }
  struct stat st {};
  const bool resolves = ::stat(target.c_str(), &st) == 0;
  if (resolves) {
    for (const auto& input : policy.inputs) {
      struct stat in {};
      if (::stat(input.c_str(), &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino) {
        throw InputError(named + " is the input " + input + " (the same file" +
                         (input == target.string() ? "" : ", by another name or link") +
                         "); pearl never writes over an input: choose another output path");
      }
    }
  }
  if (S_ISLNK(link.st_mode)) {
    throw InputError(named + " is a symbolic link; pearl replaces only regular files (give the real path, or remove the link)");
  }
  if (!S_ISREG(st.st_mode)) {
    throw InputError(named + " is " + kind_of(st.st_mode) + "; pearl writes its results only to regular files");
  }
  if (!policy.overwrite) {
    throw InputError(named + " exists; pearl does not replace it unless --overwrite is given");
  }
  if ((st.st_mode & 0222) == 0 || ::access(target.c_str(), W_OK) != 0) {
    throw InputError(named + " is read-only (mode " + octal(st.st_mode) +
                     "); --overwrite does not replace files the user may not write: change its mode or remove it");
  }
}

std::filesystem::path OutputSet::add(const std::filesystem::path& target, const std::string& option) {
  check_output_target(target, option, policy_);
  for (const auto& o : outputs_) {
    if (o.target() == target) throw InputError(option + " " + target.string() + " is written twice by this run");
  }
  try {
    AtomicOutput out(target, policy_.mode, policy_.overwrite);
    out.create();
    outputs_.push_back(std::move(out));
  } catch (const InputError&) {
    throw;
  } catch (const Error& e) {
    throw InputError(option + ": " + e.what());
  }
  return outputs_.back().temp_path();
}

std::vector<std::filesystem::path> OutputSet::targets() const {
  std::vector<std::filesystem::path> out;
  for (const auto& o : outputs_) out.push_back(o.target());
  return out;
}

void OutputSet::commit() {
  for (auto& o : outputs_) o.prepare();
  std::string in_place;
  for (auto& o : outputs_) {
    try {
      o.commit();
    } catch (const Error& e) {
      if (in_place.empty()) throw;
      throw Error(std::string(e.what()) + " (already in place: " + in_place + ")");
    }
    in_place += (in_place.empty() ? "" : ", ") + o.target().string();
  }
}

}  // namespace pearl::io
