// HMAC-SHA256 and HMAC-SM3 (jobs/privacy/keyed_hash.hpp) against published vectors, and
// the key file's refusals. Expected values are copied from the standards, not computed.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "keyed_hash.hpp"
#include "pearl/core/error.hpp"

namespace pearl::privacy {
namespace {

std::vector<unsigned char> bytes_of(const std::string& hex) {
  std::vector<unsigned char> out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<unsigned char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string hmac_hex(Algorithm a, const std::vector<unsigned char>& key, const std::string& message, std::size_t chars = 64) {
  KeyedHash h(a, key.data(), key.size());
  return h.hex(message, chars);
}

// RFC 4231 section 4, HMAC-SHA-256 results of test cases 1-4, 6 and 7 (case 5 tests
// truncation to 128 bits, checked below through hex(.., 32)).
TEST(HmacSha256, Rfc4231TestVectors) {
  EXPECT_EQ(hmac_hex(Algorithm::sha256, std::vector<unsigned char>(20, 0x0b), "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  EXPECT_EQ(hmac_hex(Algorithm::sha256, bytes_of("4a656665"), "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  EXPECT_EQ(hmac_hex(Algorithm::sha256, std::vector<unsigned char>(20, 0xaa), std::string(50, '\xdd')),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  EXPECT_EQ(hmac_hex(Algorithm::sha256, bytes_of("0102030405060708090a0b0c0d0e0f10111213141516171819"),
                     std::string(50, '\xcd')),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  EXPECT_EQ(hmac_hex(Algorithm::sha256, std::vector<unsigned char>(20, 0x0c), "Test With Truncation", 32),
            "a3b6167473100ee06e0c796c2955552b");
  EXPECT_EQ(hmac_hex(Algorithm::sha256, std::vector<unsigned char>(131, 0xaa),
                     "Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  EXPECT_EQ(hmac_hex(Algorithm::sha256, std::vector<unsigned char>(131, 0xaa),
                     "This is a test using a larger than block-size key and a larger than block-size data. "
                     "The key needs to be hashed before being used by the HMAC algorithm."),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

// GM/T 0042-2015 Appendix D.3 (as also used by OpenSSL's evpmac_sm3.txt), cases 1 and 2.
TEST(HmacSm3, GmT0042AppendixD3Vectors) {
  std::vector<unsigned char> key32;
  for (unsigned char i = 1; i <= 32; ++i) key32.push_back(i);
  const std::string abcd = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  EXPECT_EQ(hmac_hex(Algorithm::sm3, key32, abcd + abcd),
            "ca05e144ed05d1857840d1f318a4a8669e559fc8391f414485bfdf7bb408963a");
  std::vector<unsigned char> key37;
  for (unsigned char i = 1; i <= 37; ++i) key37.push_back(i);
  EXPECT_EQ(hmac_hex(Algorithm::sm3, key37, std::string(50, '\xcd')),
            "220bf579ded555393f0159f66c99877822a3ecf610d1552154b41d44b94db3ae");
}

// GB/T 32905-2016 Appendix A.1: SM3("abc"); says the digest under the HMAC is SM3.
TEST(HmacSm3, Sm3DigestIsGbT32905) {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SM3", nullptr);
  ASSERT_NE(md, nullptr);
  unsigned char out[32];
  unsigned int size = 0;
  ASSERT_EQ(EVP_Digest("abc", 3, out, &size, md, nullptr), 1);
  EVP_MD_free(md);
  ASSERT_EQ(size, 32U);
  std::string hex;
  char buf[3];
  for (unsigned char c : out) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    hex += buf;
  }
  EXPECT_EQ(hex, "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
}

TEST(KeyedHash, RepeatedUseGivesTheSameDigestAndPrefixes) {
  const std::vector<unsigned char> key(32, 0x42);
  KeyedHash h(Algorithm::sha256, key.data(), key.size());
  const std::string full = h.hex("440300199001011234");
  EXPECT_EQ(h.hex("something else").size(), 64U);
  EXPECT_EQ(h.hex("440300199001011234"), full);
  EXPECT_EQ(h.hex("440300199001011234", 32), full.substr(0, 32));
  EXPECT_THROW(h.hex("x", 65), Error);
  EXPECT_THROW(h.hex("x", 3), Error);
}

TEST(KeyedHash, AlgorithmNames) {
  EXPECT_EQ(parse_algorithm("sha256"), Algorithm::sha256);
  EXPECT_EQ(parse_algorithm("SM3"), Algorithm::sm3);
  EXPECT_THROW(parse_algorithm("md5"), InputError);
}

class KeyFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("pearl-keyfile-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path write(const std::string& name, const std::string& content, mode_t mode) {
    const auto p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    ::chmod(p.c_str(), mode);
    return p;
  }
  // The message of the InputError read_key_file throws (and that the key is not in it).
  static std::string refusal(const std::filesystem::path& p, const std::string& secret) {
    try {
      (void)read_key_file(p);
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.find(secret), std::string::npos) << what;
      EXPECT_NE(what.find(p.string()), std::string::npos) << what;
      return what;
    }
    ADD_FAILURE() << p << " was accepted";
    return {};
  }
  std::filesystem::path dir_;
};

TEST_F(KeyFile, PrivateKeyIsReadWithoutTrailingNewlines) {
  const std::string secret = "0123456789abcdef0123456789abcdef";
  const SecretBytes key = read_key_file(write("k", secret + "\r\n\n", 0600));
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(key.data()), key.size()), secret);
  EXPECT_EQ(read_key_file(write("r", secret, 0400)).size(), secret.size());
}

TEST_F(KeyFile, GroupOrOtherAccessIsRefused) {
  const std::string secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t";
  for (mode_t mode : {0640, 0604, 0620, 0644, 0660, 0601}) {
    const std::string what = refusal(write(std::to_string(mode) + ".key", secret, mode), secret);
    EXPECT_NE(what.find("group or others"), std::string::npos) << what;
    EXPECT_NE(what.find("chmod 600"), std::string::npos) << what;
  }
}

TEST_F(KeyFile, EmptyShortMissingAndDirectoryAreRefused) {
  EXPECT_NE(refusal(write("empty", "", 0600), "\x01").find("empty"), std::string::npos);
  EXPECT_NE(refusal(write("newline", "\n", 0600), "\x01").find("empty"), std::string::npos);
  EXPECT_NE(refusal(write("short", "tooshort", 0600), "tooshort").find("too short"), std::string::npos);
  EXPECT_NE(refusal(dir_ / "missing", "\x01").find("cannot read"), std::string::npos);
  const auto sub = dir_ / "sub";
  std::filesystem::create_directory(sub);
  ::chmod(sub.c_str(), 0700);
  EXPECT_NE(refusal(sub, "\x01").find("not a regular file"), std::string::npos);
  EXPECT_NE(refusal(write("big", std::string(70000, 'k'), 0600), "kkkkkkkkkkkkkkkk").find("too large"),
            std::string::npos);
}

}  // namespace
}  // namespace pearl::privacy
