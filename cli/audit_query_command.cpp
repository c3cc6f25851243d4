// promptwall audit query|export|usage: the trail's decision events through its SQLite index, or
// the whole fleet's through the central PostgreSQL store (--central URL).
//
// Over the trail, each brings the index up to date first (saying on stderr when it had to rebuild
// it). query
// prints one page (table, JSON or CSV); export streams every match, oldest first: as the trail's
// own record lines (jsonl, byte for byte, so the chain fields survive for a SIEM or a second
// verifier), as CSV, or as the syslog/CEF messages the SIEM shipper sends (cef). usage prints
// requests, the share with findings and violations per unit (or service) and ISO week in the
// organisation's time zone, and per unit whether the rate fell (table), or the rows as CSV. None
// ever prints matched text: the trail holds masked excerpts and keyed hashes only, and the table
// and CSV do not even show those.
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "audit/audit_index.h"
#include "audit/event.h"
#include "audit/event_store.h"
#include "audit/local_time.h"
#include "audit/usage_report.h"
#include "central/central_connection.h"
#include "central/central_store.h"
#include "audit/siem_format.h"
#include "cli/commands.h"
#include "cli/trail_options.h"

namespace promptwall::cli {
namespace {

using audit::EventFilter;
using audit::IndexedEvent;

constexpr std::string_view kDecisions[] = {"allow", "warn", "redact", "justify", "block", "refused"};
constexpr std::string_view kSeverities[] = {"low", "medium", "high", "critical"};

struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Options {
  TrailOptions trail;
  EventFilter filter;
  std::string format;
  std::string index;   // --index (default <trail>/index.sqlite)
  std::string output;  // export --output (default stdout)
  std::string central;        // --central URL: the fleet's store instead of the trail's index
  std::string password_file;  // --password-file FILE (private) for --central
  std::string time_zone = std::string(audit::LocalTime::kDefaultZone);  // usage --time-zone
  std::string by = "unit";    // usage --by unit|service
  size_t limit = 100, offset = 0;
  bool oldest_first = false;
  bool help = false;  // --help: print the usage and do nothing else
};

constexpr std::string_view kFilterUsage =
    "  Filters: --since/--until TIME (RFC 3339 in UTC or YYYY-MM-DD), --user, --unit, --service, --rule,\n"
    "  --category, --decision allow|warn|redact|justify|block|refused, --severity low|medium|high|critical,\n"
    "  --triage STATE, --violations; with --central also --gateway ID, --province NAME.\n"
    "  The trail is DIR, or --dir DIR, or audit.dir of --config FILE, or the state directory's audit/;\n"
    "  its index is --index FILE, else DIR/index.sqlite (brought up to date first).\n"
    "  --central URL reads the fleet's central PostgreSQL store instead (a libpq URI or conninfo;\n"
    "  --password-file FILE, a private file, or PGPASSWORD/~/.pgpass for its password).\n";

constexpr std::string_view kQueryUsage =
    "usage: promptwall audit query [DIR] [filters] [--format table|json|csv] [--limit N] [--offset N] [--oldest-first]\n"
    "  One page of the trail's decision events, newest first. Never prints matched text.\n";

constexpr std::string_view kUsageUsage =
    "usage: promptwall audit usage [DIR] [filters] [--by unit|service] [--time-zone ZONE] [--format table|csv]\n"
    "  Requests, the share with findings and violations per unit (or service) and ISO week, weeks and\n"
    "  dates in ZONE (default Asia/Ho_Chi_Minh); the table ends with, per unit, the rate over the first\n"
    "  and last weeks and whether it fell (did the training work?). --since/--until are local days\n"
    "  (default the last twelve weeks); --user, --rule, --category, --decision, --severity narrow the\n"
    "  violations only (the traffic counts know time, unit, service and gateway).\n";

constexpr std::string_view kExportUsage =
    "usage: promptwall audit export [DIR] [filters] [--format jsonl|csv|cef] [--output FILE]\n"
    "  Every matching event, oldest first: the trail's own lines (jsonl), CSV, or the syslog/CEF\n"
    "  messages the SIEM shipper sends (cef).\n";

// RFC 3339 in UTC ("2026-11-26T08:15:02Z", fraction optional) or a day, "2026-11-26", meaning its
// first instant (UTC midnight): --until 2026-12-01 ends with the last of November.
audit::Clock::time_point parse_when(std::string_view option, std::string_view text) {
  if (auto t = audit::parse_time(text)) return *t;
  int y = 0;
  unsigned m = 0, d = 0;
  const bool shape = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                     std::from_chars(text.data(), text.data() + 4, y).ptr == text.data() + 4 &&
                     std::from_chars(text.data() + 5, text.data() + 7, m).ptr == text.data() + 7 &&
                     std::from_chars(text.data() + 8, text.data() + 10, d).ptr == text.data() + 10;
  const std::chrono::year_month_day day{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!shape || !day.ok())
    throw UsageError(std::string(option) + " '" + std::string(text) +
                     "' is not a time (RFC 3339 in UTC, e.g. 2026-11-26T08:00:00Z, or a day, 2026-11-26)");
  return std::chrono::sys_days(day);
}

size_t parse_count(std::string_view option, std::string_view text) {
  size_t value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size())
    throw UsageError(std::string(option) + " '" + std::string(text) + "' is not a number");
  return value;
}

template <size_t N>
std::string one_of(std::string_view option, std::string_view value, const std::string_view (&allowed)[N]) {
  if (std::find(std::begin(allowed), std::end(allowed), value) != std::end(allowed)) return std::string(value);
  std::string list;
  for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
  throw UsageError(std::string(option) + " '" + std::string(value) + "' is not one of " + list);
}

enum class Verb { query, export_, usage };

// `verb` selects its own options: query pages (--limit, --offset, --oldest-first), export writes
// somewhere (--output), usage groups (--by, --time-zone).
Options parse_options(int argc, char** argv, Verb verb) {
  const bool is_export = verb == Verb::export_;
  Options o;
  o.format = is_export ? "jsonl" : "table";
  for (int i = 1; i < argc; ++i) {
    std::string error;
    if (o.trail.parse(argc, argv, i, error)) {
      if (!error.empty()) throw UsageError(error);
      continue;
    }
    const std::string_view arg = argv[i];
    if (is_help(arg)) {
      o.help = true;
      return o;
    }
    if (arg == "--violations") {
      o.filter.violations_only = true;
      continue;
    }
    if (arg == "--oldest-first" && verb == Verb::query) {
      o.oldest_first = true;
      continue;
    }
    if (!arg.starts_with("-")) {
      if (!o.trail.dir.empty()) throw UsageError("one trail directory only ('" + std::string(arg) + "')");
      o.trail.dir = arg;
      continue;
    }
    static constexpr std::string_view kValued[] = {"--since",    "--until",    "--user",     "--unit",   "--service",
                                                   "--rule",     "--category", "--decision", "--severity", "--triage",
                                                   "--format",   "--index",    "--limit",    "--offset", "--output",
                                                   "--central",  "--password-file", "--gateway", "--province",
                                                   "--by",       "--time-zone"};
    const bool own = verb == Verb::query    ? arg != "--output" && arg != "--by" && arg != "--time-zone"
                     : verb == Verb::export_ ? arg != "--limit" && arg != "--offset" && arg != "--by" && arg != "--time-zone"
                                             : arg != "--limit" && arg != "--offset" && arg != "--output";
    const bool valued = std::find(std::begin(kValued), std::end(kValued), arg) != std::end(kValued) && own;
    if (!valued) throw UsageError("unknown option '" + std::string(arg) + "'");
    if (i + 1 >= argc) throw UsageError(std::string(arg) + " needs a value");
    const std::string_view value = argv[++i];
    if (arg == "--since") o.filter.since = parse_when(arg, value);
    else if (arg == "--until") o.filter.until = parse_when(arg, value);
    else if (arg == "--user") o.filter.user = value;
    else if (arg == "--unit") o.filter.unit = value;
    else if (arg == "--service") o.filter.service = value;
    else if (arg == "--rule") o.filter.rule = value;
    else if (arg == "--category") o.filter.category = value;
    else if (arg == "--decision") o.filter.decision = one_of(arg, value, kDecisions);
    else if (arg == "--severity") o.filter.severity = one_of(arg, value, kSeverities);
    else if (arg == "--triage") o.filter.triage = one_of(arg, value, audit::kTriageStates);
    else if (arg == "--index") o.index = value;
    else if (arg == "--central") o.central = value;
    else if (arg == "--password-file") o.password_file = value;
    else if (arg == "--gateway") o.filter.gateway = value;
    else if (arg == "--province") o.filter.province = value;
    else if (arg == "--by") {
      static constexpr std::string_view kBy[] = {"unit", "service"};
      o.by = one_of(arg, value, kBy);
    } else if (arg == "--time-zone") {
      if (!audit::LocalTime::known_zone(value))
        throw UsageError("--time-zone '" + std::string(value) + "' is not a time zone (an IANA name such as Asia/Ho_Chi_Minh)");
      o.time_zone = value;
    }
    else if (arg == "--output") o.output = value;
    else if (arg == "--limit") o.limit = parse_count(arg, value);
    else if (arg == "--offset") o.offset = parse_count(arg, value);
    else if (arg == "--format") {
      static constexpr std::string_view kQueryFormats[] = {"table", "json", "csv"};
      static constexpr std::string_view kExportFormats[] = {"jsonl", "csv", "cef"};
      static constexpr std::string_view kUsageFormats[] = {"table", "csv"};
      o.format = is_export ? one_of(arg, value, kExportFormats)
                 : verb == Verb::usage ? one_of(arg, value, kUsageFormats)
                                       : one_of(arg, value, kQueryFormats);
    }
  }
  if (o.central.empty()) {
    if (!o.filter.gateway.empty() || !o.filter.province.empty())
      throw UsageError("--gateway and --province need --central (a trail holds one gateway)");
    if (!o.password_file.empty()) throw UsageError("--password-file goes with --central");
  } else if (!o.index.empty()) {
    throw UsageError("--index and --central name two different stores: one of them");
  }
  return o;
}

// The central store (--central), or the index beside the trail (or at --index), synced, saying on
// stderr when it was rebuilt.
std::unique_ptr<audit::EventStore> open_index(const Options& o, std::string_view verb) {
  if (!o.central.empty()) {
    const std::string password = o.password_file.empty() ? "" : central::read_password_file(o.password_file);
    return std::make_unique<central::CentralStore>(central::make_conninfo(o.central, password), "", "",
                                                   audit::LocalTime(o.time_zone));
  }
  const auto dir = o.trail.trail_dir();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw std::runtime_error("no audit trail at " + dir.string());
  auto index = std::make_unique<audit::AuditIndex>(dir, o.index.empty() ? dir / "index.sqlite" : std::filesystem::path(o.index));
  const auto report = index->sync();
  if (report.rebuilt) std::cerr << "promptwall audit " << verb << ": rebuilt the index: " << report.rebuild_reason << "\n";
  return index;
}

std::string joined(const IndexedEvent& e, std::string audit::EventFinding::*field) {
  std::vector<std::string> seen;
  for (const auto& f : e.event.findings)
    if (std::find(seen.begin(), seen.end(), f.*field) == seen.end()) seen.push_back(f.*field);
  std::string out;
  for (const auto& s : seen) out += (out.empty() ? "" : ",") + s;
  return out;
}

// ---- table ----

// A terminal shows what it is sent: control characters (escape sequences) in a user name or path
// become '?'.
std::string printable(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

size_t display_width(std::string_view text) {  // code points: close enough for Vietnamese and Latin
  return static_cast<size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

void write_table(std::ostream& out, const std::vector<IndexedEvent>& events, uint64_t total, const Options& o) {
  std::vector<std::vector<std::string>> rows = {
      {"TIME", "EVENT ID", "USER", "UNIT", "SERVICE", "DECISION", "RULES", "SEVERITY", "TRIAGE"}};
  for (const auto& e : events) {
    auto cell = [](const std::string& v) { return v.empty() ? std::string("-") : printable(v); };
    rows.push_back({audit::format_time(e.event.time), cell(e.event.event_id), cell(e.event.user), cell(e.event.unit),
                    cell(e.event.service), cell(e.event.decision), cell(joined(e, &audit::EventFinding::rule_id)),
                    cell(e.max_severity), cell(e.triage_state)});
  }
  std::vector<size_t> widths(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], display_width(row[c]));
  if (!events.empty()) {
    for (const auto& row : rows) {
      std::string line;
      for (size_t c = 0; c < row.size(); ++c) {
        line += row[c];
        if (c + 1 < row.size()) line += std::string(widths[c] - display_width(row[c]) + 2, ' ');
      }
      out << line << "\n";
    }
  }
  if (events.empty())
    out << "no events match (" << total << " in all)\n";
  else
    out << "events " << o.offset + 1 << "-" << o.offset + events.size() << " of " << total
        << (o.oldest_first ? ", oldest first" : ", newest first") << "\n";
}

// ---- JSON ----

nlohmann::ordered_json event_json(const IndexedEvent& e) {
  auto j = nlohmann::ordered_json::parse(audit::to_json_object(e.event));
  j["seq"] = e.seq;
  j["max_severity"] = e.max_severity;
  j["triage"] = {{"state", e.triage_state}, {"note", e.triage_note}};
  return j;
}

void write_json(std::ostream& out, const std::vector<IndexedEvent>& events, uint64_t total) {
  nlohmann::ordered_json doc;
  doc["total"] = total;
  doc["events"] = nlohmann::ordered_json::array();
  for (const auto& e : events) doc["events"].push_back(event_json(e));
  out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

// ---- CSV (RFC 4180) ----

// Every field quoted, quotes doubled; a field a spreadsheet would run as a formula (= + - @, or a
// tab or carriage return first) gets a leading apostrophe.
std::string csv_field(std::string_view value) {
  std::string out = "\"";
  if (!value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos) out += '\'';
  for (char c : value) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

class CsvWriter {
 public:
  explicit CsvWriter(std::ostream& out) : out_(out) {
    row({"time", "event_id", "seq", "request_id", "client", "user", "unit", "service", "method", "path", "decision",
         "mode", "reason", "forwarded", "rules", "categories", "max_severity", "triage", "triage_note", "ruleset",
         "bytes_in", "bytes_forwarded", "latency_ms"});
  }
  void write(const IndexedEvent& ie) {
    const auto& e = ie.event;
    char latency[32];
    std::snprintf(latency, sizeof latency, "%.3f", e.latency_ms);
    row({audit::format_time(e.time), e.event_id, std::to_string(ie.seq), e.request_id, e.client, e.user, e.unit,
         e.service, e.method, e.path, e.decision, e.mode, e.reason, e.forwarded ? "true" : "false",
         joined(ie, &audit::EventFinding::rule_id), joined(ie, &audit::EventFinding::category), ie.max_severity,
         ie.triage_state, ie.triage_note, e.ruleset, std::to_string(e.bytes_in), std::to_string(e.bytes_forwarded),
         latency});
  }

 private:
  void row(const std::vector<std::string>& fields) {
    for (size_t i = 0; i < fields.size(); ++i) out_ << (i ? "," : "") << csv_field(fields[i]);
    out_ << "\r\n";
  }
  std::ostream& out_;
};

template <class Body>
int guarded(std::string_view verb, Body body) {
  try {
    return body();
  } catch (const UsageError& e) {
    std::cerr << "promptwall audit " << verb << ": " << e.what() << " (see `promptwall help`)\n";
  } catch (const std::exception& e) {
    std::cerr << "promptwall audit " << verb << ": " << e.what() << "\n";
  }
  return 2;
}

}  // namespace

int audit_query_command(int argc, char** argv) {
  return guarded("query", [&] {
    const Options o = parse_options(argc, argv, Verb::query);
    if (o.help) {
      std::cout << kQueryUsage << kFilterUsage;
      return 0;
    }
    const auto index = open_index(o, "query");
    const uint64_t total = index->count(o.filter);
    const auto events = index->query(o.filter, audit::EventPage{o.limit, o.offset, !o.oldest_first});
    if (o.format == "json") write_json(std::cout, events, total);
    else if (o.format == "csv") {
      CsvWriter csv(std::cout);
      for (const auto& e : events) csv.write(e);
    } else
      write_table(std::cout, events, total, o);
    std::cout.flush();
    return std::cout ? 0 : 2;
  });
}

int audit_export_command(int argc, char** argv) {
  return guarded("export", [&] {
    const Options o = parse_options(argc, argv, Verb::export_);
    if (o.help) {
      std::cout << kExportUsage << kFilterUsage;
      return 0;
    }
    const auto index = open_index(o, "export");
    std::ofstream file;
    if (!o.output.empty()) {
      file.open(o.output, std::ios::binary | std::ios::trunc);
      if (!file) throw std::runtime_error("cannot write " + o.output);
    }
    std::ostream& out = o.output.empty() ? std::cout : file;
    if (o.format == "csv") {
      CsvWriter csv(out);
      index->for_each_event(o.filter, /*newest_first=*/false, [&](const IndexedEvent& e) {
        csv.write(e);
        return static_cast<bool>(out);
      });
    } else if (o.format == "cef") {
      // What the SIEM shipper sends, one RFC 5424 message (with its CEF MSG) per line.
      const audit::SiemFormatter siem(audit::SiemFormatOptions{});
      index->for_each_line(o.filter, /*newest_first=*/false, [&](uint64_t seq, const std::string& line) {
        if (auto message = siem.format(nlohmann::json::parse(line), seq)) out << *message << '\n';
        return static_cast<bool>(out);
      });
    } else {
      index->for_each_line(o.filter, /*newest_first=*/false, [&](uint64_t, const std::string& line) {
        out << line << '\n';
        return static_cast<bool>(out);
      });
    }
    out.flush();
    if (!out) throw std::runtime_error("cannot write " + (o.output.empty() ? std::string("the output") : o.output));
    return 0;
  });
}

int audit_usage_command(int argc, char** argv) {
  return guarded("usage", [&] {
    Options o = parse_options(argc, argv, Verb::usage);
    if (o.help) {
      std::cout << kUsageUsage << kFilterUsage;
      return 0;
    }
    using namespace std::chrono;
    const audit::LocalTime zone(o.time_zone);
    // Local days: --until's day is included when it is a day (its midnight instant otherwise).
    const year_month_day last = o.filter.until ? zone.day_of(*o.filter.until - milliseconds(1)) : zone.day_of(audit::Clock::now());
    const year_month_day first = o.filter.since ? zone.day_of(*o.filter.since) : year_month_day{sys_days{last} - days{7 * 12 - 1}};
    const audit::TimeBuckets weeks = zone.weeks(first, last);
    const auto store = open_index(o, "usage");
    const auto rows = store->usage(o.filter, o.by, weeks);
    if (o.format == "csv") {
      std::cout << audit::usage_csv(rows, weeks, o.by, zone);
    } else {
      auto pct = [](std::optional<double> r) {
        if (!r) return std::string("-");
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f%%", *r * 100);
        return std::string(buf);
      };
      std::cout << "WEEK      STARTS      " << (o.by == "unit" ? "UNIT" : "SERVICE") << "\tREQUESTS\tWITH_FINDINGS\tRATE\tVIOLATIONS\n";
      std::map<std::string, std::string> starts;
      for (size_t i = 0; i < weeks.labels.size(); ++i) starts[weeks.labels[i]] = zone.date(weeks.edges[i]);
      for (const auto& r : rows)
        std::cout << r.period << "  " << starts[r.period] << "  " << printable(r.key.empty() ? "-" : r.key) << "\t" << r.requests
                  << "\t" << r.with_findings << "\t" << pct(r.requests ? std::optional<double>(r.rate()) : std::nullopt) << "\t"
                  << r.violations << "\n";
      const auto summary = audit::summarize_usage(rows, weeks);
      std::cout << "\ndid the training work? (share with findings, first " << summary.compared_weeks << " vs last "
                << summary.compared_weeks << " of " << weeks.labels.size() << " weeks, " << zone.zone() << ")\n";
      auto line = [&](const audit::UsageTrend& t, const std::string& name) {
        std::cout << printable(name) << "\t" << pct(t.first_rate) << " -> " << pct(t.last_rate) << "\t"
                  << audit::to_string(t.verdict) << "\n";
      };
      line(summary.all, "(all)");
      for (const auto& t : summary.keys) line(t, t.key.empty() ? "-" : t.key);
    }
    std::cout.flush();
    return std::cout ? 0 : 2;
  });
}

}  // namespace promptwall::cli
