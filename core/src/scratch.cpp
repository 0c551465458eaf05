#include "pearl/core/scratch.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>

#include "pearl/core/error.hpp"
#include "pearl/core/leftovers.hpp"

namespace pearl {
namespace fs = std::filesystem;

namespace {
std::string errno_text() { return std::strerror(errno); }
}  // namespace

fs::path ScratchDir::default_parent() {
  const char* tmp = std::getenv("TMPDIR");
  return (tmp != nullptr && *tmp != '\0') ? fs::path(tmp) : fs::path("/tmp");
}

namespace {
const char* const scratch_prefix = "pearl-";
}  // namespace

void ScratchDir::check_parent(const fs::path& parent) {
  const fs::path base = parent.empty() ? default_parent() : parent;
  std::error_code ec;
  if (fs::exists(base, ec) && !fs::is_directory(base, ec)) {
    throw InputError("scratch directory '" + base.string() + "' is not a directory (set --scratch or $TMPDIR)");
  }
  if (!fs::is_directory(base, ec)) {
    throw InputError("scratch directory '" + base.string() + "' does not exist (set --scratch or $TMPDIR)");
  }
  // Writable for real (also for root, on a read-only file system): make and remove a probe.
  std::string probe = (base / (std::string(scratch_prefix) + "probe@" + process_stamp() + "-XXXXXX")).string();
  if (::mkdtemp(probe.data()) == nullptr) {
    throw InputError("scratch directory '" + base.string() + "' is not writable: " + errno_text() + " (see --scratch)");
  }
  fs::remove(probe, ec);
}

std::vector<Leftover> ScratchDir::remove_leftovers(const fs::path& parent) {
  return pearl::remove_leftovers(parent.empty() ? default_parent() : parent,
                                 [](std::string_view prefix) { return prefix.starts_with(scratch_prefix); });
}

ScratchDir::ScratchDir(const fs::path& parent, const std::string& tag) {
  const fs::path base = parent.empty() ? default_parent() : parent;
  std::error_code ec;
  if (!fs::is_directory(base, ec)) {
    throw InputError("scratch directory '" + base.string() + "' does not exist (set --scratch or $TMPDIR)");
  }
  // pearl-<tag>@<host>+<pid>-XXXXXX: a later run removes it if this process dies (leftovers.hpp).
  std::string templ = (base / (scratch_prefix + tag + "@" + process_stamp() + "-XXXXXX")).string();
  if (::mkdtemp(templ.data()) == nullptr) {  // mkdtemp creates it 0700
    throw InputError("cannot create a scratch directory in '" + base.string() + "': " + errno_text());
  }
  path_ = templ;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;  // never throw from a destructor; a leftover is reported nowhere
  fs::remove_all(path_, ec);
}

fs::path ScratchDir::new_file(const std::string& stem) {
  return path_ / (stem + "-" + std::to_string(counter_++) + ".run");
}

RunFile::RunFile(fs::path path, std::size_t record, std::size_t buffer_bytes, const char* mode, const char* verb)
    : file(std::move(path)), record_size(record) {
  fp = std::fopen(file.c_str(), mode);
  if (fp == nullptr) {
    throw Error(std::string("cannot ") + verb + " spill file '" + file.string() + "': " + errno_text());
  }
  buffer.resize(std::max(record_size, buffer_bytes / record_size * record_size));
}

RunFile::~RunFile() {
  if (fp != nullptr) std::fclose(fp);
}

RunWriter::RunWriter(fs::path file, std::size_t record_size, std::size_t buffer_bytes)
    : run_(std::move(file), record_size, buffer_bytes, "wb", "create") {}

void RunWriter::append(std::span<const std::byte> bytes) {
  records_ += bytes.size() / run_.record_size;
  while (!bytes.empty()) {
    const std::size_t n = std::min(bytes.size(), run_.buffer.size() - used_);
    std::memcpy(run_.buffer.data() + used_, bytes.data(), n);
    used_ += n;
    bytes = bytes.subspan(n);
    if (used_ == run_.buffer.size()) flush();
  }
}

void RunWriter::flush() {
  if (used_ > 0 && std::fwrite(run_.buffer.data(), 1, used_, run_.fp) != used_) {
    throw Error("cannot write spill file '" + run_.file.string() + "': " + errno_text() +
                " (is the scratch file system full? see --scratch)");
  }
  used_ = 0;
}

void RunWriter::close() {
  flush();
  const bool failed = std::fclose(run_.fp) != 0;
  run_.fp = nullptr;
  if (failed) throw Error("cannot close spill file '" + run_.file.string() + "': " + errno_text());
  std::vector<std::byte>().swap(run_.buffer);
}

RunReader::RunReader(const fs::path& file, std::size_t record_size, std::size_t buffer_bytes)
    : run_(file, record_size, buffer_bytes, "rb", "open") {
  refill();
}

void RunReader::advance() {
  pos_ += run_.record_size;
  if (pos_ >= end_) refill();
}

void RunReader::refill() {
  pos_ = 0;
  end_ = std::fread(run_.buffer.data(), 1, run_.buffer.size(), run_.fp);
  if (end_ % run_.record_size != 0 || (end_ == 0 && std::ferror(run_.fp) != 0)) {
    throw Error("spill file '" + run_.file.string() + "' is truncated or unreadable");
  }
}

}  // namespace pearl
