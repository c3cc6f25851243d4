// The gateway's secrets at rest (issue 15): the CA key, the trail's signing key and the evidence key
// are created 0600 whatever the umask, and refused at load when their group or others may read
// them, naming the file and the fix.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>

#include "audit/evidence.h"
#include "audit/private_file.h"
#include "audit/signing_key.h"
#include "gateway/tls/certificate_authority.h"
#include "../support/temp_dir.h"

namespace fs = std::filesystem;
using promptwall::audit::EvidenceMaker;
using promptwall::audit::PrivateFileError;
using promptwall::audit::private_file_problem;
using promptwall::audit::SigningKey;
using promptwall::gateway::CaInitOptions;
using promptwall::gateway::CertificateAuthority;
using promptwall::test::TempDir;

namespace {

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// The process's umask for one scope: a permissive one shows the writers do not rely on it.
class Umask {
 public:
  explicit Umask(mode_t mask) : old_(::umask(mask)) {}
  ~Umask() { ::umask(old_); }

 private:
  mode_t old_;
};

std::string error_of(const std::function<void()>& load) {
  try {
    load();
  } catch (const PrivateFileError& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("another error: ") + e.what();
  }
  return "(loaded)";
}

}  // namespace

TEST_CASE("a private file's mode: only the owner's bits are allowed", "[private_file]") {
  const fs::path file = "/var/lib/promptwall/audit-signing.pem";
  for (mode_t ok : {0600, 0400, 0700, 0200}) CHECK(private_file_problem(S_IFREG | ok, file, "signing key").empty());
  for (mode_t open : {0640, 0644, 0604, 0660, 0620, 0602, 0610, 0601, 0666}) {
    INFO(std::oct << open);
    const auto problem = private_file_problem(S_IFREG | open, file, "signing key");
    CHECK_THAT(problem, Catch::Contains("chmod 600 /var/lib/promptwall/audit-signing.pem"));
    CHECK_THAT(problem, Catch::Contains("signing key"));
    char octal[8];
    std::snprintf(octal, sizeof octal, "%04o", static_cast<unsigned>(open));
    CHECK_THAT(problem, Catch::Contains(octal));
    CHECK_THAT(problem, Catch::Contains("quyền"));  // Vietnamese, then English
  }
}

TEST_CASE("the signing, evidence and CA keys are created 0600 even under umask 0", "[private_file]") {
  TempDir dir;
  {
    Umask permissive(0);
    SigningKey::load_or_create(dir / "signing.pem");
    EvidenceMaker::load_or_create(dir / "evidence.key");
    CaInitOptions o;
    o.cert_path = dir / "ca.crt";
    o.key_path = dir / "ca.key";
    CertificateAuthority::create(o);
  }
  CHECK(mode_of(dir / "signing.pem") == 0600);
  CHECK(mode_of(dir / "evidence.key") == 0600);
  CHECK(mode_of(dir / "ca.key") == 0600);
  CHECK(mode_of(dir / "ca.crt") == 0644);  // the certificate is public
}

TEST_CASE("a key its group or others can read is refused at load, naming the file and chmod 600", "[private_file]") {
  TempDir dir;
  SigningKey::load_or_create(dir / "signing.pem");
  EvidenceMaker::load_or_create(dir / "evidence.key");
  CaInitOptions o;
  o.cert_path = dir / "ca.crt";
  o.key_path = dir / "ca.key";
  CertificateAuthority::create(o);
  const std::vector<std::pair<fs::path, std::function<void()>>> loads = {
      {dir / "signing.pem", [&] { SigningKey::load(dir / "signing.pem"); }},
      {dir / "signing.pem", [&] { SigningKey::load_or_create(dir / "signing.pem"); }},
      {dir / "evidence.key", [&] { EvidenceMaker::load_or_create(dir / "evidence.key"); }},
      {dir / "ca.key", [&] { CertificateAuthority::load(o.cert_path, o.key_path); }},
  };
  for (const auto& [file, load] : loads) {
    INFO(file.string());
    REQUIRE(::chmod(file.c_str(), 0600) == 0);
    CHECK(error_of(load) == "(loaded)");
    for (mode_t open : {0640, 0604, 0660}) {
      REQUIRE(::chmod(file.c_str(), open) == 0);
      const auto error = error_of(load);
      CHECK_THAT(error, Catch::Contains("chmod 600 " + file.string()));
    }
  }
  // A symlink is judged by the file it points to.
  REQUIRE(::chmod((dir / "ca.key").c_str(), 0644) == 0);
  fs::create_symlink(dir / "ca.key", dir / "link.key");
  CHECK_THAT(error_of([&] { CertificateAuthority::load(o.cert_path, dir / "link.key"); }), Catch::Contains("chmod 600"));
}
