// The byte order marks a text file may start with, and the charset (ICU converter name) each
// declares. One table for file_type (is it text?) and text_file_reader (its text as UTF-8).
// Order matters: UTF-32LE's mark FF FE 00 00 begins with UTF-16LE's FF FE, so the longer marks come
// first; a reader that fails to convert under one may try the next that matches. Plain constants.
#pragma once

#include <array>
#include <string_view>

namespace promptwall::extractors {

struct ByteOrderMark {
  std::string_view bytes;
  const char* charset;
};

inline constexpr std::array<ByteOrderMark, 5> kByteOrderMarks{{
    {std::string_view("\x00\x00\xFE\xFF", 4), "UTF-32BE"},
    {std::string_view("\xFF\xFE\x00\x00", 4), "UTF-32LE"},
    {"\xEF\xBB\xBF", "UTF-8"},
    {"\xFE\xFF", "UTF-16BE"},
    {"\xFF\xFE", "UTF-16LE"},
}};

}  // namespace promptwall::extractors
