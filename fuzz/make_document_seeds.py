#!/usr/bin/python3
"""Fills the seed corpora of the document fuzz targets (fuzz/corpus/{file_type, mime_message,
office_zip, document_extractor}/) from the test fixtures (tests/data/documents/, made by the
scripts there), an RTF of the Word fixture by LibreOffice, and small e-mails made here with Python's email package. Seeds stay small
(the replay runs them in every CI build): the largest are the 36 KB python-docx hostile files.
Run from the repository: /usr/bin/python3 fuzz/make_document_seeds.py"""
import os
import shutil
import subprocess
import tempfile
from email.message import EmailMessage

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "tests/data/documents")
CORPUS = os.path.join(ROOT, "fuzz/corpus")

SEEDS = {
    "file_type": ["requests/notes-clean.txt", "other/archive.zip", "office/plain.zip", "other/scan.pdf",
                  "other/letter.rtf", "other/letter.docx", "office/sheet.xlsx", "other/letter.doc",
                  "other/roster.ods", "hostile/encrypted_entry.zip", "hostile/duplicate_names.zip",
                  "hostile/nested_depth3.zip", "hostile/random_bytes.bin", "hostile/picture.png",
                  "hostile/truncated.xlsx", "mail:alternative.eml"],
    "office_zip": ["other/letter.docx", "office/sheet.xlsx", "requests/staff-list.xlsx", "other/letter.odt",
                   "office/sheet.ods", "other/slides.odp", "other/slides.pptx", "office/plain.zip",
                   "office/crc_error.zip", "office/cut.zip", "hostile/duplicate_names.zip",
                   "hostile/overlap_bomb.zip", "hostile/encrypted_entry.zip", "hostile/nested_depth3.zip",
                   "hostile/billion_laughs.docx", "hostile/xxe_document.docx", "hostile/truncated.xlsx"],
    "document_extractor": ["requests/notes-clean.txt", "other/letter.rtf", "other/letter.docx", "office/sheet.xlsx",
                           "other/letter.odt", "other/scan.pdf", "requests/report-stamped.pdf", "other/archive.zip",
                           "hostile/nested_depth3.zip", "hostile/encrypted_entry.zip",
                           "hostile/duplicate_names.zip", "hostile/picture.png", "hostile/random_bytes.bin",
                           "hostile/truncated.xlsx", "hostile/truncated.pdf", "hostile/encrypted.pdf",
                           "mail:attachments.eml"],
    "rtf_reader": ["other/letter.rtf", "rtf:word.rtf", "rtf:features.rtf"],
    "mime_message": ["mail:plain_qp.eml", "mail:alternative.eml", "mail:attachments.eml", "mail:forwarded.eml",
                     "mail:legacy_charset.eml"],
}


def mails():
    out = {}
    m = EmailMessage()
    m["From"] = "Phòng Tổ chức <tochuc@example.gov.vn>"
    m["To"] = "an.nv@example.gov.vn"
    m["Subject"] = "TỐI MẬT — Số: 12/QĐ-UBND"
    m["Date"] = "Tue, 02 Jan 2024 09:00:00 +0700"
    m.set_content("Ông Nguyễn Văn An, CCCD 001099012345.\nmật khẩu: Hoa$Sen2024\n", cte="quoted-printable")
    out["plain_qp.eml"] = bytes(m)
    m.add_alternative("<html><body><p>TỐI MẬT</p><table><tr><td>CCCD</td><td>001099012345</td></tr></table>"
                      "</body></html>", subtype="html", cte="base64")
    out["alternative.eml"] = bytes(m)
    m.add_attachment("Họ tên,CCCD\nNguyễn Văn An,001099012345\n".encode(), maintype="text", subtype="csv",
                     filename="danh sách nhân sự.csv")  # non-ASCII: an RFC 2231 filename*
    with open(os.path.join(DOCS, "other/archive.zip"), "rb") as f:
        m.add_attachment(f.read(), maintype="application", subtype="zip", filename="ho-so.zip")
    out["attachments.eml"] = bytes(m)
    outer = EmailMessage()
    outer["From"] = "a@example.vn"
    outer["To"] = "b@example.vn"
    outer["Subject"] = "Fwd: báo cáo"
    outer.set_content("Chuyển tiếp.\n")
    outer.add_attachment(m)  # message/rfc822
    out["forwarded.eml"] = bytes(outer)
    legacy = EmailMessage()
    legacy["From"] = "x@example.vn"
    legacy["Subject"] = "=?windows-1258?Q?B=E1o_c=E1o?="
    legacy.set_content(b"T\xd4I M\xc2T\n", maintype="text", subtype="plain", cte="8bit",
                       params={"charset": "windows-1258"})
    out["legacy_charset.eml"] = bytes(legacy)
    return out


# What LibreOffice's RTF export leaves out and the reader still handles: code pages per font,
# \uN with \ucN fallbacks, a field, a footnote, an annotation, \binN, a table, a shape's text.
FEATURES_RTF = (
    rb"{\rtf1\ansi\ansicpg1258\deff0{\fonttbl{\f0\fcharset163 Times;}{\f1\fcharset128 MS Mincho;}}"
    rb"{\info{\title T\u7888?I M\u7852?T}{\author Ph\'f2ng T\u7893?{\uc2\u7913??} ch\'fac}}"
    rb"{\header \pard T\u7888?I M\u7852?T\par}\pard\plain S\'e9: 12/Q\u272?-UBND\par"
    rb"{\f1 \'82\'a0}{\field{\*\fldinst HYPERLINK \\l x}{\fldrslt m\u7853?t kh\u7849?u}}\par"
    rb" CCCD{\footnote \pard 001099012345\par}{\*\annotation \pard ghi ch\'fa\par}"
    rb"{\*\bkmkstart x}{\pict\pngblip 89504e47}{\*\objdata 0102}\bin4 " b"\x00\x01{}" rb"\par"
    rb"\trowd\cellx1000\cellx2000\intbl H\u7885? t\'ean\cell CCCD\cell\row"
    rb"{\shp{\*\shpinst{\shptxt \pard h\u7897?p v\u259?n b\u7843?n\par}}}\emdash\~\lquote x\rquote\par}"
)


def main():
    made = mails()
    made["features.rtf"] = FEATURES_RTF
    for target, seeds in SEEDS.items():
        folder = os.path.join(CORPUS, target)
        os.makedirs(folder, exist_ok=True)
        for seed in seeds:
            if seed == "rtf:word.rtf":  # LibreOffice's RTF of the Word fixture: headers, tables, notes
                work = tempfile.mkdtemp(prefix="rtf-seed-")
                subprocess.run(["soffice", "--headless", "--norestore", "-env:UserInstallation=file://%s/lo" % work,
                                "--convert-to", "rtf", os.path.join(DOCS, "office/word.docx"), "--outdir", folder],
                               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
                shutil.rmtree(work, ignore_errors=True)
            elif seed.startswith("mail:") or seed.startswith("rtf:"):
                name = seed.split(":", 1)[1]
                with open(os.path.join(folder, name), "wb") as f:
                    f.write(made[name])
            else:
                shutil.copyfile(os.path.join(DOCS, seed), os.path.join(folder, os.path.basename(seed)))


if __name__ == "__main__":
    main()
