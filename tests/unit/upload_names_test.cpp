// UploadNames: a file's name from the step that opened its upload, taken by the step that carries
// or completes it; bounded, the oldest forgotten first, a replaced name never evicted by its old entry.
#include <catch2/catch.hpp>

#include "gateway/uploads/upload_names.h"

using namespace promptwall::gateway;

TEST_CASE("upload names are taken once, per schema and id, and bounded", "[uploads]") {
  UploadNames names(2);
  names.remember({Schema::openai, "upload_1"}, "bao-cao.docx");
  names.remember({Schema::gemini, "upload_1"}, "khac.pdf");
  CHECK(names.take({Schema::openai, "upload_1"}) == "bao-cao.docx");
  CHECK(names.take({Schema::openai, "upload_1"}).empty());  // taken once
  CHECK(names.take({Schema::gemini, "upload_1"}) == "khac.pdf");

  names.remember({Schema::openai, "a"}, "a.docx");
  names.remember({Schema::openai, "b"}, "b.docx");
  names.remember({Schema::openai, "a"}, "a2.docx");  // replaced: its old entry must not evict it
  names.remember({Schema::openai, "c"}, "c.docx");   // over the bound: the oldest live name (b) goes
  CHECK(names.take({Schema::openai, "a"}) == "a2.docx");
  CHECK(names.take({Schema::openai, "b"}).empty());
  CHECK(names.take({Schema::openai, "c"}) == "c.docx");

  names.remember({Schema::openai, ""}, "ignored.docx");  // no id: nothing to key it by
  names.remember({Schema::openai, "d"}, "");            // no name: nothing to remember
  CHECK(names.take({Schema::openai, ""}).empty());
  CHECK(names.take({Schema::openai, "d"}).empty());
}
