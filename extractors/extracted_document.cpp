#include "extractors/extracted_document.h"

#include <algorithm>
#include <array>
#include <iterator>

namespace promptwall::extractors {

namespace {

struct UnscannableWords {
  Unscannable cause;
  std::string_view name, vi, en;
};
// One table: the spelling (the policy knob's key), and the words a staff member reads.
constexpr std::array<UnscannableWords, 13> kUnscannable{{
    {Unscannable::none, "none", "đã đọc", "read"},
    {Unscannable::encrypted, "encrypted", "tệp được bảo vệ bằng mật khẩu", "the file is password-protected"},
    {Unscannable::image_only, "image_only", "tệp chỉ có hình ảnh, không có chữ để kiểm tra",
     "the file holds only images, no text to check"},
    {Unscannable::too_big, "too_big", "tệp quá lớn để kiểm tra", "the file is too large to check"},
    {Unscannable::truncated, "truncated", "tệp bị hỏng hoặc không đầy đủ", "the file is damaged or incomplete"},
    {Unscannable::unknown_type, "unknown_type", "không nhận ra loại tệp", "the file type is not recognised"},
    {Unscannable::extractor_failed, "extractor_failed", "không đọc được nội dung tệp", "the file's content could not be read"},
    {Unscannable::timeout, "timeout", "đọc tệp quá thời gian cho phép", "reading the file took too long"},
    {Unscannable::zip_bomb, "zip_bomb", "tệp nén có cấu trúc nguy hiểm (bom nén)",
     "the compressed file is built to exhaust resources (zip bomb)"},
    {Unscannable::xml_bomb, "xml_bomb", "tệp chứa cấu trúc XML nguy hiểm", "the file holds a dangerous XML construct"},
    {Unscannable::too_many_entries, "too_many_entries", "tệp chứa quá nhiều thành phần",
     "the file holds too many entries"},
    {Unscannable::too_deep, "too_deep", "tệp lồng nhau quá nhiều cấp", "files are nested too deeply"},
    {Unscannable::unscanned_reference, "unscanned_reference", "tệp được nhắc đến chưa từng được kiểm tra",
     "the file referred to was never checked"},
}};

const UnscannableWords& words(Unscannable u) {
  for (const auto& w : kUnscannable)
    if (w.cause == u) return w;
  return kUnscannable[0];
}

struct PlaceWords {
  Place place;
  std::string_view name, vi, en;
};
constexpr std::array<PlaceWords, 19> kPlaces{{
    {Place::body, "body", "nội dung", "body"},
    {Place::header, "header", "đầu trang", "page header"},
    {Place::footer, "footer", "chân trang", "page footer"},
    {Place::table, "table", "bảng", "table"},
    {Place::footnote, "footnote", "chú thích", "footnote"},
    {Place::comment, "comment", "nhận xét", "comment"},
    {Place::text_box, "text_box", "hộp văn bản", "text box"},
    {Place::tracked_deletion, "tracked_deletion", "phần đã xoá còn lưu vết", "tracked deletion"},
    {Place::field_code, "field_code", "mã trường", "field code"},
    {Place::hidden_text, "hidden_text", "chữ ẩn", "hidden text"},
    {Place::properties, "properties", "thuộc tính tài liệu", "document properties"},
    {Place::sheet, "sheet", "trang tính", "sheet"},
    {Place::sheet_name, "sheet_name", "tên trang tính", "sheet name"},
    {Place::slide, "slide", "trang chiếu", "slide"},
    {Place::slide_notes, "slide_notes", "ghi chú trang chiếu", "slide notes"},
    {Place::slide_master, "slide_master", "trang chiếu cái", "slide master"},
    {Place::file_name, "file_name", "tên tệp", "file name"},
    {Place::email_header, "email_header", "tiêu đề thư", "e-mail header"},
    {Place::attachment, "attachment", "tệp đính kèm", "attachment"},
}};

const PlaceWords& words(Place p) {
  for (const auto& w : kPlaces)
    if (w.place == p) return w;
  return kPlaces[0];
}

std::string describe(const SpanPlace& p, bool vi) {
  std::string out;
  if (!p.inner.empty()) out = p.inner + ", ";
  const std::string_view place = vi ? words(p.place).vi : words(p.place).en;
  const std::string page = std::to_string(p.page);
  switch (p.place) {
    case Place::sheet:
      out += (vi ? "trang tính " : "sheet ") + (p.page ? page : std::string("?"));
      if (!p.cell.empty()) out += (vi ? ", ô " : ", cell ") + p.cell;
      return out;
    case Place::slide:
      out += (vi ? "trang chiếu " : "slide ") + (p.page ? page : std::string("?"));
      return out;
    case Place::slide_notes:
      out += p.page ? (vi ? "ghi chú trang chiếu " : "slide " + page + " notes") : std::string(place);
      if (vi && p.page) out += page;
      return out;
    case Place::body:
      if (p.page) {
        out += (vi ? "trang " : "page ") + page;
        return out;
      }
      break;
    default:
      break;
  }
  out += place;
  if (p.page) out += (vi ? ", trang " : ", page ") + page;
  if (!p.cell.empty()) out += (vi ? ", ô " : ", cell ") + p.cell;
  return out;
}

}  // namespace

std::string_view to_string(FileType t) {
  switch (t) {
    case FileType::unknown: return "unknown";
    case FileType::text: return "text";
    case FileType::html: return "html";
    case FileType::xml: return "xml";
    case FileType::json: return "json";
    case FileType::rtf: return "rtf";
    case FileType::pdf: return "pdf";
    case FileType::docx: return "docx";
    case FileType::xlsx: return "xlsx";
    case FileType::pptx: return "pptx";
    case FileType::odt: return "odt";
    case FileType::ods: return "ods";
    case FileType::odp: return "odp";
    case FileType::doc: return "doc";
    case FileType::xls: return "xls";
    case FileType::ppt: return "ppt";
    case FileType::zip: return "zip";
    case FileType::eml: return "eml";
    case FileType::image: return "image";
  }
  return "unknown";
}

std::string_view media_type(FileType t) {
  switch (t) {
    case FileType::unknown: return "application/octet-stream";
    case FileType::text: return "text/plain";
    case FileType::html: return "text/html";
    case FileType::xml: return "application/xml";
    case FileType::json: return "application/json";
    case FileType::rtf: return "application/rtf";
    case FileType::pdf: return "application/pdf";
    case FileType::docx: return "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    case FileType::xlsx: return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    case FileType::pptx: return "application/vnd.openxmlformats-officedocument.presentationml.presentation";
    case FileType::odt: return "application/vnd.oasis.opendocument.text";
    case FileType::ods: return "application/vnd.oasis.opendocument.spreadsheet";
    case FileType::odp: return "application/vnd.oasis.opendocument.presentation";
    case FileType::doc: return "application/msword";
    case FileType::xls: return "application/vnd.ms-excel";
    case FileType::ppt: return "application/vnd.ms-powerpoint";
    case FileType::zip: return "application/zip";
    case FileType::eml: return "message/rfc822";
    case FileType::image: return "image/*";
  }
  return "application/octet-stream";
}

std::string_view to_string(Unscannable u) { return words(u).name; }
std::string_view describe_vi(Unscannable u) { return words(u).vi; }
std::string_view describe_en(Unscannable u) { return words(u).en; }

std::optional<Unscannable> unscannable_from_string(std::string_view s) {
  for (const auto& w : kUnscannable)
    if (w.name == s && w.cause != Unscannable::none) return w.cause;
  return std::nullopt;
}

std::string_view to_string(Place p) { return words(p).name; }
std::string_view describe_vi(Place p) { return words(p).vi; }
std::string_view describe_en(Place p) { return words(p).en; }

std::string describe_en(const SpanPlace& p) { return describe(p, false); }
std::string describe_vi(const SpanPlace& p) { return describe(p, true); }

const SpanPlace& TextPart::place_at(size_t offset) const {
  // A sheet anchors every cell: binary search, anchors are ascending (the invariant).
  auto after = std::upper_bound(anchors.begin(), anchors.end(), offset,
                                [](size_t o, const Anchor& a) { return o < a.offset; });
  return after == anchors.begin() ? place : std::prev(after)->place;
}

size_t ExtractedDocument::text_bytes() const {
  size_t n = 0;
  for (const auto& p : parts) n += p.text.size();
  return n;
}

}  // namespace promptwall::extractors
