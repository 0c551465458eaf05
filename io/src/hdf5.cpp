#include "pearl/io/hdf5.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <string>

namespace pearl::io {

namespace {
herr_t collect(unsigned depth, const H5E_error2_t* e, void* out) {
  auto& text = *static_cast<std::string*>(out);
  if (!text.empty()) text += "; ";
  text += (e->func_name != nullptr ? e->func_name : "?");
  text += ": ";
  text += (e->desc != nullptr ? e->desc : "?");
  (void)depth;
  return 0;
}

bool env_says_no_locking() {
  const char* v = std::getenv("HDF5_USE_FILE_LOCKING");
  if (v == nullptr) return false;
  const std::string s(v);
  return s == "FALSE" || s == "false" || s == "0" || s == "no";
}
}  // namespace

void init_hdf5(bool file_locking) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not stderr noise
  if (!file_locking || env_says_no_locking()) {
    // HDF5 1.10.7+ reads this variable when a file is opened; set it for the process so
    // every open (also through other libraries) skips the lock.
    ::setenv("HDF5_USE_FILE_LOCKING", "FALSE", 1);
  }
}

std::string error_stack() {
  std::string text;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect, &text);
  H5Eclear2(H5E_DEFAULT);
  return text;
}

void fail(const std::string& what, bool input) {
  std::string message = what;
  const std::string stack = error_stack();
  if (!stack.empty()) message += " (HDF5: " + stack + ")";
  if (input) throw InputError(message);
  throw Error(message);
}

File File::open_read(const std::filesystem::path& path) {
  const std::string p = path.string();
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(p + ": no such file");
  if (std::filesystem::is_directory(path, ec)) throw InputError(p + ": is a directory, not an HDF5 file");
  {
    std::ifstream probe(path, std::ios::binary);
    if (!probe) throw InputError(p + ": cannot be read (" + std::strerror(errno) + ")");
  }
  if (H5Fis_hdf5(p.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    throw InputError(p + ": not an HDF5 file (or its header is damaged)");
  }
  hid_t id = H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) fail(p + ": cannot open as HDF5 (truncated or damaged file?)", true);
  return File(Handle(id), path);
}

void File::close() {
  if (!handle_.valid()) return;
  const hid_t id = handle_.release();
  check_status(H5Fflush(id, H5F_SCOPE_LOCAL), path_.string() + ": flush failed");
  check_status(H5Fclose(id), path_.string() + ": close failed");
}

}  // namespace pearl::io
