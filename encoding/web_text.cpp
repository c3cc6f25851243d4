#include "encoding/web_text.h"

namespace promptwall::encoding {

namespace {

constexpr char kHex[] = "0123456789ABCDEF";

bool ascii_alnum(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

void append_escape(std::string& out, unsigned char c) {
  out += '%';
  out += kHex[c >> 4];
  out += kHex[c & 0x0f];
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (ascii_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
    else append_escape(out, c);
  }
  return out;
}

std::string form_encode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    if (ascii_alnum(c) || c == '*' || c == '-' || c == '.' || c == '_') out += static_cast<char>(c);
    else if (c == ' ') out += '+';
    else append_escape(out, c);
  }
  return out;
}

std::string form_decode(std::string_view text, std::vector<size_t>* source_offsets) {
  std::string out;
  out.reserve(text.size());
  if (source_offsets) {
    source_offsets->clear();
    source_offsets->reserve(text.size() + 1);
  }
  for (size_t i = 0; i < text.size(); ++i) {
    if (source_offsets) source_offsets->push_back(i);
    int high = -1, low = -1;
    if (text[i] == '%' && i + 2 < text.size()) {
      high = hex_digit_value(text[i + 1]);
      low = hex_digit_value(text[i + 2]);
    }
    if (text[i] == '+') {
      out += ' ';
    } else if (high >= 0 && low >= 0) {
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += text[i];
    }
  }
  if (source_offsets) source_offsets->push_back(text.size());
  return out;
}

std::string json_string_token(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[static_cast<unsigned char>(c) >> 4];
          out += kHex[static_cast<unsigned char>(c) & 0x0f];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  return out;
}

}  // namespace promptwall::encoding
