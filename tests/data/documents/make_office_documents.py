#!/usr/bin/python3
"""Makes the office documents of tests/data/documents/office/ that the zip, OOXML and ODF readers'
tests read (tests/unit/zip_archive_test.cpp, ooxml_reader_test.cpp, odf_reader_test.cpp).

Real tools make every document: python3-docx and python3-openpyxl the OOXML ones, LibreOffice
(driven over UNO by lo_office_documents.py, or `soffice --convert-to`) the ones those libraries
cannot make (comments, footnotes, text boxes, tracked deletions, slides) and every ODF file. Only
the damaged zips (a flipped byte, a cut) are made by patching bytes, since no tool writes them.
Needs: python3-docx, python3-openpyxl, libreoffice (writer, calc, impress), python3-uno.
Run: /usr/bin/python3 tests/data/documents/make_office_documents.py
The committed files are what the tests read; CI does not run this script.
"""
import datetime
import io
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "office")
FIXED_DATE = (2024, 1, 2, 3, 4, 6)  # every zip entry's time, so a re-run makes the same bytes


def save(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def zip_bytes(entries, compression=zipfile.ZIP_DEFLATED):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name, FIXED_DATE)
            info.compress_type = compression
            z.writestr(info, data)
    return buf.getvalue()


def read_zip(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def fixed_times(data):
    """python-docx and openpyxl write their entries with the time of the run: rewrite them fixed."""
    return zip_bytes(read_zip(data))


def soffice_convert(src, fmt, workdir):
    subprocess.run(["soffice", "--headless", "--norestore",
                    f"-env:UserInstallation=file://{workdir}/lo-profile",
                    "--convert-to", fmt, src, "--outdir", os.path.join(workdir, "converted")],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
    out = os.path.join(workdir, "converted",
                       os.path.splitext(os.path.basename(src))[0] + "." + fmt.split(":")[0])
    with open(out, "rb") as f:
        return f.read()


# --- plain zips (zip_archive_test) ---------------------------------------------------------------

def make_zips():
    notes = "Biên bản họp\nTỐI MẬT\n".encode()
    plain = zip_bytes([("ghi chú/biên bản.txt", notes), ("ghi chú/", b""), ("empty.txt", b"")])
    save("plain.zip", plain)
    # A flipped byte inside the deflated data of the first entry: the CRC no longer matches.
    data = bytearray(zip_bytes([("notes.txt", notes * 50)]))
    start = 30 + len("notes.txt")
    data[start + 5] ^= 0x55
    save("crc_error.zip", bytes(data))
    # Cut before the central directory.
    save("cut.zip", plain[: len(plain) // 2])
    # 2 MiB of one letter deflated to ~2 KB: a ratio of ~1000, and sizes the tests set limits around.
    save("two_mib.zip", zip_bytes([("a.txt", b"a" * (2 << 20))]))


# --- OOXML made by python3-docx and python3-openpyxl (ooxml_reader_test) -------------------------

def small_xlsx(cells):
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in cells:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return fixed_times(buf.getvalue())


def make_docx(work):
    """word.docx: a stamp split across runs, header and footer, a hidden run, a tab and a line
    break, a table whose first cell holds two paragraphs, core properties and an embedded workbook."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    d = docx.Document()
    section = d.sections[0]
    section.header.paragraphs[0].text = "TỐI MẬT"
    section.footer.paragraphs[0].text = "Số: 12/QĐ-UBND"
    p = d.add_paragraph()
    p.add_run("TỐI ")
    p.add_run("MẬT").bold = True
    d.add_paragraph("Số: 12/QĐ-UBND")
    p = d.add_paragraph()
    r = p.add_run("Kính gửi:")
    r.add_tab()
    p.add_run("Ban Giám đốc")
    p = d.add_paragraph()
    p.add_run("Ông Nguyễn Văn An")
    p.add_run(" mật khẩu: Hoa$Sen2024").font.hidden = True
    p.add_run(" đã ký.")
    p = d.add_paragraph()
    r = p.add_run("Dòng một")
    r.add_break()
    p.add_run("dòng hai")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Họ tên"
    table.cell(0, 1).text = "Số CCCD"
    table.cell(1, 0).text = "Nguyễn Văn An"
    table.cell(1, 0).add_paragraph("Phòng Kế toán")
    table.cell(1, 1).text = "001099012345"
    d.add_paragraph("Hết.")
    d.core_properties.title = "Kế hoạch kiểm tra"
    d.core_properties.subject = "TỐI MẬT"
    d.core_properties.author = "Nguyễn Văn An"
    d.core_properties.keywords = "mật khẩu"
    d.core_properties.created = d.core_properties.modified = datetime.datetime(2024, 1, 2, 3, 4, 6)
    embedded = small_xlsx([["Bảng lương"], ["mật khẩu", "Hoa$Sen2024"]])
    part = Part(PackURI("/word/embeddings/Microsoft_Excel_Worksheet.xlsx"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", embedded, d.part.package)
    d.part.relate_to(part, RT.PACKAGE)
    buf = io.BytesIO()
    d.save(buf)
    data = fixed_times(buf.getvalue())
    save("word.docx", data)
    src = os.path.join(work, "word.docx")
    with open(src, "wb") as f:
        f.write(data)
    save("word.odt", soffice_convert(src, "odt", work))


def make_xlsx(work):
    """sheet.xlsx (openpyxl): two sheets, shared strings, a CCCD typed as a number under the format
    "000000000000", a gap between cells, a boolean, a header and a footer, a comment, formulas
    (openpyxl stores no cached value). lo_sheet.xlsx: LibreOffice's re-save of it, which stores
    the formulas' cached values. sheet.ods: LibreOffice's conversion (odf_reader_test)."""
    import openpyxl
    from openpyxl.comments import Comment
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Nhân sự"
    ws.append(["Họ tên", "Số CCCD", "Ghi chú"])
    ws.append(["Trần Thị Bình", "079088001234", "TỐI MẬT"])
    ws.append(["Nguyễn Văn An", 1099012345, "TỐI MẬT"])
    ws["B3"].number_format = "000000000000"
    ws["B3"].comment = Comment("CCCD của ông An", "Nguyễn Văn An")
    ws["A5"] = "mật khẩu"
    ws["D5"] = "Hoa$Sen2024"
    ws["A6"] = 1.5
    ws["B6"] = True
    ws["C6"] = "=LEN(A3)"
    ws.oddHeader.center.text = "TỐI MẬT"
    ws.oddFooter.left.text = "Số: 12/QĐ-UBND"
    ws2 = wb.create_sheet("Lương")
    ws2["A1"] = "Lương tháng"
    ws2["B1"] = 15000000
    ws2["A2"] = "Gấp đôi"
    ws2["B2"] = "=B1*2"
    ws2["C2"] = '=CONCATENATE("Số: ", "12/QĐ-UBND")'
    wb.properties.title = "Danh sách nhân sự"
    wb.properties.creator = "Nguyễn Văn An"
    buf = io.BytesIO()
    wb.save(buf)
    data = fixed_times(buf.getvalue())
    save("sheet.xlsx", data)
    src = os.path.join(work, "sheet.xlsx")
    with open(src, "wb") as f:
        f.write(data)
    save("lo_sheet.xlsx", fixed_times(soffice_convert(src, "xlsx:Calc MS Excel 2007 XML", work)))
    save("sheet.ods", soffice_convert(src, "ods", work))


def main():
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="office-")
    try:
        make_zips()
        make_docx(work)
        make_xlsx(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
