// run_extraction_worker: the body of `promptwall extract-worker`, one process per document.
//
//   read one request frame (document_wire.h) from in_fd ─► confine_extraction_worker(limits)
//   ─► DocumentExtractor(limits).extract(file, name) ─► one answer frame to out_fd ─► exit 0
//
// The request is read before confinement (it comes from the gateway, which is trusted) and the
// file's bytes are only looked at after it, so everything a hostile file can reach runs confined.
// The process then exits: a worker a file may have subverted never sees the next user's file.
//
// Exit status: 0 answered (the answer may say the file was unscannable); 2 the request did not
// decode; 3 the confinement could not be applied (fail closed: the file is not read); 4 the
// answer could not be written. Out of memory while reading (the RLIMIT_AS limit) is an answer,
// extractor_failed, when there is still memory to write it.
#pragma once

namespace promptwall::extractors::sandbox {

// Exit status for the process; never throws.
int run_extraction_worker(int in_fd, int out_fd);

}  // namespace promptwall::extractors::sandbox
