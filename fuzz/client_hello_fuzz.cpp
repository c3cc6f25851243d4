// libFuzzer target for tls/client_hello_reader: ClientHelloReader::read(), which decides from a
// redirected connection's first bytes whether it is TLS and which server name it asks for (the
// transparent listener intercepts or splices on that answer). OpenSSL does the parsing; what is
// ours is the reading of its outcome, the SNI's normal form and the ECH flag. Beyond "no crash, no
// sanitizer report", it checks the invariants client_hello_reader.h states:
//   - the same bytes give the same answer (a second read);
//   - a first byte other than 0x16 (a handshake record) is not_tls, and no bytes are need_more;
//   - a server_name is only given with client_hello, in host_name.h's normal form (parse_host of
//     it gives it back), and never together with server_name_invalid;
//   - more bytes of the same stream never change a final answer: when a prefix (half the input,
//     and all but its last byte) reads client_hello, the whole input reads client_hello with the
//     same name and flags; when a prefix reads not_tls, so does the whole (the listener acts on the
//     first final answer, so a later one must not disagree).
// Inputs are bounded at 16 KiB + a record header: the most one TLS record (a ClientHello's first)
// can hold; a real one (Chromium's, with a post-quantum key share) is under 2 KiB.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateway/catalog/host_name.h"
#include "gateway/tls/client_hello_reader.h"

namespace {

using promptwall::gateway::ClientHelloRead;
using Status = ClientHelloRead::Status;

void require(bool ok) {
  if (!ok) std::abort();
}

bool same(const ClientHelloRead& a, const ClientHelloRead& b) {
  return a.status == b.status && a.server_name == b.server_name && a.server_name_invalid == b.server_name_invalid &&
         a.encrypted_client_hello == b.encrypted_client_hello;
}

void check_alone(std::string_view bytes, const ClientHelloRead& read) {
  if (bytes.empty()) require(read.status == Status::need_more);
  if (!bytes.empty() && static_cast<unsigned char>(bytes.front()) != 0x16) require(read.status == Status::not_tls);
  if (!read.server_name.empty()) {
    require(read.status == Status::client_hello && !read.server_name_invalid);
    const auto again = promptwall::gateway::parse_host(read.server_name);
    require(again && again->text == read.server_name);
  }
  if (read.server_name_invalid) require(read.status == Status::client_hello);
}

// `prefix` is a prefix of the stream `whole` was read from.
void check_prefix(const ClientHelloRead& prefix, const ClientHelloRead& whole) {
  if (prefix.status == Status::client_hello) require(same(prefix, whole));
  if (prefix.status == Status::not_tls) require(whole.status == Status::not_tls);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 16384 + 5) return 0;
  // One reader for the process, as the listener has: reads share its SSL_CTX.
  static const promptwall::gateway::ClientHelloReader reader;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const ClientHelloRead whole = reader.read(bytes);
  check_alone(bytes, whole);
  require(same(whole, reader.read(bytes)));
  for (const size_t cut : {size / 2, size > 0 ? size - 1 : 0}) {
    const std::string_view head = bytes.substr(0, cut);
    const ClientHelloRead prefix = reader.read(head);
    check_alone(head, prefix);
    check_prefix(prefix, whole);
  }
  return 0;
}
