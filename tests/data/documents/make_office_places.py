#!/usr/bin/python3
"""Makes tests/data/documents/office/places/: every place Office documents hide text in, written by
the real tools, for tests/unit/office_places_test.cpp (read_ooxml, read_odf) and
tests/unit/office_legacy_font_test.cpp (the gateway's legacy view).

  letter.docx, letter.odt  one Writer document over UNO, saved by LibreOffice's Word 2007 and ODF
                           filters: three prominent body lines, a footnote and an endnote, an
                           input field (Word: w:instrText FILLIN), a text frame (Word: the same
                           w:txbxContent in mc:Choice and in mc:Fallback), a deletion and an
                           insertion recorded as tracked changes, headers and footers that differ
                           on the first, odd and even pages, two custom properties
  comments.docx            a review comment, by pandoc (a headless LibreOffice 7.4 driven over UNO
                           crashes saving a Writer document that holds an annotation)
  comments.odt             comments.docx converted by `soffice --convert-to odt` (loads and saves
                           the annotation without crashing)
  deck.pptx, deck.odp      three Impress slides over UNO: title and outline text, speaker notes on
                           slides 1 and 2, a comment on slide 1, a footer on slide 1, a table on
                           slide 3, a text box on the master
  inline.xlsx              openpyxl (3.0 writes every string as an inline string, t="inlineStr")
  rich.xlsx                a Calc sheet over UNO whose A1 "TỐI MẬT" is rich text in two runs
                           (bold "TỐI ", red "MẬT"), with a cell comment, saved as Excel 2007
  legacy_font.docx         Writer over UNO: a ".VnTime" line "TèI MËT" (TCVN3 bytes of "TỐI MẬT"
                           shown as Latin-1), and no Unicode stamp anywhere

Every document holds Vietnamese (NFC): "TỐI MẬT", "Số: 15/QĐ-UBND", a CCCD, and "mật khẩu" as an
ordinary word. Not made: threaded Excel comments and SmartArt (no tool here writes them).

Needs: libreoffice (writer, calc, impress), python3-uno, python3-openpyxl, pandoc.
Run: /usr/bin/python3 tests/data/documents/make_office_places.py
The committed files are what the tests read; CI does not run this script.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import uno
from com.sun.star.awt import Point, Size

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_other_documents import Office  # noqa: E402  (the UNO driver helper B wrote)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "office", "places")
PARAGRAPH_BREAK = 0


def make_letter(office):
    doc = office.new("swriter")
    props = doc.DocumentProperties
    props.Title = "Quyết định về hồ sơ"
    custom = props.UserDefinedProperties
    custom.addProperty("Độ mật", 0, "TỐI MẬT")
    custom.addProperty("Số hiệu", 0, "Số: 15/QĐ-UBND")

    style = doc.StyleFamilies.getByName("PageStyles").getByName("Standard")
    style.HeaderIsOn = True
    style.FooterIsOn = True
    style.HeaderIsShared = False  # odd and even pages differ
    style.FooterIsShared = False
    style.FirstIsShared = False   # and the first page differs from both
    style.HeaderTextFirst.setString("Trang đầu: TỐI MẬT")
    style.HeaderText.setString("Trang lẻ: Số: 15/QĐ-UBND")
    style.HeaderTextLeft.setString("Trang chẵn: mật khẩu")
    style.FooterTextFirst.setString("Chân trang đầu")
    style.FooterText.setString("Chân trang lẻ")
    style.FooterTextLeft.setString("Chân trang chẵn")

    text = doc.Text
    cursor = text.createTextCursor()
    for line in ["TỐI MẬT", "Số: 15/QĐ-UBND", "Kính gửi: Phòng Tổ chức"]:
        text.insertString(cursor, line, False)
        text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)

    text.insertString(cursor, "Ông An có CCCD 001099012345", False)
    footnote = doc.createInstance("com.sun.star.text.Footnote")
    text.insertTextContent(cursor, footnote, False)
    footnote.setString("Chú thích: mật khẩu không ghi ở đây.")
    text.insertString(cursor, " và hồ sơ", False)
    endnote = doc.createInstance("com.sun.star.text.Endnote")
    text.insertTextContent(cursor, endnote, False)
    endnote.setString("Ghi chú cuối: CCCD 001099012347")
    text.insertString(cursor, ".", False)
    text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)

    text.insertString(cursor, "Người nhập: ", False)
    field = doc.createInstance("com.sun.star.text.textfield.Input")
    field.Hint = "Nhập số TỐI MẬT"
    field.Content = "Trần Thị Bình"
    text.insertTextContent(cursor, field, False)
    text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)

    text.insertString(cursor, "Đoạn có khung.", False)
    frame = doc.createInstance("com.sun.star.text.TextFrame")
    frame.Width = 6000
    frame.Height = 2000
    frame.AnchorType = uno.Enum("com.sun.star.text.TextContentAnchorType", "AT_PARAGRAPH")
    text.insertTextContent(cursor, frame, False)
    frame.Text.setString("Khung: CCCD 001099012346")
    text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    text.insertString(cursor, "Bản nháp: Số: 16/QĐ-UBND", False)
    text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    text.insertString(cursor, "Hết.", False)

    doc.RecordChanges = True
    search = doc.createSearchDescriptor()
    search.SearchString = "Bản nháp: Số: 16/QĐ-UBND"
    doc.findFirst(search).setString("")
    search.SearchString = "Hết."
    found = doc.findFirst(search)
    found.getText().insertString(found.getStart(), "Đã bổ sung: mật khẩu mới. ", False)

    office.save(doc, os.path.join(OUT, "letter.docx"), "MS Word 2007 XML")
    office.save(doc, os.path.join(OUT, "letter.odt"), "writer8")
    doc.close(True)


def make_comments(work):
    source = os.path.join(work, "comments.md")
    with open(source, "w", encoding="utf-8") as f:
        f.write("TỐI MẬT\n\n"
                "Số: 15/QĐ-UBND về [Bình luận: kiểm tra CCCD 001099012345]"
                "{.comment-start id=\"1\" author=\"Nguyễn Văn An\" date=\"2024-09-02T08:30:00Z\"}"
                "hồ sơ gốc[]{.comment-end id=\"1\"} đã nhận, không kèm mật khẩu.\n")
    docx = os.path.join(OUT, "comments.docx")
    subprocess.run(["pandoc", "-f", "markdown", "-t", "docx", "-o", docx, source], check=True)
    subprocess.run(["soffice", "--headless", "-env:UserInstallation=file://%s/lo-convert" % work,
                    "--convert-to", "odt", "--outdir", OUT, docx], check=True, stdout=subprocess.DEVNULL)


def make_deck(office):
    doc = office.new("simpress")
    pages = doc.DrawPages
    while pages.Count < 3:
        pages.insertNewByIndex(pages.Count - 1)
    master = pages.getByIndex(0).MasterPage
    box = doc.createInstance("com.sun.star.drawing.TextShape")
    master.add(box)
    box.Position = Point(1000, 17000)
    box.Size = Size(12000, 1000)
    box.setString("Mẫu chung: TỐI MẬT")

    slides = [("TỐI MẬT", "Số: 15/QĐ-UBND", "Ghi chú trình bày: CCCD 001099012345"),
              ("Kế hoạch quý 3", "Không ghi mật khẩu lên trang chiếu", "Ghi chú hai: mật khẩu đổi hằng tháng")]
    for i, (title, body, note) in enumerate(slides):
        page = pages.getByIndex(i)
        page.Layout = 1  # AUTOLAYOUT_TITLE_CONTENT
        page.getByIndex(0).setString(title)
        page.getByIndex(1).setString(body)
        notes = page.NotesPage
        for k in range(notes.Count):
            shape = notes.getByIndex(k)
            if shape.ShapeType == "com.sun.star.presentation.NotesShape":
                shape.setString(note)
    first = pages.getByIndex(0)
    first.IsFooterVisible = True
    first.FooterText = "Lưu hành nội bộ"
    comment = first.createAndInsertAnnotation()  # Impress's annotations survive UNO; Writer's do not
    comment.Author = "Nguyễn Văn An"
    comment.TextRange.setString("Bình luận: bỏ số CCCD 001099012348")

    page = pages.getByIndex(2)
    page.Layout = 19  # AUTOLAYOUT_TITLE_ONLY, left empty
    table = doc.createInstance("com.sun.star.drawing.TableShape")
    page.add(table)
    table.Position = Point(2000, 5000)
    table.Size = Size(15000, 3000)
    model = table.Model
    model.Columns.insertByIndex(0, 1)
    model.Rows.insertByIndex(0, 1)
    for column, row, value in ((0, 0, "Họ tên"), (1, 0, "Số CCCD"), (0, 1, "Nguyễn Văn An"), (1, 1, "001099012349")):
        model.getCellByPosition(column, row).setString(value)

    office.save(doc, os.path.join(OUT, "deck.pptx"), "Impress MS PowerPoint 2007 XML")
    office.save(doc, os.path.join(OUT, "deck.odp"), "impress8")
    doc.close(True)


def make_inline_sheet():
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Hồ sơ"
    ws.append(["TỐI MẬT"])
    ws.append(["Họ tên", "Số CCCD", "Ghi chú"])
    ws.append(["Nguyễn Văn An", "001099012345", "mật khẩu cấp lại"])
    wb.save(os.path.join(OUT, "inline.xlsx"))


def make_rich_sheet(office):
    doc = office.new("scalc")
    sheet = doc.Sheets.getByIndex(0)
    sheet.Name = "Công văn"
    stamp = sheet.getCellRangeByName("A1")
    text = stamp.Text
    cursor = text.createTextCursor()
    cursor.CharWeight = 150.0  # com.sun.star.awt.FontWeight.BOLD
    text.insertString(cursor, "TỐI ", False)
    cursor.CharWeight = 100.0
    cursor.CharColor = 0xC00000
    text.insertString(cursor, "MẬT", False)
    sheet.getCellRangeByName("A2").setString("Số: 15/QĐ-UBND")
    sheet.getCellRangeByName("B2").setString("mật khẩu")
    sheet.Annotations.insertNew(sheet.getCellRangeByName("B2").CellAddress, "Ghi chú ô: CCCD 001099012345")
    office.save(doc, os.path.join(OUT, "rich.xlsx"), "Calc MS Excel 2007 XML")
    doc.close(True)


def make_legacy_font(office):
    doc = office.new("swriter")
    text = doc.Text
    cursor = text.createTextCursor()
    cursor.CharFontName = "Liberation Serif"
    text.insertString(cursor, "Kính gửi: Phòng Tổ chức", False)
    text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    cursor.CharFontName = ".VnTime"
    text.insertString(cursor, "TèI MËT", False)
    text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    cursor.CharFontName = "Liberation Serif"
    text.insertString(cursor, "Báo cáo tháng 9.", False)
    office.save(doc, os.path.join(OUT, "legacy_font.docx"), "MS Word 2007 XML")
    doc.close(True)


def main():
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="office-places-")
    office = Office(work)
    try:
        make_letter(office)
        make_deck(office)
        make_rich_sheet(office)
        make_legacy_font(office)
    finally:
        office.close()
    make_comments(work)
    make_inline_sheet()
    shutil.rmtree(work, ignore_errors=True)
    for name in sorted(os.listdir(OUT)):
        print(name, os.path.getsize(os.path.join(OUT, name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
