// SiemFormatter: RFC 5424 header and structured data, CEF header and extension, escapings, the
// severity mapping, which records are shipped, and octet-counting framing.
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include <nlohmann/json.hpp>

#include "audit/event.h"
#include "audit/siem_format.h"

namespace {

using namespace promptwall::audit;
using nlohmann::json;

Clock::time_point at(const char* text) { return *parse_time(text); }

DecisionEvent blocked_event() {
  DecisionEvent e;
  e.time = at("2026-11-26T08:15:02.123Z");
  e.event_id = "01JD3K0000000000000000000A";
  e.request_id = "a1b2c3d4e5f60718";
  e.client = "10.1.2.3:51234";
  e.user = "lan.nguyen";
  e.unit = "Phòng Kế toán";
  e.service = "openai";
  e.method = "POST";
  e.path = "/openai/v1/chat/completions";
  e.decision = "block";
  e.mode = "enforce";
  e.reason = "sensitive_content";
  e.findings.push_back({"vn.cccd", "national_id", "high", "block", 2, {"messages[0].content"},
                        {{"messages[0].content", "số CCCD 07••••••••34 của", "ab12"}}});
  e.findings.push_back({"vn.marking.toi_mat", "classification_marking", "critical", "block", 1, {}, {}});
  e.ruleset = "5f2a";
  e.bytes_in = 321;
  return e;
}

json parsed(const std::string& object) { return json::parse(object); }

// The MSG of a syslog message: after the structured data's closing "] ".
std::string msg_of(const std::string& message) {
  auto at = message.find("] CEF:");
  REQUIRE(at != std::string::npos);
  return message.substr(at + 2);
}

SiemFormatOptions options(std::string hostname) {
  SiemFormatOptions o;
  o.hostname = std::move(hostname);
  return o;
}

SiemFormatter formatter() {
  SiemFormatOptions o = options("gw1.example.vn");
  o.procid = "4242";
  return SiemFormatter(o);
}

}  // namespace

TEST_CASE("siem: a blocked decision becomes RFC 5424 with CEF, err for a critical finding", "[audit][siem]") {
  const std::string m = *formatter().format(parsed(to_json_object(blocked_event())), 17);
  // local4 (20) * 8 + err (3) = 163
  CHECK(m.starts_with("<163>1 2026-11-26T08:15:02.123Z gw1.example.vn promptwall 4242 decision "
                      "[promptwall@32473 seq=\"17\" event_id=\"01JD3K0000000000000000000A\" "
                      "request_id=\"a1b2c3d4e5f60718\"] CEF:0|promptwall|promptwall|0.1.0|vn.cccd|Request blocked|10|"));
  auto cef = parse_cef(msg_of(m));
  REQUIRE(cef);
  CHECK(cef->signature == "vn.cccd");
  CHECK(cef->severity == "10");
  auto get = [&](const char* key) { return cef->find(key) ? *cef->find(key) : std::string("<missing>"); };
  CHECK(get("rt") == "1795680902123");
  CHECK(get("src") == "10.1.2.3");
  CHECK(get("suser") == "lan.nguyen");
  CHECK(get("cs1Label") == "unit");
  CHECK(get("cs1") == "Phòng Kế toán");
  CHECK(get("cs2") == "vn.cccd,vn.marking.toi_mat");
  CHECK(get("cs3") == "national_id,classification_marking");
  CHECK(get("act") == "block");
  CHECK(get("requestMethod") == "POST");
  CHECK(get("request") == "openai /openai/v1/chat/completions");
  CHECK(get("outcome") == "not_forwarded");
  CHECK(get("cn1Label") == "seq");
  CHECK(get("cn1") == "17");
  CHECK(get("externalId") == "01JD3K0000000000000000000A");
  CHECK(get("cs4") == "5f2a");
  CHECK(get("cs5") == "số CCCD 07••••••••34 của");
  CHECK(get("cs6") == "enforce");
  CHECK(cef->find("out") == nullptr);  // not forwarded: nothing went out
}

TEST_CASE("siem: severities follow the decision", "[audit][siem]") {
  auto pri = [](DecisionEvent e) {
    std::string m = *formatter().format(parsed(to_json_object(e)), 1);
    return std::stoi(m.substr(1, m.find('>') - 1)) - 160;
  };
  DecisionEvent e = blocked_event();
  e.findings.pop_back();  // no critical finding left
  CHECK(pri(e) == kSeverityWarning);
  e.decision = "refused";
  CHECK(pri(e) == kSeverityWarning);
  e.decision = "redact";
  CHECK(pri(e) == kSeverityNotice);
  e.decision = "warn";
  CHECK(pri(e) == kSeverityNotice);
  e.decision = "allow";
  CHECK(pri(e) == kSeverityInfo);
  e.decision = "refused";
  e.findings = blocked_event().findings;
  CHECK(pri(e) == kSeverityError);
  // The coaching step: held for a justification is a notice, forwarded with one a warning.
  e.findings.pop_back();
  e.decision = "justify";
  e.forwarded = false;
  CHECK(pri(e) == kSeverityNotice);
  e.forwarded = true;
  e.justification = {"0123456789abcdef01234567", "khách hàng yêu cầu", "an", "header", ""};
  CHECK(pri(e) == kSeverityWarning);
}

TEST_CASE("siem: a justified request carries the masked reason, who gave it and the token's id", "[audit][siem][coaching]") {
  DecisionEvent e = blocked_event();
  e.decision = "justify";
  e.forwarded = true;
  e.justification = {"0123456789abcdef01234567", "khách hàng «09••••••78» đồng ý", "an.nguyen", "form", ""};
  const std::string m = *formatter().format(parsed(to_json_object(e)), 7);
  INFO(m);
  CHECK(m.find("justification_token=\"0123456789abcdef01234567\"") != std::string::npos);
  CHECK(m.find("Request forwarded with a justification") != std::string::npos);
  CHECK(m.find("flexString1Label=justification flexString1=khách hàng «09••••••78» đồng ý") != std::string::npos);
  CHECK(m.find("flexString2=an.nguyen") != std::string::npos);
}

TEST_CASE("siem: the rule bundle that decided is in the structured data, and only when there is one", "[audit][siem][bundle]") {
  DecisionEvent e = blocked_event();
  CHECK(formatter().format(parsed(to_json_object(e)), 7)->find("rules_bundle=") == std::string::npos);
  e.rules_bundle = "2026.12.07-1";
  const std::string m = *formatter().format(parsed(to_json_object(e)), 7);
  INFO(m);
  CHECK(m.find("rules_bundle=\"2026.12.07-1\"") != std::string::npos);
  // And back from the trail's JSON.
  CHECK(decision_from_json(parsed(to_json_object(e))).rules_bundle == "2026.12.07-1");
}

TEST_CASE("siem: a refusal without findings names its reason, the facility is configurable", "[audit][siem]") {
  DecisionEvent e = blocked_event();
  e.findings.clear();
  e.decision = "refused";
  e.reason = "body_too_large";
  SiemFormatOptions o = options("gw1");
  o.facility = 16;  // local0
  SiemFormatter f(o);
  std::string m = *f.format(parsed(to_json_object(e)), 3);
  CHECK(m.starts_with("<132>1 "));  // 16 * 8 + 4
  CHECK(m.find(" gw1 promptwall - decision ") != std::string::npos);  // no procid: NILVALUE
  auto cef = parse_cef(msg_of(m));
  REQUIRE(cef);
  CHECK(cef->signature == "decision");
  CHECK(cef->name == "Request refused: body too large");
  CHECK(*cef->find("reason") == "body_too_large");
  CHECK(cef->find("cs2") == nullptr);
}

TEST_CASE("siem: values are escaped for SD-PARAM, CEF header and CEF extension", "[audit][siem]") {
  CHECK(escape_sd_param_value(R"(a"b\c]d)") == R"(a\"b\\c\]d)");
  CHECK(escape_cef_header("a|b\\c\nd") == "a\\|b\\\\c d");
  CHECK(escape_cef_extension("a=b\\c\nd\re") == "a\\=b\\\\c\\nd\\re");

  DecisionEvent e = blocked_event();
  e.request_id = "x\"]y";
  e.user = "bad=user\\name\nnext";
  e.findings[0].rule_id = "weird|rule";
  std::string m = *formatter().format(parsed(to_json_object(e)), 9);
  CHECK(m.find(R"(request_id="x\"\]y"])") != std::string::npos);
  CHECK(m.find("|weird\\|rule|") != std::string::npos);
  CHECK(m.find("suser=bad\\=user\\\\name\\nnext ") != std::string::npos);
  CHECK(m.find('\n') == std::string::npos);  // one message, one line
  auto cef = parse_cef(msg_of(m));
  REQUIRE(cef);
  CHECK(cef->signature == "weird|rule");
  CHECK(*cef->find("suser") == "bad=user\\name\nnext");
}

TEST_CASE("siem: excerpts are shortened at a character boundary", "[audit][siem]") {
  CHECK(truncate_utf8("abc", 3) == "abc");
  CHECK(truncate_utf8("abcdef", 5) == "ab…");
  CHECK(truncate_utf8("aậậ", 6) == "a…");  // 'ậ' is 3 bytes: cutting at 3 would split it
  DecisionEvent e = blocked_event();
  e.findings[0].evidence[0].excerpt = std::string(200, 'x');
  auto cef = parse_cef(msg_of(*formatter().format(parsed(to_json_object(e)), 1)));
  REQUIRE(cef);
  CHECK(cef->find("cs5")->size() == 64);
  CHECK(cef->find("cs5")->ends_with("…"));
}

TEST_CASE("siem: triage, outage and repair records are shipped, checkpoints are not", "[audit][siem]") {
  TriageEvent t{at("2026-11-26T09:00:00.000Z"), "01JD3K000000000000000000T1", "01JD3K0000000000000000000A",
                "false_positive", "số thử nghiệm", "officer.minh", "[::1]:40000"};
  std::string m = *formatter().format(parsed(to_json_object(t)), 20);
  CHECK(m.starts_with("<165>1 2026-11-26T09:00:00.000Z gw1.example.vn promptwall 4242 triage "));
  auto cef = parse_cef(msg_of(m));
  REQUIRE(cef);
  CHECK(cef->name == "Event triaged: false positive");
  CHECK(*cef->find("src") == "::1");
  CHECK(*cef->find("suser") == "officer.minh");
  CHECK(*cef->find("cs6") == "01JD3K0000000000000000000A");
  CHECK(*cef->find("msg") == "số thử nghiệm");

  json outage = {{"type", "outage"}, {"time", "2026-11-26T10:00:05.000Z"}, {"since", "2026-11-26T10:00:00.000Z"},
                 {"error", "write audit-x.jsonl: No space left on device"}, {"refused", 12}};
  m = *formatter().format(outage, 21);
  CHECK(m.starts_with("<163>1 "));
  CHECK(m.find(" outage [promptwall@32473 seq=\"21\"] CEF:") != std::string::npos);
  cef = parse_cef(msg_of(m));
  REQUIRE(cef);
  CHECK(*cef->find("cn2") == "12");
  CHECK(*cef->find("start") == "1795687200000");

  json repair = {{"type", "repair"}, {"time", "2026-11-26T10:00:05.000Z"}, {"file", "/var/x.jsonl"},
                 {"offset", 100}, {"bytes_removed", 17}, {"reason", "torn last record"}};
  cef = parse_cef(msg_of(*formatter().format(repair, 22)));
  REQUIRE(cef);
  CHECK(cef->signature == "repair");
  CHECK(*cef->find("cn2") == "17");

  CHECK_FALSE(formatter().format(json{{"type", "checkpoint"}, {"time", "2026-11-26T10:00:05.000Z"}}, 23));
  CHECK_FALSE(is_shipped_record_type("checkpoint"));
  CHECK_THROWS_AS(formatter().format(json{{"type", "outage"}}, 24), std::runtime_error);  // no time
}

TEST_CASE("siem: header fields must be RFC 5424 printable ASCII of bounded length", "[audit][siem]") {
  CHECK_THROWS_AS(SiemFormatter(options("gw 1")), std::invalid_argument);
  CHECK_THROWS_AS(SiemFormatter(options(std::string(256, 'h'))), std::invalid_argument);
  CHECK_THROWS_AS(SiemFormatter(options("máy")), std::invalid_argument);
  SiemFormatOptions long_app = options("gw");
  long_app.app_name = std::string(49, 'a');
  CHECK_THROWS_AS(SiemFormatter(long_app), std::invalid_argument);
  SiemFormatOptions bad_facility = options("gw");
  bad_facility.facility = 24;
  CHECK_THROWS_AS(SiemFormatter(bad_facility), std::invalid_argument);
  CHECK_NOTHROW(SiemFormatter(options(std::string(255, 'h'))));
}

TEST_CASE("siem: octet-counting framing counts bytes, not characters", "[audit][siem]") {
  CHECK(frame_octet_counted("abc") == "3 abc");
  CHECK(frame_octet_counted("ậ") == "3 ậ");
}

TEST_CASE("siem: parse_cef rejects what is not CEF", "[audit][siem]") {
  CHECK_FALSE(parse_cef("hello"));
  CHECK_FALSE(parse_cef("CEF:0|a|b|c"));
  CHECK_FALSE(parse_cef("CEF:0|a|b|c|d|e|1|=novalue"));
  auto ok = parse_cef("CEF:0|a|b|c|d|e|1|k=v w x=y");
  REQUIRE(ok);
  CHECK(*ok->find("k") == "v w");
  CHECK(*ok->find("x") == "y");
}
