// FileReference: a file id a request body cites, so that the gateway can judge the request by what
// it learned of that file when it was uploaded (file_registry.h), or know it never scanned it
// (Unscannable::unscanned_reference). Read from the SegmentExtractor's segments (their `location`
// and `text`), so nothing is parsed twice and the coverage invariants stay the extractor's.
//
// Where each API cites a file (the last steps of a segment's location):
//   openai       …file_id                 chat `content[i].file.file_id`, Responses `input_file` /
//                                          `input_image` `file_id`, Assistants
//                                          `attachments[i].file_id`, `image_file.file_id`
//                …file_ids[n]             `file_ids`, `tool_resources.*.file_ids`, vector stores
//                input_file_id, training_file, validation_file    Batch and fine-tuning
//                not under `annotations[…]`: those are the model's citations replayed as history
//   anthropic    …source.file_id          document and image blocks' {"type": "file", "file_id"}
//                messages[i].content[j].file_id   container_upload blocks
//                (citations' and tool results' file_id are outputs the upstream made: not read)
//   gemini       …file_data.file_uri, …fileData.fileUri   (a URI that is no Files API file, such
//                                          as a YouTube URL or gs://, is not an upload: skipped)
//   chatgpt_web  …attachments[n].id (message metadata), …asset_pointer ("file-service://file-…",
//                                          "sediment://file_…")
//   other schemas: none.
// Only JSON string values in the body itself are read (not keys, not decoded base64, not JSON
// inside a string such as a tool call's `arguments`, which the API does not read as a citation).
//
// Invariants: references are in body order; every occurrence is returned (the same id cited twice
// is two references, at two locations); `id` is normalise_file_id(schema, text), never "".
// Threads: pure function.
#pragma once

#include <string>
#include <vector>

#include "gateway/adapters/segment_extractor.h"
#include "gateway/catalog/service.h"

namespace promptwall::gateway {

struct FileReference {
  std::string id;        // normalised as FileRegistry keys it
  std::string location;  // the segment's location ("messages[0].content[1].file.file_id")
};

std::vector<FileReference> find_file_references(Schema schema, const std::vector<Segment>& segments);

}  // namespace promptwall::gateway
