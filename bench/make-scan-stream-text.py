#!/usr/bin/env python3
"""Writes a large text file of the kind scanner_bench scans, for bench/run-scan-stream-bench.sh.

    make-scan-stream-text.py CORPUS_DIR OUT MB

The text scanner_bench builds (bench/scanner_bench.cpp, build_corpus), as one file: documents of
1-8 KB made of runs of 1-6 consecutive corpus lines, each document Vietnamese to a share drawn from
{0.1, 0.5, 0.5, 0.7, 0.9}, an item line about every 4 KB (CCCD, phone, e-mail, a stamp, an AWS
key, a party document number, a tax code, an IP address); documents apart by a blank line. A block
of ~16 MB is generated, then written again and again rotated by a different document, so a 1 GB
file is written at disk speed and no two copies line up the same way. Deterministic (seed 14).
"""
import gzip
import random
import sys


def main():
    corpus, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
    rnd = random.Random(14)
    vi = gzip.open(corpus + "/vi-ui.txt.gz", "rt", encoding="utf-8").read().splitlines()
    # en-docs holds real maintainers' addresses; broken as scanner_bench breaks them.
    en = gzip.open(corpus + "/en-docs.txt.gz", "rt", encoding="utf-8").read().replace("@", " (at) ").splitlines()
    items = [
        "Soạn giấy giới thiệu cho bà Nguyễn Thị Hạnh, số CCCD: 001203012345, đến liên hệ công tác.",
        "Kiểm tra giúp danh sách: Lê Văn Tâm – 038090001234 – xã Quảng Phú, Thanh Hóa.",
        "Liên hệ đồng chí Hải, SĐT 0912.345.678, để nhận tài liệu.",
        "Please call me back on 0327 669 018 before noon.",
        "Gửi email cho hanh.nt@hanoi.gov.vn đề nghị cung cấp số liệu.",
        "Contact: tuan.le@mof.gov.vn",
        "TỐI MẬT",
        "MẬT",
        "aws_access_key_id = AKIA4IABULQHGGHB2VBN",
        "Thực hiện Quyết định số 211-QĐ/TU ngày 05/3/2024 của Ban Thường vụ.",
        "Mã số thuế: 0201456787",
        "Máy chủ 10.12.4.21 không truy cập được cổng 8443 từ sáng nay.",
    ]
    docs, size = [], 0
    while size < 16 << 20:
        target = rnd.randint(1024, 8192)
        share = rnd.choice([0.1, 0.5, 0.5, 0.7, 0.9])
        lines, n = [], 0
        while n < target:
            src = vi if rnd.random() < share else en
            start = rnd.randrange(len(src))
            for i in range(rnd.randint(1, 6)):
                line = src[(start + i) % len(src)]
                lines.append(line)
                n += len(line.encode()) + 1
        for _ in range(round(rnd.expovariate(1.0) * n / 4096)):
            lines.insert(rnd.randrange(len(lines) + 1), rnd.choice(items))
        doc = ("\n".join(lines) + "\n\n").encode()
        docs.append(doc)
        size += len(doc)
    target = mb << 20
    written, k = 0, 0
    with open(out, "wb") as f:
        while True:
            shift = (k * 7919) % len(docs)
            for doc in docs[shift:] + docs[:shift]:
                if written + len(doc) > target:
                    return
                f.write(doc)
                written += len(doc)
            k += 1


if __name__ == "__main__":
    main()
