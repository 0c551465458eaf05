// What the content checksums share (file_checksum.cpp, and the older "h64:" one in
// file_checksum_h64.cpp): a file's 1 MiB blocks, read one after another into one reused
// buffer, and the text a checksum is recorded as.
//
//   for_each_block(file, bytes, first, count, [&](std::uint64_t i, const unsigned char* p, std::size_t n) {
//     out[i] = hash(p, n);   // block first + i, n bytes (the file's last block may be short)
//   });
//
// pread, not mmap: a file truncated while it is hashed would kill the process with SIGBUS
// through a mapping; read, it ends early and the caller gets a pearl::Error instead.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace pearl::io::detail {

/// Calls fn(i, data, n) for blocks [first, first + count) of the first `bytes` bytes of
/// `file`, in order. Throws pearl::Error when the file cannot be opened or read, ends
/// before `bytes` (changed since `bytes` was taken), or the blocks lie outside it. Reads
/// nothing (and opens nothing) when count is 0.
void for_each_block(const std::filesystem::path& file, std::uint64_t bytes, std::uint64_t first, std::uint64_t count,
                    const std::function<void(std::uint64_t, const unsigned char*, std::size_t)>& fn);

/// A checksum as recorded: its algorithm's prefix ("xxh3:", "h64:") and the 64-bit value
/// in 16 lowercase hex digits.
std::string checksum_text(std::string_view prefix, std::uint64_t value);

/// The prefix of the checksum pearl recorded before "xxh3:".
inline constexpr std::string_view kH64Prefix = "h64:";

/// The blocks' hashes in the checksum "h64:" that pearl recorded before "xxh3:": kept only
/// so that `pearl pipeline` can compare an input with a record written then
/// (file_checksum_like, pearl/io/provenance.hpp).
std::string file_checksum_h64(const std::filesystem::path& file, std::uint64_t bytes);

}  // namespace pearl::io::detail
