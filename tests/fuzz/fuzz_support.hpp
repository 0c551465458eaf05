// fuzz_support.hpp — what the fuzz targets share: the rule that a parser of user text
// may only fail with pearl's own errors, and a private temporary file for inputs that
// must be files (config files, HDF5 shards).
//
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     pearl::fuzz::expect_clean_failure([&] { pearl::parse_bytes(pearl::fuzz::text(data, size)); });
//     return 0;
//   }
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "pearl/core/error.hpp"

namespace pearl::fuzz {

inline std::string text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Runs `parse`; pearl::Error (an InputError with a message, or a named failure) is the
/// one allowed way to refuse input. Anything else thrown is a bug: abort so the fuzzer
/// keeps the input (std::out_of_range from a substr, std::bad_alloc from a huge size, ...).
template <class Parse>
void expect_clean_failure(Parse&& parse) {
  try {
    parse();
  } catch (const Error& e) {
    if (std::string(e.what()).empty()) {
      std::fputs("fuzz: pearl::Error without a message\n", stderr);
      std::abort();
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "fuzz: unexpected %s: %s\n", typeid(e).name(), e.what());
    std::abort();
  }
}

/// A file in a private folder of this process, rewritten for every input.
class ScratchFile {
 public:
  explicit ScratchFile(const std::string& name) {
    dir_ = std::filesystem::temp_directory_path() / ("pearl-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    path_ = dir_ / name;
  }
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  const std::filesystem::path& write(const std::uint8_t* data, std::size_t size) {
    std::ofstream out(path_, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path_;
  }
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path path_;
};

}  // namespace pearl::fuzz
