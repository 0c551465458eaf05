// HMAC through OpenSSL 3's EVP_MAC interface (HMAC_CTX is deprecated there), and the
// key file's checks. See keyed_hash.hpp.
#include "keyed_hash.hpp"

#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "pearl/job.hpp"

namespace pearl::privacy {

namespace {

// A key file larger than this is not a key (a data file given by mistake, say).
constexpr std::size_t kMaxKeyFileBytes = 64 * 1024;

std::string openssl_error(const std::string& what) {
  return "OpenSSL: " + what + " failed";
}

std::string mode_text(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

}  // namespace

Algorithm parse_algorithm(std::string_view name) {
  std::string lower(name);
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "sha256") return Algorithm::sha256;
  if (lower == "sm3") return Algorithm::sm3;
  throw InputError("option --algorithm: '" + std::string(name) + "' is not one of: sha256, sm3");
}

std::string algorithm_label(Algorithm a) { return a == Algorithm::sm3 ? "HMAC-SM3" : "HMAC-SHA256"; }

void wipe(void* bytes, std::size_t size) noexcept {
  if (bytes != nullptr && size > 0) OPENSSL_cleanse(bytes, size);
}

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    bytes_ = std::move(other.bytes_);
  }
  return *this;
}

SecretBytes::~SecretBytes() { wipe(); }

void SecretBytes::wipe() noexcept { privacy::wipe(bytes_.data(), bytes_.size()); }

SecretBytes read_key_file(const std::filesystem::path& path) {
  const std::string where = "--key-file " + path.string();
  // Open first and check what was opened (fstat), so the file checked is the file read.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) throw InputError(where + ": cannot read (" + std::strerror(errno) + ")");
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw InputError(where + ": cannot stat (" + std::strerror(errno) + ")");
  if (!S_ISREG(st.st_mode)) throw InputError(where + ": not a regular file");
  if ((st.st_mode & 077) != 0) {
    throw InputError(where + ": readable or writable by group or others (mode " + mode_text(st.st_mode) +
                     "); a key file must be private to its owner: chmod 600 " + path.string());
  }
  if (static_cast<std::size_t>(st.st_size) > kMaxKeyFileBytes) {
    throw InputError(where + ": " + std::to_string(st.st_size) + " bytes is too large for a key file (at most " +
                     std::to_string(kMaxKeyFileBytes) + ")");
  }
  std::vector<unsigned char> bytes(static_cast<std::size_t>(st.st_size) + 1);
  std::size_t got = 0;
  for (;;) {
    const ssize_t n = ::read(fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      wipe(bytes.data(), bytes.size());
      throw InputError(where + ": cannot read (" + std::strerror(errno) + ")");
    }
    if (n == 0 || (got += static_cast<std::size_t>(n)) == bytes.size()) break;
  }
  if (got == bytes.size()) {  // grew while reading
    wipe(bytes.data(), bytes.size());
    throw InputError(where + ": changed while being read");
  }
  while (got > 0 && (bytes[got - 1] == '\n' || bytes[got - 1] == '\r')) --got;
  wipe(bytes.data() + got, bytes.size() - got);
  bytes.resize(got);
  SecretBytes key(std::move(bytes));
  if (key.empty()) throw InputError(where + ": empty");
  if (key.size() < kMinKeyBytes) {
    throw InputError(where + ": a key of " + std::to_string(key.size()) + " bytes is too short (at least " +
                     std::to_string(kMinKeyBytes) + "; e.g. 'openssl rand -hex 32 > FILE')");
  }
  return key;
}

struct KeyedHash::Context {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
};

KeyedHash::KeyedHash(Algorithm algorithm, const SecretBytes& key) { init(algorithm, key.data(), key.size()); }

KeyedHash::KeyedHash(Algorithm algorithm, const unsigned char* key, std::size_t key_size) {
  init(algorithm, key, key_size);
}

void KeyedHash::init(Algorithm algorithm, const unsigned char* key, std::size_t key_size) {
  ctx_ = new Context;
  const char* digest = algorithm == Algorithm::sm3 ? "SM3" : "SHA256";
  // SM3 is in OpenSSL 3's default provider; fetching it says early if this build lacks it.
  EVP_MD* md = EVP_MD_fetch(nullptr, digest, nullptr);
  if (md == nullptr) {
    delete ctx_;
    throw InputError("this OpenSSL has no " + std::string(digest) + " digest (--algorithm)");
  }
  EVP_MD_free(md);
  ctx_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  ctx_->ctx = ctx_->mac == nullptr ? nullptr : EVP_MAC_CTX_new(ctx_->mac);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
                         OSSL_PARAM_construct_end()};
  if (ctx_->ctx == nullptr || EVP_MAC_init(ctx_->ctx, key, key_size, params) != 1) {
    EVP_MAC_CTX_free(ctx_->ctx);
    EVP_MAC_free(ctx_->mac);
    delete ctx_;
    throw Error(openssl_error("HMAC set-up"));
  }
}

KeyedHash::~KeyedHash() {
  EVP_MAC_CTX_free(ctx_->ctx);  // frees (and cleanses) OpenSSL's copy of the key
  EVP_MAC_free(ctx_->mac);
  delete ctx_;
}

std::array<unsigned char, 32> KeyedHash::digest(std::string_view message) {
  std::array<unsigned char, 32> out{};
  std::size_t size = 0;
  // Re-initialising with no key keeps the key set at construction (EVP_MAC_init(3)).
  if (EVP_MAC_init(ctx_->ctx, nullptr, 0, nullptr) != 1 ||
      EVP_MAC_update(ctx_->ctx, reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1 ||
      EVP_MAC_final(ctx_->ctx, out.data(), &size, out.size()) != 1 || size != out.size()) {
    throw Error(openssl_error("HMAC"));
  }
  return out;
}

std::string KeyedHash::hex(std::string_view message, std::size_t hex_chars) {
  if (hex_chars < 2 || hex_chars > 64 || hex_chars % 2 != 0) throw Error("KeyedHash::hex: bad length");
  static constexpr char digits[] = "0123456789abcdef";
  const auto d = digest(message);
  std::string out(hex_chars, '0');
  for (std::size_t i = 0; i < hex_chars / 2; ++i) {
    out[2 * i] = digits[d[i] >> 4];
    out[2 * i + 1] = digits[d[i] & 15];
  }
  return out;
}

}  // namespace pearl::privacy
