// ClientHelloReader against real ClientHellos, written by OpenSSL clients into memory BIOs.
#include <catch2/catch.hpp>

#include <openssl/bio.h>
#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "gateway/tls/client_hello_reader.h"

namespace promptwall::gateway {
namespace {

struct ClientOptions {
  const char* server_name = nullptr;
  int max_version = 0;  // 0: the library's highest
  bool ech = false;     // add an encrypted_client_hello extension (0xfe0d), as an ECH client does
};

// The outer ClientHello's ECH extension: its content is opaque to us (an HPKE-sealed inner hello).
int add_ech(SSL*, unsigned int, unsigned int, const unsigned char** out, size_t* outlen, X509*, size_t, int*, void*) {
  static constexpr unsigned char kSealed[] = {0x00, 0x00, 0x01, 0x00, 0x01, 0x07, 0x00, 0x00, 0x00, 0x00};
  *out = kSealed;
  *outlen = sizeof kSealed;
  return 1;
}

// The bytes an OpenSSL client sends first: its ClientHello, as it would go on the wire.
std::string client_hello(const ClientOptions& options) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  REQUIRE(ctx);
  if (options.max_version) SSL_CTX_set_max_proto_version(ctx.get(), options.max_version);
  if (options.ech)
    REQUIRE(SSL_CTX_add_custom_ext(ctx.get(), 0xfe0d, SSL_EXT_CLIENT_HELLO, add_ech, nullptr, nullptr, nullptr, nullptr) == 1);
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx.get()), SSL_free);
  BIO* in = BIO_new(BIO_s_mem());
  BIO* out = BIO_new(BIO_s_mem());
  SSL_set_bio(ssl.get(), in, out);
  if (options.server_name) SSL_set_tlsext_host_name(ssl.get(), options.server_name);
  static constexpr unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
  SSL_set_alpn_protos(ssl.get(), kAlpn, sizeof kAlpn);
  SSL_set_connect_state(ssl.get());
  CHECK(SSL_do_handshake(ssl.get()) == -1);  // waits for the server, with its ClientHello written
  char* data = nullptr;
  const long size = BIO_get_mem_data(out, &data);
  REQUIRE(size > 0);
  return std::string(data, static_cast<size_t>(size));
}

using Status = ClientHelloRead::Status;

}  // namespace

TEST_CASE("a ClientHello with SNI gives its server name, lower-cased", "[client_hello]") {
  ClientHelloReader reader;
  auto read = reader.read(client_hello({.server_name = "Chatgpt.COM"}));
  CHECK(read.status == Status::client_hello);
  CHECK(read.server_name == "chatgpt.com");

  SECTION("TLS 1.2 clients too") {
    read = reader.read(client_hello({.server_name = "api.openai.com", .max_version = TLS1_2_VERSION}));
    CHECK(read.status == Status::client_hello);
    CHECK(read.server_name == "api.openai.com");
  }
  SECTION("bytes after the ClientHello change nothing") {
    read = reader.read(client_hello({.server_name = "api.openai.com"}) + std::string(100, '\x17'));
    CHECK(read.status == Status::client_hello);
    CHECK(read.server_name == "api.openai.com");
  }
}

TEST_CASE("the SNI is read as every host is: A-labels, one trailing dot off, garbage flagged", "[client_hello]") {
  ClientHelloReader reader;
  auto read = reader.read(client_hello({.server_name = "XN--BCHER-KVA.de."}));
  CHECK(read.status == Status::client_hello);
  CHECK(read.server_name == "xn--bcher-kva.de");
  CHECK_FALSE(read.server_name_invalid);
  // Not a host name: never to be taken for "no SNI" (which is spliced).
  for (const char* bad : {"api.openai.com..", "api openai.com", "user@api.openai.com", "api.openai.com:443"}) {
    INFO(bad);
    read = reader.read(client_hello({.server_name = bad}));
    CHECK(read.status == Status::client_hello);
    CHECK(read.server_name.empty());
    CHECK(read.server_name_invalid);
  }
}

TEST_CASE("a ClientHello without SNI is TLS with no name", "[client_hello]") {
  ClientHelloReader reader;
  auto read = reader.read(client_hello({}));
  CHECK(read.status == Status::client_hello);
  CHECK(read.server_name.empty());
}

TEST_CASE("a ClientHello offering ECH says so: its SNI is only the outer name", "[client_hello]") {
  ClientHelloReader reader;
  auto read = reader.read(client_hello({.server_name = "cloudflare-ech.com", .ech = true}));
  CHECK(read.status == Status::client_hello);
  CHECK(read.server_name == "cloudflare-ech.com");
  CHECK(read.encrypted_client_hello);
  // Without the extension: an ordinary hello, its SNI believed.
  read = reader.read(client_hello({.server_name = "cloudflare-ech.com"}));
  CHECK_FALSE(read.encrypted_client_hello);
  CHECK_FALSE(reader.read(client_hello({})).encrypted_client_hello);
}

TEST_CASE("a truncated ClientHello needs more bytes, at every cut", "[client_hello]") {
  ClientHelloReader reader;
  const std::string hello = client_hello({.server_name = "gemini.google.com"});
  for (size_t cut : {size_t{1}, size_t{3}, size_t{5}, size_t{6}, size_t{40}, hello.size() / 2, hello.size() - 1}) {
    INFO("first " << cut << " of " << hello.size() << " bytes");
    CHECK(reader.read(hello.substr(0, cut)).status == Status::need_more);
  }
  CHECK(reader.read("").status == Status::need_more);
  CHECK(reader.read(hello).server_name == "gemini.google.com");
}

TEST_CASE("bytes that are not a ClientHello are not TLS", "[client_hello]") {
  ClientHelloReader reader;
  CHECK(reader.read("GET / HTTP/1.1\r\nHost: chatgpt.com\r\n\r\n").status == Status::not_tls);
  CHECK(reader.read(std::string("\x00\x01\x02\x03", 4)).status == Status::not_tls);
  // A handshake record holding garbage, and a TLS alert record: TLS-looking, not a ClientHello.
  CHECK(reader.read(std::string("\x16\x03\x01\x00\x05\xff\xff\xff\xff\xff", 10)).status == Status::not_tls);
  CHECK(reader.read(std::string("\x15\x03\x03\x00\x02\x02\x28", 7)).status == Status::not_tls);
}

}  // namespace promptwall::gateway
