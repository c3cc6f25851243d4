// ClientHelloReader: whether the first bytes of a connection are a TLS ClientHello, and the server
// name (SNI) it asks for. The transparent listener uses it to decide, before a byte reaches anyone,
// whether a connection is for an AI service (intercepted) or not (spliced untouched), and whether
// the name it shows can be believed (not when the real one is encrypted, ECH).
//
// OpenSSL does the parsing: each read() feeds the bytes to a throwaway server-side SSL through a
// memory BIO and stops the handshake in the servername callback, so nothing is hand-parsed and
// nothing is ever written back to the client.
//
// Invariants: read() is const and thread-safe (the SSL_CTX is shared and never changed after
// construction; each call makes its own SSL). The same bytes always give the same answer; more bytes
// of the same stream never turn a `client_hello` into anything else.
#pragma once

#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_ctx_st SSL_CTX;

namespace promptwall::gateway {

struct ClientHelloRead {
  enum class Status {
    need_more,     // a TLS record has started but the ClientHello is not complete yet
    client_hello,  // a complete, well-formed ClientHello (server_name may still be empty)
    not_tls,       // anything else: another protocol, or TLS that is not a ClientHello
  };
  Status status = Status::need_more;
  // The SNI in normal form (gateway/catalog/host_name.h: lower case, A-labels, no trailing dot);
  // empty when the ClientHello has no SNI.
  std::string server_name;
  // An SNI was sent but is not a host name: `server_name` is empty, and the connection must not be
  // spliced as if it named none, since the site might accept a name we cannot read.
  bool server_name_invalid = false;
  // The ClientHello offers Encrypted Client Hello (extension 0xfe0d): `server_name` is then the
  // outer, public name a CDN answers to, not the host the client is going to.
  bool encrypted_client_hello = false;
};

class ClientHelloReader {
 public:
  ClientHelloReader();  // throws std::runtime_error when OpenSSL cannot make a context
  ~ClientHelloReader();
  ClientHelloReader(const ClientHelloReader&) = delete;
  ClientHelloReader& operator=(const ClientHelloReader&) = delete;

  // `bytes`: everything the client has sent so far, from its first byte.
  ClientHelloRead read(std::string_view bytes) const;

 private:
  struct ContextFree {
    void operator()(SSL_CTX* ctx) const;
  };
  std::unique_ptr<SSL_CTX, ContextFree> ctx_;
};

}  // namespace promptwall::gateway
