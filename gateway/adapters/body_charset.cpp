#include "gateway/adapters/body_charset.h"

#include <iconv.h>
#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "encoding/web_text.h"

namespace promptwall::gateway {
namespace {

using encoding::ascii_lowercase;
using encoding::trim_ows;

// The `charset` parameter of a Content-Type value (RFC 9110 §8.3.1), lower case; empty if none.
std::string charset_parameter(std::string_view content_type) {
  size_t pos = content_type.find(';');
  while (pos != std::string_view::npos) {
    const size_t next = content_type.find(';', pos + 1);
    const std::string_view param = trim_ows(content_type.substr(pos + 1, next == std::string_view::npos ? next : next - pos - 1));
    const size_t eq = param.find('=');
    if (eq != std::string_view::npos && ascii_lowercase(trim_ows(param.substr(0, eq))) == "charset") {
      std::string_view value = trim_ows(param.substr(eq + 1));
      if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
      return ascii_lowercase(value);
    }
    pos = next;
  }
  return {};
}

// An iconv descriptor, closed on every path.
class IconvHandle {
 public:
  explicit IconvHandle(const std::string& from) : cd_(iconv_open("UTF-8", from.c_str())) {}
  ~IconvHandle() {
    if (ok()) iconv_close(cd_);
  }
  IconvHandle(const IconvHandle&) = delete;
  IconvHandle& operator=(const IconvHandle&) = delete;
  bool ok() const { return cd_ != reinterpret_cast<iconv_t>(-1); }
  iconv_t get() const { return cd_; }

 private:
  iconv_t cd_;
};

}  // namespace

BodyCharset BodyCharset::of(std::string_view content_type, std::string_view body) {
  // UTF-32LE's mark starts with UTF-16LE's, so it is tested first.
  if (body.starts_with(std::string_view("\xFF\xFE\x00\x00", 4))) return {"utf-32le", 4};
  if (body.starts_with(std::string_view("\x00\x00\xFE\xFF", 4))) return {"utf-32be", 4};
  if (body.starts_with("\xFF\xFE")) return {"utf-16le", 2};
  if (body.starts_with("\xFE\xFF")) return {"utf-16be", 2};
  if (body.starts_with("\xEF\xBB\xBF")) return {"utf-8", 3};
  std::string name = charset_parameter(content_type);
  if (name.empty() || name == "utf-8" || name == "utf8" || name == "us-ascii" || name == "ascii") name = "utf-8";
  return {std::move(name), 0};
}

BodyCharset::Text BodyCharset::to_utf8(std::string_view body) const {
  Text out;
  const std::string_view text = body.substr(std::min(bom_size_, body.size()));
  if (is_utf8()) {
    if (!simdjson::validate_utf8(text.data(), text.size())) {
      out.error = "body is not valid UTF-8";
      return out;
    }
    out.ok = true;
    out.utf8.assign(text);
    return out;
  }
  // Names are passed to iconv only as charset names: a "//TRANSLIT" or "//IGNORE" suffix would
  // make iconv lenient, which is exactly what must not happen.
  if (name_.find('/') != std::string::npos) {
    out.error = "unknown charset " + name_;
    return out;
  }
  IconvHandle cd(name_);
  if (!cd.ok()) {
    out.error = "unknown charset " + name_;
    return out;
  }
  out.utf8.resize(text.size() * 4 + 16);
  char* in = const_cast<char*>(text.data());  // iconv's interface is not const-correct; it only reads
  size_t in_left = text.size();
  char* dst = out.utf8.data();
  size_t dst_left = out.utf8.size();
  const size_t converted = iconv(cd.get(), &in, &in_left, &dst, &dst_left);
  const int err = errno;
  if (converted == static_cast<size_t>(-1)) {
    const size_t at = static_cast<size_t>(in - text.data()) + bom_size_;
    out.error = (err == EINVAL ? "truncated character in " : "bytes invalid in ") + name_ + " at byte " + std::to_string(at);
    out.utf8.clear();
    return out;
  }
  // Stateful decoders (windows-1258 holds a base letter for a combining mark) flush here.
  if (iconv(cd.get(), nullptr, nullptr, &dst, &dst_left) == static_cast<size_t>(-1)) {
    out.error = "incomplete text at the end of the body in " + name_;
    out.utf8.clear();
    return out;
  }
  out.utf8.resize(out.utf8.size() - dst_left);
  // A decoder that produced U+FEFF first means the body carried a mark in its own charset.
  if (out.utf8.starts_with("\xEF\xBB\xBF")) out.utf8.erase(0, 3);
  out.ok = true;
  return out;
}

}  // namespace promptwall::gateway
