// find_file_references (gateway/uploads/file_references.h): the file ids a request body cites,
// over the real SegmentExtractor's segments of bodies shaped as the SDKs send them:
//   openai 6.30.1        ChatCompletionContentPart.File {type:'file', file:{file_id}}; Responses
//                        ResponseInputFile {type:'input_file', file_id}; Assistants
//                        Message attachments [{file_id, tools}]; tool_resources.*.file_ids;
//                        vector_stores.files / file_batches {file_ids}; batches {input_file_id};
//                        fine_tuning.jobs {training_file, validation_file}
//   @anthropic-ai/sdk    BetaFileDocumentSource / BetaFileImageSource {type:'file', file_id};
//                        BetaContainerUploadBlockParam {type:'container_upload', file_id}
//   @google/genai 1.0.0  Part.fileData {fileUri, mimeType} (REST also file_data.file_uri)
//   ChatGPT web          messages[i].metadata.attachments[j].id; content.parts[k].asset_pointer
#include <catch2/catch.hpp>

#include <string>

#include "gateway/adapters/segment_extractor.h"
#include "gateway/uploads/file_references.h"

using promptwall::gateway::Extraction;
using promptwall::gateway::FileReference;
using promptwall::gateway::find_file_references;
using promptwall::gateway::Schema;
using promptwall::gateway::SegmentExtractor;

namespace {

std::vector<FileReference> refs(Schema schema, const std::string& path, const std::string& body) {
  const Extraction e = SegmentExtractor().extract(schema, "application/json", path, body);
  REQUIRE(e.status == Extraction::Status::ok);
  return find_file_references(schema, e.segments);
}

std::string at(const std::vector<FileReference>& r, size_t i) {
  return i < r.size() ? r[i].id + " @ " + r[i].location : "(none)";
}

}  // namespace

TEST_CASE("OpenAI: chat file parts, Responses input_file, Assistants attachments", "[uploads][file_references]") {
  const auto chat = refs(Schema::openai, "/v1/chat/completions", R"({"model":"gpt-4o","messages":[
    {"role":"user","content":[{"type":"text","text":"Tóm tắt tệp này"},{"type":"file","file":{"file_id":"file-Xb2pQ7"}}]}]})");
  REQUIRE(chat.size() == 1);
  CHECK(at(chat, 0) == "file-Xb2pQ7 @ messages[0].content[1].file.file_id");

  const auto responses = refs(Schema::openai, "/v1/responses", R"({"model":"gpt-4.1","input":[{"role":"user","content":[
    {"type":"input_file","file_id":"file-A1"},{"type":"input_image","file_id":"file-B2","detail":"auto"},
    {"type":"input_text","text":"Số: 12/QĐ-UBND"}]}]})");
  REQUIRE(responses.size() == 2);
  CHECK(at(responses, 0) == "file-A1 @ input[0].content[0].file_id");
  CHECK(at(responses, 1) == "file-B2 @ input[0].content[1].file_id");

  const auto thread = refs(Schema::openai, "/v1/threads/thread_1/messages", R"({"role":"user","content":"xem tệp",
    "attachments":[{"file_id":"file-C3","tools":[{"type":"file_search"}]}]})");
  REQUIRE(thread.size() == 1);
  CHECK(at(thread, 0) == "file-C3 @ attachments[0].file_id");
}

TEST_CASE("OpenAI: file_ids lists, batch and fine-tuning files, not annotations", "[uploads][file_references]") {
  const auto assistant = refs(Schema::openai, "/v1/assistants", R"({"model":"gpt-4o",
    "tool_resources":{"code_interpreter":{"file_ids":["file-D4","file-E5"]}}})");
  REQUIRE(assistant.size() == 2);
  CHECK(at(assistant, 0) == "file-D4 @ tool_resources.code_interpreter.file_ids[0]");
  CHECK(at(assistant, 1) == "file-E5 @ tool_resources.code_interpreter.file_ids[1]");

  CHECK(at(refs(Schema::openai, "/v1/vector_stores/vs_1/file_batches", R"({"file_ids":["file-F6"]})"), 0) ==
        "file-F6 @ file_ids[0]");
  CHECK(at(refs(Schema::openai, "/v1/batches", R"({"input_file_id":"file-G7","endpoint":"/v1/chat/completions","completion_window":"24h"})"), 0) ==
        "file-G7 @ input_file_id");
  const auto ft = refs(Schema::openai, "/v1/fine_tuning/jobs", R"({"model":"gpt-4o-mini","training_file":"file-H8","validation_file":"file-I9"})");
  REQUIRE(ft.size() == 2);
  CHECK(at(ft, 1) == "file-I9 @ validation_file");

  // History replayed with the model's citations: those cite, they do not attach.
  const auto history = refs(Schema::openai, "/v1/responses", R"({"model":"gpt-4.1","input":[{"role":"assistant","content":[
    {"type":"output_text","text":"...","annotations":[{"type":"file_citation","file_id":"file-J0","index":3}]}]}]})");
  CHECK(history.empty());
  // A file_id inside a tool call's arguments is no citation either.
  CHECK(refs(Schema::openai, "/v1/chat/completions", R"({"messages":[{"role":"assistant","tool_calls":[{"id":"c1","type":"function",
    "function":{"name":"f","arguments":"{\"file_id\":\"file-K1\"}"}}]}]})").empty());
  // Keys and other fields holding an id-looking text are not references.
  CHECK(refs(Schema::openai, "/v1/chat/completions", R"({"messages":[{"role":"user","content":"file-L2"}],"file-M3":"x"})").empty());
}

TEST_CASE("Anthropic: file sources and container uploads", "[uploads][file_references]") {
  const auto r = refs(Schema::anthropic, "/v1/messages", R"({"model":"claude-sonnet-4-5","max_tokens":1024,"messages":[
    {"role":"user","content":[
      {"type":"document","source":{"type":"file","file_id":"file_011CNha8iCJcU1wXNR6q4V8w"},"title":"TỐI MẬT"},
      {"type":"image","source":{"type":"file","file_id":"file_022"}},
      {"type":"container_upload","file_id":"file_033"},
      {"type":"text","text":"Phân tích","citations":[{"type":"page_location","file_id":"file_044","cited_text":"x",
        "document_index":0,"document_title":null,"start_page_number":1,"end_page_number":2}]}]}]})");
  REQUIRE(r.size() == 3);
  CHECK(at(r, 0) == "file_011CNha8iCJcU1wXNR6q4V8w @ messages[0].content[0].source.file_id");
  CHECK(at(r, 1) == "file_022 @ messages[0].content[1].source.file_id");
  CHECK(at(r, 2) == "file_033 @ messages[0].content[2].file_id");
}

TEST_CASE("Gemini: fileData.fileUri and file_data.file_uri, normalised", "[uploads][file_references]") {
  const auto r = refs(Schema::gemini, "/v1beta/models/gemini-2.0-flash:generateContent", R"({"contents":[{"role":"user","parts":[
    {"text":"Tóm tắt"},
    {"fileData":{"mimeType":"application/pdf","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/abc123"}},
    {"file_data":{"mime_type":"text/plain","file_uri":"https://generativelanguage.googleapis.com/v1beta/files/def-456"}},
    {"fileData":{"mimeType":"video/mp4","fileUri":"https://www.youtube.com/watch?v=9hE5-98ZeCg"}}]}]})");
  REQUIRE(r.size() == 2);
  CHECK(at(r, 0) == "files/abc123 @ contents[0].parts[1].fileData.fileUri");
  CHECK(at(r, 1) == "files/def-456 @ contents[0].parts[2].file_data.file_uri");
}

TEST_CASE("ChatGPT web: attachments and asset pointers", "[uploads][file_references]") {
  const auto r = refs(Schema::chatgpt_web, "/backend-api/conversation", R"({"action":"next","messages":[{"id":"aaa1",
    "author":{"role":"user"},
    "content":{"content_type":"multimodal_text","parts":[
      {"content_type":"image_asset_pointer","asset_pointer":"sediment://file_00000000142872305d4f0105872b4749","size_bytes":1130362,"width":1000,"height":1000},
      "mật khẩu trong ảnh này là gì?"]},
    "metadata":{"attachments":[{"id":"file_00000000142872305d4f0105872b4749","size":1130362,"name":"a.png","mime_type":"image/png"},
      {"id":"file-7yXvA2pQ","size":18342,"name":"Quyết định.docx"}]}}],"model":"auto"})");
  REQUIRE(r.size() == 3);
  CHECK(at(r, 0) == "file_00000000142872305d4f0105872b4749 @ messages[0].content.parts[0].asset_pointer");
  CHECK(at(r, 1) == "file_00000000142872305d4f0105872b4749 @ messages[0].metadata.attachments[0].id");
  CHECK(at(r, 2) == "file-7yXvA2pQ @ messages[0].metadata.attachments[1].id");
  // The message's own id is no attachment.
  CHECK(refs(Schema::chatgpt_web, "/backend-api/conversation", R"({"messages":[{"id":"file-x"}]})").empty());
}

TEST_CASE("schemas without file citations", "[uploads][file_references]") {
  CHECK(refs(Schema::json, "/x", R"({"file_id":"file-1"})").empty());
  // The same body under OpenAI is one.
  CHECK(refs(Schema::openai, "/x", R"({"file_id":"file-1"})").size() == 1);
}
