#!/usr/bin/python3
"""Makes the documents of the extraction benchmark (bench/run-extraction-bench.sh) in
bench/documents/generated/ (not committed: .gitignore): per format a ~1 MB and a ~10 MB file,
docx, xlsx, pptx, odt, pdf, rtf, eml, from the text of /work/shared/corpus/ (Vietnamese UI
strings and English package documentation, interleaved as an office's papers mix them).

Made by real tools: python3-docx (docx), python3-openpyxl (xlsx), LibreOffice (odt, pdf and rtf
from a docx; pptx from an ODF presentation written here as flat XML, since Debian 12 has no
python-pptx), Python's email package (eml). Sizes are approached by scaling each format's content
from a measured small sample, so they land near, not on, 1 and 10 MB; the bench reports the real
size of each file. Usage: make_bench_documents.py [CORPUS_DIR] (default ../shared/corpus beside
the repository). Takes a few minutes, mostly LibreOffice printing the 10 MB PDF.
"""
import gzip
import io
import itertools
import os
import shutil
import subprocess
import sys
import tempfile
from email.message import EmailMessage
from xml.sax.saxutils import escape

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "generated")
MB = 1_000_000
SIZES = {"1mb": 1 * MB, "10mb": 10 * MB}


def corpus_lines(corpus):
    vi = gzip.open(os.path.join(corpus, "vi-ui.txt.gz"), "rt", encoding="utf-8").read().splitlines()
    en = gzip.open(os.path.join(corpus, "en-docs.txt.gz"), "rt", encoding="utf-8").read().splitlines()
    vi = [l.strip() for l in vi if len(l.strip()) > 3]
    en = [l.strip() for l in en if len(l.strip()) > 3]
    # Vietnamese and English in turn, a few lines of each: a memo quoting a manual.
    out = []
    for i in range(max(len(vi), len(en)) // 3):
        out += vi[(3 * i) % len(vi):(3 * i) % len(vi) + 3] + en[(3 * i) % len(en):(3 * i) % len(en) + 3]
    # XML 1.0 and the tools refuse control characters: keep printable text only.
    return ["".join(c for c in l if c >= " " or c == "\t") for l in out]


class Text:
    """Endless paragraphs: the corpus, again from the start when it runs out (a 10 MB docx holds
    more text than the corpus; deflate's 32 KiB window never sees the repeat)."""

    def __init__(self, lines):
        self.it = itertools.cycle(lines)

    def paragraph(self, lines=3):
        return " ".join(next(self.it) for _ in range(lines))


def sized(make, target, path, first_units):
    """Calls make(units, path) with units scaled until the file is within 15% of `target`."""
    units = first_units
    for _ in range(4):
        make(units, path)
        size = os.path.getsize(path)
        if abs(size - target) <= 0.15 * target:
            return
        units = max(1, int(units * target / size))
    make(units, path)


def make_docx(lines):
    def make(units, path):
        import docx
        from docx.oxml import OxmlElement
        text = Text(lines)
        d = docx.Document()
        d.core_properties.title = "Báo cáo tổng hợp"
        d.sections[0].header.paragraphs[0].text = "TỐI MẬT"
        body = d.element.body
        # python-docx inserts each paragraph before w:sectPr by scanning the body (quadratic in a
        # 100,000-paragraph document): headings and tables through its API with sectPr detached,
        # plain paragraphs appended as the same w:p/w:r/w:t elements it would make.
        width = d._block_width  # what add_table reads from the (detached) last section
        section = body.sectPr
        body.remove(section)
        for i in range(units):
            if i % 200 == 0:
                d.add_heading(text.paragraph(1)[:80], level=2)
            if i % 500 == 250:
                t = d._body.add_table(6, 4, width)
                for r in t.rows:
                    for c in r.cells:
                        c.text = text.paragraph(1)[:60]
            p, r, t = OxmlElement("w:p"), OxmlElement("w:r"), OxmlElement("w:t")
            t.text = text.paragraph(6)
            r.append(t)
            p.append(r)
            body.append(p)
        body.append(section)
        d.save(path)
    return make


def make_xlsx(lines):
    def make(units, path):
        import openpyxl
        text = Text(lines)
        wb = openpyxl.Workbook(write_only=True)
        for s in range(3):
            ws = wb.create_sheet("Trang %d" % (s + 1))
            ws.append(["STT", "Họ tên", "Số CCCD", "Mô tả", "Số tiền", "Ghi chú"])
            for r in range(units // 3):
                ws.append([r + 1, text.paragraph(1)[:40], "0010990%05d" % (r % 100000), text.paragraph(1)[:120],
                           (r * 7919) % 1000000, text.paragraph(1)[:60]])
        wb.save(path)
    return make


def fodp(units, lines):
    """An ODF presentation as flat XML: `units` slides of a title, twelve bullets and long notes.
    Text-heavy slides: a 10 MB deck of six short bullets has ~2,700 slides and ~13,600 zip entries,
    which max_entries (10,000) refuses; these give ~1,700 slides and ~8,400 entries."""
    text = Text(lines)
    slides = []
    for i in range(units):
        bullets = "".join("<text:list-item><text:p>%s</text:p></text:list-item>" % escape(text.paragraph(3)[:400])
                          for _ in range(12))
        slides.append(
            '<draw:page draw:name="s%d" draw:master-page-name="Default">'
            '<draw:frame svg:x="1cm" svg:y="1cm" svg:width="24cm" svg:height="3cm"><draw:text-box>'
            '<text:p>%s</text:p></draw:text-box></draw:frame>'
            '<draw:frame svg:x="1cm" svg:y="4.5cm" svg:width="24cm" svg:height="12cm"><draw:text-box>'
            '<text:list>%s</text:list></draw:text-box></draw:frame>'
            '<presentation:notes><draw:frame svg:x="2cm" svg:y="14cm" svg:width="17cm" svg:height="10cm">'
            '<draw:text-box><text:p>%s</text:p></draw:text-box></draw:frame></presentation:notes>'
            '</draw:page>' % (i, escape(text.paragraph(1)[:80]), bullets, escape(text.paragraph(48))))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
            'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
            'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
            'xmlns:svg="urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0" '
            'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
            'xmlns:fo="urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0" '
            'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
            'office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.presentation">'
            '<office:styles/><office:automatic-styles><style:page-layout style:name="PM1">'
            '<style:page-layout-properties fo:page-width="28cm" fo:page-height="21cm"/></style:page-layout>'
            '</office:automatic-styles><office:master-styles>'
            '<style:master-page style:name="Default" style:page-layout-name="PM1"/></office:master-styles>'
            '<office:body><office:presentation>%s</office:presentation></office:body></office:document>\n'
            % "".join(slides))


class Office:
    def __init__(self, work):
        self.work = work

    def convert(self, src, fmt, out_path):
        subprocess.run(["soffice", "--headless", "--norestore",
                        "-env:UserInstallation=file://%s/lo-profile" % self.work,
                        "--convert-to", fmt, src, "--outdir", self.work],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1800)
        produced = os.path.join(self.work, os.path.splitext(os.path.basename(src))[0] + "." + fmt.split(":")[0])
        shutil.move(produced, out_path)


def make_via_docx(lines, office, fmt):
    def make(units, path):
        src = os.path.join(office.work, "source-%s.docx" % fmt)
        make_docx(lines)(units, src)
        office.convert(src, fmt, path)
    return make


def make_pptx(lines, office):
    def make(units, path):
        src = os.path.join(office.work, "slides.fodp")
        with open(src, "w", encoding="utf-8") as f:
            f.write(fodp(units, lines))
        office.convert(src, "pptx", path)
    return make


def make_eml(lines):
    def make(units, path):
        text = Text(lines)
        msg = EmailMessage()
        msg["From"] = "Phòng Tổ chức <tochuc@example.gov.vn>"
        msg["To"] = "Ban Giám đốc <bangiamdoc@example.gov.vn>"
        msg["Subject"] = "Báo cáo tổng hợp quý 3 — TỐI MẬT"
        msg["Date"] = "Tue, 02 Jan 2024 09:00:00 +0700"
        body = "\n\n".join(text.paragraph() for _ in range(units))
        msg.set_content(body, charset="utf-8", cte="quoted-printable")
        msg.add_alternative("<html><body>%s</body></html>" % "".join(
            "<p>%s</p>" % escape(text.paragraph()) for _ in range(units)), subtype="html", cte="base64")
        # Two text attachments, base64, as a mail client sends notes.txt and a CSV export.
        msg.add_attachment("\n".join(text.paragraph() for _ in range(units // 2)).encode(), maintype="text",
                           subtype="plain", filename="ghi-chu.txt")
        rows = "\n".join("%d,%s,0010990%05d" % (r, text.paragraph(1)[:40].replace(",", " "), r % 100000)
                         for r in range(units // 2))
        msg.add_attachment(rows.encode(), maintype="text", subtype="csv", filename="danh-sach.csv")
        with open(path, "wb") as f:
            f.write(bytes(msg))
    return make


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../shared/corpus")
    lines = corpus_lines(corpus)
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="bench-docs-")
    office = Office(work)
    makers = {  # format: (maker, units giving about 1 MB, from a first measurement)
        "docx": (make_docx(lines), 12000),
        "xlsx": (make_xlsx(lines), 5000),
        "pptx": (make_pptx(lines, office), 40),
        "odt": (make_via_docx(lines, office, "odt"), 12000),
        "pdf": (make_via_docx(lines, office, "pdf"), 1200),
        "rtf": (make_via_docx(lines, office, "rtf"), 400),
        "eml": (make_eml(lines), 800),
    }
    only = set(os.environ.get("BENCH_FORMATS", "").split()) or set(makers)
    try:
        for fmt, (make, units) in makers.items():
            if fmt not in only:
                continue
            for label, target in SIZES.items():
                path = os.path.join(OUT, "%s-%s.%s" % (fmt, label, fmt))
                if os.path.exists(path):
                    continue
                sized(make, target, path, units * target // MB)
                print("%-24s %10d bytes" % (os.path.basename(path), os.path.getsize(path)), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
