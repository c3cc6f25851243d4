#include "extractors/xml_sax.h"

#include <expat.h>

#include <algorithm>
#include <unordered_map>
#include <vector>

namespace promptwall::extractors {
namespace {

constexpr char kSeparator = '\x01';  // cannot occur in an XML name or namespace URI
constexpr size_t kFeed = 8u << 20;   // XML_Parse takes an int length

// The namespaces the readers look at, each to the prefix they are written with here.
const std::unordered_map<std::string_view, std::string_view>& known_namespaces() {
  static const std::unordered_map<std::string_view, std::string_view> map = {
      // OOXML, transitional and strict
      {"http://schemas.openxmlformats.org/wordprocessingml/2006/main", "w"},
      {"http://purl.oclc.org/ooxml/wordprocessingml/main", "w"},
      {"http://schemas.openxmlformats.org/drawingml/2006/main", "a"},
      {"http://purl.oclc.org/ooxml/drawingml/main", "a"},
      {"http://schemas.openxmlformats.org/presentationml/2006/main", "p"},
      {"http://purl.oclc.org/ooxml/presentationml/main", "p"},
      {"http://schemas.openxmlformats.org/spreadsheetml/2006/main", "x"},
      {"http://purl.oclc.org/ooxml/spreadsheetml/main", "x"},
      {"http://schemas.openxmlformats.org/officeDocument/2006/relationships", "r"},
      {"http://purl.oclc.org/ooxml/officeDocument/relationships", "r"},
      {"http://schemas.openxmlformats.org/markup-compatibility/2006", "mc"},
      {"http://schemas.openxmlformats.org/package/2006/relationships", "rel"},
      {"http://schemas.openxmlformats.org/package/2006/content-types", "ct"},
      {"http://schemas.openxmlformats.org/package/2006/metadata/core-properties", "cp"},
      {"http://schemas.openxmlformats.org/officeDocument/2006/extended-properties", "ep"},
      {"http://purl.oclc.org/ooxml/officeDocument/extendedProperties", "ep"},
      {"http://schemas.openxmlformats.org/officeDocument/2006/custom-properties", "op"},
      {"http://purl.oclc.org/ooxml/officeDocument/customProperties", "op"},
      {"http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes", "vt"},
      {"http://purl.oclc.org/ooxml/officeDocument/docPropsVTypes", "vt"},
      {"http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments", "tc"},
      {"http://schemas.microsoft.com/office/powerpoint/2018/8/main", "p188"},
      {"http://purl.org/dc/elements/1.1/", "dc"},
      {"http://purl.org/dc/terms/", "dcterms"},
      // ODF 1.x
      {"urn:oasis:names:tc:opendocument:xmlns:office:1.0", "office"},
      {"urn:oasis:names:tc:opendocument:xmlns:text:1.0", "text"},
      {"urn:oasis:names:tc:opendocument:xmlns:table:1.0", "table"},
      {"urn:oasis:names:tc:opendocument:xmlns:drawing:1.0", "draw"},
      {"urn:oasis:names:tc:opendocument:xmlns:presentation:1.0", "presentation"},
      {"urn:oasis:names:tc:opendocument:xmlns:style:1.0", "style"},
      {"urn:oasis:names:tc:opendocument:xmlns:meta:1.0", "meta"},
      {"urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0", "number"},
      {"urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0", "fo"},
      {"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0", "manifest"},
      // LibreOffice's own extensions to ODF: officeooo:annotation is a comment on a presentation page
      {"http://openoffice.org/2009/office", "officeooo"},
  };
  return map;
}

// "uri\1local" → "prefix:local" into `out`.
void name_of(const XML_Char* raw, std::string& out) {
  const std::string_view s(raw);
  const size_t sep = s.find(kSeparator);
  out.clear();
  if (sep == std::string_view::npos) {
    out.append(s);
    return;
  }
  const std::string_view uri = s.substr(0, sep);
  const std::string_view local = s.substr(sep + 1);
  const auto& map = known_namespaces();
  if (const auto it = map.find(uri); it != map.end()) {
    out.append(it->second).append(":").append(local);
  } else {
    out.append("{").append(uri).append("}").append(local);
  }
}

struct Session {
  XML_Parser parser;
  XmlHandler& handler;
  size_t depth = 0;
  ReadOutcome refusal;
  bool handler_done = false;
  std::string name;
  std::vector<std::string> attribute_names;
  std::vector<XmlAttribute> attributes;

  void stop(Unscannable cause, std::string detail) {
    if (refusal.good()) refusal = ReadOutcome::stop(cause, std::move(detail));
    XML_StopParser(parser, XML_FALSE);
  }
  void after_event() {
    if (!handler_done && handler.done()) {
      handler_done = true;
      XML_StopParser(parser, XML_FALSE);
    }
  }
};

void XMLCALL on_start(void* data, const XML_Char* raw, const XML_Char** atts) {
  auto& s = *static_cast<Session*>(data);
  if (++s.depth > kMaxXmlDepth) {
    s.stop(Unscannable::xml_bomb, "elements nested deeper than " + std::to_string(kMaxXmlDepth));
    return;
  }
  name_of(raw, s.name);
  size_t n = 0;
  while (atts[2 * n] != nullptr) ++n;
  if (s.attribute_names.size() < n) s.attribute_names.resize(n);
  s.attributes.clear();
  for (size_t i = 0; i < n; ++i) {
    name_of(atts[2 * i], s.attribute_names[i]);
    s.attributes.push_back({s.attribute_names[i], atts[2 * i + 1]});
  }
  s.handler.start(s.name, XmlAttributes(s.attributes));
  s.after_event();
}

void XMLCALL on_end(void* data, const XML_Char* raw) {
  auto& s = *static_cast<Session*>(data);
  if (s.depth > 0) --s.depth;
  name_of(raw, s.name);
  s.handler.end(s.name);
  s.after_event();
}

void XMLCALL on_text(void* data, const XML_Char* chars, int len) {
  auto& s = *static_cast<Session*>(data);
  if (len <= 0) return;
  s.handler.text(std::string_view(chars, static_cast<size_t>(len)));
  s.after_event();
}

void XMLCALL on_entity_declaration(void* data, const XML_Char*, int, const XML_Char*, int, const XML_Char*,
                                   const XML_Char*, const XML_Char*, const XML_Char*) {
  static_cast<Session*>(data)->stop(Unscannable::xml_bomb, "a DOCTYPE declares entities");
}

}  // namespace

std::string_view XmlAttributes::get(std::string_view name) const {
  for (const auto& a : list_) {
    if (a.name == name) return a.value;
  }
  return {};
}

bool XmlAttributes::has(std::string_view name) const {
  return std::any_of(list_.begin(), list_.end(), [&](const XmlAttribute& a) { return a.name == name; });
}

ReadOutcome parse_xml(std::string_view xml, std::string_view part, XmlHandler& handler) {
  XML_Parser parser = XML_ParserCreateNS(nullptr, kSeparator);
  if (parser == nullptr) return ReadOutcome::stop(Unscannable::extractor_failed, "expat: out of memory");
  Session session{parser, handler, 0, ReadOutcome::ok(), false, {}, {}, {}};
  XML_SetUserData(parser, &session);
  XML_SetElementHandler(parser, on_start, on_end);
  XML_SetCharacterDataHandler(parser, on_text);
  XML_SetEntityDeclHandler(parser, on_entity_declaration);
  XML_SetParamEntityParsing(parser, XML_PARAM_ENTITY_PARSING_NEVER);

  XML_Status status = XML_STATUS_OK;
  size_t at = 0;
  do {
    const size_t n = std::min(kFeed, xml.size() - at);
    const bool final = at + n == xml.size();
    status = XML_Parse(parser, xml.data() + at, static_cast<int>(n), final ? XML_TRUE : XML_FALSE);
    at += n;
  } while (status == XML_STATUS_OK && at < xml.size());

  ReadOutcome outcome;
  if (!session.refusal.good()) {
    outcome = session.refusal;
  } else if (session.handler_done) {
    outcome = ReadOutcome::ok();
  } else if (status != XML_STATUS_OK) {
    const XML_Error code = XML_GetErrorCode(parser);
    std::string where = std::string(part) + ": " + XML_ErrorString(code) + " at line " +
                        std::to_string(XML_GetCurrentLineNumber(parser));
    outcome = code == XML_ERROR_AMPLIFICATION_LIMIT_BREACH
                  ? ReadOutcome::stop(Unscannable::xml_bomb, std::move(where))
                  : ReadOutcome::stop(Unscannable::truncated, std::move(where));
  }
  if (!outcome.good() && outcome.cause == Unscannable::xml_bomb && outcome.detail.find(':') == std::string::npos) {
    outcome.detail = std::string(part) + ": " + outcome.detail;
  }
  XML_ParserFree(parser);
  return outcome;
}

}  // namespace promptwall::extractors
