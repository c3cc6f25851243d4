#!/usr/bin/python3
"""Makes the fixtures of tests/data/documents/other/: the formats read by pdf_reader, rtf_reader,
mime_message_reader and legacy_office_reader (extractors/), written by the real tools.

  letter.{pdf,rtf,doc}  one Writer letter (LibreOffice over UNO: a page header and footer, a
                        footnote, a table, a page break, document properties,
                        a TCVN3 look-alike line in the .VnTime font), saved by LibreOffice's own
                        PDF, RTF and Word 97 filters
  attached.pdf          letter.pdf with ghichu.txt embedded (qpdf --add-attachment)
  scan.pdf              a page holding only a picture (no text layer)
  locked.doc            letter.doc saved with a password to open (LibreOffice, Word 97 RC4)
  locked.pdf            letter.pdf under a user password (qpdf, AES-256)
  restricted.pdf        letter.pdf under an owner password only (opens without one: must be read)
  roster.xls            an openpyxl workbook (two sheets) saved as Excel 97 by LibreOffice
  slides.ppt            two Impress slides with speaker notes, saved as PowerPoint 97
  letter.{docx,odt}, roster.{xlsx,ods}, slides.{pptx,odp}, archive.zip: the same documents in
                        the zip-based formats, for file_type_test
  message.eml           Python's email package: a Vietnamese encoded-word Subject, a
                        quoted-printable text/plain body, an HTML alternative, a docx attachment
                        (python3-docx)

Needs: libreoffice (writer, calc, impress), python3-uno, python3-docx, python3-openpyxl, qpdf.
Run: /usr/bin/python3 tests/data/documents/make_other_documents.py
The committed files are what the tests read; CI does not run this script.
"""
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from email.message import EmailMessage
from email.policy import SMTP

import uno
from com.sun.star.beans import PropertyValue

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "other")


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def png_bytes(width, height):
    """A grey-scale PNG of bars (a 'scanned page'): zlib and the PNG chunk layout."""
    rows = b"".join(b"\x00" + bytes((0 if (y // 6) % 3 == 0 and 10 < x < width - 10 else 255)
                                    for x in range(width)) for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


class Office:
    """A headless soffice driven over UNO (what --convert-to cannot do: footnotes, comments, notes)."""

    def __init__(self, workdir):
        self.port = 21000 + os.getpid() % 9000
        self.proc = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--norestore",
             "-env:UserInstallation=file://%s/lo-uno-profile" % os.path.abspath(workdir),
             "--accept=socket,host=127.0.0.1,port=%d;urp;" % self.port],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(120):
            try:
                self.ctx = resolver.resolve(
                    "uno:socket,host=127.0.0.1,port=%d;urp;StarOffice.ComponentContext" % self.port)
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise SystemExit("soffice did not answer")
        self.desktop = self.ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)

    def new(self, kind):
        return self.desktop.loadComponentFromURL("private:factory/" + kind, "_blank", 0, (prop("Hidden", True),))

    def load(self, path):
        return self.desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
                                                 (prop("Hidden", True),))

    @staticmethod
    def save(doc, path, filter_name):
        doc.storeToURL(uno.systemPathToFileUrl(os.path.abspath(path)), (prop("FilterName", filter_name),))

    def close(self):
        try:
            self.desktop.terminate()
        except Exception:
            pass  # the bridge drops as soffice exits
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def make_letter(office, work):
    doc = office.new("swriter")
    props = doc.DocumentProperties
    props.Title = "Quyết định cấp mật khẩu"
    props.Subject = "Bảo mật hệ thống"
    props.Author = "Phòng Hành chính"
    props.Keywords = ("mật khẩu", "TỐI MẬT")
    style = doc.StyleFamilies.getByName("PageStyles").getByName("Standard")
    style.HeaderIsOn = True
    style.FooterIsOn = True
    style.HeaderText.setString("Văn bản nội bộ UBND")
    style.FooterText.setString("Lưu hành hạn chế")

    text = doc.Text
    cursor = text.createTextCursor()
    PARAGRAPH_BREAK = 0
    for line in ["TỐI MẬT", "ỦY BAN NHÂN DÂN THÀNH PHỐ HÀ NỘI", "Số: 12/QĐ-UBND", "QUYẾT ĐỊNH"]:
        text.insertString(cursor, line, False)
        text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    text.insertString(cursor, "Ông Nguyễn Văn An, CCCD 001099012345, được cấp mật khẩu truy cập.", False)
    footnote = doc.createInstance("com.sun.star.text.Footnote")
    text.insertTextContent(cursor, footnote, False)
    footnote.setString("Theo Quy chế bảo mật số 7.")
    # (A review comment is not made here: inserting an Annotation field crashes a headless soffice
    # 7.4 over UNO; rtf_reader_test reads \annotation from the RTF specification's own form.)
    text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)

    table = doc.createInstance("com.sun.star.text.TextTable")
    table.initialize(2, 2)
    text.insertTextContent(cursor, table, False)
    for cell, value in (("A1", "Họ và tên"), ("B1", "Số CCCD"), ("A2", "Trần Thị Bình"), ("B2", "001099012346")):
        table.getCellByName(cell).setString(value)

    # A TCVN3 line as a legacy Vietnamese font shows it: Latin-1 look-alikes of "TỐI MẬT".
    cursor.gotoEnd(False)
    cursor.CharFontName = ".VnTimeH"
    text.insertString(cursor, "TèI MËT", False)
    text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    cursor.CharFontName = "Liberation Serif"

    cursor.BreakType = uno.Enum("com.sun.star.style.BreakType", "PAGE_BEFORE")
    text.insertString(cursor, "Trang hai: danh sách người nhận.", False)

    odt = os.path.join(work, "letter.odt")
    office.save(doc, odt, "writer8")
    for name, filter_name in (("letter.pdf", "writer_pdf_Export"), ("letter.rtf", "Rich Text Format"),
                              ("letter.doc", "MS Word 97"), ("letter.docx", "MS Word 2007 XML"),
                              ("letter.odt", "writer8")):
        office.save(doc, os.path.join(OUT, name), filter_name)
    # Password-protected Word 97 (LibreOffice's RC4 encryption): antiword says it cannot read it.
    doc.storeToURL(uno.systemPathToFileUrl(os.path.join(OUT, "locked.doc")),
                   (prop("FilterName", "MS Word 97"), prop("Password", "secret")))
    doc.close(True)


def make_slides(office):
    doc = office.new("simpress")
    pages = doc.DrawPages
    while pages.Count < 2:
        pages.insertNewByIndex(pages.Count - 1)
    contents = [("Kế hoạch bảo mật quý 3", "Mật khẩu quản trị: Hoa$Sen2024", "Ghi chú: không gửi ra ngoài"),
                ("TỐI MẬT", "Số: 12/QĐ-UBND", "Người trình bày: Nguyễn Văn An")]
    for i, (title, body, note) in enumerate(contents):
        # The layout's title and outline placeholders: PowerPoint 97 keeps their text in the
        # slide list's text atoms, where readers of the format (catppt) look; a free text box's
        # text lies elsewhere.
        page = pages.getByIndex(i)
        page.Layout = 1  # AUTOLAYOUT_TITLE_CONTENT
        page.getByIndex(0).setString(title)
        page.getByIndex(1).setString(body)
        notes = page.NotesPage
        for k in range(notes.Count):
            shape = notes.getByIndex(k)
            if shape.ShapeType == "com.sun.star.presentation.NotesShape":
                shape.setString(note)
    for name, filter_name in (("slides.ppt", "MS PowerPoint 97"), ("slides.pptx", "Impress MS PowerPoint 2007 XML"),
                              ("slides.odp", "impress8")):
        office.save(doc, os.path.join(OUT, name), filter_name)
    doc.close(True)


def make_roster(office, work):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    ws.append(["Họ và tên", "Số CCCD", "Ghi chú"])
    ws.append(["Nguyễn Văn An", "001099012345", "mật khẩu: Hoa$Sen2024"])
    ws.append(["Trần Thị Bình", "001099012346", "TỐI MẬT"])
    ws2 = wb.create_sheet("Lương")
    ws2.append(["Tháng", "Số tiền"])
    ws2.append(["Tháng 9", 15000000])
    src = os.path.join(work, "roster.xlsx")
    wb.save(src)
    doc = office.load(src)
    for name, filter_name in (("roster.xls", "MS Excel 97"), ("roster.xlsx", "Calc MS Excel 2007 XML"),
                              ("roster.ods", "calc8")):
        office.save(doc, os.path.join(OUT, name), filter_name)
    doc.close(True)


def make_pdfs(office, work):
    letter = os.path.join(OUT, "letter.pdf")
    subprocess.run(["qpdf", "--encrypt", "secret", "owner-secret", "256", "--", letter,
                    os.path.join(OUT, "locked.pdf")], check=True)
    subprocess.run(["qpdf", "--encrypt", "", "owner-secret", "256", "--print=none", "--extract=n", "--",
                    letter, os.path.join(OUT, "restricted.pdf")], check=True)
    note = os.path.join(work, "ghichu.txt")
    with open(note, "w", encoding="utf-8") as f:
        f.write("Ghi chú đính kèm: mật khẩu kho lưu trữ là Sen@2024\n")
    subprocess.run(["qpdf", letter, "--add-attachment", note, "--", os.path.join(OUT, "attached.pdf")], check=True)

    import docx
    picture = docx.Document()
    picture.add_picture(io.BytesIO(png_bytes(240, 120)))
    src = os.path.join(work, "scan.docx")
    picture.save(src)
    doc = office.load(src)
    office.save(doc, os.path.join(OUT, "scan.pdf"), "writer_pdf_Export")
    doc.close(True)


def make_message(work):
    import docx
    attachment = docx.Document()
    attachment.add_paragraph("TỐI MẬT")
    attachment.add_paragraph("Danh sách CCCD: 001099012345")
    buf = io.BytesIO()
    attachment.save(buf)

    msg = EmailMessage(policy=SMTP)
    msg["From"] = "Nguyễn Văn An <an.nguyen@ubnd.example.vn>"
    msg["To"] = "Trần Thị Bình <binh.tran@ubnd.example.vn>"
    msg["Cc"] = "van.thu@ubnd.example.vn"
    msg["Subject"] = "Gửi mật khẩu hệ thống - TỐI MẬT"
    msg["Date"] = "Mon, 02 Sep 2024 08:30:00 +0700"
    msg["Message-ID"] = "<20240902083000.1@ubnd.example.vn>"
    msg.set_content("Chào chị Bình,\nMật khẩu mới của hệ thống là Hoa$Sen2024.\n"
                    "Số CCCD của tôi: 001099012345.\n", cte="quoted-printable")
    msg.add_alternative("<html><body><p>Chào chị Bình,</p><p>Mật khẩu mới: <b>Hoa$Sen2024</b></p>"
                        "</body></html>\n", subtype="html", cte="quoted-printable")
    msg.add_attachment(buf.getvalue(), maintype="application",
                       subtype="vnd.openxmlformats-officedocument.wordprocessingml.document",
                       filename="danh sách.docx")
    with open(os.path.join(OUT, "message.eml"), "wb") as f:
        f.write(msg.as_bytes())


def make_archive():
    """A plain zip (Python's zipfile), for file type detection."""
    import zipfile
    with zipfile.ZipFile(os.path.join(OUT, "archive.zip"), "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(zipfile.ZipInfo("ghichu.txt", (2024, 1, 2, 3, 4, 6)), "Ghi chú: mật khẩu Sen@2024\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="other-documents-")
    office = Office(work)
    try:
        make_letter(office, work)
        make_slides(office)
        make_roster(office, work)
        make_pdfs(office, work)
    finally:
        office.close()
    make_message(work)
    make_archive()
    shutil.rmtree(work, ignore_errors=True)
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
