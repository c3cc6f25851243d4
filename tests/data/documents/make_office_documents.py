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


def main():
    os.makedirs(OUT, exist_ok=True)
    work = tempfile.mkdtemp(prefix="office-")
    try:
        make_zips()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
