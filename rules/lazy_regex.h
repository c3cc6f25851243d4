// LazyRegex: a pattern's RE2 confirmer, compiled the first time a scan needs it.
//
// Why: an RE2 with the dialect's Unicode boundary classes costs about 4 ms and 40 KB to compile
// (the two classes are ~99 % of its program), so a RuleSet of 10,000 term rules spent most of its
// load from the database cache compiling confirmers, most of which never see a hit.
//
// Invariants: the pattern is known to compile (the compiler checked it, or it is plain text that
// RE2 accepts whatever it says); get() always returns the same object. An RE2 that fails anyway
// (it cannot, short of a different RE2 library than the one that checked it) matches nothing.
//
// Threads: get() is safe from any number of threads at once (a RuleSet is shared by every
// worker's Scanner): the first caller compiles, a racing caller may compile too and its copy is
// discarded (one atomic compare-and-swap). Moving is for building the set only, before sharing.
// Errors: none; a failed allocation throws std::bad_alloc like any compile.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace re2 {
class RE2;
}

namespace promptwall {

class LazyRegex {
 public:
  LazyRegex() = default;
  // Compiled on first use, with the options every confirmer uses (UTF-8, errors not logged) and
  // `max_mem` as RE2's memory budget (0: RE2's default, 8 MB).
  explicit LazyRegex(std::string pattern, int64_t max_mem = 0);
  // Already compiled (the compiler compiled it to check it).
  explicit LazyRegex(std::unique_ptr<re2::RE2> compiled);
  LazyRegex(LazyRegex&& other) noexcept;
  LazyRegex& operator=(LazyRegex&& other) noexcept;
  LazyRegex(const LazyRegex&) = delete;
  LazyRegex& operator=(const LazyRegex&) = delete;
  ~LazyRegex();

  const re2::RE2* get() const;
  const re2::RE2& operator*() const { return *get(); }
  const re2::RE2* operator->() const { return get(); }
  // Whether get() has compiled it yet (for tests and the bench).
  bool compiled() const { return compiled_.load(std::memory_order_acquire) != nullptr; }
  const std::string& pattern() const { return pattern_; }

  // Compiles `pattern` with the options of every confirmer (UTF-8, errors not logged), so the
  // compiler's check and a later get() build the same thing. The result may be !ok().
  static std::unique_ptr<re2::RE2> compile(const std::string& pattern, int64_t max_mem = 0);

 private:
  std::string pattern_;
  int64_t max_mem_ = 0;
  mutable std::atomic<re2::RE2*> compiled_{nullptr};
};

}  // namespace promptwall
