// libFuzzer target for central/record_rows: a trail line (from a file anyone with disk access may
// have edited) turned into the central store's rows. A row PostgreSQL refuses would stop a
// gateway's shipping for good, so the invariants are what the server needs:
//  - rows_of never throws;
//  - every text is valid UTF-8 without NUL (storable_text leaves it as it is), and the line is the
//    input itself whenever the input already was;
//  - a time is canonical RFC 3339 UTC with milliseconds, "YYYY-MM-DDTHH:MM:SS.fffZ", years 1970-9999;
//  - an event row has an event id, a severity in 0..4, distinct rules and categories;
//  - traffic rows have distinct (hour, unit, service) keys, counts >= 0 and with_findings <= requests.
// Inputs are bounded at 64 KiB (longer lines are no different to the parser).
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "central/record_rows.h"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

bool storable(const std::string& s) { return promptwall::central::storable_text(s) == s; }

bool canonical_time(const std::string& t) {
  if (t.size() != 24 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != '.' ||
      t[23] != 'Z')
    return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22})
    if (t[i] < '0' || t[i] > '9') return false;
  return t.compare(0, 4, "1970") >= 0;
}

template <class Items>
bool distinct(const Items& items) {
  return std::set<std::string>(items.begin(), items.end()).size() == items.size();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 64 * 1024) return 0;
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  const auto rows = promptwall::central::rows_of(size + 1, line);
  require(rows.record.seq == size + 1);
  require(storable(rows.record.line) && storable(rows.record.type) && storable(rows.problem));
  if (promptwall::central::storable_text(line) == line) require(rows.record.line == line);
  if (rows.record.time) require(canonical_time(*rows.record.time));
  if (const auto& e = rows.event) {
    require(!e->event_id.empty() && canonical_time(e->time));
    require(e->max_severity >= 0 && e->max_severity <= 4);
    require(distinct(e->rules) && distinct(e->categories));
    for (const auto* s : {&e->event_id, &e->user_name, &e->unit, &e->service, &e->decision, &e->path, &e->rules_bundle})
      require(storable(*s));
    for (const auto& g : e->groups) require(storable(g));
    require(e->bytes_in >= 0 && e->bytes_forwarded >= 0);
  }
  if (const auto& t = rows.triage) require(canonical_time(t->time) && storable(t->note) && storable(t->target));
  std::set<std::tuple<std::string, std::string, std::string>> keys;
  for (const auto& c : rows.traffic) {
    require(canonical_time(c.hour) && storable(c.unit) && storable(c.service));
    require(c.requests >= 0 && c.with_findings >= 0 && c.with_findings <= c.requests);
    require(keys.insert({c.hour, c.unit, c.service}).second);
  }
  // Only a record that was read as its type may make that type's rows.
  if (rows.event) require(rows.record.type == "decision" && rows.problem.empty());
  if (!rows.traffic.empty()) require(rows.record.type == "traffic");
  return 0;
}
