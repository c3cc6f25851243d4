// CertificateAuthority: the files `ca init` writes, what load() refuses, and leaves that a TLS
// client built on OpenSSL accepts for exactly the host they name.
#include <catch2/catch.hpp>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <latch>
#include <sstream>
#include <thread>
#include <vector>

#include "gateway/tls/certificate_authority.h"
#include "../support/temp_dir.h"

using promptwall::gateway::CaInitOptions;
using promptwall::gateway::CertificateAuthority;
using promptwall::gateway::LeafCertificate;
namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;
using namespace std::chrono_literals;

namespace {

using promptwall::test::TempDir;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const fs::path& p, const std::string& content) { std::ofstream(p, std::ios::binary) << content; }

CaInitOptions options_in(const TempDir& dir) {
  CaInitOptions o;
  o.cert_path = dir / "ca.crt";
  o.key_path = dir / "ca.key";
  o.organisation = "Công ty Ví dụ";
  return o;
}

std::unique_ptr<CertificateAuthority> new_ca(const TempDir& dir, size_t capacity = CertificateAuthority::kDefaultCacheCapacity) {
  auto o = options_in(dir);
  CertificateAuthority::create(o);
  return CertificateAuthority::load(o.cert_path, o.key_path, 24h * 7, capacity);
}

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Pkey read_key(const fs::path& p) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(p.c_str(), "r"), BIO_free);
  REQUIRE(bio);
  return Pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
}

// A self-signed certificate for `key`, made independently of the code under test, with the given
// basicConstraints (nullptr: none) and validity.
void write_self_signed(const fs::path& cert_path, EVP_PKEY* key, const char* basic_constraints, Clock::time_point not_before,
                       Clock::time_point not_after) {
  Cert cert(X509_new());
  REQUIRE(X509_set_version(cert.get(), X509_VERSION_3));
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 42);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), Clock::to_time_t(not_before));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), Clock::to_time_t(not_after));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  if (basic_constraints) {
    X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, NID_basic_constraints, basic_constraints);
    REQUIRE(ext);
    X509_add_ext(cert.get(), ext, -1);
    X509_EXTENSION_free(ext);
  }
  REQUIRE(X509_sign(cert.get(), key, EVP_sha256()) > 0);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_file(cert_path.c_str(), "w"), BIO_free);
  REQUIRE(PEM_write_bio_X509(bio.get(), cert.get()));
}

std::string load_error(const fs::path& cert, const fs::path& key) {
  try {
    CertificateAuthority::load(cert, key);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(loaded)";
}

// Verifies `leaf` against the CA alone, for TLS server use, as a client would.
std::string verify(const CertificateAuthority& ca, const LeafCertificate& leaf) {
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
  REQUIRE(X509_STORE_add_cert(store.get(), ca.certificate()));
  REQUIRE(X509_STORE_CTX_init(ctx.get(), store.get(), leaf.cert.get(), nullptr));
  REQUIRE(X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER));
  if (X509_verify_cert(ctx.get()) == 1) return "ok";
  return X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
}

std::vector<std::string> san_entries(X509* cert) {
  std::vector<std::string> out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) out.push_back("DNS:" + std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName))));
    if (n->type == GEN_IPADD) out.push_back("IP:" + std::to_string(ASN1_STRING_length(n->d.iPAddress)) + "bytes");
  }
  GENERAL_NAMES_free(names);
  return out;
}

bool critical(X509* cert, int nid) {
  const int index = X509_get_ext_by_NID(cert, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(cert, index)) == 1;
}

auto seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::seconds>(a - b).count();
}

}  // namespace

TEST_CASE("create writes a P-256 CA that load accepts", "[ca]") {
  TempDir dir;
  auto o = options_in(dir);
  CertificateAuthority::create(o);
  CHECK((fs::status(o.key_path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));

  Pkey key = read_key(o.key_path);
  REQUIRE(key);
  CHECK(EVP_PKEY_is_a(key.get(), "EC"));
  char group[64] = {};
  REQUIRE(EVP_PKEY_get_group_name(key.get(), group, sizeof group, nullptr));
  CHECK(std::string(group) == "prime256v1");

  auto ca = CertificateAuthority::load(o.cert_path, o.key_path);
  X509* cert = ca->certificate();
  CHECK(ca->certificate_pem() == slurp(o.cert_path));
  CHECK(promptwall::gateway::subject_line(*cert) == "O=Công ty Ví dụ,CN=promptwall organisation CA");
  CHECK(X509_check_issued(cert, cert) == X509_V_OK);
  CHECK((X509_get_extension_flags(cert) & EXFLAG_CA));
  CHECK(X509_get_pathlen(cert) == 0);
  CHECK(critical(cert, NID_basic_constraints));
  CHECK(X509_get_key_usage(cert) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  CHECK(critical(cert, NID_key_usage));
  CHECK(X509_get0_subject_key_id(cert) != nullptr);
  CHECK(ASN1_STRING_length(X509_get0_serialNumber(cert)) == 16);
  CHECK(std::abs(seconds_between(ca->not_after(), Clock::now() + 24h * 3650)) < 60);
  CHECK(promptwall::gateway::sha256_fingerprint(*cert).size() == 32 * 3 - 1);

  // Two CAs never share a serial.
  TempDir other;
  auto ca2 = new_ca(other);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(cert), X509_get0_serialNumber(ca2->certificate())) != 0);
}

TEST_CASE("create makes a new key directory private", "[ca]") {
  TempDir dir;
  CaInitOptions o;
  o.cert_path = dir / "public/ca.crt";
  o.key_path = dir / "private/keys/ca.key";
  CertificateAuthority::create(o);
  CHECK((fs::status(dir / "private/keys").permissions() & fs::perms::all) == fs::perms::owner_all);
  CHECK(fs::exists(o.cert_path));
}

TEST_CASE("create refuses existing files and leaves them intact", "[ca]") {
  TempDir dir;
  auto o = options_in(dir);
  SECTION("an existing certificate") {
    spit(o.cert_path, "keep me");
    REQUIRE_THROWS_WITH(CertificateAuthority::create(o), Catch::Contains(o.cert_path.string()) && Catch::Contains("already exists"));
    CHECK(slurp(o.cert_path) == "keep me");
    CHECK_FALSE(fs::exists(o.key_path));  // the key it had begun is gone again
  }
  SECTION("an existing key") {
    spit(o.key_path, "keep me");
    REQUIRE_THROWS_WITH(CertificateAuthority::create(o), Catch::Contains(o.key_path.string()));
    CHECK(slurp(o.key_path) == "keep me");
    CHECK_FALSE(fs::exists(o.cert_path));
  }
  SECTION("a CA created before") {
    CertificateAuthority::create(o);
    const std::string cert = slurp(o.cert_path), key = slurp(o.key_path);
    REQUIRE_THROWS_AS(CertificateAuthority::create(o), std::runtime_error);
    CHECK(slurp(o.cert_path) == cert);
    CHECK(slurp(o.key_path) == key);
  }
  SECTION("bad options") {
    o.validity_days = 0;
    CHECK_THROWS_AS(CertificateAuthority::create(o), std::invalid_argument);
    o.validity_days = 1;
    o.common_name = std::string(65, 'x');
    CHECK_THROWS_AS(CertificateAuthority::create(o), std::invalid_argument);
    o.common_name = "ok";
    o.key_path = o.cert_path;
    CHECK_THROWS_AS(CertificateAuthority::create(o), std::invalid_argument);
    CHECK_FALSE(fs::exists(o.cert_path));
  }
}

TEST_CASE("load says why it refuses a CA", "[ca]") {
  TempDir dir;
  auto o = options_in(dir);
  CertificateAuthority::create(o);

  CHECK_THAT(load_error(dir / "none.crt", o.key_path), Catch::Contains("none.crt") && Catch::Contains("does not exist"));
  CHECK_THAT(load_error(o.cert_path, dir / "none.key"), Catch::Contains("none.key") && Catch::Contains("does not exist"));

  spit(dir / "junk.crt", "not a certificate\n");
  CHECK_THAT(load_error(dir / "junk.crt", o.key_path), Catch::Contains("holds no PEM certificate"));
  spit(dir / "junk.key", "not a key\n");
  fs::permissions(dir / "junk.key", fs::perms::owner_read | fs::perms::owner_write);  // a key's mode: read, then refused
  CHECK_THAT(load_error(o.cert_path, dir / "junk.key"), Catch::Contains("holds no PEM private key"));

  TempDir other;
  auto o2 = options_in(other);
  CertificateAuthority::create(o2);
  CHECK_THAT(load_error(o.cert_path, o2.key_path), Catch::Contains("does not match"));

  Pkey key = read_key(o.key_path);
  const auto now = Clock::now();
  write_self_signed(dir / "leafish.crt", key.get(), "CA:FALSE", now - 1h, now + 24h);
  CHECK_THAT(load_error(dir / "leafish.crt", o.key_path), Catch::Contains("is not a CA certificate"));
  write_self_signed(dir / "v1ish.crt", key.get(), nullptr, now - 1h, now + 24h);
  CHECK_THAT(load_error(dir / "v1ish.crt", o.key_path), Catch::Contains("is not a CA certificate"));
  write_self_signed(dir / "expired.crt", key.get(), "critical,CA:TRUE", now - 48h, now - 24h);
  CHECK_THAT(load_error(dir / "expired.crt", o.key_path), Catch::Contains("expired on"));
  write_self_signed(dir / "future.crt", key.get(), "critical,CA:TRUE", now + 24h, now + 48h);
  CHECK_THAT(load_error(dir / "future.crt", o.key_path), Catch::Contains("not valid before"));
  write_self_signed(dir / "fine.crt", key.get(), "critical,CA:TRUE", now - 1h, now + 24h);
  CHECK(load_error(dir / "fine.crt", o.key_path) == "(loaded)");

  CHECK_THROWS_AS(CertificateAuthority::load(o.cert_path, o.key_path, 1h), std::invalid_argument);
  CHECK_THROWS_AS(CertificateAuthority::load(o.cert_path, o.key_path, 24h, 0), std::invalid_argument);
}

TEST_CASE("a leaf for a DNS name verifies against the CA for that name only", "[ca]") {
  TempDir dir;
  auto ca = new_ca(dir);
  const auto before = Clock::now();
  auto leaf = ca->leaf_for("API.OpenAI.com.");
  REQUIRE(leaf);
  X509* cert = leaf->cert.get();
  CHECK(verify(*ca, *leaf) == "ok");
  CHECK(X509_check_host(cert, "api.openai.com", 0, 0, nullptr) == 1);
  CHECK(X509_check_host(cert, "chatgpt.com", 0, 0, nullptr) == 0);
  CHECK(san_entries(cert) == std::vector<std::string>{"DNS:api.openai.com"});
  CHECK(promptwall::gateway::subject_line(*cert) == "CN=api.openai.com");
  CHECK(X509_check_private_key(cert, leaf->key.get()) == 1);
  CHECK((X509_get_extended_key_usage(cert) & XKU_SSL_SERVER));
  CHECK(X509_get_key_usage(cert) == KU_DIGITAL_SIGNATURE);
  CHECK_FALSE((X509_get_extension_flags(cert) & EXFLAG_CA));
  REQUIRE(X509_get0_authority_key_id(cert) != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert), X509_get0_subject_key_id(ca->certificate())) == 0);

  const auto not_before = promptwall::gateway::to_time_point(*X509_get0_notBefore(cert));
  CHECK(std::abs(seconds_between(not_before, before - 1h)) < 60);
  CHECK(std::abs(seconds_between(leaf->not_after, before + 24h * 7)) < 60);
  CHECK(leaf->not_after == promptwall::gateway::to_time_point(*X509_get0_notAfter(cert)));

  // A host name longer than a CN may be is named by the SAN alone, which is then critical.
  const std::string long_host = std::string(60, 'a') + ".example.com";
  auto long_leaf = ca->leaf_for(long_host);
  CHECK(verify(*ca, *long_leaf) == "ok");
  CHECK(X509_check_host(long_leaf->cert.get(), long_host.c_str(), 0, 0, nullptr) == 1);
  CHECK(critical(long_leaf->cert.get(), NID_subject_alt_name));
}

TEST_CASE("leaves for IP literals carry IP SANs", "[ca]") {
  TempDir dir;
  auto ca = new_ca(dir);
  auto v4 = ca->leaf_for("127.0.0.1");
  CHECK(verify(*ca, *v4) == "ok");
  CHECK(X509_check_ip_asc(v4->cert.get(), "127.0.0.1", 0) == 1);
  CHECK(X509_check_ip_asc(v4->cert.get(), "127.0.0.2", 0) == 0);
  CHECK(san_entries(v4->cert.get()) == std::vector<std::string>{"IP:4bytes"});

  auto v6 = ca->leaf_for("::1");
  CHECK(verify(*ca, *v6) == "ok");
  CHECK(X509_check_ip_asc(v6->cert.get(), "::1", 0) == 1);
  CHECK(X509_check_ip_asc(v6->cert.get(), "127.0.0.1", 0) == 0);
  CHECK(san_entries(v6->cert.get()) == std::vector<std::string>{"IP:16bytes"});
  // The same address in other spellings is the same leaf.
  CHECK(ca->leaf_for("[::1]") == v6);
  CHECK(ca->leaf_for("0:0::1") == v6);
  CHECK(ca->minted_count() == 2);
}

TEST_CASE("leaf_for refuses what is not a host", "[ca]") {
  TempDir dir;
  auto ca = new_ca(dir);
  for (const char* bad : {"", ".", "a..b", "bad host", "evil.com,DNS:bank.com", "-a.com", "a-.com", "fe80::1%eth0", "ví.dụ"})
    CHECK_THROWS_AS(ca->leaf_for(bad), std::invalid_argument);
  CHECK_THROWS_AS(ca->leaf_for(std::string(64, 'a') + ".com"), std::invalid_argument);  // label over 63
  CHECK(ca->minted_count() == 0);
}

TEST_CASE("leaves are cached per host, least recently used out", "[ca]") {
  TempDir dir;
  auto ca = new_ca(dir, 2);
  auto a = ca->leaf_for("a.example");
  CHECK(ca->leaf_for("A.example") == a);
  auto b = ca->leaf_for("b.example");
  CHECK(b != a);
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(a->cert.get()), X509_get0_serialNumber(b->cert.get())) != 0);
  CHECK(ca->minted_count() == 2);

  CHECK(ca->leaf_for("a.example") == a);  // a is now the most recently used
  ca->leaf_for("c.example");              // evicts b
  CHECK(ca->minted_count() == 3);
  CHECK(ca->leaf_for("a.example") == a);
  CHECK(ca->minted_count() == 3);
  auto b2 = ca->leaf_for("b.example");
  CHECK(b2 != b);
  CHECK(ca->minted_count() == 4);
  // An evicted leaf stays usable by whoever still holds it.
  CHECK(verify(*ca, *b) == "ok");
}

TEST_CASE("a leaf never outlives the CA, and one near its end is minted again", "[ca]") {
  TempDir dir;
  auto o = options_in(dir);
  CertificateAuthority::create(o);
  Pkey key = read_key(o.key_path);
  const auto ca_end = Clock::now() + 30min;
  write_self_signed(dir / "short.crt", key.get(), "critical,CA:TRUE", Clock::now() - 1h, ca_end);
  auto ca = CertificateAuthority::load(dir / "short.crt", o.key_path);
  auto leaf = ca->leaf_for("example.com");
  CHECK(verify(*ca, *leaf) == "ok");
  CHECK(leaf->not_after == ca->not_after());
  CHECK(std::abs(seconds_between(leaf->not_after, ca_end)) <= 1);
  // Within kRenewBefore of its end: the next caller gets a fresh leaf.
  auto again = ca->leaf_for("example.com");
  CHECK(again != leaf);
  CHECK(ca->minted_count() == 2);
}

TEST_CASE("concurrent callers for one host share one minting", "[ca]") {
  TempDir dir;
  auto ca = new_ca(dir);
  constexpr int kThreads = 8;
  std::latch start(kThreads);
  std::vector<std::shared_ptr<const LeafCertificate>> leaves(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      leaves[i] = ca->leaf_for("api.anthropic.com");
    });
  for (auto& t : threads) t.join();
  CHECK(ca->minted_count() == 1);
  for (const auto& leaf : leaves) CHECK(leaf == leaves[0]);
  CHECK(verify(*ca, *leaves[0]) == "ok");
}
