// promptwall ca init|show: the organisation CA whose leaves the forward proxy presents for AI
// hosts. `init` creates it once (never over an existing file) and says how to make clients trust
// it; `show` prints what an administrator compares when installing it.
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "gateway/config/state_dir.h"
#include "gateway/tls/certificate_authority.h"

namespace promptwall::cli {
namespace {

namespace fs = std::filesystem;
using gateway::CaInitOptions;
using gateway::CertificateAuthority;

constexpr int kOk = 0, kError = 2;

constexpr std::string_view kCaUsage = R"(usage:
  promptwall ca init [--dir DIR] [--cert FILE] [--key FILE] [--name CN] [--org O] [--days N]
  promptwall ca show [--dir DIR] [--cert FILE]
DIR defaults to $PROMPTWALL_STATE_DIR, else /var/lib/promptwall as root, else
$XDG_DATA_HOME/promptwall or ~/.local/share/promptwall;
the files are DIR/ca.crt and DIR/ca.key.
)";

struct Arguments {
  std::optional<fs::path> dir, cert, key;
  CaInitOptions init;
  bool help = false;  // --help: the usage was printed, nothing else is to be done
};

class Command {
 public:
  explicit Command(std::string name) : name_(std::move(name)) {}

  int fail(const std::string& message) const {
    std::cerr << "promptwall ca " << name_ << ": " << message << "\n";
    return kError;
  }

  // Parses argv[1..]; `init_options` says whether --name/--org/--days/--key are accepted.
  std::optional<Arguments> parse(int argc, char** argv, bool init_options) const {
    Arguments a;
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (is_help(arg)) {
        std::cout << kCaUsage;
        a.help = true;
        return a;
      }
      const bool takes_value = arg == "--dir" || arg == "--cert" || (init_options && (arg == "--key" || arg == "--name" ||
                                                                                       arg == "--org" || arg == "--days"));
      if (!takes_value) {
        fail("unknown argument '" + arg + "'\n" + std::string(kCaUsage));
        return std::nullopt;
      }
      if (i + 1 >= argc) {
        fail(arg + " needs a value");
        return std::nullopt;
      }
      const std::string value = argv[++i];
      if (arg == "--dir") a.dir = value;
      else if (arg == "--cert") a.cert = value;
      else if (arg == "--key") a.key = value;
      else if (arg == "--name") a.init.common_name = value;
      else if (arg == "--org") a.init.organisation = value;
      else {
        auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), a.init.validity_days);
        if (ec != std::errc() || end != value.data() + value.size() || a.init.validity_days < 1) {
          fail("--days needs a whole number of days, at least 1 (got '" + value + "')");
          return std::nullopt;
        }
      }
    }
    if (!a.dir && (!a.cert || (init_options && !a.key))) {
      // The same place `promptwall serve` looks for the CA when the configuration names none.
      if (fs::path d = gateway::default_state_dir(); !d.empty()) a.dir = d;
      if (!a.dir) {
        fail("no --dir given and neither PROMPTWALL_STATE_DIR nor HOME is set");
        return std::nullopt;
      }
    }
    a.init.cert_path = a.cert ? *a.cert : *a.dir / "ca.crt";
    // `ca show --cert FILE` has no directory and needs no key: never dereference an empty dir.
    a.init.key_path = a.key ? *a.key : a.dir ? *a.dir / "ca.key" : fs::path();
    return a;
  }

 private:
  std::string name_;
};

void print_summary(const X509& cert, const fs::path& cert_path) {
  std::cout << "  certificate: " << cert_path.string() << "\n"
            << "  subject:     " << gateway::subject_line(cert) << "\n"
            << "  valid from:  " << gateway::utc_string(gateway::to_time_point(*X509_get0_notBefore(&cert))) << "\n"
            << "  valid until: " << gateway::utc_string(gateway::to_time_point(*X509_get0_notAfter(&cert))) << "\n"
            << "  SHA-256 fingerprint: " << gateway::sha256_fingerprint(cert) << "\n";
}

// How each kind of client comes to trust the CA. Certificate stores need the file copied to each
// machine; the paths below are this machine's.
void print_trust_instructions(const fs::path& cert) {
  const std::string path = cert.string();
  const std::string file = cert.filename().string();
  std::cout
      << "\nInstall the certificate (never the key) as a trusted root on every client, and check the\n"
         "fingerprint above when you do:\n"
      << "  Windows:        certutil -addstore -f Root " << file << "   (elevated prompt)\n"
      << "                  or Group Policy: Computer Configuration > Policies > Windows Settings > Security\n"
         "                  Settings > Public Key Policies > Trusted Root Certification Authorities > Import\n"
      << "  macOS:          sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain " << file
      << "\n"
      << "  Debian/Ubuntu:  sudo cp " << path << " /usr/local/share/ca-certificates/promptwall-ca.crt"
      << " && sudo update-ca-certificates\n"
      << "  RHEL/Fedora:    sudo cp " << path << " /etc/pki/ca-trust/source/anchors/promptwall-ca.crt"
      << " && sudo update-ca-trust\n"
      << "  Firefox:        enterprise policy \"Certificates\": {\"ImportEnterpriseRoots\": true} (trusts the Windows\n"
         "                  and macOS stores) or {\"Install\": [\"" << path << "\"]};\n"
      << "                  or about:preferences#privacy > Certificates > View Certificates > Authorities > Import\n"
      << "  Node.js:        NODE_EXTRA_CA_CERTS=" << path << "\n"
      << "  Python requests/httpx: they ignore the system store; set REQUESTS_CA_BUNDLE (requests) or SSL_CERT_FILE\n"
         "                  (httpx) to a bundle holding the public roots and this certificate, such as\n"
         "                  /etc/ssl/certs/ca-certificates.crt after update-ca-certificates\n"
      << "  curl:           curl --cacert " << path << " ...   (trusts that file alone; after\n"
         "                  update-ca-certificates plain curl trusts it too)\n";
}

int init(int argc, char** argv) {
  const Command command("init");
  auto args = command.parse(argc, argv, true);
  if (!args) return kError;
  if (args->help) return kOk;
  try {
    CertificateAuthority::create(args->init);
    // Load what was written: proves the pair is usable exactly as the gateway will load it.
    auto ca = CertificateAuthority::load(args->init.cert_path, args->init.key_path);
    const fs::path cert = fs::absolute(args->init.cert_path);
    std::cout << "Created the organisation CA.\n";
    print_summary(*ca->certificate(), cert);
    std::cout << "  private key: " << fs::absolute(args->init.key_path).string()
              << "   (mode 0600: keep it on this machine, readable by the promptwall service only)\n";
    print_trust_instructions(cert);
    return kOk;
  } catch (const std::exception& e) {
    return command.fail(e.what());
  }
}

int show(int argc, char** argv) {
  const Command command("show");
  auto args = command.parse(argc, argv, false);
  if (!args) return kError;
  if (args->help) return kOk;
  try {
    auto cert = gateway::read_certificate(args->init.cert_path);
    print_summary(*cert, fs::absolute(args->init.cert_path));
    if (X509_check_ca(cert.get()) == 0) std::cout << "  warning: this is not a CA certificate\n";
    return kOk;
  } catch (const std::exception& e) {
    return command.fail(e.what());
  }
}

}  // namespace

int ca_command(int argc, char** argv) {
  const std::string_view sub = argc >= 2 ? argv[1] : "";
  if (is_help(sub)) {
    std::cout << kCaUsage;
    return kOk;
  }
  if (sub == "init") return init(argc - 1, argv + 1);
  if (sub == "show") return show(argc - 1, argv + 1);
  std::cerr << (sub.empty() ? "promptwall ca: which command?\n" : "promptwall ca: unknown command '" + std::string(sub) + "'\n")
            << kCaUsage;
  return kError;
}

}  // namespace promptwall::cli
