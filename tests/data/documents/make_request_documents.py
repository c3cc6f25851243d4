#!/usr/bin/python3
"""Makes the documents the gateway tests send through every transport (tests/unit/
request_inspector_documents_test.cpp, tests/e2e/documents_test.cpp), as staff make them:
python3-docx and openpyxl, then LibreOffice for the PDF. Run from this directory:

    /usr/bin/python3 make_request_documents.py

Writes requests/: report-stamped.docx (TỐI MẬT in the page header, a Word table with a CCCD),
report-clean.docx (an ordinary minutes file), staff-list.xlsx (CCCD numbers under their header,
one typed as a number with a 000000000000 format), report-stamped.pdf (the stamped docx printed by
LibreOffice), report-clean.pdf (the clean docx printed by LibreOffice: a readable PDF that passes)
header-stamp.docx ("MẬT  Số: 15/BC-UBND" in the page header), body-stamp-line.docx (the same line
as the fifth paragraph of the body, past the prominent top of page one) and notes-clean.txt.
Each is small; all are committed with this script.
"""
import os
import shutil
import subprocess
import tempfile

import docx
import openpyxl

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "requests")


def stamped_docx(path):
    d = docx.Document()
    d.core_properties.author = "Văn phòng"
    d.core_properties.title = "Báo cáo quý"
    header = d.sections[0].header.paragraphs[0]
    header.text = "TỐI MẬT"
    d.add_paragraph("UBND TỈNH QUẢNG NAM")
    d.add_paragraph("Báo cáo tình hình công tác quý III năm 2026.")
    table = d.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Họ và tên"
    table.cell(0, 1).text = "Số CCCD"
    table.cell(1, 0).text = "Nguyễn Văn An"
    table.cell(1, 1).text = "001099012345"
    d.add_paragraph("Đề nghị các đơn vị triển khai thực hiện.")
    d.save(path)


def clean_docx(path):
    d = docx.Document()
    d.add_paragraph("Biên bản họp giao ban tuần")
    d.add_paragraph("Nội dung: rà soát kế hoạch đào tạo sử dụng trí tuệ nhân tạo cho cán bộ.")
    d.add_paragraph("Mọi người nhớ đổi mật khẩu hộp thư định kỳ; mật ong được mang đến buổi họp.")
    d.save(path)


# A degree beside the document number with two spaces (what degree-column's three or a tab
# misses): a stamp in the page header, a line like any other in the body. Used by
# tests/unit/document_places_test.cpp (vn.secret.degree-in-document-header weighs the place).
HEADER_STAMP_LINE = "MẬT  Số: 15/BC-UBND"


def header_stamp_docx(path):
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = HEADER_STAMP_LINE
    d.add_paragraph("UBND TỈNH QUẢNG NAM")
    d.add_paragraph("BÁO CÁO kết quả rà soát hồ sơ cán bộ quý III năm 2026.")
    d.add_paragraph("Đề nghị các đơn vị triển khai thực hiện.")
    d.save(path)


def body_stamp_line_docx(path):
    d = docx.Document()
    d.sections[0].header.paragraphs[0].text = "Sở Nội vụ tỉnh Quảng Nam"
    for text in ["Biên bản họp giao ban tuần", "Nội dung: rà soát văn bản đến trong tháng.",
                 "Các văn bản đã nhận gồm:", "Công văn hướng dẫn tập huấn;", HEADER_STAMP_LINE,
                 "Đề nghị các đơn vị triển khai thực hiện."]:
        d.add_paragraph(text)
    d.save(path)


def staff_xlsx(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Danh sách"
    ws.append(["STT", "Họ và tên", "Số CCCD"])
    ws.append([1, "Trần Thị Bình", "079201004321"])
    ws.append([2, "Lê Văn Cường", 1099012345])
    ws["C3"].number_format = "000000000000"
    wb.create_sheet("Ghi chú").append(["Danh sách phục vụ công tác nội bộ"])
    wb.save(path)


def pdf_from(docx_path, pdf_path):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/profile",
                        "--convert-to", "pdf", "--outdir", tmp, docx_path],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        produced = os.path.join(tmp, os.path.splitext(os.path.basename(docx_path))[0] + ".pdf")
        shutil.copyfile(produced, pdf_path)


def main():
    os.makedirs(OUT, exist_ok=True)
    stamped_docx(os.path.join(OUT, "report-stamped.docx"))
    clean_docx(os.path.join(OUT, "report-clean.docx"))
    staff_xlsx(os.path.join(OUT, "staff-list.xlsx"))
    header_stamp_docx(os.path.join(OUT, "header-stamp.docx"))
    body_stamp_line_docx(os.path.join(OUT, "body-stamp-line.docx"))
    pdf_from(os.path.join(OUT, "report-stamped.docx"), os.path.join(OUT, "report-stamped.pdf"))
    pdf_from(os.path.join(OUT, "report-clean.docx"), os.path.join(OUT, "report-clean.pdf"))
    with open(os.path.join(OUT, "notes-clean.txt"), "w", encoding="utf-8") as f:
        f.write("Ghi chú cuộc họp: chuẩn bị tài liệu tập huấn, không có nội dung nhạy cảm.\n")


if __name__ == "__main__":
    main()
