#include "gateway/tls/client_hello_reader.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "gateway/catalog/host_name.h"

#include <algorithm>
#include <stdexcept>

namespace promptwall::gateway {
namespace {

// What the callbacks saw, hung on the SSL as its app data.
struct Seen {
  bool hello = false;
  bool name_callback = false;
  bool encrypted_client_hello = false;
  std::string server_name;
};

// The encrypted_client_hello extension (draft-ietf-tls-esni, IANA 0xfe0d): its SNI is then only
// the outer, public name.
constexpr unsigned kEncryptedClientHello = 0xfe0d;

int on_client_hello(SSL* ssl, int*, void*) {
  static_cast<Seen*>(SSL_get_app_data(ssl))->hello = true;
  return SSL_CLIENT_HELLO_SUCCESS;
}

// OpenSSL 3.0 keeps no extension it has no handler for (SSL_client_hello_get0_ext does not see
// it), so ECH gets a parse-only handler: it runs while the ClientHello's extensions are read,
// before the servername callback ends the handshake.
int on_encrypted_client_hello(SSL* ssl, unsigned int, unsigned int, const unsigned char*, size_t, X509*, size_t, int*,
                              void*) {
  static_cast<Seen*>(SSL_get_app_data(ssl))->encrypted_client_hello = true;
  return 1;
}

// Runs once OpenSSL has parsed every extension of the ClientHello (with or without an SNI one).
// Failing here ends the handshake before the server would answer: we only wanted the name.
int on_server_name(SSL* ssl, int* alert, void*) {
  Seen& seen = *static_cast<Seen*>(SSL_get_app_data(ssl));
  seen.name_callback = true;
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) seen.server_name = name;
  *alert = SSL_AD_INTERNAL_ERROR;
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

}  // namespace

void ClientHelloReader::ContextFree::operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }

ClientHelloReader::ClientHelloReader() : ctx_(SSL_CTX_new(TLS_server_method())) {
  if (!ctx_) throw std::runtime_error("cannot create an OpenSSL context to read ClientHellos");
  // Any version a client may offer must get as far as the extensions: the reader only reads.
  SSL_CTX_set_min_proto_version(ctx_.get(), 0);
  SSL_CTX_set_max_proto_version(ctx_.get(), 0);
  SSL_CTX_set_security_level(ctx_.get(), 0);
  SSL_CTX_set_client_hello_cb(ctx_.get(), on_client_hello, nullptr);
  SSL_CTX_set_tlsext_servername_callback(ctx_.get(), on_server_name);
  if (SSL_CTX_add_custom_ext(ctx_.get(), kEncryptedClientHello, SSL_EXT_CLIENT_HELLO, nullptr, nullptr, nullptr,
                             on_encrypted_client_hello, nullptr) != 1)
    throw std::runtime_error("cannot make OpenSSL read the encrypted_client_hello extension");
}

ClientHelloReader::~ClientHelloReader() = default;

ClientHelloRead ClientHelloReader::read(std::string_view bytes) const {
  ClientHelloRead out;
  // A TLS record starts with the handshake content type; anything else is not a ClientHello, and
  // an empty buffer cannot be judged yet.
  if (bytes.empty()) return out;
  if (static_cast<unsigned char>(bytes.front()) != 0x16) {
    out.status = ClientHelloRead::Status::not_tls;
    return out;
  }
  std::unique_ptr<SSL, decltype(&SSL_free)> ssl(SSL_new(ctx_.get()), SSL_free);
  BIO* in = BIO_new_mem_buf(bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), 1u << 30)));
  BIO* sink = BIO_new(BIO_s_mem());  // the alert OpenSSL writes goes nowhere
  if (!ssl || !in || !sink) {
    BIO_free(in);
    BIO_free(sink);
    throw std::runtime_error("OpenSSL out of memory reading a ClientHello");
  }
  // A memory BIO over a fixed buffer reports EOF when drained; make it "retry" so a partial
  // ClientHello reads as need_more rather than as an error.
  BIO_set_mem_eof_return(in, -1);
  SSL_set_bio(ssl.get(), in, sink);  // the SSL owns both BIOs now
  Seen seen;
  SSL_set_app_data(ssl.get(), &seen);
  SSL_set_accept_state(ssl.get());
  const int result = SSL_do_handshake(ssl.get());
  const int error = SSL_get_error(ssl.get(), result);
  ERR_clear_error();  // the reader's failures are answers, not errors for whoever calls OpenSSL next

  out.encrypted_client_hello = seen.encrypted_client_hello;
  if (seen.name_callback) {
    out.status = ClientHelloRead::Status::client_hello;
    if (!seen.server_name.empty()) {
      if (auto name = parse_host(seen.server_name)) out.server_name = std::move(name->text);
      else out.server_name_invalid = true;
    }
  } else if (seen.hello) {
    // OpenSSL accepted the message as a ClientHello but stopped before its extensions (a version
    // or cipher it would not go on with): TLS, and its name unknown.
    out.status = ClientHelloRead::Status::client_hello;
  } else if (error == SSL_ERROR_WANT_READ) {
    out.status = ClientHelloRead::Status::need_more;
  } else {
    out.status = ClientHelloRead::Status::not_tls;
  }
  return out;
}

}  // namespace promptwall::gateway
