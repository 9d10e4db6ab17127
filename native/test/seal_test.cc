// CRC32C and page seals: the standard check value, every length and alignment against a bitwise
// reference (so the hardware path and the table agree), and an encrypted seal that decrypts with
// the slot's nonce and tag, changes nonce on every seal of a slot, and fails on one flipped bit.
#include <openssl/evp.h>

#include <cstring>
#include <random>
#include <vector>

#include "arena.h"
#include "check.h"
#include "crc32c.h"
#include "page_seal.h"

using tmem::kPageSize;

static uint32_t crc_bitwise(const uint8_t* p, size_t len) {
  uint32_t c = ~0u;
  for (size_t i = 0; i < len; i++) {
    c ^= p[i];
    for (int k = 0; k < 8; k++) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
  }
  return ~c;
}

static void test_crc32c() {
  CHECK_EQ(tmem::crc32c(reinterpret_cast<const uint8_t*>("123456789"), 9), 0xE3069283u);
  std::mt19937 rng(3);
  std::vector<uint8_t> buf(kPageSize + 16);
  for (uint8_t& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t start = 0; start < 8; start++) {
    for (size_t len : {0, 1, 7, 8, 9, 63, 100, 4096}) {
      CHECK_EQ(tmem::crc32c(buf.data() + start, len), crc_bitwise(buf.data() + start, len));
    }
  }
  std::printf("  crc32c implementation: %s\n", tmem::crc32c_impl());
}

// Decrypts `page` (ciphertext of slot `slot`) in place with the table's nonce and tag; false if
// the tag does not match.
static bool open_page(const tmem::SealTable& t, uint32_t slot, uint8_t* page) {
  uint8_t nonce[12];
  std::memcpy(nonce, &slot, 4);
  std::memcpy(nonce + 4, t.counters + slot * 2, 8);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  int len = 0, fin = 0;
  bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, t.key, nonce) == 1 &&
            EVP_DecryptUpdate(ctx, page, &len, page, static_cast<int>(kPageSize)) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, t.tags + slot * 16) == 1 &&
            EVP_DecryptFinal_ex(ctx, page + len, &fin) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

static void test_encrypted_seal() {
  constexpr uint32_t kSlots = 4;
  std::vector<uint32_t> crcs(kSlots), counters(kSlots * 2);
  std::vector<uint8_t> tags(kSlots * 16);
  tmem::SealTable t;
  t.crcs = crcs.data();
  t.tags = tags.data();
  t.counters = counters.data();
  for (size_t i = 0; i < sizeof t.key; i++) t.key[i] = static_cast<uint8_t>(i * 7 + 1);
  uint8_t plain[kPageSize], page[kPageSize], again[kPageSize];
  for (size_t i = 0; i < kPageSize; i++) plain[i] = static_cast<uint8_t>(i % 251);
  std::memcpy(page, plain, kPageSize);
  CHECK(tmem::seal_page(t, 2, page));
  CHECK(std::memcmp(page, plain, kPageSize) != 0);
  CHECK_EQ(crcs[2], tmem::crc32c(page, kPageSize) ^ ~tmem::crc32c(std::vector<uint8_t>(kPageSize).data(), kPageSize));
  CHECK_EQ(counters[4], 1);
  // A second seal of the same slot and bytes uses the next nonce: different ciphertext.
  std::memcpy(again, plain, kPageSize);
  CHECK(tmem::seal_page(t, 2, again));
  CHECK(std::memcmp(page, again, kPageSize) != 0);
  CHECK(open_page(t, 2, again));
  CHECK(std::memcmp(again, plain, kPageSize) == 0);
  // One flipped bit: the tag no longer matches.
  std::memcpy(again, plain, kPageSize);
  CHECK(tmem::seal_page(t, 1, again));
  again[100] ^= 1;
  CHECK(!open_page(t, 1, again));
  t.clear();
  CHECK(t.crcs == nullptr && !t.encrypted() && t.key[0] == 0);
}

int main() {
  RUN(test_crc32c);
  RUN(test_encrypted_seal);
  return 0;
}
