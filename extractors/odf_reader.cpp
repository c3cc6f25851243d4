#include "extractors/odf_reader.h"

#include <algorithm>
#include <charconv>
#include <vector>

#include "extractors/office_layout.h"
#include "extractors/xml_sax.h"

namespace promptwall::extractors {
namespace {

using office::column_name;
using office::PlacedWriter;
using office::TableLayout;

#define PW_TRY(expr)               \
  do {                             \
    ReadOutcome pw_r = (expr);     \
    if (!pw_r.good()) return pw_r; \
  } while (false)

uint32_t number_attribute(std::string_view v, uint32_t fallback) {
  uint32_t n = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  return (ec == std::errc() && p == v.data() + v.size()) ? n : fallback;
}

// Paragraphs kept aside while the body streams on (notes, comments, deletions, slide notes).
struct AsidePart {
  Place place;
  std::vector<std::pair<SpanPlace, std::string>> paragraphs;
};

class OdfTextHandler : public XmlHandler {
 public:
  enum class Part { content, styles };

  OdfTextHandler(TextCollector& c, FileType type, Part part, std::string source)
      : writer_(c), table_(c), type_(type), part_(part), source_(std::move(source)) {}

  void start(std::string_view name, const XmlAttributes& a) override {
    if (skip_ > 0) {
      ++skip_;
      return;
    }
    if (part_ == Part::styles) {
      if (name == "style:master-page") {
        ++master_;
      } else if (master_ > 0 && (name.substr(0, 12) == "style:header" || name.substr(0, 12) == "style:footer")) {
        begin_aside(name.substr(0, 12) == "style:header" ? Place::header : Place::footer);
      } else if (master_ > 0 && name == "presentation:notes") {
        skip_ = 1;  // the notes master: placeholders only
        return;
      }
      if (master_ == 0) return;
    }
    if (name == "text:p" || name == "text:h") {
      if (paragraph_depth_ > 0) saved_paragraph_text_.push_back(paragraph_text_);
      ++paragraph_depth_;
      paragraph_text_ = false;
    } else if (name == "text:span" || name == "text:a") {
      // runs: their text flows into the paragraph
    } else if (name == "text:s") {
      emit(std::string(std::min(number_attribute(a.get("text:c"), 1), kMaxOdfSpaces), ' '));
    } else if (name == "text:tab") {
      emit(in_cell() ? " " : "\t");
    } else if (name == "text:line-break") {
      emit(in_cell() ? " " : "\n");
    } else if (name == "office:annotation" || name == "officeooo:annotation") {
      // officeooo: LibreOffice writes a comment on a presentation page in its own namespace
      begin_aside(Place::comment);
    } else if ((name == "presentation:footer-decl" || name == "presentation:header-decl") && part_ == Part::content) {
      // The text of a presentation's footer (header on notes pages): declared once, shown on
      // every page that names it; character data directly inside, no text:p.
      begin_aside(name == "presentation:footer-decl" ? Place::footer : Place::header);
      ++paragraph_depth_;
      paragraph_text_ = false;
    } else if (part_ == Part::styles &&
               (name == "text:page-number" || name == "text:page-count" || name == "text:date" ||
                name == "text:time")) {
      skip_ = 1;  // a master page's field shows what the tool computes ("<number>", today's date)
    } else if (name == "text:note-body") {
      begin_aside(Place::footnote);
    } else if (name == "text:tracked-changes") {
      begin_aside(Place::tracked_deletion);
    } else if (name == "text:note-citation" || name == "office:change-info" || name == "office:annotation-end" ||
               (aside_depth_ > 0 && aside_place_ == Place::comment && (name == "dc:creator" || name == "dc:date"))) {
      skip_ = 1;  // the note's number, who changed or commented when: not the document's words
    } else if (name == "presentation:notes" && part_ == Part::content) {
      begin_aside(Place::slide_notes);
    } else if (name == "draw:page" && part_ == Part::content) {
      ++slide_;
      slide_paragraphs_ = 0;
      writer_.collector().begin_part({Place::slide, slide_, "", "", slide_ == 1}, source_);
      writer_.reset();
    } else if (name == "draw:text-box" && type_ == FileType::odt && part_ == Part::content) {
      if (!in_cell()) writer_.collector().end_paragraph();
      ++text_box_;
    } else if (name == "text:section") {
      sections_.push_back(a.get("text:display") == "none");
      if (sections_.back()) ++hidden_;
    } else if (name == "table:table") {
      table_start(a);
    } else if (name == "table:table-row") {
      row_start(a);
    } else if (name == "table:table-cell" || name == "table:covered-table-cell") {
      cell_start(a);
    }
  }

  void end(std::string_view name) override {
    if (skip_ > 0) {
      --skip_;
      return;
    }
    if (part_ == Part::styles) {
      if (name == "style:master-page") {
        if (master_ > 0) --master_;
        return;
      }
      if (master_ > 0 && (name.substr(0, 12) == "style:header" || name.substr(0, 12) == "style:footer")) {
        end_aside();
        return;
      }
      if (master_ == 0) return;
    }
    if (name == "text:p" || name == "text:h") {
      paragraph_end();
    } else if (name == "office:annotation" || name == "officeooo:annotation" || name == "text:note-body" ||
               name == "text:tracked-changes" || (name == "presentation:notes" && part_ == Part::content)) {
      end_aside();
    } else if ((name == "presentation:footer-decl" || name == "presentation:header-decl") && part_ == Part::content) {
      if (paragraph_depth_ > 0) --paragraph_depth_;
      end_aside();
    } else if (name == "draw:page" && part_ == Part::content) {
      flush_asides_of(Place::slide_notes);
    } else if (name == "draw:text-box" && type_ == FileType::odt && part_ == Part::content) {
      if (text_box_ > 0) --text_box_;
      if (!in_cell()) writer_.collector().end_paragraph();
    } else if (name == "text:section") {
      if (!sections_.empty()) {
        if (sections_.back() && hidden_ > 0) --hidden_;
        sections_.pop_back();
      }
    } else if (name == "table:table") {
      table_end();
    } else if (name == "table:table-row") {
      row_end();
    } else if (name == "table:table-cell" || name == "table:covered-table-cell") {
      cell_end();
    }
  }

  void text(std::string_view chars) override {
    if (skip_ == 0 && paragraph_depth_ > 0 && (part_ == Part::content || master_ > 0)) emit(chars);
  }

  bool done() const override { return writer_.full(); }

  // After the parse: the parts kept aside, and (ods) the sheet names.
  void finish() {
    if (!sheet_names_.empty()) {
      TextCollector& c = writer_.collector();
      c.begin_part({Place::sheet_name}, source_);
      for (size_t i = 0; i < sheet_names_.size(); ++i) {
        c.anchor({Place::sheet_name, static_cast<uint32_t>(i + 1)});
        c.text(sheet_names_[i]);
        c.end_paragraph();
      }
    }
    for (const Place p : {Place::header, Place::footer, Place::slide_master, Place::footnote, Place::comment,
                          Place::tracked_deletion, Place::slide_notes}) {
      flush_asides_of(p);
    }
  }

 private:
  bool in_cell() const { return cell_open_ || table_.in_cell(); }

  // ---- aside parts ----
  void begin_aside(Place place) {
    if (aside_depth_++ > 0) return;  // nested: stays with the outer aside
    aside_place_ = place;
    // The cell being read: its column and row are the ones after those already counted.
    aside_cell_ = (type_ == FileType::ods && cell_open_) ? column_name(column_ + 1) + std::to_string(row_ + 1) : std::string();
    aside_text_.clear();
  }
  void end_aside() {
    if (aside_depth_ == 0) return;
    if (--aside_depth_ > 0) return;
    push_aside_paragraph();
  }
  void push_aside_paragraph() {
    if (aside_text_.find_first_not_of(" \t\n") == std::string::npos) {
      aside_text_.clear();
      return;
    }
    const uint32_t page = type_ == FileType::ods ? sheet_ : slide_;
    SpanPlace place{aside_place_, page, aside_cell_, "", aside_place_ == Place::header};
    auto it = std::find_if(asides_.begin(), asides_.end(), [&](const AsidePart& p) { return p.place == aside_place_; });
    if (it == asides_.end()) it = asides_.insert(asides_.end(), AsidePart{aside_place_, {}});
    // Headers repeat per master page and per left/first variant: each text once.
    const bool repeated = (aside_place_ == Place::header || aside_place_ == Place::footer) &&
                          std::any_of(it->paragraphs.begin(), it->paragraphs.end(),
                                      [&](const auto& p) { return p.second == aside_text_; });
    if (!repeated) it->paragraphs.emplace_back(std::move(place), std::move(aside_text_));
    aside_text_.clear();
  }
  void flush_asides_of(Place place) {
    auto it = std::find_if(asides_.begin(), asides_.end(), [&](const AsidePart& p) { return p.place == place; });
    if (it == asides_.end() || it->paragraphs.empty()) return;
    TextCollector& c = writer_.collector();
    SpanPlace part_place = it->paragraphs.front().first;
    part_place.cell.clear();
    c.begin_part(part_place, source_);
    for (auto& [p, text] : it->paragraphs) {
      c.anchor(p);
      c.text(text);
      c.end_paragraph();
    }
    it->paragraphs.clear();
    writer_.reset();
    if (place == Place::slide_notes && slide_ > 0) {
      // Back to the slide's own part for whatever follows the notes on this page.
      c.begin_part({Place::slide, slide_}, source_);
    }
  }

  // ---- paragraphs and text ----
  void emit(std::string_view s) {
    if (s.empty()) return;
    if (aside_depth_ > 0) {
      aside_text_.append(s);
      return;
    }
    if (part_ == Part::styles) {
      // odp master slides: frames outside headers and footers
      aside_place_ = Place::slide_master;
      aside_text_.append(s);
      master_text_pending_ = true;
      return;
    }
    if (type_ == FileType::ods && cell_open_) {
      if (cell_space_pending_ && !cell_text_.empty()) cell_text_ += ' ';
      cell_space_pending_ = false;
      cell_text_.append(s);
      return;
    }
    SpanPlace place;
    if (type_ == FileType::odp) {
      place = {Place::slide, slide_, "", "", slide_ == 1 && slide_paragraphs_ < 3};
    } else if (text_box_ > 0) {
      place = {Place::text_box, 0, "", "", body_paragraphs_ < 3};
    } else if (table_.in_cell()) {
      place = {Place::table, 0, "", "", table_.first_cell()};
    } else {
      place = {Place::body, 0, "", "", body_paragraphs_ < 3};
    }
    if (hidden_ > 0) place.place = Place::hidden_text;
    if (table_.in_cell()) table_.before_text(writer_, place);
    writer_.write(s, place);
    paragraph_text_ = true;
  }

  void paragraph_end() {
    if (paragraph_depth_ > 0) --paragraph_depth_;
    if (aside_depth_ > 0) {
      push_aside_paragraph();
    } else if (part_ == Part::styles) {
      if (master_text_pending_) {
        aside_depth_ = 1;
        push_aside_paragraph();
        aside_depth_ = 0;
        master_text_pending_ = false;
      }
    } else if (type_ == FileType::ods && cell_open_) {
      cell_space_pending_ = true;
    } else if (table_.in_cell()) {
      table_.paragraph_end();
    } else if (paragraph_text_) {
      writer_.collector().end_paragraph();
      if (type_ == FileType::odp) {
        ++slide_paragraphs_;
      } else if (text_box_ == 0) {
        ++body_paragraphs_;
      }
    }
    paragraph_text_ = false;
    if (!saved_paragraph_text_.empty()) {
      paragraph_text_ = saved_paragraph_text_.back();
      saved_paragraph_text_.pop_back();
    }
  }

  // ---- tables: ods sheets, or odt/odp tables ----
  bool sheet_mode() const { return type_ == FileType::ods && part_ == Part::content; }

  void table_start(const XmlAttributes& a) {
    if (sheet_mode() && ++table_depth_ == 1) {
      ++sheet_;
      sheet_names_.emplace_back(a.get("table:name"));
      row_ = 0;
      seen_row_ = false;
      writer_.collector().begin_part({Place::sheet, sheet_}, source_);
      writer_.reset();
      return;
    }
    if (!sheet_mode()) table_.table_start();
  }
  void table_end() {
    if (sheet_mode()) {
      if (table_depth_ > 0) --table_depth_;
      return;
    }
    table_.table_end();
  }
  void row_start(const XmlAttributes& a) {
    if (sheet_mode()) {
      if (table_depth_ != 1) return;
      row_repeat_ = std::max<uint32_t>(1, number_attribute(a.get("table:number-rows-repeated"), 1));
      column_ = 0;
      cells_.clear();
      return;
    }
    table_.row_start();
  }
  void row_end() {
    if (sheet_mode()) {
      if (table_depth_ != 1) return;
      const uint32_t first_row = row_ + 1;
      const uint64_t next = uint64_t{row_} + row_repeat_;
      row_ = static_cast<uint32_t>(std::min<uint64_t>(next, UINT32_MAX));
      if (cells_.empty()) return;  // empty rows, however many, are not expanded
      const uint32_t copies = std::min(row_repeat_, kMaxOdfRepeat);
      for (uint32_t k = 0; k < copies; ++k) flush_row(first_row + k);
      return;
    }
    table_.row_end();
  }
  void cell_start(const XmlAttributes& a) {
    if (sheet_mode()) {
      if (table_depth_ != 1) return;
      cell_open_ = true;
      cell_text_.clear();
      cell_space_pending_ = false;
      cell_repeat_ = std::max<uint32_t>(1, number_attribute(a.get("table:number-columns-repeated"), 1));
      value_type_ = a.get("office:value-type");
      if (value_type_.empty()) value_type_ = a.get("calcext:value-type");
      value_ = value_type_ == "date"      ? a.get("office:date-value")
               : value_type_ == "time"    ? a.get("office:time-value")
               : value_type_ == "boolean" ? a.get("office:boolean-value")
                                          : a.get("office:value");
      return;
    }
    table_.cell_start();
  }
  void cell_end() {
    if (!sheet_mode() || table_depth_ != 1 || !cell_open_) return;
    cell_open_ = false;
    std::string text = cell_value();
    const uint32_t first_column = column_ + 1;
    column_ = static_cast<uint32_t>(std::min<uint64_t>(uint64_t{column_} + cell_repeat_, UINT32_MAX));
    if (text.empty()) return;  // empty cells, however many, are not expanded
    const uint32_t copies = std::min(cell_repeat_, kMaxOdfRepeat);
    for (uint32_t k = 0; k < copies; ++k) cells_.emplace_back(first_column + k, text);
  }
  std::string cell_value() const {
    if (value_type_ == "float" || value_type_ == "percentage" || value_type_ == "currency") {
      // The shown digits when they are the value with the leading zeros a format adds.
      const std::string_view shown = cell_text_;
      if (!shown.empty() && shown.find_first_not_of("0123456789") == std::string_view::npos && shown[0] == '0') {
        const size_t nonzero = shown.find_first_not_of('0');
        if (nonzero != std::string_view::npos && shown.substr(nonzero) == value_) return cell_text_;
      }
      return value_.empty() ? cell_text_ : std::string(value_);
    }
    if (value_type_ == "boolean") return value_ == "true" ? "TRUE" : value_ == "false" ? "FALSE" : cell_text_;
    if ((value_type_ == "date" || value_type_ == "time") && !value_.empty()) return std::string(value_);
    return cell_text_;
  }
  void flush_row(uint32_t row) {
    const bool prominent = sheet_ == 1 && !seen_row_;
    seen_row_ = true;
    uint32_t previous = 1;
    size_t tabs = 0;
    TextCollector& c = writer_.collector();
    for (size_t i = 0; i < cells_.size(); ++i) {
      const uint32_t column = cells_[i].first;
      uint32_t gap = column > previous ? column - previous : (i > 0 ? 1 : 0);
      if (tabs + gap > 256) gap = std::min<uint32_t>(gap, 1);
      for (uint32_t g = 0; g < gap; ++g) c.end_cell();
      tabs += gap;
      writer_.write(cells_[i].second, SpanPlace{Place::sheet, sheet_, column_name(column) + std::to_string(row), "",
                                                prominent});
      previous = column;
    }
    c.end_paragraph();
  }

  PlacedWriter writer_;
  TableLayout table_;
  FileType type_;
  Part part_;
  std::string source_;
  size_t skip_ = 0;
  size_t master_ = 0;
  bool master_text_pending_ = false;
  size_t paragraph_depth_ = 0;
  bool paragraph_text_ = false;
  std::vector<bool> saved_paragraph_text_;
  size_t body_paragraphs_ = 0;
  size_t text_box_ = 0;
  size_t hidden_ = 0;
  std::vector<bool> sections_;  // each open text:section: hidden or not
  uint32_t slide_ = 0;
  size_t slide_paragraphs_ = 0;
  // asides
  size_t aside_depth_ = 0;
  Place aside_place_ = Place::comment;
  std::string aside_cell_;
  std::string aside_text_;
  std::vector<AsidePart> asides_;
  // ods
  size_t table_depth_ = 0;
  uint32_t sheet_ = 0;
  std::vector<std::string> sheet_names_;
  uint32_t row_ = 0;
  uint32_t row_repeat_ = 1;
  uint32_t column_ = 0;
  uint32_t cell_repeat_ = 1;
  bool cell_open_ = false;
  bool cell_space_pending_ = false;
  bool seen_row_ = false;
  std::string cell_text_;
  std::string value_type_;
  std::string value_;
  std::vector<std::pair<uint32_t, std::string>> cells_;
};

class ManifestHandler : public XmlHandler {
 public:
  void start(std::string_view name, const XmlAttributes&) override {
    if (name == "manifest:encryption-data") encrypted = true;
  }
  void end(std::string_view) override {}
  void text(std::string_view) override {}
  bool encrypted = false;
};

class MetaHandler : public XmlHandler {
 public:
  explicit MetaHandler(TextCollector& c) : c_(c) {}
  void start(std::string_view name, const XmlAttributes& a) override {
    value_.clear();
    if (name == "meta:user-defined") property_ = a.get("meta:name");
  }
  void end(std::string_view name) override {
    const bool wanted = name == "dc:title" || name == "dc:subject" || name == "dc:description" ||
                        name == "meta:keyword" || name == "dc:creator" || name == "meta:initial-creator" ||
                        name == "meta:user-defined";
    if (wanted && value_.find_first_not_of(" \t\r\n") != std::string::npos) {
      if (name == "meta:user-defined") {
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
  TextCollector& c_;
  std::string value_;
  std::string property_;
};

ReadOutcome parse_part(ZipArchive& zip, std::string_view part, XmlHandler& handler, bool& found) {
  found = false;
  const auto index = zip.find(part);
  if (!index) return ReadOutcome::ok();
  found = true;
  std::string xml;
  ReadOutcome r = zip.read(*index, xml);
  if (!r.good()) {
    if (r.cause != Unscannable::zip_bomb && r.cause != Unscannable::too_big) r.detail = std::string(part) + ": " + r.detail;
    return r;
  }
  return parse_xml(xml, part, handler);
}

}  // namespace

ReadOutcome read_odf(FileType type, ZipArchive& zip, TextCollector& collector, ReadContext&) {
  if (!zip.opened().good()) return zip.opened();
  if (type != FileType::odt && type != FileType::ods && type != FileType::odp) {
    return ReadOutcome::stop(Unscannable::extractor_failed, "read_odf called for a type that is not ODF");
  }
  bool found = false;
  ManifestHandler manifest;
  PW_TRY(parse_part(zip, "META-INF/manifest.xml", manifest, found));
  if (manifest.encrypted) return ReadOutcome::stop(Unscannable::encrypted, "the package's parts are encrypted");

  OdfTextHandler content(collector, type, OdfTextHandler::Part::content, "content.xml");
  collector.begin_part({Place::body}, "content.xml");
  PW_TRY(parse_part(zip, "content.xml", content, found));
  if (!found) return ReadOutcome::stop(Unscannable::truncated, "content.xml is missing");
  content.finish();

  OdfTextHandler styles(collector, type, OdfTextHandler::Part::styles, "styles.xml");
  PW_TRY(parse_part(zip, "styles.xml", styles, found));
  styles.finish();

  collector.begin_part({Place::properties}, "meta.xml");
  MetaHandler meta(collector);
  PW_TRY(parse_part(zip, "meta.xml", meta, found));
  return ReadOutcome::ok();
}

}  // namespace promptwall::extractors
