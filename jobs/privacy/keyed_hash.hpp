// keyed_hash.hpp — HMAC-SHA256 and HMAC-SM3 through OpenSSL's libcrypto, and the secret
// key they use, for privacy.pseudonymize.
//
//   pearl::privacy::SecretBytes key = pearl::privacy::read_key_file("/secure/pepper.key");
//   pearl::privacy::KeyedHash h(pearl::privacy::Algorithm::sha256, key);
//   std::string p = h.hex("440300199001011234", 32);   // first 16 bytes of the HMAC, hex
//
// The key lives only in SecretBytes (wiped when it goes) and inside OpenSSL's context;
// nothing here writes it anywhere or puts it in a message.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace pearl::privacy {

/// The HMAC's hash function: SHA-256 (FIPS 180-4) or SM3 (GB/T 32905-2016).
enum class Algorithm { sha256, sm3 };

/// "sha256" or "sm3" (case-insensitive) as an Algorithm; throws InputError otherwise.
Algorithm parse_algorithm(std::string_view name);
/// "HMAC-SHA256" or "HMAC-SM3".
std::string algorithm_label(Algorithm a);

/// Bytes that are wiped (OPENSSL_cleanse) when destroyed or overwritten. Not copyable,
/// so a key is not duplicated by accident.
class SecretBytes {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::vector<unsigned char> bytes) : bytes_(std::move(bytes)) {}
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept : bytes_(std::move(other.bytes_)) {}
  SecretBytes& operator=(SecretBytes&& other) noexcept;
  ~SecretBytes();

  [[nodiscard]] const unsigned char* data() const noexcept { return bytes_.data(); }
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  [[nodiscard]] bool empty() const noexcept { return bytes_.empty(); }

 private:
  void wipe() noexcept;
  std::vector<unsigned char> bytes_;
};

/// Overwrites `bytes` with zeros in a way the compiler keeps (for buffers a key passed through).
void wipe(void* bytes, std::size_t size) noexcept;

/// The shortest key accepted from a key file, in bytes (half the 32-byte output of both
/// hashes; RFC 2104 advises against keys shorter than the output).
inline constexpr std::size_t kMinKeyBytes = 16;

/// Reads a key file: its bytes, with trailing line breaks (\n, \r) removed so that
/// `openssl rand -hex 32 > FILE` gives the 64 characters as the key. Throws InputError
/// naming the path (never the content) when the file cannot be read, is not a regular
/// file, can be read by group or others (mode & 077), or holds fewer than kMinKeyBytes.
SecretBytes read_key_file(const std::filesystem::path& path);

/// One HMAC under one key. Not thread-safe: one object per thread.
class KeyedHash {
 public:
  KeyedHash(Algorithm algorithm, const SecretBytes& key);
  /// For tests and vectors: a key given as bytes (copied into OpenSSL's context only).
  KeyedHash(Algorithm algorithm, const unsigned char* key, std::size_t key_size);
  KeyedHash(const KeyedHash&) = delete;
  KeyedHash& operator=(const KeyedHash&) = delete;
  ~KeyedHash();

  /// The full 32-byte HMAC of `message`.
  std::array<unsigned char, 32> digest(std::string_view message);
  /// The first `hex_chars` / 2 bytes of the HMAC in lower-case hex (hex_chars even, 2..64).
  std::string hex(std::string_view message, std::size_t hex_chars = 64);

 private:
  void init(Algorithm algorithm, const unsigned char* key, std::size_t key_size);
  struct Context;
  Context* ctx_ = nullptr;
};

}  // namespace pearl::privacy
