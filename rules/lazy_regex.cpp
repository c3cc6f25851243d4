#include "rules/lazy_regex.h"

#include <re2/re2.h>

namespace promptwall {

std::unique_ptr<re2::RE2> LazyRegex::compile(const std::string& pattern, int64_t max_mem) {
  re2::RE2::Options o;
  o.set_log_errors(false);
  o.set_encoding(re2::RE2::Options::EncodingUTF8);
  if (max_mem > 0) o.set_max_mem(max_mem);
  return std::make_unique<re2::RE2>(pattern, o);
}

LazyRegex::LazyRegex(std::string pattern, int64_t max_mem) : pattern_(std::move(pattern)), max_mem_(max_mem) {}

LazyRegex::LazyRegex(std::unique_ptr<re2::RE2> compiled)
    : pattern_(compiled->pattern()), compiled_(compiled.release()) {}

LazyRegex::LazyRegex(LazyRegex&& other) noexcept
    : pattern_(std::move(other.pattern_)), max_mem_(other.max_mem_), compiled_(other.compiled_.exchange(nullptr)) {}

LazyRegex& LazyRegex::operator=(LazyRegex&& other) noexcept {
  if (this != &other) {
    delete compiled_.exchange(other.compiled_.exchange(nullptr));
    pattern_ = std::move(other.pattern_);
    max_mem_ = other.max_mem_;
  }
  return *this;
}

LazyRegex::~LazyRegex() { delete compiled_.load(); }

const re2::RE2* LazyRegex::get() const {
  if (re2::RE2* ready = compiled_.load(std::memory_order_acquire)) return ready;
  std::unique_ptr<re2::RE2> mine = compile(pattern_, max_mem_);
  re2::RE2* expected = nullptr;
  if (compiled_.compare_exchange_strong(expected, mine.get(), std::memory_order_acq_rel, std::memory_order_acquire))
    return mine.release();
  return expected;  // another thread won; ours is freed
}

}  // namespace promptwall
