// LabelNumbering: where a Redactor takes the n of a `pseudonym` redaction's [NAME-n] from.
//
// classifiers/ knows nothing of requesters or replies; the gateway hands the Redactor an
// implementation bound to one requester and one request (gateway/pseudonyms/pseudonym_vault.h),
// so the same value keeps its label across that requester's requests and the request learns which
// labels it issued (to restore them in the reply).
// Contract: number() returns n >= 1; the same (label, value) gives the same n for as long as the
// implementation promises; two values never share an n under one label.
// Threads: one instance serves one request on one thread.
#pragma once

#include <string_view>

namespace promptwall {

class LabelNumbering {
 public:
  virtual ~LabelNumbering() = default;
  // `label` is the rule's NAME, `value` the exact text replaced.
  virtual int number(std::string_view label, std::string_view value) = 0;
};

}  // namespace promptwall
