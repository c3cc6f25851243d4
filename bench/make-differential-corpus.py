#!/usr/bin/env python3
"""Documents for the detection differential: before and after a change to the scan pipeline,
`promptwall scan --format jsonl` must print byte-identical output on them.

Each output line is {"text": ...}: 1-8 KB of lines from /work/shared/corpus (Vietnamese UI
strings, English package docs with their real e-mail addresses), with planted items of every kind
scanner_bench plants and more (CMND, passport, BHXH, BHYT, bank accounts, IPv6, secrets, document
numbers, restricted markings), digit noise next to them (dates, amounts, runs of every length,
identifiers side by side), and obfuscated Vietnamese: NFD, no diacritics, s.p.a.c.e.d letters,
VIQR, VNI and TCVN3 stamps, tables and key-value forms.

    bench/make-differential-corpus.py --docs 3000 --seed 1 > /tmp/diff.jsonl
    /tmp/bt-rel/promptwall scan --format jsonl /tmp/diff.jsonl > before.txt
    build/promptwall scan --format jsonl /tmp/diff.jsonl > after.txt && cmp before.txt after.txt

Deterministic for a given --seed. Generated files belong under /tmp, never in the repository.
"""
import argparse
import gzip
import json
import random
import sys
import unicodedata

PROVINCES = [1, 2, 4, 6, 8, 10, 11, 12, 14, 15, 17, 19, 20, 22, 24, 25, 26, 27, 30, 31, 33, 34, 35, 36, 37,
             38, 40, 42, 44, 45, 46, 48, 49, 51, 52, 54, 56, 58, 60, 62, 64, 66, 67, 68, 70, 72, 74, 75, 77,
             79, 80, 82, 83, 84, 86, 87, 89, 91, 92, 93, 94, 95, 96]
MOBILE = ["90", "91", "93", "94", "96", "97", "98", "99", "32", "33", "34", "35", "36", "37", "38", "39", "70",
          "76", "77", "78", "79", "81", "82", "83", "84", "85", "86", "88", "89", "56", "58", "52", "59"]


def digits(r, n):
    return "".join(r.choice("0123456789") for _ in range(n))


def group(d, sizes, sep):
    out, p = [], 0
    for s in sizes:
        out.append(d[p:p + s])
        p += s
    return sep.join(out)


def cccd(r):
    d = "%03d" % r.choice(PROVINCES) + str(r.randrange(4)) + digits(r, 8)
    if r.random() < 0.15:  # invalid on purpose: bad province or century digit
        d = "098" + d[3:] if r.random() < 0.5 else d[:3] + "7" + d[4:]
    f = r.random()
    if f < 0.6:
        return d
    if f < 0.8:
        return group(d, [3, 3, 3, 3], r.choice(" ."))
    return group(d, [4, 4, 4], r.choice(" ."))


def phone(r):
    if r.random() < 0.15:
        area, sub = r.choice(["24", "28", "236", "225"]), digits(r, 8 if r.random() < 0.6 else 7)
        return r.choice(["0%s %s %s" % (area, sub[:4], sub[4:]), "(0%s) %s %s" % (area, sub[:4], sub[4:]),
                         "+84 %s %s %s" % (area, sub[:4], sub[4:])])
    p = r.choice(MOBILE) + digits(r, 7)
    return r.choice(["0%s %s %s" % (p[:3], p[3:6], p[6:]), "0" + p, "0%s.%s.%s" % (p[:3], p[3:6], p[6:]),
                     "+84 %s %s %s" % (p[:3], p[3:6], p[6:]), "+84" + p, "84" + p, "(+84) " + p,
                     "0%s-%s-%s" % (p[:3], p[3:6], p[6:]), "0%s %s %s %s" % (p[:3], p[3:5], p[5:7], p[7:])])


def email(r):
    fam = ["nguyen", "tran", "le", "pham", "hoang", "vu", "dang", "bui"]
    giv = ["an", "binh", "cuong", "dung", "hanh", "hoa", "lan", "minh"]
    dom = ["gmail.com", "yahoo.com.vn", "hanoi.gov.vn", "moet.edu.vn", "vnpt.vn", "fpt.com.vn", "outlook.com"]
    local = r.choice([r.choice(giv) + "." + r.choice(fam), r.choice(giv) + digits(r, 2), "vanthu_" + r.choice(giv),
                      r.choice(fam) + "+tag", "a"])
    return local + "@" + r.choice(dom)


def ipv4(r):
    o = lambda lo, hi: str(r.randint(lo, hi))
    return r.choice(["10.%s.%s.%s" % (o(0, 255), o(0, 255), o(1, 254)), "192.168.%s.%s" % (o(0, 255), o(1, 254)),
                     "172.%s.%s.%s" % (o(16, 31), o(0, 255), o(1, 254)), "113.160.%s.%s" % (o(0, 255), o(1, 254)),
                     "1.2.3.4.5", "999.1.1.1", "%s.%s.%s.%s" % (o(0, 300), o(0, 300), o(0, 300), o(0, 300))])


def mst_check(nine):
    w = [31, 29, 23, 19, 17, 13, 7, 5, 3]
    c = 10 - sum(int(nine[i]) * w[i] for i in range(9)) % 11
    return c if c <= 9 else -1


def mst(r):
    while True:
        nine = r.choice(["0100", "0101", "0201", "0312", "3700", "0800", "0912", "0983", "8012"]) + digits(r, 5)
        c = mst_check(nine)
        if c < 0:
            continue
        s = nine + str(c)
        if r.random() < 0.15:
            s += "-00" + str(r.randint(1, 9))
        return s


def luhn_complete(d):
    total = 0
    for i, ch in enumerate(reversed(d)):
        v = int(ch)
        if i % 2 == 0:
            v *= 2
            if v > 9:
                v -= 9
        total += v
    return d + str((10 - total % 10) % 10)


def card(r):
    n = r.choice([16, 16, 15, 19, 13])
    d = r.choice(["4", "51", "55", "3528", "9704", "4111", "37"])
    d += digits(r, n - 1 - len(d))
    d = luhn_complete(d)
    f = r.random()
    if n == 16 and f < 0.5:
        return group(d, [4, 4, 4, 4], r.choice(" -"))
    if n == 15 and f < 0.5:
        return group(d, [4, 6, 5], r.choice(" -"))
    return d


def aws(r):
    return r.choice(["AKIA", "ASIA"]) + "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(16))


def secret(r):
    alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    s = lambda n: "".join(r.choice(alnum) for _ in range(n))
    return r.choice([
        "sk-" + s(48), "sk-proj-" + s(40), "ghp_" + s(36), "AIza" + s(35), "xoxb-" + digits(r, 12) + "-" + s(24),
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0." + s(43),
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + s(40),
        "password = \"" + s(12) + "\"", "mật khẩu: Abc@" + digits(r, 4), "mk wifi: " + s(8) + "1",
        "postgres://admin:" + s(10) + "@db.local/x", "aws_secret_access_key = " + s(40),
        "sk_live_" + s(30), "https://hooks.slack.com/services/T" + s(9).upper() + "/B" + s(9).upper() + "/" + s(24),
    ])


def doc_number(r):
    return r.choice([
        "%d-QĐ/TU" % r.randint(1, 999), "%d-NQ/HU" % r.randint(1, 999), "%d/QĐ-UBND" % r.randint(1, 9999),
        "%d/2024/NĐ-CP" % r.randint(1, 300), "%d-qd/tu" % r.randint(1, 999), "%d/ubnd-vx" % r.randint(1, 999),
        "Số: %d/2023/TT-BTC" % r.randint(1, 200)])


def stamp(r):
    base = r.choice(["TỐI MẬT", "MẬT", "TUYỆT MẬT", "TỐI MẬT - HỎA TỐC", "**MẬT**", "Độ mật: Tối mật",
                     "| MẬT |", "\tMẬT\t", "LƯU HÀNH NỘI BỘ", "KHÔNG PHỔ BIẾN", "TOP SECRET", "[MẬT] Báo cáo",
                     "Mức độ mật: MẬT", "TÀI LIỆU THU HỒI", "HỎA TỐC"])
    return base


def obfuscate(r, s):
    k = r.randrange(8)
    if k == 0:
        return unicodedata.normalize("NFD", s)
    if k == 1:
        return "".join(c for c in unicodedata.normalize("NFD", s) if not unicodedata.combining(c)).replace("Đ", "D").replace("đ", "d")
    if k == 2:
        return r.choice([" ", ".", "  ", "-"]).join(c for c in s if c != " ")
    if k == 3:  # VIQR
        return r.choice(["TO^'I MA^.T", "TUYE^.T MA^.T", "MA^.T", "to^'i ma^.t", "DDo^. MA^.T: TUYE^.T MA^.T"])
    if k == 4:  # VNI
        return r.choice(["TUYEÄT MAÄT", "toái maät", "maät", "TOÁI MAÄT", "Ñeà aùn toái maät"])
    if k == 5:  # TCVN3 pasted as Latin-1 code points
        return r.choice(["TUYÖT MËT", "TèI MËT", "MËT", "tèi mËt", "TUYÖT MËT - §Ò ¸n tæ chøc l¹i lùc l\u00ADîng"])
    if k == 6:
        return s.lower()
    return s.replace(" ", "\u00a0")


LABELS = {
    "cccd": ["CCCD", "Số CCCD:", "căn cước công dân", "citizen ID", "Mã hồ sơ", "STK", ""],
    "cmnd": ["CMND số", "Số CMTND:", "cmt:", "chứng minh nhân dân", ""],
    "phone": ["SĐT", "ĐT:", "Zalo", "hotline", "Tel:", "liên hệ", "điện thoại", "MST", ""],
    "mst": ["MST", "Mã số thuế:", "tax code", "mã số doanh nghiệp", "SĐT", ""],
    "bhxh": ["Mã số BHXH", "BHXH:", "sổ bảo hiểm xã hội", ""],
    "bank": ["STK", "Số tài khoản:", "tài khoản số", "account number", "A/C No:", "Tài khoản nhận:", "soTaiKhoan", ""],
    "passport": ["hộ chiếu số", "Passport No.", "Số HC:", ""],
    "card": ["thẻ Visa", "Card number", "số thẻ", ""],
    "ip": ["IP", "máy chủ", "ping", "server", ""],
}


def bank(r):
    return r.choice([digits(r, r.randint(6, 19)), group(digits(r, 13), [4, 4, 5], " "),
                     "3711.0.%s.00000" % digits(r, 7), "9523.1." + digits(r, 7)])


def item(r):
    kind = r.choice(["cccd", "cccd", "cmnd", "phone", "phone", "phone", "email", "email", "ip", "mst", "bhxh", "bank",
                     "passport", "bhyt", "card", "aws", "secret", "docno", "docno", "stamp", "stamp", "stamp", "ipv6",
                     "noise", "noise", "noise", "pair"])
    if kind == "cccd":
        return r.choice(LABELS["cccd"]) + " " + cccd(r)
    if kind == "cmnd":
        return r.choice(LABELS["cmnd"]) + " " + r.choice([digits(r, 9), group(digits(r, 9), [3, 3, 3], " ")])
    if kind == "phone":
        return r.choice(LABELS["phone"]) + " " + phone(r)
    if kind == "email":
        return r.choice(["Gửi email cho ", "Contact: ", "From: ", "<", "mailto:"]) + email(r) + r.choice(["", ">", ".", ",", " "])
    if kind == "ip":
        return r.choice(LABELS["ip"]) + " " + ipv4(r)
    if kind == "mst":
        return r.choice(LABELS["mst"]) + " " + mst(r)
    if kind == "bhxh":
        return r.choice(LABELS["bhxh"]) + " " + digits(r, 10)
    if kind == "bank":
        return r.choice(LABELS["bank"]) + " " + bank(r)
    if kind == "passport":
        return r.choice(LABELS["passport"]) + " " + r.choice("BCNP") + digits(r, 7)
    if kind == "bhyt":
        return "Mã thẻ BHYT " + r.choice(["DN", "HC", "GD"]) + r.choice(["", " "]) + str(r.randint(1, 5)) + r.choice(["", " "]) + "%02d" % r.randint(1, 96) + r.choice(["", " "]) + digits(r, 10)
    if kind == "card":
        return r.choice(LABELS["card"]) + " " + card(r)
    if kind == "aws":
        return r.choice(["aws_access_key_id = ", "export AWS_ACCESS_KEY_ID=", ""]) + aws(r)
    if kind == "secret":
        return secret(r)
    if kind == "docno":
        return r.choice(["Thực hiện Quyết định số ", "Căn cứ văn bản ", "Số: ", "No. "]) + doc_number(r)
    if kind == "stamp":
        return obfuscate(r, stamp(r)) if r.random() < 0.6 else stamp(r)
    if kind == "ipv6":
        return r.choice(["fe80::1ff:fe23:4567:890a", "2001:db8:85a3::8a2e:370:7334", "::ffff:192.168.1.1",
                         "2001:0db8:0000:0000:0000:ff00:0042:8329", "::1"])
    if kind == "pair":
        return "CCCD %s, MST %s, STK %s, SĐT %s" % (cccd(r), mst(r), bank(r), phone(r))
    # digit noise: dates, amounts, versions, runs of any length with any separator
    return r.choice([
        "ngày %d/%d/20%02d" % (r.randint(1, 31), r.randint(1, 12), r.randint(0, 30)),
        "số tiền %s đồng" % group(digits(r, 9), [3, 3, 3], "."), "version %d.%d.%d" % (r.randint(0, 9), r.randint(0, 99), r.randint(0, 999)),
        digits(r, r.randint(1, 24)), r.choice(" .-").join(digits(r, r.randint(1, 5)) for _ in range(r.randint(2, 6))),
        "%s-%s" % (digits(r, 4), digits(r, 4)), "(%s) %s" % (digits(r, 3), digits(r, 8)), "+" + digits(r, 11),
        "x" + digits(r, 12) + "y", digits(r, 12) + "đ", "_" + digits(r, 10) + "_", "Ａ" + digits(r, 9),
        # identifiers against multi-byte characters: a boundary that is not one byte wide
        r.choice(["–", "…", "«", "»", "\u00a0", "\u2009", "₫", "😀", "đ", "、", "—", "“"]).join(
            [r.choice(["", "CCCD "]), r.choice([cccd(r), phone(r), mst(r), card(r), digits(r, r.randint(8, 20))]),
             r.choice(["", "x", ".", " "])])])


def read_lines(path):
    with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
        return [l.rstrip("\n") for l in f if l.strip()]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus", default="/work/shared/corpus")
    ap.add_argument("--items-per-kb", type=float, default=1.0)
    a = ap.parse_args()
    r = random.Random(a.seed)
    vi = read_lines(a.corpus + "/vi-ui.txt.gz")
    en = read_lines(a.corpus + "/en-docs.txt.gz")
    out = sys.stdout
    for _ in range(a.docs):
        target = r.randint(1024, 8192)
        share = r.choice([0.1, 0.5, 0.7, 0.9])
        lines, size = [], 0
        while size < target:
            src = vi if r.random() < share else en
            start = r.randrange(len(src))
            for i in range(r.randint(1, 6)):
                l = src[(start + i) % len(src)]
                if r.random() < a.items_per_kb * 0.1:
                    it = item(r)
                    # on a line of its own, or inside the line at a word edge or in the middle of a word
                    mode = r.randrange(4)
                    if mode == 0 or not l:
                        lines.append(it)
                    elif mode == 1:
                        cut = l.find(" ", r.randrange(len(l)))
                        cut = len(l) if cut < 0 else cut
                        lines.append(l[:cut] + " " + it + l[cut:])
                    elif mode == 2:
                        lines.append(l + r.choice([" ", "\t", " | ", ", "]) + it)
                    else:
                        cut = r.randrange(len(l) + 1)
                        lines.append(l[:cut] + it + l[cut:])
                    size += len(it.encode()) + 1
                lines.append(obfuscate(r, l) if r.random() < 0.05 else l)
                size += len(l.encode()) + 1
        text = r.choice(["\n", "\r\n", "\n", "\n"]).join(lines)
        out.write(json.dumps({"text": text}, ensure_ascii=r.random() < 0.5) + "\n")


if __name__ == "__main__":
    main()
