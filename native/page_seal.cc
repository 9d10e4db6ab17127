// seal_page: CRC32C and, for encrypted areas, AES-256-GCM through OpenSSL's EVP interface. The
// addon uses the OpenSSL that Node links in and exports to addons (headers in node-gyp's
// include/node/openssl); the native unit tests link the system libcrypto.
#include "page_seal.h"

#include <openssl/evp.h>

#include <cstring>

#include "crc32c.h"
#include "arena.h"

namespace tmem {
namespace {

constexpr int kTagBytes = 16;
// What the table stores is the CRC XOR this (UNWRITTEN in page-seals.ts: ~CRC32C of a zero page),
// so that a zeroed table means "no page in the file" (test_unwritten checks the value).
constexpr uint32_t kUnwritten = 0x6706BE76u;
constexpr int kNonceBytes = 12;

// Nonce (slot, seal count) after bumping the count; little-endian words, as in page-seals.ts.
void next_nonce(SealTable& t, uint32_t slot, uint8_t* nonce) {
  uint32_t* c = t.counters + size_t{slot} * 2;
  if (++c[0] == 0) c[1]++;
  std::memcpy(nonce, &slot, 4);
  std::memcpy(nonce + 4, &c[0], 4);
  std::memcpy(nonce + 8, &c[1], 4);
}

bool encrypt(SealTable& t, uint32_t slot, uint8_t* page) {
  uint8_t nonce[kNonceBytes];
  next_nonce(t, slot, nonce);
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) return false;
  int len = 0, fin = 0;
  bool ok = EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, t.key, nonce) == 1 &&
            EVP_EncryptUpdate(ctx, page, &len, page, static_cast<int>(kPageSize)) == 1 &&
            EVP_EncryptFinal_ex(ctx, page + len, &fin) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, t.tags + size_t{slot} * kTagBytes) == 1;
  EVP_CIPHER_CTX_free(ctx);
  return ok;
}

}  // namespace

void SealTable::clear() {
  crcs = nullptr;
  tags = nullptr;
  counters = nullptr;
  // A plain memset could be dropped as a dead store; the volatile pointer keeps it.
  volatile uint8_t* k = key;
  for (size_t i = 0; i < sizeof key; i++) k[i] = 0;
}

bool seal_page(SealTable& table, uint32_t slot, uint8_t* page) {
  if (table.crcs == nullptr) return true;
  if (table.encrypted() && !encrypt(table, slot, page)) return false;
  table.crcs[slot] = crc32c(page, kPageSize) ^ kUnwritten;
  return true;
}

}  // namespace tmem
