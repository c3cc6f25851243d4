#include "extractors/file_type.h"

#include "extractors/byte_order_mark.h"
#include "extractors/compound_file.h"

#include <unicode/ucnv.h>
#include <unicode/ucsdet.h>
#include <unicode/utf8.h>
#include <zip.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace promptwall::extractors {

namespace {

// How far each test looks. Detection runs on every file before any limit-aware reader, so every
// look is bounded by one of these, whatever the file claims.
constexpr size_t kPdfHeaderWindow = 1024;        // %PDF- may follow junk, as PDF readers allow
constexpr size_t kTextSample = 64 * 1024;        // bytes judged as text (UTF-8 validity, ICU's detector)
constexpr size_t kHeaderScan = 16 * 1024;        // an e-mail's header block looked at
constexpr zip_uint64_t kZipNames = 100'000;      // entry names looked at
constexpr size_t kContentTypesBytes = 256 * 1024;  // [Content_Types].xml read (inflated) at most
constexpr int32_t kMinCharsetConfidence = 10;    // ICU's 0..100; single-byte charsets score low

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool iequals_prefix(std::string_view s, std::string_view p) {
  if (s.size() < p.size()) return false;
  for (size_t i = 0; i < p.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != p[i]) return false;
  }
  return true;
}

uint16_t le16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | static_cast<uint8_t>(b[at + 1]) << 8);
}
uint32_t le32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(le16(b, at)) | static_cast<uint32_t>(le16(b, at + 2)) << 16;
}

// --- images -------------------------------------------------------------------------------------

bool is_image(std::string_view b) {
  if (starts_with(b, "\x89PNG\r\n\x1a\n")) return true;
  if (starts_with(b, "\xFF\xD8\xFF")) return true;
  if (starts_with(b, "GIF87a") || starts_with(b, "GIF89a")) return true;
  if (b.size() >= 12 && starts_with(b, "RIFF") && b.substr(8, 4) == "WEBP") return true;
  if (starts_with(b, std::string_view("II*\0", 4)) || starts_with(b, std::string_view("MM\0*", 4))) return true;
  // BMP: "BM", then the file size and a pixel-data offset inside the file (a bare "BM" is text).
  if (b.size() >= 26 && starts_with(b, "BM")) {
    const uint32_t offset = le32(b, 10), header = le32(b, 14);
    if ((header == 12 || header == 40 || header == 52 || header == 56 || header == 64 || header == 108 ||
         header == 124) && offset >= 14 + header && offset <= b.size())
      return true;
  }
  // ISO BMFF (HEIC, HEIF, AVIF): a box size, "ftyp", then the major brand.
  if (b.size() >= 12 && b.substr(4, 4) == "ftyp") {
    static constexpr std::array<std::string_view, 9> kBrands{"heic", "heix", "hevc", "hevx", "heim",
                                                             "heis", "mif1", "msf1", "avif"};
    const std::string_view brand = b.substr(8, 4);
    return std::find(kBrands.begin(), kBrands.end(), brand) != kBrands.end();
  }
  return false;
}

// --- zip ----------------------------------------------------------------------------------------

struct ZipCloser {
  void operator()(zip_t* z) const { zip_discard(z); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* f) const { zip_fclose(f); }
};

// Up to `max` inflated bytes of entry `index` (libzip inflates only as much as is asked for).
std::string read_entry_prefix(zip_t* z, zip_uint64_t index, size_t max) {
  std::unique_ptr<zip_file_t, ZipFileCloser> f(zip_fopen_index(z, index, 0));
  if (!f) return {};
  std::string out(max, '\0');
  size_t got = 0;
  while (got < max) {
    const zip_int64_t n = zip_fread(f.get(), out.data() + got, max - got);
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

FileType odf_type(std::string_view mimetype) {
  // The template types (ott, ots, otp) read as their documents.
  if (starts_with(mimetype, "application/vnd.oasis.opendocument.text")) return FileType::odt;
  if (starts_with(mimetype, "application/vnd.oasis.opendocument.spreadsheet")) return FileType::ods;
  if (starts_with(mimetype, "application/vnd.oasis.opendocument.presentation")) return FileType::odp;
  return FileType::zip;
}

// The OOXML type whose main part [Content_Types].xml names: an <Override PartName="/word/..."
// ContentType="...main+xml"/>. The part's folder decides, so macro-enabled and template variants
// (docm, dotx, xlsm, pptm, ppsx) read as their family.
FileType ooxml_type(std::string_view types) {
  size_t at = 0;
  while ((at = types.find("<Override", at)) != std::string_view::npos) {
    const size_t end = types.find('>', at);
    if (end == std::string_view::npos) break;
    const std::string_view element = types.substr(at, end - at);
    at = end;
    if (element.find("main+xml") == std::string_view::npos) continue;
    const size_t name = element.find("PartName=");
    if (name == std::string_view::npos || name + 11 > element.size()) continue;
    if ((element[name + 9] != '"' && element[name + 9] != '\'') || element[name + 10] != '/') continue;
    const std::string_view part = element.substr(name + 11);  // past PartName="/
    if (starts_with(part, "word/")) return FileType::docx;
    if (starts_with(part, "xl/")) return FileType::xlsx;
    if (starts_with(part, "ppt/")) return FileType::pptx;
  }
  return FileType::zip;
}

FileType zip_type(std::string_view bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (!source) {
    zip_error_fini(&error);
    return FileType::zip;
  }
  std::unique_ptr<zip_t, ZipCloser> z(zip_open_from_source(source, ZIP_RDONLY, &error));
  zip_error_fini(&error);
  if (!z) {
    zip_source_free(source);
    return FileType::zip;  // no readable directory: the zip reader says why
  }
  const zip_int64_t count = zip_get_num_entries(z.get(), 0);
  std::optional<zip_uint64_t> mimetype, content_types;
  bool word = false, xl = false, ppt = false;
  for (zip_uint64_t i = 0; count > 0 && i < static_cast<zip_uint64_t>(count) && i < kZipNames; ++i) {
    const char* raw = zip_get_name(z.get(), i, ZIP_FL_ENC_RAW);
    if (!raw) continue;
    const std::string_view name(raw);
    if (name == "mimetype") mimetype = i;
    else if (name == "[Content_Types].xml") content_types = i;
    else if (starts_with(name, "word/")) word = true;
    else if (starts_with(name, "xl/")) xl = true;
    else if (starts_with(name, "ppt/")) ppt = true;
  }
  if (mimetype) {
    const FileType t = odf_type(read_entry_prefix(z.get(), *mimetype, 128));
    if (t != FileType::zip) return t;
  }
  if (content_types) {
    const FileType t = ooxml_type(read_entry_prefix(z.get(), *content_types, kContentTypesBytes));
    if (t != FileType::zip) return t;
    // A [Content_Types].xml that names no main part (cut short, or written by a lax tool): the
    // package's one main folder decides.
    if (word + xl + ppt == 1) return word ? FileType::docx : xl ? FileType::xlsx : FileType::pptx;
  }
  return FileType::zip;
}

// --- OLE2 (Compound File Binary, [MS-CFB]) ------------------------------------------------------

DetectedType ole2_type(std::string_view bytes) {
  bool word = false, workbook = false, powerpoint = false, encrypted_package = false;
  const CompoundFile file(bytes);
  for (const auto& entry : file.entries()) {
    if (entry.type != 2) continue;  // streams only
    const std::u16string& name = entry.name;
    if (name == u"WordDocument") word = true;
    else if (name == u"Workbook" || name == u"Book") workbook = true;
    else if (name == u"PowerPoint Document") powerpoint = true;
    else if (name == u"EncryptedPackage") encrypted_package = true;
  }
  // An encrypted OOXML package does not say in the clear which of the three it is.
  if (encrypted_package) return {FileType::docx, true};
  if (word) return {FileType::doc, false};
  if (workbook) return {FileType::xls, false};
  if (powerpoint) return {FileType::ppt, false};
  return {};
}

// --- e-mail -------------------------------------------------------------------------------------

// An RFC 5322 header block: it opens with one of the fields a message starts with, every line up to
// the blank line is a field (name: value) or a folded continuation, and at least two fields a
// message has are present. A note that happens to start "Subject: ..." and then runs on is not mail.
bool is_email(std::string_view b) {
  static constexpr std::array<std::string_view, 12> kFirst{
      "from:", "to:", "subject:", "date:", "mime-version:", "received:", "return-path:",
      "message-id:", "delivered-to:", "x-", "reply-to:", "content-type:"};
  // Content-Type counts: a MIME entity without envelope fields (Google's multipart upload, as the
  // gateway hands it over with MIME-Version and Content-Type) is read the same way.
  static constexpr std::array<std::string_view, 9> kMessageFields{
      "from:", "to:", "subject:", "date:", "mime-version:", "received:", "message-id:", "cc:", "content-type:"};
  bool first_ok = false;
  for (auto f : kFirst)
    if (iequals_prefix(b, f)) first_ok = true;
  if (!first_ok) return false;
  const std::string_view head = b.substr(0, kHeaderScan);
  size_t at = 0, known = 0;
  while (at < head.size()) {
    size_t end = head.find('\n', at);
    if (end == std::string_view::npos) return false;  // the header block did not end in the scan window
    std::string_view line = head.substr(at, end - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    at = end + 1;
    if (line.empty()) return known >= 2;
    if (line[0] == ' ' || line[0] == '\t') continue;
    const size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) return false;
    for (size_t i = 0; i < colon; ++i) {
      const auto c = static_cast<uint8_t>(line[i]);
      if (c <= 32 || c >= 127) return false;  // field names are printable ASCII without spaces
    }
    for (auto f : kMessageFields)
      if (iequals_prefix(line, f)) ++known;
  }
  return false;
}

// --- text ---------------------------------------------------------------------------------------

// Control characters that text does not hold (NUL and the C0 controls other than tab, line feed,
// vertical tab, form feed, carriage return and escape).
bool binary_control(uint8_t c) { return c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' && c != 0x1B; }

// Valid UTF-8 without binary controls in `sample`; a sequence cut by the sample's end is allowed
// when the sample is a prefix of a longer file.
bool is_utf8_text(std::string_view sample, bool prefix) {
  const auto* s = reinterpret_cast<const uint8_t*>(sample.data());
  const auto n = static_cast<int32_t>(sample.size());
  int32_t i = 0;
  while (i < n) {
    const int32_t start = i;
    UChar32 c;
    U8_NEXT(s, i, n, c);
    if (c < 0) return prefix && n - start < 4 && i == n;
    if (c < 0x20 && binary_control(static_cast<uint8_t>(c))) return false;
  }
  return true;
}


// The sample converted to UTF-8 (for looking at how it starts), "" when ICU cannot.
std::string sample_as_utf8(std::string_view sample, const char* charset) {
  UErrorCode status = U_ZERO_ERROR;
  std::string out(sample.size() * 3 + 16, '\0');
  const int32_t n = ucnv_convert("UTF-8", charset, out.data(), static_cast<int32_t>(out.size()), sample.data(),
                                 static_cast<int32_t>(sample.size()), &status);
  if (U_FAILURE(status) && status != U_BUFFER_OVERFLOW_ERROR) return {};
  out.resize(static_cast<size_t>(std::min<int32_t>(n, static_cast<int32_t>(out.size()))));
  return out;
}

bool icu_names_a_charset(std::string_view sample) {
  for (unsigned char c : sample)
    if (binary_control(c)) return false;
  UErrorCode status = U_ZERO_ERROR;
  std::unique_ptr<UCharsetDetector, decltype(&ucsdet_close)> det(ucsdet_open(&status), &ucsdet_close);
  if (U_FAILURE(status)) return false;
  ucsdet_setText(det.get(), sample.data(), static_cast<int32_t>(sample.size()), &status);
  const UCharsetMatch* match = ucsdet_detect(det.get(), &status);
  if (U_FAILURE(status) || !match) return false;
  return ucsdet_getConfidence(match, &status) >= kMinCharsetConfidence && U_SUCCESS(status);
}

std::string_view skip_space(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
    s.remove_prefix(1);
  return s;
}

// A JSON object or array: the closing bracket at the end, and a first member that parses: `"key" :`
// in an object; in an array a string, number or literal followed by ',' or ']' (then only the end),
// or a nested object or array. "[1] Introduction" and "{{template}}" stay text.
bool looks_like_json(std::string_view head, std::string_view tail) {
  while (!tail.empty() && (tail.back() == ' ' || tail.back() == '\t' || tail.back() == '\r' || tail.back() == '\n'))
    tail.remove_suffix(1);
  const char open = head.front();
  if (tail.empty() || tail.back() != (open == '{' ? '}' : ']')) return false;
  std::string_view rest = skip_space(head.substr(1));
  if (rest.empty()) return false;
  const char first = rest.front();
  if (first == (open == '{' ? '}' : ']')) return skip_space(rest.substr(1)).empty();
  if (open == '[' && (first == '{' || first == '[')) return true;
  size_t n = 0;
  if (first == '"') {
    n = 1;
    while (n < rest.size() && rest[n] != '"' && rest[n] != '\n') n += rest[n] == '\\' ? 2 : 1;
    if (n >= rest.size() || rest[n] != '"') return false;
    ++n;
  } else if (open == '[') {
    while (n < rest.size() && std::string_view("+-.0123456789eEtruefalsn").find(rest[n]) != std::string_view::npos) ++n;
    const std::string_view token = rest.substr(0, n);
    const bool number = n > 0 && (token.front() == '-' || (token.front() >= '0' && token.front() <= '9'));
    if (!number && token != "true" && token != "false" && token != "null") return false;
  } else {
    return false;
  }
  rest = skip_space(rest.substr(n));
  if (rest.empty()) return false;
  if (open == '{') return rest.front() == ':';
  if (rest.front() == ']') return skip_space(rest.substr(1)).empty();
  return rest.front() == ',';
}

// html, xml, json or text, from how the (UTF-8) text starts and, for JSON, ends.
FileType text_kind(std::string_view head, std::string_view tail) {
  head = skip_space(head);
  if (iequals_prefix(head, "<!doctype html") || iequals_prefix(head, "<html")) return FileType::html;
  if (starts_with(head, "<?xml")) {
    // XHTML is HTML to read.
    const size_t end = head.find("?>");
    if (end != std::string_view::npos) {
      std::string_view rest = skip_space(head.substr(end + 2));
      if (iequals_prefix(rest, "<!doctype html") || iequals_prefix(rest, "<html")) return FileType::html;
    }
    return FileType::xml;
  }
  if (!head.empty() && (head.front() == '{' || head.front() == '[') && looks_like_json(head, tail))
    return FileType::json;
  return FileType::text;
}

DetectedType text_type(std::string_view bytes) {
  const std::string_view sample = bytes.substr(0, kTextSample);
  const bool prefix = bytes.size() > sample.size();
  const std::string_view tail = bytes.substr(bytes.size() - std::min<size_t>(bytes.size(), 64));
  for (const auto& bom : kByteOrderMarks) {
    if (!starts_with(bytes, bom.bytes)) continue;
    if (std::string_view(bom.charset) == "UTF-8") {
      if (!is_utf8_text(sample.substr(3), prefix)) return {};
      return {text_kind(sample.substr(3), tail), false};
    }
    // Whole code units only: the head is 4096 bytes, the tail starts a multiple of 4 into the text.
    const std::string_view body = bytes.substr(bom.bytes.size());
    const size_t tail_at = body.size() > 64 ? (body.size() - 64) / 4 * 4 : 0;
    const std::string head = sample_as_utf8(body.substr(0, 4096), bom.charset);
    const std::string end = sample_as_utf8(body.substr(tail_at), bom.charset);
    return {text_kind(head, end), false};
  }
  if (is_utf8_text(sample, prefix)) return {text_kind(sample, tail), false};
  if (icu_names_a_charset(sample)) return {text_kind(sample, tail), false};
  return {};
}

std::string_view find_pdf_header(std::string_view bytes) {
  const size_t at = bytes.substr(0, kPdfHeaderWindow + 5).find("%PDF-");
  return at == std::string_view::npos ? std::string_view{} : bytes.substr(at);
}

}  // namespace

DetectedType detect_file_type(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (starts_with(bytes, "%PDF-")) return {FileType::pdf, false};
  if (starts_with(bytes, "PK\x03\x04") || starts_with(bytes, "PK\x05\x06")) return {zip_type(bytes), false};
  if (starts_with(bytes, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1")) return ole2_type(bytes);
  if (starts_with(bytes, "{\\rtf")) return {FileType::rtf, false};
  if (is_image(bytes)) return {FileType::image, false};
  if (!find_pdf_header(bytes).empty()) return {FileType::pdf, false};
  if (is_email(bytes)) return {FileType::eml, false};
  return text_type(bytes);
}

}  // namespace promptwall::extractors
