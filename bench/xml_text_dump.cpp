// xml_text_dump: the baseline the extraction bench holds the zip formats' readers against: every
// character-data byte of the XML on stdin to stdout, through expat and nothing else (no places, no
// paragraphs, no cells, no UTF-8 repair, no limits). `unzip -p` concatenates the parts it is given,
// so each "<?xml" declaration, or a second root element, starts a new document with a fresh parser.
// Usage: unzip -p file.docx word/document.xml | xml_text_dump > /dev/null
#include <expat.h>

#include <cstdio>
#include <iostream>
#include <iterator>
#include <string>
#include <string_view>

namespace {

void on_text(void*, const XML_Char* s, int len) { std::fwrite(s, 1, static_cast<size_t>(len), stdout); }

// Dumps one document; returns the bytes it used (the whole input, or up to where a second root
// element starts: parts written without an XML declaration are concatenated too), 0 on an error.
size_t dump(std::string_view xml) {
  XML_Parser parser = XML_ParserCreate(nullptr);
  XML_SetCharacterDataHandler(parser, on_text);
  size_t used = xml.size();
  if (XML_Parse(parser, xml.data(), static_cast<int>(xml.size()), 1) != XML_STATUS_OK) {
    const XML_Error error = XML_GetErrorCode(parser);
    const auto at = XML_GetCurrentByteIndex(parser);
    if (error == XML_ERROR_JUNK_AFTER_DOC_ELEMENT && at > 0) {
      used = static_cast<size_t>(at);
    } else {
      std::fprintf(stderr, "xml_text_dump: %s\n", XML_ErrorString(error));
      used = 0;
    }
  }
  XML_ParserFree(parser);
  return used;
}

}  // namespace

int main() {
  std::ios::sync_with_stdio(false);
  const std::string in((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  const std::string_view all(in);
  bool ok = true;
  size_t start = 0;
  while (start < all.size()) {
    size_t next = all.find("<?xml", start + 1);
    if (next == std::string_view::npos) next = all.size();
    const size_t used = dump(all.substr(start, next - start));
    if (used == 0) {
      ok = false;
      start = next;
    } else {
      start += used;
    }
  }
  return ok ? 0 : 1;
}
