#!/usr/bin/env python3
"""Exactly-once check of bench/run-soak.sh: every record of the audit trail that the SIEM must get
(types decision, triage, outage, repair: what SiemShipper ships; checkpoints are not shipped) is
compared, by seq and event id, with what rsyslog wrote out (one raw RFC 5424 message per line,
as tests/e2e/siem_test.cpp reads them).

  check-siem.py TRAIL_DIR RECEIVED_LOG

Prints the counts, the first few seqs of each kind of difference, and one `SIEMCHECK {json}`
line for the script. Exit 0 when every expected record arrived exactly once with its event id and
nothing else arrived; 1 otherwise; 2 when the inputs cannot be read.
"""
import collections
import glob
import json
import os
import re
import sys

SHIPPED = {"decision", "triage", "outage", "repair"}
# The structured data the formatter writes: [promptwall@32473 seq="N" event_id="..." ...]
SD = re.compile(r'\[promptwall@32473 seq="(\d+)"(?: event_id="([^"]*)")?')


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    trail_dir, received_log = sys.argv[1], sys.argv[2]
    files = sorted(glob.glob(os.path.join(trail_dir, "audit-*.jsonl")))
    if not files:
        print(f"check-siem: no audit-*.jsonl in {trail_dir}", file=sys.stderr)
        return 2

    expected = {}  # seq -> event_id ("" for a record without one)
    types = collections.Counter()
    decisions = collections.Counter()
    for name in files:
        with open(name, "rb") as f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    continue  # a torn last line is not durable: never shipped
                record = json.loads(raw)
                kind = record.get("type", "")
                types[kind] += 1
                if kind == "decision":
                    decisions[record.get("decision", "")] += 1
                if kind in SHIPPED:
                    expected[record["seq"]] = record.get("event_id", "")

    received = collections.Counter()
    received_ids = {}
    unparsed = 0
    lines = 0
    with open(received_log, "rb") as f:
        for raw in f:
            lines += 1
            m = SD.search(raw.decode("utf-8", "replace"))
            if not m:
                unparsed += 1
                continue
            seq = int(m.group(1))
            received[seq] += 1
            received_ids.setdefault(seq, m.group(2) or "")

    missing = sorted(set(expected) - set(received))
    unexpected = sorted(set(received) - set(expected))
    duplicated = sorted(s for s, n in received.items() if n > 1)
    wrong_id = sorted(s for s in set(expected) & set(received) if received_ids[s] != expected[s])
    ok = not (missing or unexpected or duplicated or wrong_id or unparsed)

    print(f"trail: {sum(types.values())} records in {len(files)} files: " +
          ", ".join(f"{k} {v}" for k, v in sorted(types.items())))
    print("  decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(decisions.items())))
    print(f"  to ship (decision/triage/outage/repair): {len(expected)}")
    print(f"SIEM output: {lines} lines, {len(received)} distinct seqs, {unparsed} unreadable lines")
    for label, seqs in (("missing", missing), ("unexpected", unexpected), ("duplicated", duplicated),
                        ("with another event id", wrong_id)):
        if seqs:
            extra = ""
            if label == "duplicated":
                extra = f" ({sum(received[s] - 1 for s in seqs)} extra copies)"
            print(f"  {label}: {len(seqs)}{extra}, first seqs {seqs[:10]}, last {seqs[-1]}")
    print("SIEMCHECK " + json.dumps({
        "ok": ok, "expected": len(expected), "received_lines": lines, "received_distinct": len(received),
        "missing": len(missing), "unexpected": len(unexpected), "duplicated": len(duplicated),
        "duplicate_copies": sum(received[s] - 1 for s in duplicated), "wrong_id": len(wrong_id),
        "unparsed": unparsed, "decisions": dict(decisions), "types": dict(types)}, sort_keys=True))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
