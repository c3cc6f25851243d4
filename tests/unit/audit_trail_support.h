// Helpers for the trail tests (unit and CLI): temporary trails made by the real AuditWriter, and
// the ways a test tampers with a copy of one.
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "audit/audit_writer.h"
#include "audit/signing_key.h"
#include "audit/trail_format.h"
#include "../support/temp_dir.h"

namespace promptwall::test {

inline std::shared_ptr<const audit::SigningKey> trail_key(const std::filesystem::path& pem) {
  return std::make_shared<const audit::SigningKey>(audit::SigningKey::load_or_create(pem));
}

// An event object as the writer takes it ("type" first); `n` tells records apart.
inline std::string test_event(uint64_t n, const std::string& padding = "") {
  return "{\"type\":\"decision\",\"event_id\":\"test-" + std::to_string(n) + "\",\"decision\":\"block\",\"n\":" +
         std::to_string(n) + ",\"pad\":\"" + padding + "\"}";
}

inline audit::AuditWriterOptions trail_options(const std::filesystem::path& dir, std::shared_ptr<const audit::SigningKey> key) {
  audit::AuditWriterOptions o;
  o.dir = dir;
  o.signing_key = std::move(key);
  o.retry_interval = std::chrono::milliseconds(20);
  return o;
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void spit(const std::filesystem::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

// Lines of a file, without their '\n'; a last line without '\n' is included as is.
inline std::vector<std::string> file_lines(const std::filesystem::path& p) {
  std::vector<std::string> lines;
  std::istringstream in(slurp(p));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

inline void write_lines(const std::filesystem::path& p, const std::vector<std::string>& lines) {
  std::string content;
  for (const auto& l : lines) content += l + "\n";
  spit(p, content);
}

// Every record line of the trail in order.
inline std::vector<std::string> trail_lines(const std::filesystem::path& dir) {
  std::vector<std::string> all;
  for (const auto& f : audit::list_trail_files(dir))
    for (auto& l : file_lines(f.path)) all.push_back(std::move(l));
  return all;
}

// A trail of `events` events over several files (small rotate_bytes), each file closed by a
// checkpoint, the head signed; the private key lives outside the trail (`key_pem`).
inline void make_trail(const std::filesystem::path& dir, const std::filesystem::path& key_pem, uint64_t events,
                       uint64_t rotate_bytes = 4096) {
  auto options = trail_options(dir, trail_key(key_pem));
  options.rotate_bytes = rotate_bytes;
  audit::AuditWriter writer(options);
  for (uint64_t i = 1; i <= events; ++i)
    if (!writer.append_and_wait(test_event(i, std::string(40, 'x')))) throw std::runtime_error("append failed");
  writer.close();
}

// Copies a trail directory (files only) to `to`.
inline void copy_trail(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::filesystem::create_directories(to);
  for (const auto& e : std::filesystem::directory_iterator(from))
    std::filesystem::copy_file(e.path(), to / e.path().filename(), std::filesystem::copy_options::overwrite_existing);
}

// Location of a record by seq: (file, index of the line in it).
inline std::pair<std::filesystem::path, size_t> find_record(const std::filesystem::path& dir, uint64_t seq) {
  for (const auto& f : audit::list_trail_files(dir)) {
    const auto lines = file_lines(f.path);
    for (size_t i = 0; i < lines.size(); ++i) {
      const auto head = audit::read_record_head(lines[i]);
      if (head && head->seq == seq) return {f.path, i};
    }
  }
  throw std::runtime_error("no record seq " + std::to_string(seq));
}

// One way of tampering with a copy of a trail made by make_trail(dir, key, 100, 4096), and what
// the verifier must say about it ("" = intact; `warning` = a torn tail only).
struct Tamper {
  std::string name;
  std::function<void(const std::filesystem::path& dir)> apply;
  std::string kind;  // the problem's kind, or "" when the trail must still verify
  bool warning = false;
};

inline std::vector<Tamper> tampers() {
  namespace fs = std::filesystem;
  // Changes the lines of the second file around its middle record (an event, with an event after it).
  auto edit_line = [](const fs::path& dir, auto change) {
    const fs::path file = audit::list_trail_files(dir).at(1).path;
    auto lines = file_lines(file);
    change(lines, lines.size() / 2);
    write_lines(file, lines);
  };
  auto seq_of = [](const std::string& line) { return audit::read_record_head(line)->seq; };
  return {
      {"intact", [](const fs::path&) {}, ""},
      {"edit a record's field",
       [=](const fs::path& dir) {
         edit_line(dir, [](auto& lines, size_t i) {
           const size_t at = lines[i].find("\"decision\":\"block\"");
           lines[i].replace(at, 18, "\"decision\":\"allow\"");
         });
       },
       "edited"},
      {"delete a middle record", [=](const fs::path& dir) { edit_line(dir, [](auto& l, size_t i) { l.erase(l.begin() + static_cast<long>(i)); }); },
       "deleted"},
      {"insert a forged line",
       [=](const fs::path& dir) {
         edit_line(dir, [=](auto& l, size_t i) {
           l.insert(l.begin() + static_cast<long>(i) + 1, audit::compose_record(seq_of(l[i]) + 1, std::string(64, '0'), test_event(777)));
         });
       },
       "inserted"},
      {"insert a forged line that chains",
       [=](const fs::path& dir) {
         edit_line(dir, [=](auto& l, size_t i) {
           l.insert(l.begin() + static_cast<long>(i) + 1, audit::compose_record(seq_of(l[i]) + 1, audit::record_hash(l[i]), test_event(777)));
         });
       },
       "inserted"},
      {"swap two records", [=](const fs::path& dir) { edit_line(dir, [](auto& l, size_t i) { std::swap(l[i], l[i + 1]); }); },
       "reordered"},
      {"truncate the end (the last checkpoint with it)",
       [](const fs::path& dir) {
         const auto files = audit::list_trail_files(dir);
         auto lines = file_lines(files.back().path);
         lines.resize(lines.size() > 4 ? lines.size() - 3 : 1);
         write_lines(files.back().path, lines);
       },
       "truncated"},
      {"remove the last file",
       [](const fs::path& dir) { fs::remove(audit::list_trail_files(dir).back().path); }, "truncated"},
      {"cut the last line in half (a crash)",
       [](const fs::path& dir) {
         // A record written after the last checkpoint, torn by a crash mid-write.
         const auto last = audit::list_trail_files(dir).back().path;
         const auto lines = file_lines(last);
         const auto head = audit::read_record_head(lines.back());
         std::string line = audit::compose_record(head->seq + 1, audit::record_hash(lines.back()), test_event(999));
         std::ofstream(last, std::ios::app | std::ios::binary) << line.substr(0, line.size() / 2);
       },
       "", true},
      {"cut the last signed line in half",
       [](const fs::path& dir) {
         const auto last = audit::list_trail_files(dir).back().path;
         std::string content = slurp(last);
         content.resize(content.size() - 40);
         spit(last, content);
       },
       "truncated"},
      {"delete a middle file", [](const fs::path& dir) { fs::remove(audit::list_trail_files(dir)[2].path); }, "missing_file"},
      {"delete the first file", [](const fs::path& dir) { fs::remove(audit::list_trail_files(dir)[0].path); }, "missing_file"},
      {"rename a file", [](const fs::path& dir) {
         const auto f = audit::list_trail_files(dir)[2];
         fs::rename(f.path, dir / audit::trail_file_name(f.day, f.first_seq + 1));
       }, "misnamed_file"},
      {"forge a checkpoint signature",
       [](const fs::path& dir) {
         // Re-sign the first checkpoint with another key, keeping the trail's key id.
         const auto files = audit::list_trail_files(dir);
         auto lines = file_lines(files[0].path);
         auto j = nlohmann::ordered_json::parse(lines.back());
         const auto other = audit::SigningKey::load_or_create(dir.parent_path() / (dir.filename().string() + "-forger.key"));
         j["sig"] = other.sign("promptwall-audit-checkpoint\n1\n" + std::to_string(j["seq"].get<uint64_t>()) + "\n" +
                               j["prev"].get<std::string>() + "\n" + j["time"].get<std::string>());
         lines.back() = j.dump();
         write_lines(files[0].path, lines);
       },
       "bad_signature"},
      {"replace the public key beside the trail",
       [](const fs::path& dir) {
         const auto other = audit::SigningKey::load_or_create(dir.parent_path() / (dir.filename().string() + "-other.key"));
         spit(dir / audit::kPublicKeyFileName, other.public_pem());
       },
       "unknown_key"},
  };
}

}  // namespace promptwall::test
