// parse_xml: one XML part of an OOXML or ODF package through expat, as SAX events to a handler,
// with the refusals every part needs in one place:
//
//   a DOCTYPE that declares an entity (general or parameter)   → xml_bomb (stopped at the declaration)
//   expat's Billion-Laughs amplification limit (left on)       → xml_bomb
//   elements nested deeper than kMaxXmlDepth                   → xml_bomb (handlers keep a stack)
//   anything else that does not parse                          → truncated, "<part>: <expat's words> at line N"
//
// External entities are never loaded: no handler for them is set and parameter entity parsing stays
// off, so a SYSTEM id is at most a declaration (refused above).
//
// Element and attribute names reach the handler with their namespace replaced by a fixed prefix,
// whatever prefix the file itself chose: "w:t" for WordprocessingML's t (transitional and strict),
// "text:p" for ODF's, "r:id" for a relationship id; names in no namespace stay bare ("r" of an
// xlsx cell); names in a namespace not listed in xml_sax.cpp arrive as "{uri}local". Character
// data arrives in pieces (expat splits it anywhere); the handler joins what it needs.
//
// Part names appear in `detail`: they are the package's structure, not the document's text.
// Thread-safe: no state outside one call.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "extractors/format_reader.h"

namespace promptwall::extractors {

inline constexpr size_t kMaxXmlDepth = 1024;

struct XmlAttribute {
  std::string_view name;
  std::string_view value;
};

class XmlAttributes {
 public:
  explicit XmlAttributes(std::span<const XmlAttribute> list) : list_(list) {}
  // The value of the attribute of that (prefixed) name, or "" when absent.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;

 private:
  std::span<const XmlAttribute> list_;
};

class XmlHandler {
 public:
  virtual ~XmlHandler() = default;
  virtual void start(std::string_view name, const XmlAttributes& attributes) = 0;
  virtual void end(std::string_view name) = 0;
  virtual void text(std::string_view utf8) = 0;
  // Asked after every event: true ends the parse early with ok() (the text limit was reached).
  virtual bool done() const { return false; }
};

ReadOutcome parse_xml(std::string_view xml, std::string_view part, XmlHandler& handler);

}  // namespace promptwall::extractors
