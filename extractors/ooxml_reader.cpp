#include "extractors/ooxml_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "extractors/office_layout.h"
#include "extractors/xml_sax.h"

namespace promptwall::extractors {
namespace {

using office::column_name;
using office::PlacedWriter;
using office::TableLayout;

// ---- the package: parts and relationships ----------------------------------------------------

char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return ascii_lower(x) == ascii_lower(y);
         });
}

std::string_view directory_of(std::string_view part) {
  const size_t slash = part.rfind('/');
  return slash == std::string_view::npos ? std::string_view{} : part.substr(0, slash + 1);
}

// "word/_rels/document.xml.rels" for "word/document.xml"; "_rels/.rels" for the package ("").
std::string rels_of(std::string_view part) {
  const std::string_view dir = directory_of(part);
  return std::string(dir) + "_rels/" + std::string(part.substr(dir.size())) + ".rels";
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// A relationship target resolved against its source part's folder: "../media/x" from
// "word/document.xml" is "media/x"; "/xl/a.xml" is "xl/a.xml". Percent escapes decoded.
std::string resolve_target(std::string_view source_dir, std::string_view target) {
  std::string decoded;
  for (size_t i = 0; i < target.size(); ++i) {
    if (target[i] == '%' && i + 2 < target.size() && hex_value(target[i + 1]) >= 0 && hex_value(target[i + 2]) >= 0) {
      decoded += static_cast<char>(hex_value(target[i + 1]) * 16 + hex_value(target[i + 2]));
      i += 2;
    } else {
      decoded += target[i];
    }
  }
  std::string joined = !decoded.empty() && decoded[0] == '/' ? decoded.substr(1) : std::string(source_dir) + decoded;
  std::vector<std::string> segments;
  size_t start = 0;
  while (start <= joined.size()) {
    size_t end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    const std::string segment = joined.substr(start, end - start);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& s : segments) {
    if (!out.empty()) out += '/';
    out += s;
  }
  return out;
}

struct Relationship {
  std::string id;
  std::string kind;    // the type's last segment: "header", "worksheet", "officeDocument"
  std::string target;  // resolved part name ("" for an external target)
};

class RelationshipsHandler : public XmlHandler {
 public:
  RelationshipsHandler(std::string_view source_dir, std::vector<Relationship>& out) : dir_(source_dir), out_(out) {}
  void start(std::string_view name, const XmlAttributes& a) override {
    if (name != "rel:Relationship") return;
    if (a.get("TargetMode") == "External") return;
    const std::string_view type = a.get("Type");
    const size_t slash = type.rfind('/');
    out_.push_back(Relationship{std::string(a.get("Id")),
                                std::string(slash == std::string_view::npos ? type : type.substr(slash + 1)),
                                resolve_target(dir_, a.get("Target"))});
  }
  void end(std::string_view) override {}
  void text(std::string_view) override {}

 private:
  std::string_view dir_;
  std::vector<Relationship>& out_;
};

class Package {
 public:
  Package(ZipArchive& zip, TextCollector& collector, ReadContext& ctx) : zip_(zip), collector_(collector), ctx_(ctx) {}

  // The entry of a part name: exact, else ASCII case-insensitive (OPC part names are).
  std::optional<size_t> locate(std::string_view part) const {
    if (auto exact = zip_.find(part)) return exact;
    for (size_t i = 0; i < zip_.entries().size(); ++i) {
      if (iequals(zip_.entries()[i].name, part)) return i;
    }
    return std::nullopt;
  }

  // Reads a part; a missing part is ok with `found` false.
  ReadOutcome read(std::string_view part, std::string& out, bool& found) {
    found = false;
    const auto index = locate(part);
    if (!index) return ReadOutcome::ok();
    found = true;
    ReadOutcome r = zip_.read(*index, out);
    if (!r.good() && r.cause != Unscannable::zip_bomb && r.cause != Unscannable::too_big) {
      r.detail = std::string(part) + ": " + r.detail;
    }
    return r;
  }

  // Parses a part through `handler`; a missing part is skipped.
  ReadOutcome parse(std::string_view part, XmlHandler& handler, bool* found = nullptr) {
    std::string xml;
    bool present = false;
    ReadOutcome r = read(part, xml, present);
    if (found != nullptr) *found = present;
    if (!r.good() || !present) return r;
    return parse_xml(xml, part, handler);
  }

  ReadOutcome relationships(std::string_view part, std::vector<Relationship>& out) {
    out.clear();
    RelationshipsHandler handler(directory_of(part), out);
    return parse(rels_of(part), handler);
  }

  TextCollector& collector() { return collector_; }
  ReadContext& context() { return ctx_; }
  ZipArchive& zip() { return zip_; }

 private:
  ZipArchive& zip_;
  TextCollector& collector_;
  ReadContext& ctx_;
};

const Relationship* first_of(const std::vector<Relationship>& rels, std::string_view kind) {
  for (const auto& r : rels) {
    if (r.kind == kind && !r.target.empty()) return &r;
  }
  return nullptr;
}

const Relationship* by_id(const std::vector<Relationship>& rels, std::string_view id) {
  for (const auto& r : rels) {
    if (r.id == id && !r.target.empty()) return &r;
  }
  return nullptr;
}

#define PW_TRY(expr)                  \
  do {                                \
    ReadOutcome pw_r = (expr);        \
    if (!pw_r.good()) return pw_r;    \
  } while (false)

bool truthy(std::string_view val) { return !(val == "0" || val == "false" || val == "off"); }

// Skips the subtree of mc:Fallback and of every mc:Choice after the first: Office writes the same
// content once per rendering it offers, and a reader must not see a text box twice.
class AlternateContent {
 public:
  // Returns true when the element (and so its subtree) is to be skipped; call first in start().
  bool start_skips(std::string_view name) {
    if (skip_ > 0) {
      ++skip_;
      return true;
    }
    if (name == "mc:AlternateContent") {
      taken_.push_back(false);
    } else if (name == "mc:Choice" && !taken_.empty()) {
      if (taken_.back()) {
        skip_ = 1;
        return true;
      }
      taken_.back() = true;
    } else if (name == "mc:Fallback" && !taken_.empty()) {
      skip_ = 1;
      return true;
    }
    return false;
  }
  // Returns true when the element's end is inside a skipped subtree; call first in end().
  bool end_skips(std::string_view name) {
    if (skip_ > 0) {
      --skip_;
      return true;
    }
    if (name == "mc:AlternateContent" && !taken_.empty()) taken_.pop_back();
    return false;
  }
  bool skipping() const { return skip_ > 0; }

 private:
  size_t skip_ = 0;
  std::vector<bool> taken_;
};

// ---- WordprocessingML: body, headers, footers, notes, comments -------------------------------

class WordHandler : public XmlHandler {
 public:
  WordHandler(TextCollector& c, Place base, bool prominent_part)
      : writer_(c), table_(c), base_(base), prominent_part_(prominent_part) {}

  void start(std::string_view name, const XmlAttributes& a) override {
    if (alternate_.start_skips(name)) return;
    const std::string_view parent = stack_.empty() ? std::string_view{} : std::string_view(stack_.back());
    stack_.emplace_back(name);
    if (name == "w:p") {
      paragraph_text_ = false;
      last_field_ = false;
    } else if (name == "w:r") {
      run_hidden_ = false;
    } else if (name == "w:vanish" && parent == "w:rPr" && stack_.size() >= 3 && stack_[stack_.size() - 3] == "w:r") {
      run_hidden_ = truthy(a.get("w:val"));
    } else if (name == "w:t" || name == "w:delText" || name == "w:instrText") {
      capture_ = name == "w:t" ? Capture::text : name == "w:delText" ? Capture::deleted : Capture::field;
    } else if ((name == "w:tab" || name == "w:ptab") && parent == "w:r") {
      emit(table_.in_cell() ? " " : "\t", Capture::text);
    } else if ((name == "w:br" || name == "w:cr") && parent == "w:r") {
      emit(table_.in_cell() ? " " : "\n", Capture::text);
    } else if (name == "w:noBreakHyphen" && parent == "w:r") {
      emit("-", Capture::text);
    } else if (name == "w:fldSimple") {
      emit(a.get("w:instr"), Capture::field);
    } else if (name == "w:del" || name == "w:moveFrom") {
      ++deleted_;
    } else if (name == "w:tbl") {
      table_.table_start();
    } else if (name == "w:tr") {
      table_.row_start();
    } else if (name == "w:tc") {
      table_.cell_start();
    } else if (name == "w:txbxContent") {
      // A text box sits inside a paragraph: its own paragraphs start on a line of their own.
      if (!table_.in_cell()) writer_.collector().end_paragraph();
      ++text_box_;
      saved_paragraph_text_.push_back(paragraph_text_);
    }
  }

  void end(std::string_view name) override {
    if (alternate_.end_skips(name)) return;
    if (!stack_.empty()) stack_.pop_back();
    if (name == "w:t" || name == "w:delText" || name == "w:instrText") {
      capture_ = Capture::none;
    } else if (name == "w:p") {
      if (table_.in_cell()) {
        table_.paragraph_end();
      } else if (paragraph_text_) {
        writer_.collector().end_paragraph();
        if (text_box_ == 0) ++body_paragraphs_;
      }
      paragraph_text_ = false;
    } else if (name == "w:del" || name == "w:moveFrom") {
      if (deleted_ > 0) --deleted_;
    } else if (name == "w:tbl") {
      table_.table_end();
    } else if (name == "w:tr") {
      table_.row_end();
    } else if (name == "w:txbxContent") {
      if (text_box_ > 0) --text_box_;
      if (!table_.in_cell()) writer_.collector().end_paragraph();
      if (!saved_paragraph_text_.empty()) {
        paragraph_text_ = saved_paragraph_text_.back();
        saved_paragraph_text_.pop_back();
      }
    }
  }

  void text(std::string_view chars) override {
    if (capture_ != Capture::none) emit(chars, capture_);
  }

  bool done() const override { return writer_.full(); }

 private:
  enum class Capture { none, text, deleted, field };

  void emit(std::string_view s, Capture kind) {
    if (s.empty()) return;
    SpanPlace place;
    place.place = base_;
    place.prominent = prominent_part_;
    if (base_ == Place::body) {
      if (text_box_ > 0) {
        place.place = Place::text_box;
        place.prominent = body_paragraphs_ < 3;
      } else if (table_.in_cell()) {
        place.place = Place::table;
        place.prominent = table_.first_cell();
      } else {
        place.prominent = body_paragraphs_ < 3;
      }
    }
    if (deleted_ > 0 || kind == Capture::deleted) {
      place.place = Place::tracked_deletion;
    } else if (kind == Capture::field) {
      place.place = Place::field_code;
    } else if (run_hidden_) {
      place.place = Place::hidden_text;
    }
    if (table_.in_cell()) table_.before_text(writer_, place);
    // A field's instruction and the text beside it (its result, the words before it) are separate
    // words: LibreOffice ends an instruction without the space Word leaves (`FILLIN "hint"` then
    // the result), and joined they would read as one token ("...hint\"Trần", "TenNguyễn").
    const bool field = kind == Capture::field;
    if (paragraph_text_ && field != last_field_ && !last_space_ && !is_space(s.front())) {
      SpanPlace between = place;
      between.place = Place::field_code;
      writer_.write(" ", between);
    }
    writer_.write(s, place);
    paragraph_text_ = true;
    last_field_ = field;
    last_space_ = is_space(s.back());
  }

  static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n'; }

  PlacedWriter writer_;
  TableLayout table_;
  AlternateContent alternate_;
  Place base_;
  bool prominent_part_;
  std::vector<std::string> stack_;
  Capture capture_ = Capture::none;
  bool run_hidden_ = false;
  bool paragraph_text_ = false;
  bool last_field_ = false;  // the paragraph's last text was a field instruction
  bool last_space_ = false;  // ... and ended with white space
  std::vector<bool> saved_paragraph_text_;
  size_t deleted_ = 0;
  size_t text_box_ = 0;
  size_t body_paragraphs_ = 0;
};

// ---- DrawingML text: slides, notes, masters, comments, SmartArt -------------------------------

class DrawingHandler : public XmlHandler {
 public:
  // `skip_placeholders`: masters and layouts, whose placeholders hold prompts ("Click to edit"),
  // not the author's words (a footer placeholder is kept: a stamp may be typed there).
  // `skip_numbers`: notes, whose slide-number and image placeholders are not text.
  DrawingHandler(TextCollector& c, SpanPlace place, bool skip_placeholders, bool skip_numbers, size_t prominent_lines)
      : writer_(c), table_(c), place_(std::move(place)), skip_placeholders_(skip_placeholders),
        skip_numbers_(skip_numbers), prominent_lines_(prominent_lines) {}

  void start(std::string_view name, const XmlAttributes& a) override {
    if (alternate_.start_skips(name)) return;
    if (name == "p:sp") {
      shape_skipped_ = false;
      shape_footer_ = false;
    } else if (name == "p:ph") {
      const std::string_view type = a.get("type");
      if (skip_placeholders_ && type != "ftr") shape_skipped_ = true;
      // A slide's footer placeholder holds the footer the author set for it (Header & Footer).
      if (type == "ftr" && place_.place == Place::slide) shape_footer_ = true;
      if (skip_numbers_ && (type == "sldNum" || type == "sldImg")) shape_skipped_ = true;
    } else if (name == "a:p" || name == "p:text") {
      paragraph_text_ = false;
      if (name == "p:text") capture_ = true;
    } else if (name == "a:t") {
      capture_ = true;
    } else if (name == "a:br") {
      emit(table_.in_cell() ? " " : "\n");
    } else if (name == "a:tbl") {
      table_.table_start();
    } else if (name == "a:tr") {
      table_.row_start();
    } else if (name == "a:tc") {
      table_.cell_start();
    }
  }

  void end(std::string_view name) override {
    if (alternate_.end_skips(name)) return;
    if (name == "a:t") {
      capture_ = false;
    } else if (name == "a:p" || name == "p:text") {
      if (name == "p:text") capture_ = false;
      if (table_.in_cell()) {
        table_.paragraph_end();
      } else if (paragraph_text_) {
        writer_.collector().end_paragraph();
        ++paragraphs_;
      }
      paragraph_text_ = false;
    } else if (name == "p:sp") {
      shape_skipped_ = false;
      shape_footer_ = false;
    } else if (name == "a:tbl") {
      table_.table_end();
    } else if (name == "a:tr") {
      table_.row_end();
    }
  }

  void text(std::string_view chars) override {
    if (capture_) emit(chars);
  }

  bool done() const override { return writer_.full(); }

 private:
  void emit(std::string_view s) {
    if (shape_skipped_ || s.empty()) return;
    SpanPlace place = place_;
    place.prominent = table_.in_cell() ? table_.first_cell() && prominent_lines_ > 0 : paragraphs_ < prominent_lines_;
    if (shape_footer_) {
      place.place = Place::footer;
      place.prominent = false;
    }
    if (table_.in_cell()) table_.before_text(writer_, place);
    writer_.write(s, place);
    paragraph_text_ = true;
  }

  PlacedWriter writer_;
  TableLayout table_;
  AlternateContent alternate_;
  SpanPlace place_;
  bool skip_placeholders_;
  bool skip_numbers_;
  size_t prominent_lines_;
  bool shape_skipped_ = false;
  bool shape_footer_ = false;
  bool capture_ = false;
  bool paragraph_text_ = false;
  size_t paragraphs_ = 0;
};

// ---- document properties ----------------------------------------------------------------------

class PropertiesHandler : public XmlHandler {
 public:
  enum class Kind { core, app, custom };
  PropertiesHandler(TextCollector& c, Kind kind) : c_(c), kind_(kind) {}

  void start(std::string_view name, const XmlAttributes& a) override {
    ++depth_;
    value_.clear();
    if (kind_ == Kind::custom && name == "op:property") property_ = a.get("name");
  }
  void end(std::string_view name) override {
    --depth_;
    if (wanted(name) && !blank(value_)) {
      if (kind_ == Kind::custom) {
        c_.text(property_);
        c_.text(": ");
      }
      c_.text(value_);
      c_.end_paragraph();
    }
    value_.clear();
  }
  void text(std::string_view chars) override { value_.append(chars); }
  bool done() const override { return c_.full(); }

 private:
  static bool blank(std::string_view s) {
    return s.find_first_not_of(" \t\r\n") == std::string_view::npos;
  }
  bool wanted(std::string_view name) const {
    switch (kind_) {
      case Kind::core:  // dates, the revision counter and the language are the tool's, not the author's
        return depth_ == 1 && name.substr(0, 8) != "dcterms:" && name != "cp:revision" && name != "dc:language";
      case Kind::app:
        return name == "ep:Company" || name == "ep:Manager" || name == "ep:HyperlinkBase";
      case Kind::custom:
        return depth_ == 2 && name.substr(0, 3) == "vt:";
    }
    return false;
  }

  TextCollector& c_;
  Kind kind_;
  int depth_ = 0;
  std::string value_;
  std::string property_;
};

ReadOutcome read_properties(Package& pkg) {
  std::vector<Relationship> rels;
  PW_TRY(pkg.relationships("", rels));
  const std::pair<std::string_view, PropertiesHandler::Kind> kinds[] = {
      {"core-properties", PropertiesHandler::Kind::core},
      {"extended-properties", PropertiesHandler::Kind::app},
      {"custom-properties", PropertiesHandler::Kind::custom},
  };
  for (const auto& [kind, handler_kind] : kinds) {
    const Relationship* rel = first_of(rels, kind);
    if (rel == nullptr) continue;
    pkg.collector().begin_part({Place::properties}, rel->target);
    PropertiesHandler handler(pkg.collector(), handler_kind);
    PW_TRY(pkg.parse(rel->target, handler));
  }
  return ReadOutcome::ok();
}

// Every package and OLE object any relationship embeds, handed back to the extractor once each.
ReadOutcome read_embeddings(Package& pkg) {
  if (!pkg.context().read_inner) return ReadOutcome::ok();
  std::vector<std::string> targets;
  std::unordered_set<std::string> seen;
  for (const auto& e : pkg.zip().entries()) {
    const std::string_view name = e.name;
    const size_t marker = name.rfind("_rels/");
    if (marker == std::string_view::npos || name.size() < 5 || name.substr(name.size() - 5) != ".rels") continue;
    const std::string source = std::string(name.substr(0, marker)) +
                               std::string(name.substr(marker + 6, name.size() - marker - 6 - 5));
    std::vector<Relationship> rels;
    PW_TRY(pkg.relationships(source, rels));
    for (const auto& r : rels) {
      if ((r.kind == "package" || r.kind == "oleObject") && !r.target.empty() && seen.insert(r.target).second) {
        targets.push_back(r.target);
      }
    }
  }
  for (const auto& target : targets) {
    std::string bytes;
    bool found = false;
    PW_TRY(pkg.read(target, bytes, found));
    if (!found) continue;
    PW_TRY(pkg.context().read_inner(bytes, target));
  }
  return ReadOutcome::ok();
}

// ---- docx -------------------------------------------------------------------------------------

ReadOutcome read_docx(Package& pkg, const std::string& main) {
  TextCollector& c = pkg.collector();
  std::vector<Relationship> rels;
  PW_TRY(pkg.relationships(main, rels));
  {
    c.begin_part({Place::body}, main);
    WordHandler body(c, Place::body, false);
    bool found = false;
    PW_TRY(pkg.parse(main, body, &found));
    if (!found) return ReadOutcome::stop(Unscannable::truncated, "the main document part is missing");
  }
  struct Kind {
    std::string_view rel;
    Place place;
    bool prominent;
  };
  const Kind kinds[] = {{"header", Place::header, true},     {"footer", Place::footer, false},
                        {"footnotes", Place::footnote, false}, {"endnotes", Place::footnote, false},
                        {"comments", Place::comment, false}};
  for (const auto& kind : kinds) {
    for (const auto& r : rels) {
      if (r.kind != kind.rel || r.target.empty()) continue;
      c.begin_part({kind.place, 0, "", "", kind.prominent}, r.target);
      WordHandler handler(c, kind.place, kind.prominent);
      PW_TRY(pkg.parse(r.target, handler));
    }
  }
  // SmartArt keeps its words in diagram data parts.
  for (const auto& r : rels) {
    if (r.kind != "diagramData" || r.target.empty()) continue;
    c.begin_part({Place::text_box}, r.target);
    DrawingHandler handler(c, {Place::text_box}, false, false, 0);
    PW_TRY(pkg.parse(r.target, handler));
  }
  return ReadOutcome::ok();
}

// ---- xlsx -------------------------------------------------------------------------------------

// "B3" → (column 2, row 3); nothing when it is not a cell reference within Excel's grid.
std::optional<std::pair<uint32_t, uint32_t>> parse_cell_ref(std::string_view ref) {
  size_t i = 0;
  uint32_t column = 0;
  while (i < ref.size() && i < 3 && ((ref[i] >= 'A' && ref[i] <= 'Z') || (ref[i] >= 'a' && ref[i] <= 'z'))) {
    column = column * 26 + static_cast<uint32_t>(ascii_lower(ref[i]) - 'a' + 1);
    ++i;
  }
  if (i == 0 || i == ref.size() || ref.size() - i > 7) return std::nullopt;
  uint32_t row = 0;
  const auto [p, ec] = std::from_chars(ref.data() + i, ref.data() + ref.size(), row);
  if (ec != std::errc() || p != ref.data() + ref.size() || row == 0 || column > 16384) return std::nullopt;
  return std::make_pair(column, row);
}

class SharedStringsHandler : public XmlHandler {
 public:
  explicit SharedStringsHandler(std::vector<std::string>& out) : out_(out) {}
  void start(std::string_view name, const XmlAttributes&) override {
    if (phonetic_ > 0 || name == "x:rPh") {
      ++phonetic_;
    } else if (name == "x:si") {
      current_.clear();
    } else if (name == "x:t") {
      capture_ = true;
    }
  }
  void end(std::string_view name) override {
    if (phonetic_ > 0) {
      --phonetic_;
    } else if (name == "x:t") {
      capture_ = false;
    } else if (name == "x:si") {
      out_.push_back(std::move(current_));
      current_.clear();
    }
  }
  void text(std::string_view chars) override {
    if (capture_ && phonetic_ == 0) current_.append(chars);
  }

 private:
  std::vector<std::string>& out_;
  std::string current_;
  bool capture_ = false;
  size_t phonetic_ = 0;  // phonetic guides (rPh) repeat the reading of East Asian text
};

// Which cell formats (cellXfs index) are all zeros, and their width.
class StylesHandler : public XmlHandler {
 public:
  void start(std::string_view name, const XmlAttributes& a) override {
    if (name == "x:numFmt") {
      const std::string_view code = a.get("formatCode");
      uint32_t id = 0;
      std::from_chars(a.get("numFmtId").data(), a.get("numFmtId").data() + a.get("numFmtId").size(), id);
      if (!code.empty() && code.size() <= 64 && code.find_first_not_of('0') == std::string_view::npos) {
        zero_formats_[id] = code.size();
      }
    } else if (name == "x:cellXfs") {
      in_cell_xfs_ = true;
    } else if (name == "x:xf" && in_cell_xfs_) {
      uint32_t id = 0;
      const std::string_view v = a.get("numFmtId");
      std::from_chars(v.data(), v.data() + v.size(), id);
      xf_formats_.push_back(id);
    }
  }
  void end(std::string_view name) override {
    if (name == "x:cellXfs") in_cell_xfs_ = false;
  }
  void text(std::string_view) override {}

  // The zero-padding width of cell style `xf`, or 0.
  size_t zero_width(size_t xf) const {
    if (xf >= xf_formats_.size()) return 0;
    const auto it = zero_formats_.find(xf_formats_[xf]);
    return it == zero_formats_.end() ? 0 : it->second;
  }

 private:
  std::unordered_map<uint32_t, size_t> zero_formats_;
  std::vector<uint32_t> xf_formats_;
  bool in_cell_xfs_ = false;
};

// A stored number as an all-zeros format shows it: "1099012345" at width 12 → "001099012345".
std::string zero_padded(std::string_view stored, size_t width) {
  std::string digits;
  if (!stored.empty() && stored.find_first_not_of("0123456789") == std::string_view::npos) {
    digits = std::string(stored);
  } else {
    double value = 0;
    const auto [p, ec] = std::from_chars(stored.data(), stored.data() + stored.size(), value);
    if (ec != std::errc() || p != stored.data() + stored.size() || value < 0 || value >= 1e15 ||
        value != std::floor(value)) {
      return std::string(stored);
    }
    digits = std::to_string(static_cast<uint64_t>(value));
  }
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return digits;
}

// Excel's header/footer codes removed: "&L&\"Arial,Bold\"&12TỐI MẬT&RPage &P" → "TỐI MẬT", "Page".
std::vector<std::string> header_footer_sections(std::string_view s) {
  std::vector<std::string> sections(1);
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&' || i + 1 == s.size()) {
      sections.back() += s[i];
      continue;
    }
    const char code = s[++i];
    if (code == '&') {
      sections.back() += '&';
    } else if (code == 'L' || code == 'C' || code == 'R') {
      if (!sections.back().empty()) sections.emplace_back();
    } else if (code == '"') {
      const size_t close = s.find('"', i + 1);
      i = close == std::string_view::npos ? s.size() : close;
    } else if (code >= '0' && code <= '9') {
      while (i + 1 < s.size() && s[i + 1] >= '0' && s[i + 1] <= '9') ++i;
    } else if (code == 'K') {
      i = std::min(s.size() - 1, i + 6);
    }  // every other code (&P page, &D date, &B bold...) stands for nothing typed
  }
  std::vector<std::string> out;
  for (auto& section : sections) {
    const size_t b = section.find_first_not_of(' ');
    if (b == std::string::npos) continue;
    out.push_back(section.substr(b, section.find_last_not_of(' ') - b + 1));
  }
  return out;
}

struct SheetExtra {
  Place place;
  std::string text;
};

class SheetHandler : public XmlHandler {
 public:
  SheetHandler(TextCollector& c, uint32_t sheet, const std::vector<std::string>& shared, const StylesHandler& styles,
               bool prominent_first_row)
      : writer_(c), sheet_(sheet), shared_(shared), styles_(styles), prominent_first_row_(prominent_first_row) {}

  void start(std::string_view name, const XmlAttributes& a) override {
    if (name == "x:row") {
      uint32_t r = 0;
      const std::string_view v = a.get("r");
      const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), r);
      row_ = (ec == std::errc() && p == v.data() + v.size() && r > 0) ? r : row_ + 1;
      column_ = 0;
      cells_.clear();
    } else if (name == "x:c") {
      const auto ref = parse_cell_ref(a.get("r"));
      if (ref) {
        column_ = ref->first;
      } else {
        ++column_;
      }
      type_ = a.get("t");
      style_ = 0;
      const std::string_view s = a.get("s");
      std::from_chars(s.data(), s.data() + s.size(), style_);
      value_.clear();
      inline_.clear();
    } else if (name == "x:v") {
      capture_ = &value_;
    } else if (name == "x:is") {
      in_inline_ = true;
    } else if (name == "x:rPh") {
      ++phonetic_;
    } else if (name == "x:t" && in_inline_ && phonetic_ == 0) {
      capture_ = &inline_;
    } else if (name == "x:oddHeader" || name == "x:evenHeader" || name == "x:firstHeader" ||
               name == "x:oddFooter" || name == "x:evenFooter" || name == "x:firstFooter") {
      header_footer_.clear();
      capture_ = &header_footer_;
    }
  }

  void end(std::string_view name) override {
    if (name == "x:v" || name == "x:t") {
      capture_ = nullptr;
    } else if (name == "x:is") {
      in_inline_ = false;
    } else if (name == "x:rPh") {
      if (phonetic_ > 0) --phonetic_;
    } else if (name == "x:c") {
      std::string text = cell_text();
      if (!text.empty()) cells_.push_back({column_, std::move(text)});
    } else if (name == "x:row") {
      flush_row();
    } else if (name.size() > 8 && (name.substr(name.size() - 6) == "Header" || name.substr(name.size() - 6) == "Footer")) {
      capture_ = nullptr;
      const Place place = name.substr(name.size() - 6) == "Header" ? Place::header : Place::footer;
      // Odd, even and first-page variants usually repeat one text: read it once.
      for (auto& section : header_footer_sections(header_footer_)) {
        const bool repeated = std::any_of(extras_.begin(), extras_.end(), [&](const SheetExtra& e) {
          return e.place == place && e.text == section;
        });
        if (!repeated) extras_.push_back({place, std::move(section)});
      }
    }
  }

  void text(std::string_view chars) override {
    if (capture_ != nullptr) capture_->append(chars);
  }
  bool done() const override { return writer_.full(); }

  const std::vector<SheetExtra>& extras() const { return extras_; }

 private:
  std::string cell_text() const {
    if (type_ == "s") {
      size_t index = 0;
      const auto [p, ec] = std::from_chars(value_.data(), value_.data() + value_.size(), index);
      if (ec != std::errc() || index >= shared_.size()) return {};
      return shared_[index];
    }
    if (type_ == "inlineStr") return inline_;
    if (type_ == "b") return value_ == "1" ? "TRUE" : value_ == "0" ? "FALSE" : value_;
    if (type_.empty() || type_ == "n") {
      const size_t width = styles_.zero_width(style_);
      if (width > 0 && !value_.empty()) return zero_padded(value_, width);
    }
    return value_;  // numbers as stored, str (a formula's cached text), e (#N/A), d (ISO date)
  }

  void flush_row() {
    if (cells_.empty()) return;
    const bool prominent = prominent_first_row_ && !seen_row_;
    seen_row_ = true;
    uint32_t previous = 1;
    size_t tabs = 0;
    for (size_t i = 0; i < cells_.size(); ++i) {
      const uint32_t column = cells_[i].first;
      uint32_t gap = column > previous ? column - previous : 0;
      if (i > 0 && gap == 0) gap = 1;  // cells out of order still get their own column
      if (tabs + gap > kMaxGapTabs) gap = std::min<uint32_t>(gap, 1);
      for (uint32_t g = 0; g < gap; ++g) writer_.collector().end_cell();
      tabs += gap;
      writer_.write(cells_[i].second, SpanPlace{Place::sheet, sheet_, column_name(column) + std::to_string(row_), "",
                                                prominent});
      previous = column;
    }
    writer_.collector().end_paragraph();
    cells_.clear();
  }

  PlacedWriter writer_;
  uint32_t sheet_;
  const std::vector<std::string>& shared_;
  const StylesHandler& styles_;
  bool prominent_first_row_;
  bool seen_row_ = false;
  uint32_t row_ = 0;
  uint32_t column_ = 0;
  std::string type_;
  size_t style_ = 0;
  std::string value_;
  std::string inline_;
  std::string header_footer_;
  std::string* capture_ = nullptr;
  bool in_inline_ = false;
  size_t phonetic_ = 0;
  std::vector<std::pair<uint32_t, std::string>> cells_;
  std::vector<SheetExtra> extras_;
};

struct SheetEntry {
  std::string name;
  std::string rel_id;
};

class WorkbookHandler : public XmlHandler {
 public:
  void start(std::string_view name, const XmlAttributes& a) override {
    if (name == "x:sheet") sheets.push_back({std::string(a.get("name")), std::string(a.get("r:id"))});
  }
  void end(std::string_view) override {}
  void text(std::string_view) override {}
  std::vector<SheetEntry> sheets;
};

// Cell comments: legacy (x:comment) and threaded (tc:threadedComment), each under its cell.
class CellCommentsHandler : public XmlHandler {
 public:
  CellCommentsHandler(TextCollector& c, uint32_t sheet, std::set<std::string>& threaded_refs, bool threaded)
      : writer_(c), sheet_(sheet), threaded_refs_(threaded_refs), threaded_(threaded) {}
  void start(std::string_view name, const XmlAttributes& a) override {
    if (name == "x:comment" || name == "tc:threadedComment") {
      ref_ = a.get("ref");
      text_.clear();
    } else if (name == "x:rPh") {
      ++phonetic_;
    } else if ((name == "x:t" || name == "tc:text") && phonetic_ == 0) {
      capture_ = true;
    }
  }
  void end(std::string_view name) override {
    if (name == "x:t" || name == "tc:text") {
      capture_ = false;
    } else if (name == "x:rPh") {
      if (phonetic_ > 0) --phonetic_;
    } else if (name == "x:comment" || name == "tc:threadedComment") {
      if (threaded_) threaded_refs_.insert(ref_);
      if (!threaded_ && threaded_refs_.count(ref_) > 0) return;  // Excel's copy of a threaded comment
      if (text_.find_first_not_of(" \r\n\t") == std::string::npos) return;
      const auto cell = parse_cell_ref(ref_);
      writer_.write(text_, SpanPlace{Place::comment, sheet_,
                                     cell ? column_name(cell->first) + std::to_string(cell->second) : std::string(),
                                     "", false});
      writer_.collector().end_paragraph();
    }
  }
  void text(std::string_view chars) override {
    if (capture_) text_.append(chars);
  }
  bool done() const override { return writer_.full(); }

 private:
  PlacedWriter writer_;
  uint32_t sheet_;
  std::set<std::string>& threaded_refs_;
  bool threaded_;
  std::string ref_;
  std::string text_;
  bool capture_ = false;
  size_t phonetic_ = 0;
};

ReadOutcome read_xlsx(Package& pkg, const std::string& main) {
  TextCollector& c = pkg.collector();
  std::vector<Relationship> rels;
  PW_TRY(pkg.relationships(main, rels));
  WorkbookHandler workbook;
  bool found = false;
  PW_TRY(pkg.parse(main, workbook, &found));
  if (!found) return ReadOutcome::stop(Unscannable::truncated, "the workbook part is missing");

  std::vector<std::string> shared;
  if (const Relationship* r = first_of(rels, "sharedStrings")) {
    SharedStringsHandler handler(shared);
    PW_TRY(pkg.parse(r->target, handler));
  }
  StylesHandler styles;
  if (const Relationship* r = first_of(rels, "styles")) PW_TRY(pkg.parse(r->target, styles));

  c.begin_part({Place::sheet_name}, main);
  for (size_t i = 0; i < workbook.sheets.size(); ++i) {
    c.anchor({Place::sheet_name, static_cast<uint32_t>(i + 1)});
    c.text(workbook.sheets[i].name);
    c.end_paragraph();
  }

  for (size_t i = 0; i < workbook.sheets.size(); ++i) {
    const auto sheet = static_cast<uint32_t>(i + 1);
    const Relationship* r = by_id(rels, workbook.sheets[i].rel_id);
    if (r == nullptr) continue;
    c.begin_part({Place::sheet, sheet}, r->target);
    SheetHandler handler(c, sheet, shared, styles, i == 0);
    PW_TRY(pkg.parse(r->target, handler));

    std::vector<Relationship> sheet_rels;
    PW_TRY(pkg.relationships(r->target, sheet_rels));
    std::set<std::string> threaded_refs;
    for (const bool threaded : {true, false}) {
      for (const auto& sr : sheet_rels) {
        if (sr.target.empty() || sr.kind != (threaded ? "threadedComment" : "comments")) continue;
        c.begin_part({Place::comment, sheet}, sr.target);
        CellCommentsHandler comments(c, sheet, threaded_refs, threaded);
        PW_TRY(pkg.parse(sr.target, comments));
      }
    }
    for (const auto& sr : sheet_rels) {
      if (sr.kind != "drawing" || sr.target.empty()) continue;
      c.begin_part({Place::text_box, sheet}, sr.target);
      DrawingHandler drawing(c, {Place::text_box, sheet}, false, false, 0);
      PW_TRY(pkg.parse(sr.target, drawing));
    }
    for (const auto& extra : handler.extras()) {
      c.begin_part({extra.place, sheet, "", "", extra.place == Place::header}, r->target);
      c.text(extra.text);
      c.end_paragraph();
    }
  }
  return ReadOutcome::ok();
}

// ---- pptx -------------------------------------------------------------------------------------

class PresentationHandler : public XmlHandler {
 public:
  void start(std::string_view name, const XmlAttributes& a) override {
    if (name == "p:sldId") slides.emplace_back(a.get("r:id"));
    if (name == "p:sldMasterId") masters.emplace_back(a.get("r:id"));
  }
  void end(std::string_view) override {}
  void text(std::string_view) override {}
  std::vector<std::string> slides;
  std::vector<std::string> masters;
};

ReadOutcome read_pptx(Package& pkg, const std::string& main) {
  TextCollector& c = pkg.collector();
  std::vector<Relationship> rels;
  PW_TRY(pkg.relationships(main, rels));
  PresentationHandler presentation;
  bool found = false;
  PW_TRY(pkg.parse(main, presentation, &found));
  if (!found) return ReadOutcome::stop(Unscannable::truncated, "the presentation part is missing");

  for (size_t i = 0; i < presentation.slides.size(); ++i) {
    const auto number = static_cast<uint32_t>(i + 1);
    const Relationship* r = by_id(rels, presentation.slides[i]);
    if (r == nullptr) continue;
    c.begin_part({Place::slide, number, "", "", i == 0}, r->target);
    DrawingHandler slide(c, {Place::slide, number}, false, false, i == 0 ? 3 : 0);
    PW_TRY(pkg.parse(r->target, slide));

    std::vector<Relationship> slide_rels;
    PW_TRY(pkg.relationships(r->target, slide_rels));
    for (const auto& sr : slide_rels) {
      if (sr.target.empty()) continue;
      if (sr.kind == "diagramData") {
        c.begin_part({Place::slide, number}, sr.target);
        DrawingHandler diagram(c, {Place::slide, number}, false, false, 0);
        PW_TRY(pkg.parse(sr.target, diagram));
      }
    }
    for (const auto& sr : slide_rels) {
      if (sr.target.empty()) continue;
      if (sr.kind == "notesSlide") {
        c.begin_part({Place::slide_notes, number}, sr.target);
        DrawingHandler notes(c, {Place::slide_notes, number}, false, true, 0);
        PW_TRY(pkg.parse(sr.target, notes));
      } else if (sr.kind == "comments") {
        c.begin_part({Place::comment, number}, sr.target);
        DrawingHandler comments(c, {Place::comment, number}, false, false, 0);
        PW_TRY(pkg.parse(sr.target, comments));
      }
    }
  }

  std::unordered_set<std::string> read_parts;
  for (const auto& id : presentation.masters) {
    const Relationship* r = by_id(rels, id);
    if (r == nullptr || !read_parts.insert(r->target).second) continue;
    std::vector<std::string> parts{r->target};
    std::vector<Relationship> master_rels;
    PW_TRY(pkg.relationships(r->target, master_rels));
    for (const auto& mr : master_rels) {
      if (mr.kind == "slideLayout" && !mr.target.empty() && read_parts.insert(mr.target).second) {
        parts.push_back(mr.target);
      }
    }
    for (const auto& part : parts) {
      c.begin_part({Place::slide_master}, part);
      DrawingHandler master(c, {Place::slide_master}, true, false, 0);
      PW_TRY(pkg.parse(part, master));
    }
  }
  return ReadOutcome::ok();
}

}  // namespace

ReadOutcome read_ooxml(FileType type, ZipArchive& zip, TextCollector& collector, ReadContext& ctx) {
  if (!zip.opened().good()) return zip.opened();
  Package pkg(zip, collector, ctx);
  std::vector<Relationship> rels;
  PW_TRY(pkg.relationships("", rels));
  const Relationship* main = first_of(rels, "officeDocument");
  if (main == nullptr) return ReadOutcome::stop(Unscannable::truncated, "no officeDocument relationship in _rels/.rels");
  const std::string main_part = main->target;
  switch (type) {
    case FileType::docx:
      PW_TRY(read_docx(pkg, main_part));
      break;
    case FileType::xlsx:
      PW_TRY(read_xlsx(pkg, main_part));
      break;
    case FileType::pptx:
      PW_TRY(read_pptx(pkg, main_part));
      break;
    default:
      return ReadOutcome::stop(Unscannable::extractor_failed, "read_ooxml called for a type that is not OOXML");
  }
  PW_TRY(read_properties(pkg));
  PW_TRY(read_embeddings(pkg));
  return ReadOutcome::ok();
}

}  // namespace promptwall::extractors
