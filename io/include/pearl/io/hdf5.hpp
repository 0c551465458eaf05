// pearl/io/hdf5.hpp — RAII over HDF5's C API, and HDF5 errors as exception text.
//
// Every handle closes itself (destructors never throw), every call is checked, HDF5's
// automatic error printing is off, and a failure throws pearl::Error (or InputError for
// bad input) whose text names the file and object and ends with HDF5's own error stack.
//
//   pearl::io::File f = pearl::io::File::open_read("cases-0.h5");
//   pearl::io::Handle d = pearl::io::check(H5Dopen2(f.id(), "/cases/age_years", H5P_DEFAULT),
//                                          "open dataset /cases/age_years in cases-0.h5");
#pragma once

#include <hdf5.h>

#include <filesystem>
#include <string>
#include <utility>

#include "pearl/core/error.hpp"

namespace pearl::io {

/// Call once per process before any HDF5 use: silences automatic error printing and
/// applies the file-locking choice (`--hdf5-file-locking`; HDF5_USE_FILE_LOCKING wins
/// when set, as in HDF5 itself). Safe to call again.
void init_hdf5(bool file_locking = true);

/// The current HDF5 error stack as text ("H5Dread: ...; H5D__read: ..."), innermost
/// last, and clears it. Empty if there is none.
std::string error_stack();

/// A thrown error: `what` + HDF5's error stack. `input` selects InputError (exit 2).
[[noreturn]] void fail(const std::string& what, bool input = false);

/// An owned HDF5 identifier of any kind, closed with H5Idec_ref.
class Handle {
 public:
  Handle() = default;
  explicit Handle(hid_t id) noexcept : id_(id) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  ~Handle() { reset(); }

  [[nodiscard]] hid_t id() const noexcept { return id_; }
  [[nodiscard]] bool valid() const noexcept { return id_ >= 0; }
  void reset() noexcept {
    if (id_ >= 0 && H5Iis_valid(id_) > 0) H5Idec_ref(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t release() noexcept { return std::exchange(id_, H5I_INVALID_HID); }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

/// Wraps an identifier returned by an HDF5 call; throws with `what` if it is negative.
inline Handle check(hid_t id, const std::string& what, bool input = false) {
  if (id < 0) fail(what, input);
  return Handle(id);
}
/// Checks an herr_t (or other signed status) returned by an HDF5 call.
inline void check_status(herr_t status, const std::string& what, bool input = false) {
  if (status < 0) fail(what, input);
}

/// An open HDF5 file.
class File {
 public:
  /// Opens read-only. A missing, unreadable, truncated or non-HDF5 file is an InputError
  /// naming the path and the reason.
  static File open_read(const std::filesystem::path& path);

  [[nodiscard]] hid_t id() const noexcept { return handle_.id(); }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }
  /// Flushes and closes now, reporting errors (the destructor would swallow them).
  void close();

 private:
  File(Handle h, std::filesystem::path p) : handle_(std::move(h)), path_(std::move(p)) {}
  Handle handle_;
  std::filesystem::path path_;
};

}  // namespace pearl::io
