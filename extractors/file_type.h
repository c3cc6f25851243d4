// detect_file_type: what a file is, from its first bytes and, for containers, its structure
// (the entries of a zip, the streams of an OLE2 file). Never from a name or a declared media type:
// a client can call anything "notes.txt".
//
//   %PDF-                       pdf (also when preceded by up to 1 KiB of junk, as readers allow)
//   PK\3\4 / PK\5\6             zip: `mimetype` entry = ODF type; [Content_Types].xml naming
//                               word/ | xl/ | ppt/ main parts = docx | xlsx | pptx; else zip
//   D0 CF 11 E0 A1 B1 1A E1     OLE2: stream "EncryptedPackage" = an encrypted OOXML (reported as
//                               its own type when the container says, else docx; `encrypted` set),
//                               "WordDocument" = doc, "Workbook"/"Book" = xls,
//                               "PowerPoint Document" = ppt; else unknown
//   {\rtf                       rtf
//   image signatures            image (PNG, JPEG, GIF, WebP, TIFF, BMP, HEIC/AVIF)
//   RFC 5322 header lines       eml (From:/To:/Subject:/Date:/MIME-Version:/Received: first)
//   text                        a BOM, valid UTF-8, or a single-byte charset ICU's detector names
//                               with confidence; then <html/<!doctype html → html, <?xml → xml,
//                               a JSON object/array → json, else text
//   anything else               unknown
// Thread-safe; pure.
#pragma once

#include <string_view>

#include "extractors/extracted_document.h"

namespace promptwall::extractors {

struct DetectedType {
  FileType type = FileType::unknown;
  bool encrypted = false;  // an OLE2 EncryptedPackage (password-protected OOXML)
};

DetectedType detect_file_type(std::string_view bytes);

}  // namespace promptwall::extractors
