// Requests of the ChatGPT and Gemini web apps, built from the recorded-shape fixtures in
// tests/data/webapps/ (see its README for where each shape comes from) with a prompt put in the
// place the app puts what the user typed, encoded the way the app encodes it. Shared by the unit
// tests (tests/unit/webapps_test.cpp) and the end-to-end tests (webapps_test.cpp).
#pragma once

#include <nlohmann/json.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace promptwall::webapps {

inline std::string fixture(std::string_view name) {
  const std::string path = std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/webapps/" + std::string(name);
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("missing fixture " + path);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// The fixture's bytes with PROMPT_TEXT replaced by `prompt` as JSON string content.
inline std::string chatgpt_body(std::string_view fixture_name, const std::string& prompt) {
  std::string body = fixture(fixture_name);
  const std::string token = nlohmann::json(prompt).dump();
  const std::string escaped = token.substr(1, token.size() - 2);
  const size_t at = body.find("PROMPT_TEXT");
  if (at == std::string::npos) throw std::runtime_error("no PROMPT_TEXT in " + std::string(fixture_name));
  return body.replace(at, std::string_view("PROMPT_TEXT").size(), escaped);
}

// JavaScript's encodeURIComponent: everything but A-Z a-z 0-9 - _ . ! ~ * ' ( ) is %XX (UTF-8).
inline std::string encode_uri_component(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    const bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      std::string_view("-_.!~*'()").find(static_cast<char>(c)) != std::string_view::npos;
    if (keep) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

inline constexpr const char* kGeminiAt = "AJvLN6Mq3xYzB2cD:1764150000000";
inline constexpr const char* kStreamGeneratePath =
    "/_/BardChatUi/data/assistant.lamda.BardFrontendService/StreamGenerate?bl=boq_assistant-bard-web-server_20251118.06_p0&f.sid=-4471953302870548516&hl=vi&_reqid=2871382&rt=c";
inline constexpr const char* kBatchExecutePath =
    "/_/BardChatUi/data/batchexecute?rpcids=MUAZcd&source-path=%2Fapp&bl=boq_assistant-bard-web-server_20251118.06_p0&hl=vi&_reqid=3971382&rt=c";
inline constexpr const char* kGeminiContentType = "application/x-www-form-urlencoded;charset=UTF-8";

// f.req=[null,"<inner JSON>"] with the prompt at inner[0][0], then the XSRF token, as the app sends.
inline std::string gemini_stream_generate_body(const std::string& prompt) {
  nlohmann::json inner = nlohmann::json::parse(fixture("gemini-streamgenerate-inner.json"));
  inner[0][0] = prompt;
  const nlohmann::json outer = nlohmann::json::array({nullptr, inner.dump()});
  return "f.req=" + encode_uri_component(outer.dump()) + "&at=" + encode_uri_component(kGeminiAt) + "&";
}

// f.req=[[["MUAZcd","<payload JSON>",null,"generic"]]] with the prompt at payload[1][0][1].
inline std::string gemini_batchexecute_body(const std::string& prompt) {
  nlohmann::json freq = nlohmann::json::parse(fixture("gemini-batchexecute-freq.json"));
  nlohmann::json payload = nlohmann::json::parse(freq[0][0][1].get<std::string>());
  payload[1][0][1] = prompt;
  freq[0][0][1] = payload.dump();
  return "f.req=" + encode_uri_component(freq.dump()) + "&at=" + encode_uri_component(kGeminiAt) + "&";
}

// application/x-www-form-urlencoded decoding ('+' is a space).
inline std::string form_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// The f.req field of a form body, decoded and parsed.
inline nlohmann::json gemini_freq(std::string_view body) {
  const size_t start = body.find("f.req=");
  if (start == std::string_view::npos) throw std::runtime_error("no f.req");
  const size_t value = start + 6;
  const size_t end = std::min(body.find('&', value), body.size());
  return nlohmann::json::parse(form_decode(body.substr(value, end - value)));
}

// What the user typed, read back out of a StreamGenerate body.
inline std::string gemini_prompt_of(std::string_view body) {
  return nlohmann::json::parse(gemini_freq(body)[1].get<std::string>())[0][0].get<std::string>();
}

}  // namespace promptwall::webapps
