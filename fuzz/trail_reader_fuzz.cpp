// libFuzzer target for audit/trail_reader and audit/trail_verifier (+ trail_format, signing_key):
// the trail is the evidence an officer or auditor relies on, and whoever can write its directory
// can shape its bytes. The first input byte picks one of two modes:
//  - even: the rest is a list of edits (overwrite, insert, erase, truncate) to a valid trail made
//    once with a fixed key: two files of three records each, each file closed by a signed
//    checkpoint, and the signed head at the last one, laid out as AuditWriter writes them. The
//    invariant is the verifier's promise: `audit verify` reports the trail intact only when the
//    records are the original bytes. The two allowed differences are the documented ones: bytes
//    without a '\n' after the last record (a torn write; reported as a warning), and a head file
//    spelled differently that says the same signed thing (seq, hash, time, key).
//  - odd: the rest is the trail itself, split at "\0\0" into a first file, a second file and
//    trail.head: nothing may crash, and the reader and the verifier must agree.
// In both modes the TrailReader reads the same directory and must agree with the verifier: it
// throws only on a trail the verifier refuses; on an intact trail it returns exactly the verified
// records, seq 1..N, each line found at its offset in its file followed by '\n'; a reader resumed
// after any record returns the same records as the first one did after it.
// Inputs are bounded at 16 KiB (the trail here is ~2 KiB; the verifier is linear).
//
// Writing seeds: with PROMPTWALL_TRAIL_FUZZ_SEED=<file> set, the first input run also writes the
// valid trail in the odd mode's form to <file> (corpus/trail_reader/valid-trail was made so).
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/signing_key.h"
#include "audit/trail_format.h"
#include "audit/trail_reader.h"
#include "audit/trail_verifier.h"

namespace {

namespace fs = std::filesystem;
using namespace promptwall::audit;

void require(bool ok) {
  if (!ok) std::abort();
}

// A fixed Ed25519 key, so the valid trail (Ed25519 signatures are deterministic) and every input's
// meaning are the same in every run. A test key: it signs nothing but this target's trail.
constexpr std::string_view kPrivateKey =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEIMs3CTrWJ8IBT/cwgMJIIVmyE/6kcRjH0S/Br+Q07pKj\n"
    "-----END PRIVATE KEY-----\n";

constexpr std::string_view kFile1 = "audit-20261126-000000000001.jsonl";
constexpr std::string_view kFile2 = "audit-20261126-000000000004.jsonl";

struct HeadFields {
  uint64_t seq = 0;
  std::string hash, time, key_id;
  bool operator==(const HeadFields&) const = default;
};

// The head's signed meaning, read as the verifier reads it; nullopt when it does not parse so.
std::optional<HeadFields> head_fields(const std::string& text) {
  try {
    const auto j = nlohmann::json::parse(text);
    return HeadFields{j.at("seq").get<uint64_t>(), j.at("hash").get<std::string>(), j.at("time").get<std::string>(),
                      j.at("key_id").get<std::string>()};
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

struct Fixture {
  fs::path dir;  // the trail directory every input is written to
  std::optional<SigningKey> signer;
  std::optional<VerifyingKey> verifier;
  std::string file1, file2, head;  // the valid trail
};

std::string event(uint64_t n, std::string_view time) {
  nlohmann::ordered_json e;
  e["type"] = "decision";
  e["time"] = time;
  e["event_id"] = "01M95K8KD9ETH7TDNTGW8KKMQ" + std::to_string(n);
  e["service"] = "openai";
  e["decision"] = n % 2 ? "block" : "allow";
  nlohmann::ordered_json finding;
  finding["rule"] = "vn.secret.degree-field";
  finding["excerpt"] = "«Độ •••: ••••• •ẬT»";  // masked, as EvidenceMaker writes it
  finding["hmac"] = std::string(64, static_cast<char>('a' + n % 6));
  e["findings"] = nlohmann::ordered_json::array();
  e["findings"].push_back(finding);
  return e.dump();
}

// Appends the records of `objects` to `file`, chaining from `prev`/`seq`, then a checkpoint as
// AuditWriter writes it; returns the checkpoint line.
std::string append_records(Fixture& f, std::string& file, std::string& prev, uint64_t& seq, std::string_view time) {
  for (int i = 0; i < 2; ++i) {
    const std::string line = compose_record(seq, prev, event(seq, time));
    file += line + '\n';
    prev = record_hash(line);
    ++seq;
  }
  nlohmann::ordered_json cp;
  cp["type"] = "checkpoint";
  cp["time"] = time;
  cp["key_id"] = f.signer->key_id();
  cp["records"] = seq - 1;
  cp["sig"] = f.signer->sign(checkpoint_signed_text(seq, prev, time));
  const std::string line = compose_record(seq, prev, cp.dump());
  file += line + '\n';
  prev = record_hash(line);
  ++seq;
  return line;
}

void write_file(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  require(fd >= 0);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    require(n > 0);
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

Fixture& fixture() {
  static Fixture f = [] {
    Fixture x;
    const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (base / "promptwall-trail-fuzz-XXXXXX").string();
    require(::mkdtemp(tmpl.data()) != nullptr);
    x.dir = tmpl;
    // Removed at exit, so no run leaves its directory behind in /dev/shm.
    static fs::path made;
    made = x.dir;
    std::atexit([] {
      std::error_code ec;
      fs::remove_all(made, ec);
    });
    const fs::path pem = x.dir / "fixed-key.pem";
    write_file(pem, kPrivateKey);
    x.signer.emplace(SigningKey::load(pem));
    x.verifier.emplace(VerifyingKey::from_pem(x.signer->public_pem()));
    fs::remove(pem);
    x.dir /= "trail";
    fs::create_directory(x.dir);
    std::string prev(kGenesisHash);
    uint64_t seq = 1;
    append_records(x, x.file1, prev, seq, "2026-11-26T09:00:00.000Z");
    const std::string last = append_records(x, x.file2, prev, seq, "2026-11-26T09:05:00.000Z");
    nlohmann::ordered_json head;
    head["seq"] = seq - 1;
    head["hash"] = record_hash(last);
    head["time"] = "2026-11-26T09:05:00.000Z";
    head["key_id"] = x.signer->key_id();
    head["sig"] = x.signer->sign(head_signed_text(seq - 1, record_hash(last), "2026-11-26T09:05:00.000Z"));
    x.head = head.dump() + "\n";
    if (const char* seed = std::getenv("PROMPTWALL_TRAIL_FUZZ_SEED"))
      std::ofstream(seed, std::ios::binary) << '\x01' << x.file1 << std::string(2, '\0') << x.file2 << std::string(2, '\0') << x.head;
    return x;
  }();
  return f;
}

// Reads the whole directory with a TrailReader; nullopt when it throws.
std::optional<std::vector<TrailRecord>> read_all(TrailReader reader) {
  std::vector<TrailRecord> out;
  try {
    while (auto r = reader.next()) out.push_back(std::move(*r));
  } catch (const std::runtime_error&) {
    return std::nullopt;
  }
  return out;
}

std::string file_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The reader's and the verifier's view of the directory as it is now; returns the report.
TrailReport check_directory(const Fixture& f) {
  const TrailReport report = TrailVerifier(f.dir, *f.verifier).verify();
  require(report.files <= 2 && report.records <= report.last_seq + 1);
  if (report.problem) require(!report.problem->kind.empty() && !report.problem->message.empty());

  const auto records = read_all(TrailReader(f.dir));
  if (!records) {
    require(!report.intact());
    return report;
  }
  for (const TrailRecord& r : *records) {
    require(r.line.find('\n') == std::string::npos);
    const auto head = read_record_head(r.line);
    require(head && head->seq == r.seq && head->prev == r.prev);
    const std::string bytes = file_bytes(r.file);
    require(r.offset + r.line.size() < bytes.size() && bytes.compare(r.offset, r.line.size(), r.line) == 0 &&
            bytes[r.offset + r.line.size()] == '\n');
  }
  if (report.intact()) {
    require(records->size() == report.records);
    for (size_t i = 0; i < records->size(); ++i) require((*records)[i].seq == i + 1);
  }
  // Resuming after a record gives what followed it.
  if (!records->empty()) {
    const size_t k = records->size() / 2;
    const TrailRecord& at = (*records)[k];
    const auto rest = read_all(TrailReader(f.dir, at.file, at.offset + at.line.size() + 1));
    require(rest.has_value() && rest->size() == records->size() - k - 1);
    for (size_t i = 0; i < rest->size(); ++i) require((*rest)[i].line == (*records)[k + 1 + i].line);
  }
  return report;
}

void clear_directory(const Fixture& f) {
  for (const auto name : {kFile1, kFile2, std::string_view("trail.head")}) ::unlink((f.dir / name).c_str());
}

void edit_mode(const Fixture& f, std::string_view script) {
  std::string files[3] = {f.file1, f.file2, f.head};
  for (int edits = 0; edits < 16 && script.size() >= 5; ++edits) {
    std::string& target = files[static_cast<uint8_t>(script[0]) % 3];
    const uint8_t op = static_cast<uint8_t>(script[1]) % 4;
    const size_t pos = (static_cast<uint8_t>(script[2]) | static_cast<size_t>(static_cast<uint8_t>(script[3])) << 8) % (target.size() + 1);
    const size_t len = static_cast<uint8_t>(script[4]);
    script.remove_prefix(5);
    const std::string_view payload = script.substr(0, op <= 1 ? len : 0);
    script.remove_prefix(payload.size());
    switch (op) {
      case 0: target.replace(pos, payload.size(), payload); break;
      case 1: target.insert(pos, payload); break;
      case 2: target.erase(pos, len); break;
      default: target.resize(pos); break;
    }
  }
  clear_directory(f);
  write_file(f.dir / kFile1, files[0]);
  write_file(f.dir / kFile2, files[1]);
  write_file(f.dir / "trail.head", files[2]);
  const TrailReport report = check_directory(f);
  // The valid trail verifies (otherwise every input below would pass for the wrong reason).
  if (files[0] == f.file1 && files[1] == f.file2 && files[2] == f.head)
    require(report.intact() && !report.warning && report.head_verified && report.checkpoints == 2);
  if (!report.intact()) return;
  // Intact: the records are the original bytes.
  require(files[0] == f.file1);
  const bool torn_tail = files[1].size() > f.file2.size() && files[1].compare(0, f.file2.size(), f.file2) == 0 &&
                         files[1].find('\n', f.file2.size()) == std::string::npos;
  require(files[1] == f.file2 || (torn_tail && report.warning && report.warning->kind == "torn_tail"));
  require(files[2] == f.head || head_fields(files[2]) == head_fields(f.head));
  require(report.records == 6 && report.last_seq == 6 && report.checkpoints == 2 && report.head_verified &&
          report.unsigned_tail == 0);
}

void bytes_mode(const Fixture& f, std::string_view rest) {
  std::string_view parts[3];
  for (auto& part : parts) {
    const size_t cut = rest.find(std::string_view("\0\0", 2));
    part = rest.substr(0, cut);
    rest = cut == std::string_view::npos ? std::string_view() : rest.substr(cut + 2);
    if (cut == std::string_view::npos) break;
  }
  clear_directory(f);
  write_file(f.dir / kFile1, parts[0]);
  if (!parts[1].empty()) {
    // Named for its first record's seq when it has one, as the writer names files.
    const auto head = read_record_head(parts[1].substr(0, parts[1].find('\n')));
    const uint64_t first = head && head->seq < 1000000000000ull ? head->seq : 4;
    write_file(f.dir / trail_file_name("20261126", first), parts[1]);
  }
  if (!parts[2].empty()) write_file(f.dir / "trail.head", parts[2]);
  check_directory(f);
  for (const auto& entry : fs::directory_iterator(f.dir)) fs::remove(entry.path());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0 || size > 16 * 1024) return 0;
  const Fixture& f = fixture();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input[0] % 2 == 0) {
    edit_mode(f, input.substr(1));
  } else {
    bytes_mode(f, input.substr(1));
  }
  return 0;
}
