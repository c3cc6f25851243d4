// The small text encodings of the web that both the gateway and the audit trail's review site
// speak: HTML escaping, percent-encoding, application/x-www-form-urlencoded and JSON string tokens, and the two
// ASCII chores every HTTP header parser needs (case folding, trimming optional whitespace). One home, so that
// the refusal page and the review page escape alike, and a form body is decoded the same way
// whether the gateway scans it or an officer submits it.
//
// Invariants: html_escape output is safe as element text and inside a double- or single-quoted
// attribute value (all five of & < > " ' are escaped). Decoding never fails: a '%' not followed by
// two hex digits stays as it is (WHATWG URL, application/x-www-form-urlencoded parsing), so what is
// scanned is at worst the bytes as sent. Decoding yields bytes; whether they are UTF-8 is the
// caller's question. form_decode(form_encode(x)) == x for any x.
//
// Pure functions, no state: safe from any thread. No exceptions beyond std::bad_alloc.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace promptwall::encoding {

// HTTP field values compare tokens case-insensitively in ASCII only (RFC 9110 §5.1): "UTF-8" and
// "utf-8" are one charset, while a non-ASCII byte is never folded.
inline std::string ascii_lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
  return out;
}

// Without the optional whitespace (OWS: spaces and tabs, RFC 9110 §5.6.3) at both ends.
inline std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// & < > " ' as character references.
std::string html_escape(std::string_view text);

// 0..15 for an ASCII hex digit of either case, else -1.
int hex_digit_value(char c);

// For a URL path or query component (RFC 3986): every byte but the unreserved A-Z a-z 0-9 - . _ ~
// as %XX (upper-case hex).
std::string percent_encode(std::string_view text);

// The WHATWG application/x-www-form-urlencoded byte serializer: A-Z a-z 0-9 * - . _ kept, a space
// as '+', every other byte as %XX. What a browser sends, so a rewritten form value looks native.
std::string form_encode(std::string_view text);

// application/x-www-form-urlencoded decoding: '+' is a space, %XX a byte (either case), anything
// else (a malformed escape included) as is. With `source_offsets`, it receives for each decoded
// byte the offset in `text` of the escape that produced it, plus text.size() at the end, so a
// decoded range [b, e) maps back to text[at[b], at[e]) (the gateway splices rewrites there).
std::string form_decode(std::string_view text, std::vector<size_t>* source_offsets = nullptr);

// `text` as a JSON string token, with its quotes (RFC 8259): '"', '\\' and the control characters
// escaped (the short forms where JSON has them, else \u00XX upper-case), every other byte as is,
// so UTF-8 stays UTF-8. The request rewriter and the reply restorer both write values this way.
std::string json_string_token(std::string_view text);

}  // namespace promptwall::encoding
