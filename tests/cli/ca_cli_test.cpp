// `promptwall ca init|show` as an administrator runs them: the files it writes (read back with
// OpenSSL here, not with the code under test), what it prints, and that it never overwrites a CA.
#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "process.h"

using promptwall::test::run_promptwall;
using promptwall::test::shell_quote;
using promptwall::test::TempDir;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

struct X509Free {
  void operator()(X509* c) const { X509_free(c); }
};
using Cert = std::unique_ptr<X509, X509Free>;

Cert read_cert(const fs::path& p) {
  const std::string pem = slurp(p);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  return Cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  REQUIRE(X509_digest(cert, EVP_sha256(), md, &n));
  char hex[4];
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    std::snprintf(hex, sizeof hex, i ? ":%02X" : "%02X", md[i]);
    out += hex;
  }
  return out;
}

std::string name_entry(X509* cert, int nid) {
  char buf[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), nid, buf, sizeof buf);
  return buf;
}

bool key_matches(X509* cert, const fs::path& key_path) {
  const std::string pem = slurp(key_path);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                                                        EVP_PKEY_free);
  return key && X509_check_private_key(cert, key.get()) == 1;
}

double days_left(X509* cert) {
  int days = 0, seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)));
  return days + seconds / 86400.0;
}

// Sets an environment variable for the promptwall processes one test starts.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) { ::setenv(name, value.c_str(), 1); }
  ~ScopedEnv() { ::unsetenv(name_); }

 private:
  const char* name_;
};

}  // namespace

TEST_CASE("ca init writes a CA and says how to trust it, a second run changes nothing", "[ca-cli]") {
  TempDir tmp;
  const fs::path dir = tmp.path() / "state";
  auto r = run_promptwall("ca init --dir " + shell_quote(dir.string()));
  INFO(r.err);
  REQUIRE(r.status == 0);
  const fs::path cert_path = dir / "ca.crt", key_path = dir / "ca.key";
  REQUIRE(fs::exists(cert_path));
  REQUIRE(fs::exists(key_path));
  CHECK((fs::status(key_path).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));

  Cert cert = read_cert(cert_path);
  REQUIRE(cert);
  CHECK(X509_check_ca(cert.get()) == 1);
  CHECK(key_matches(cert.get(), key_path));
  CHECK(name_entry(cert.get(), NID_commonName) == "promptwall organisation CA");
  CHECK(days_left(cert.get()) == Approx(3650).margin(1));

  CHECK_THAT(r.out, Catch::Contains("SHA-256 fingerprint: " + fingerprint(cert.get())));
  CHECK_THAT(r.out, Catch::Contains("NODE_EXTRA_CA_CERTS=" + cert_path.string()));
  CHECK_THAT(r.out, Catch::Contains("certutil -addstore -f Root ca.crt"));
  CHECK_THAT(r.out, Catch::Contains("security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain"));
  CHECK_THAT(r.out, Catch::Contains("update-ca-certificates"));
  CHECK_THAT(r.out, Catch::Contains("update-ca-trust"));
  CHECK_THAT(r.out, Catch::Contains("ImportEnterpriseRoots"));
  CHECK_THAT(r.out, Catch::Contains("REQUESTS_CA_BUNDLE"));
  CHECK_THAT(r.out, Catch::Contains("--cacert " + cert_path.string()));
  CHECK_THAT(r.out, !Catch::Contains("PRIVATE KEY"));

  const std::string cert_before = slurp(cert_path), key_before = slurp(key_path);
  auto again = run_promptwall("ca init --dir " + shell_quote(dir.string()));
  CHECK(again.status == 2);
  CHECK_THAT(again.err, Catch::Contains("already exists"));
  CHECK_THAT(again.err, Catch::Contains(key_path.string()) || Catch::Contains(cert_path.string()));
  CHECK(slurp(cert_path) == cert_before);
  CHECK(slurp(key_path) == key_before);
}

TEST_CASE("ca init takes a name, organisation, lifetime and file paths, ca show reads the certificate", "[ca-cli]") {
  TempDir tmp;
  const fs::path cert_path = tmp.path() / "pub/org-ca.pem", key_path = tmp.path() / "secret/org-ca.key";
  auto r = run_promptwall("ca init --cert " + shell_quote(cert_path.string()) + " --key " + shell_quote(key_path.string()) +
                          " --name 'Example Root' --org 'Công ty Ví dụ' --days 30");
  INFO(r.err);
  REQUIRE(r.status == 0);
  Cert cert = read_cert(cert_path);
  REQUIRE(cert);
  CHECK(key_matches(cert.get(), key_path));
  CHECK(name_entry(cert.get(), NID_commonName) == "Example Root");
  CHECK(name_entry(cert.get(), NID_organizationName) == "Công ty Ví dụ");
  CHECK(days_left(cert.get()) == Approx(30).margin(1));
  CHECK((fs::status(key_path.parent_path()).permissions() & fs::perms::all) == fs::perms::owner_all);

  auto show = run_promptwall("ca show --cert " + shell_quote(cert_path.string()));
  CHECK(show.status == 0);
  CHECK_THAT(show.out, Catch::Contains("O=Công ty Ví dụ,CN=Example Root"));
  CHECK_THAT(show.out, Catch::Contains(fingerprint(cert.get())));
  CHECK_THAT(show.out, Catch::Contains("valid until:"));
}

TEST_CASE("ca init defaults to $PROMPTWALL_STATE_DIR", "[ca-cli]") {
  TempDir tmp;
  ScopedEnv env("PROMPTWALL_STATE_DIR", (tmp.path() / "var").string());
  auto r = run_promptwall("ca init");
  INFO(r.err);
  REQUIRE(r.status == 0);
  CHECK(fs::exists(tmp.path() / "var/ca.crt"));
  CHECK(fs::exists(tmp.path() / "var/ca.key"));
  auto show = run_promptwall("ca show");
  CHECK(show.status == 0);
  CHECK_THAT(show.out, Catch::Contains("CN=promptwall organisation CA"));
}

TEST_CASE("ca reports bad usage and missing files with exit status 2", "[ca-cli]") {
  TempDir tmp;
  const std::string dir = shell_quote(tmp.path().string());
  auto days = run_promptwall("ca init --dir " + dir + " --days soon");
  CHECK(days.status == 2);
  CHECK_THAT(days.err, Catch::Contains("--days needs a whole number"));
  CHECK_FALSE(fs::exists(tmp.path() / "ca.key"));

  auto show = run_promptwall("ca show --dir " + dir);
  CHECK(show.status == 2);
  CHECK_THAT(show.err, Catch::Contains("ca.crt") && Catch::Contains("does not exist"));

  CHECK(run_promptwall("ca").status == 2);
  auto unknown = run_promptwall("ca renew");
  CHECK(unknown.status == 2);
  CHECK_THAT(unknown.err, Catch::Contains("unknown command 'renew'"));
  CHECK(run_promptwall("ca init --bogus").status == 2);
}
