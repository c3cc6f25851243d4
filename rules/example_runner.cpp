#include "rules/example_runner.h"

#include <algorithm>

#include "classifiers/scanner.h"

namespace promptwall {

ExampleReport ExampleRunner::run(std::shared_ptr<const RuleSet> rules) {
  ExampleReport report;
  Scanner scanner(rules);
  auto fail = [&](const Rule& rule, const Example& ex, std::string why) {
    report.failures.push_back(Diagnostic{Diagnostic::Level::error, ex.where, rule.id, std::move(why)});
  };
  for (size_t r = 0; r < rules->rules().size(); ++r) {
    const Rule& rule = rules->rules()[r].rule;
    // An example with a `place` is scanned as text read from a document, wholly in that place.
    auto spans_of_rule = [&](const Example& ex) {
      const std::string& text = ex.text;
      const PlaceMap places = PlaceMap::whole(ex.places);
      std::vector<std::string> found;
      for (const auto& f : scanner.scan_rules(text, ex.places ? &places : nullptr).findings)
        if (f.rule_index == r) found.push_back(text.substr(f.span.begin, f.span.end - f.span.begin));
      return found;
    };
    for (const auto& ex : rule.match_examples) {
      ++report.examples_run;
      auto found = spans_of_rule(ex);
      if (found.empty()) {
        fail(rule, ex, "match example not found: \"" + ex.text + "\"");
      } else if (ex.finding && std::find(found.begin(), found.end(), *ex.finding) == found.end()) {
        std::string got;
        for (const auto& s : found) got += (got.empty() ? "\"" : ", \"") + s + "\"";
        fail(rule, ex, "match example found " + got + " but not \"" + *ex.finding + "\"");
      }
    }
    for (const auto& ex : rule.ignore_examples) {
      ++report.examples_run;
      auto found = spans_of_rule(ex);
      if (!found.empty()) fail(rule, ex, "ignore example matched \"" + found.front() + "\" in: \"" + ex.text + "\"");
    }
  }
  return report;
}

}  // namespace promptwall
