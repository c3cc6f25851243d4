// What the unit tests of RequestInspector with documents share: a fixture file's bytes, and an
// inspector that reads carried files in process (extractors::DocumentExtractor, as the sandboxed
// worker reads them) under the built-in packs, enforcing.
#pragma once

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "classifiers/scanner.h"
#include "extractors/document_extractor.h"
#include "gateway/adapters/request_inspector.h"
#include "test_support.h"

namespace promptwall::test {

// The bytes of tests/data/documents/<dir>/<name>.
inline std::string document_fixture(const std::string& dir, const std::string& name) {
  std::ifstream in(std::string(PROMPTWALL_SOURCE_DIR) + "/tests/data/documents/" + dir + "/" + name, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A multipart/form-data body (boundary XyZ) uploading `bytes` as `filename`, as OpenAI's files.create sends it.
inline std::string upload_form(const std::string& filename, const std::string& content_type, const std::string& bytes) {
  return "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nassistants\r\n"
         "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
         "\"\r\nContent-Type: " + content_type + "\r\n\r\n" + bytes + "\r\n--XyZ--\r\n";
}
inline constexpr const char* kUploadFormType = "multipart/form-data; boundary=XyZ";

// An OpenAI-schema service and an inspector (4 files per request) reading files in process.
struct DocumentInspection {
  gateway::Service service;
  gateway::RequestInspector inspector{gateway::InspectorLimits{}, 4};
  extractors::DocumentExtractor extractor;
  gateway::DocumentReader reader = [this](std::string_view bytes, std::string_view name) {
    return extractor.extract(bytes, name);
  };

  DocumentInspection() {
    service.name = "openai";
    service.schema = gateway::Schema::openai;
  }

  gateway::Inspection inspect(const std::string& body, const std::string& content_type,
                              const std::string& path = "/v1/chat/completions") {
    const PolicyLayer global{Mode::enforce, {}, {}, {}};
    const std::vector<const PolicyLayer*> layers{&global};
    Scanner scanner(builtin_ruleset());
    const gateway::InspectionRequest in{&service, path, content_type, "", body};
    return inspector.inspect(in, scanner, layers, "req-9", &reader);
  }

  // `bytes` uploaded as `filename` to /v1/files.
  gateway::Inspection upload(const std::string& filename, const std::string& bytes,
                             const std::string& content_type = "application/octet-stream") {
    return inspect(upload_form(filename, content_type, bytes), kUploadFormType, "/v1/files");
  }
};

}  // namespace promptwall::test
