#!/usr/bin/python3
"""Makes the hostile documents of tests/data/documents/hostile/ and their expected causes
(hostile/expected.json: file name -> Unscannable spelling, extracted_document.h).

Each file is what an attacker or an accident sends a document reader: zip bombs (flat, nested,
overlapping entries after David Fifield's "A better zip bomb", duplicate names), entry-count
boundaries, XML entity bombs and external entities in OOXML parts, password-protected PDF and
docx, files cut in half, a PDF with no text layer, an encrypted zip entry, random bytes, nothing.
Every file is small on disk; what it would cost to read is not.

Real tools make the documents the hostile ones start from (python3-docx, python3-openpyxl,
LibreOffice); only the hostile parts themselves (bombs, DTDs, overlapping zip structures) are
written here, since no tool makes them. Needs: python3-docx, python3-openpyxl, libreoffice
(writer), python3-uno (the password-protected docx), qpdf (the encrypted PDFs), zip (the
encrypted entry). Run: /usr/bin/python3 tests/data/documents/make_hostile_documents.py
The committed files are what the tests read; CI does not run this script.
"""
import io
import json
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "hostile")
FIXED_DATE = (2024, 1, 2, 3, 4, 6)  # every zip entry's time, so a re-run makes the same bytes

# The Vietnamese an official document holds: what a reader that gave up silently would hide.
PARAGRAPHS = [
    "TỐI MẬT",
    "Số: 12/QĐ-UBND",
    "Ông Nguyễn Văn An, CCCD số 001099012345, mật khẩu hệ thống: Hoa$Sen2024",
    "Báo cáo tài chính quý 3 gửi Ban Giám đốc.",
]

expected = {}


def write(name, data, cause):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    expected[name] = cause


def zip_bytes(entries, compression=zipfile.ZIP_DEFLATED, level=9):
    """entries: [(name, bytes)], names may repeat (zipfile only warns)."""
    buf = io.BytesIO()
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with zipfile.ZipFile(buf, "w", compression, compresslevel=level) as z:
            for name, data in entries:
                info = zipfile.ZipInfo(name, FIXED_DATE)
                info.compress_type = compression
                z.writestr(info, data)
    return buf.getvalue()


def read_zip(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def replace_parts(docx, replacements, append=()):
    """A copy of an OOXML zip with some parts replaced and others appended after it."""
    entries = [(n, replacements.get(n, d)) for n, d in read_zip(docx)]
    return zip_bytes(entries + list(append))


def base_docx():
    import docx
    d = docx.Document()
    for p in PARAGRAPHS:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    # python-docx writes its template's entries with their own times: rewrite them fixed.
    return zip_bytes(read_zip(buf.getvalue()))


def base_xlsx():
    import openpyxl
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Nhân sự"
    ws.append(["Họ tên", "Số CCCD", "Ghi chú"])
    for i in range(40):
        ws.append([f"Nguyễn Văn {i}", f"0010990{i:05d}", "TỐI MẬT"])
    buf = io.BytesIO()
    wb.save(buf)
    return zip_bytes(read_zip(buf.getvalue()))


def soffice_convert(src, fmt, workdir):
    subprocess.run(["soffice", "--headless", "--norestore",
                    f"-env:UserInstallation=file://{workdir}/lo-profile",
                    "--convert-to", fmt, src, "--outdir", workdir],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=180)
    out = os.path.join(workdir, os.path.splitext(os.path.basename(src))[0] + "." + fmt.split(":")[0])
    with open(out, "rb") as f:
        return f.read()


def png_bytes(width, height):
    """A grey-scale PNG of horizontal bars (a 'scanned page'): zlib and the PNG chunk layout."""
    rows = b"".join(b"\x00" + bytes((0 if (y // 6) % 3 == 0 and 10 < x < width - 10 else 255)
                                    for x in range(width)) for y in range(height))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


# --- zip structures no tool writes --------------------------------------------------------------

def local_header(name, crc, csize, usize, method):
    return struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0x1821, 0x5822,
                       crc, csize, usize, len(name), 0) + name


def central_header(name, crc, csize, usize, method, offset):
    return struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0x1821, 0x5822,
                       crc, csize, usize, len(name), 0, 0, 0, 0, 0, offset) + name


def end_of_directory(count, cd_size, cd_offset):
    return struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, cd_size, cd_offset, 0)


def overlapping_zip(files, kernel_plain):
    """David Fifield's quoted-overlap zip bomb (https://www.bamsoftware.com/hacks/zipbomb/):
    `files` local headers, each followed by a non-final stored DEFLATE block quoting the next
    local header, all ending in one shared DEFLATE kernel. Every entry's data is valid and its
    CRC right, yet entry i's compressed bytes contain entries i+1..n: the archive inflates to
    about files * len(kernel_plain) from one kernel's worth of compressed bytes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    kernel = comp.compress(kernel_plain) + comp.flush()
    names = [("%04d.txt" % i).encode() for i in range(files)]
    # Built from the last entry back: entry i inflates to the local headers of entries i+1..n-1
    # (quoted) then the kernel; its compressed bytes run from its own data to the kernel's end.
    headers = [b""] * files
    quoted = b""  # local headers of the entries after i, as entry i inflates them
    csize = len(kernel)
    for i in reversed(range(files)):
        if i != files - 1:
            quoted = headers[i + 1] + quoted
            csize += 5 + len(headers[i + 1])
        crc = zlib.crc32(kernel_plain, zlib.crc32(quoted))
        headers[i] = local_header(names[i], crc, csize, len(quoted) + len(kernel_plain), 8)
    body = b""
    offsets = []
    for i in range(files):
        offsets.append(len(body))
        body += headers[i]
        if i != files - 1:
            n = len(headers[i + 1])
            body += struct.pack("<BHH", 0, n, n ^ 0xFFFF)  # BFINAL=0, BTYPE=00 (stored), LEN, NLEN
    body += kernel
    cd = b""
    for i in range(files):
        crc, cs, us = struct.unpack("<3L", headers[i][14:26])
        cd += central_header(names[i], crc, cs, us, 8, offsets[i])
    return body + cd + end_of_directory(files, len(cd), len(body))


def check_zip_reads(data, count):
    """The constructions must be valid zips, or a test would only prove a parse error. (Python's
    zipfile itself refuses overlapping entries since 3.11.4, so each entry is inflated here.)"""
    eocd = data.rindex(b"PK\x05\x06")
    _, _, _, n, _, cd_size, cd_offset, _ = struct.unpack("<4s4H2LH", data[eocd:eocd + 22])
    assert n == count, (n, count)
    pos = cd_offset
    for i in range(n):
        fields = struct.unpack("<4s6H3L5H2L", data[pos:pos + 46])
        crc, csize, usize, name_len, offset = fields[7], fields[8], fields[9], fields[10], fields[16]
        pos += 46 + name_len
        if i not in (0, n - 2, n - 1):
            continue
        local_name_len = struct.unpack("<H", data[offset + 26:offset + 28])[0]
        start = offset + 30 + local_name_len
        plain = zlib.decompressobj(-15).decompress(data[start:start + csize])
        assert len(plain) == usize and zlib.crc32(plain) == crc, (i, len(plain), usize)


def main():
    if os.path.isdir(OUT):
        for name in os.listdir(OUT):
            os.remove(os.path.join(OUT, name))
    else:
        os.makedirs(OUT)
    work = tempfile.mkdtemp(prefix="hostile-")
    try:
        make_all(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(dict(sorted(expected.items())), f, indent=2, ensure_ascii=False)
        f.write("\n")
    for name in sorted(expected):
        print("%-32s %9d  %s" % (name, os.path.getsize(os.path.join(OUT, name)), expected[name]))


def make_all(work):
    docx = base_docx()
    xlsx = base_xlsx()

    # Flat bomb: one entry of 1 GiB of zeros (DEFLATE's ~1030:1 ceiling: ~1 MB on disk).
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = bytes(1 << 20)
    kernel = b"".join(comp.compress(chunk) for _ in range(1024)) + comp.flush()
    crc = 0
    for _ in range(1024):
        crc = zlib.crc32(chunk, crc)
    name = b"bao-cao.txt"
    lh = local_header(name, crc, len(kernel), 1 << 30, 8)
    cd = central_header(name, crc, len(kernel), 1 << 30, 8, 0)
    flat = lh + kernel + cd + end_of_directory(1, len(cd), len(lh) + len(kernel))
    write("flat_bomb.zip", flat, "zip_bomb")
    # The same kernel declaring that it inflates to its own size (ratio 1): the declared sizes
    # pass every check, so only the bytes counted as they are inflated can stop it. Counted
    # against the entry's 1 MB of compressed bytes, the ratio reaches 200 only at ~200 MB:
    # max_file_bytes (64 MiB) stops it first.
    lh = local_header(name, crc, len(kernel), len(kernel), 8)
    cd = central_header(name, crc, len(kernel), len(kernel), 8, 0)
    write("flat_bomb_lying.zip", lh + kernel + cd + end_of_directory(1, len(cd), len(lh) + len(kernel)), "too_big")

    # A docx whose word/document.xml inflates 1000:1 (32 MiB of the same paragraph): past
    # max_ratio (200) once 1 MiB is inflated. Under the text limit, so only the ratio stops it.
    para = "<w:p><w:r><w:t>TỐI MẬT</w:t></w:r></w:p>".encode()
    body = para * ((32 << 20) // len(para))
    doc_xml = dict(read_zip(docx))["word/document.xml"]
    head, _, tail = doc_xml.partition(b"<w:body>")
    bomb_xml = head + b"<w:body>" + body + tail
    write("ratio_bomb.docx", replace_parts(docx, {"word/document.xml": bomb_xml}), "zip_bomb")

    # Nesting: max_nesting = 3 files inside the top file. secret.txt at depth 3 is read; at 4 not.
    secret = ("\n".join(PARAGRAPHS) + "\n").encode()

    def nest(levels):
        data = zip_bytes([("secret.txt", secret)])
        for level in range(levels, 0, -1):
            data = zip_bytes([("level%d.zip" % level, data)])
        return data
    write("nested_depth3.zip", nest(2), "none")       # top > level1.zip > level2.zip > secret.txt
    write("nested_depth4.zip", nest(3), "too_deep")   # one more zip: secret.txt at depth 4
    write("nested_depth8.zip", nest(7), "too_deep")

    # Fifield's overlap: 200 entries sharing one 2 MiB kernel of zeros (~400 MiB from ~25 KB).
    overlap = overlapping_zip(200, bytes(2 << 20))
    check_zip_reads(overlap, 200)
    write("overlap_bomb.zip", overlap, "zip_bomb")
    # The same structure over an incompressible 64 KiB kernel: every entry's ratio is ~1 and the
    # total (3 MiB) far under max_inflated_bytes, so only the overlap itself gives it away.
    rng = random.Random(13)
    overlap_low = overlapping_zip(48, bytes(rng.getrandbits(8) for _ in range(64 << 10)))
    check_zip_reads(overlap_low, 48)
    write("overlap_low_ratio.zip", overlap_low, "zip_bomb")

    # Duplicate names: which copy a reader takes is the reader's choice; Word and a scanner may
    # not choose the same one.
    write("duplicate_names.zip", zip_bytes([("notes.txt", b"Lich hop thu hai.\n"),
                                            ("notes.txt", secret)]), "zip_bomb")
    innocent = dict(read_zip(docx))["word/document.xml"].replace("TỐI MẬT".encode(), "Thông báo".encode())
    write("duplicate_document.docx",
          replace_parts(docx, {"word/document.xml": innocent}, append=[("word/document.xml", doc_xml)]),
          "zip_bomb")

    # max_entries = 10,000: that many is read, one more is not. Stored, tiny, valid text each.
    def many(n):
        return zip_bytes([("%d" % i, b"%d\n" % i) for i in range(n)], zipfile.ZIP_STORED)
    write("entries_10000.zip", many(10_000), "none")
    write("entries_10001.zip", many(10_001), "too_many_entries")

    # Billion laughs in word/document.xml: 10 levels of 10 references, 10^9 'lol's.
    laughs = ['<!ENTITY lol "lol">']
    for i in range(1, 10):
        prev = "lol" if i == 1 else "lol%d" % (i - 1)
        laughs.append('<!ENTITY lol%d "%s">' % (i, ("&%s;" % prev) * 10))
    dtd = "<!DOCTYPE w:document [\n  " + "\n  ".join(laughs) + "\n]>\n"
    decl, _, rest = doc_xml.partition(b"?>")
    laugh_xml = decl + b"?>\n" + dtd.encode() + rest.replace("TỐI MẬT".encode(), b"&lol9;", 1)
    write("billion_laughs.docx", replace_parts(docx, {"word/document.xml": laugh_xml}), "xml_bomb")

    # External entities: a parser that resolves SYSTEM ids would put /etc/passwd in the text.
    xxe_dtd = b'<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    xxe_xml = decl + b"?>\n" + xxe_dtd + rest.replace("TỐI MẬT".encode(), b"&xxe;", 1)
    write("xxe_document.docx", replace_parts(docx, {"word/document.xml": xxe_xml}), "xml_bomb")
    core = dict(read_zip(docx))["docProps/core.xml"]
    cdecl, _, crest = core.partition(b"?>")
    core_xxe = (cdecl + b'?>\n<!DOCTYPE cp:coreProperties [<!ENTITY % ext SYSTEM "file:///etc/passwd"> %ext;'
                b'<!ENTITY xxe SYSTEM "file:///etc/hostname">]>\n'
                + crest.replace(b"<dc:title", b"<dc:subject>&xxe;</dc:subject><dc:title", 1))
    write("xxe_properties.docx", replace_parts(docx, {"docProps/core.xml": core_xxe}), "xml_bomb")

    # Password-protected: a PDF (qpdf, AES-256, a user password) and a docx (LibreOffice's
    # "Standard" ECMA-376 encryption: an OLE2 file with EncryptionInfo and EncryptedPackage).
    src_docx = os.path.join(work, "source.docx")
    with open(src_docx, "wb") as f:
        f.write(docx)
    pdf = soffice_convert(src_docx, "pdf", work)
    src_pdf = os.path.join(work, "source.pdf")
    with open(src_pdf, "wb") as f:
        f.write(pdf)
    enc_pdf = os.path.join(work, "encrypted.pdf")
    subprocess.run(["qpdf", "--encrypt", "secret", "owner-secret", "256", "--", src_pdf, enc_pdf], check=True)
    with open(enc_pdf, "rb") as f:
        write("encrypted.pdf", f.read(), "encrypted")
    # Only an owner password (restrictions, no password to open): readable, so it must be read.
    own_pdf = os.path.join(work, "owner_only.pdf")
    subprocess.run(["qpdf", "--encrypt", "", "owner-secret", "256", "--print=none", "--extract=n", "--",
                    src_pdf, own_pdf], check=True)
    with open(own_pdf, "rb") as f:
        write("owner_password_only.pdf", f.read(), "none")
    enc_docx = os.path.join(work, "encrypted.docx")
    subprocess.run(["/usr/bin/python3", os.path.join(HERE, "lo_encrypt_ooxml.py"), src_docx, enc_docx,
                    "MS Word 2007 XML", "secret", work], check=True, timeout=300)
    with open(enc_docx, "rb") as f:
        data = f.read()
    assert data.startswith(b"\xd0\xcf\x11\xe0") and b"E\x00n\x00c\x00r\x00y\x00p\x00t\x00e\x00d\x00P" in data
    write("encrypted.docx", data, "encrypted")

    # Cut in half: no central directory for the zips; no trailer, xref or catalog for the PDF.
    write("truncated.docx", docx[: len(docx) // 2], "truncated")
    write("truncated.xlsx", xlsx[: len(xlsx) // 2], "truncated")
    write("truncated.pdf", pdf[: len(pdf) // 2], "truncated")

    # Pages but no text layer: a docx holding only a picture, printed to PDF by LibreOffice.
    import docx as docx_module
    png = png_bytes(240, 120)
    picture_doc = docx_module.Document()
    picture_doc.add_picture(io.BytesIO(png))
    pic_docx = os.path.join(work, "scan.docx")
    picture_doc.save(pic_docx)
    write("image_only.pdf", soffice_convert(pic_docx, "pdf", work), "image_only")
    write("picture.png", png, "image_only")

    # An encrypted entry (traditional PKWARE encryption, Info-ZIP's zip -P).
    with open(os.path.join(work, "luong.txt"), "wb") as f:
        f.write(secret)
    subprocess.run(["zip", "-q", "-X", "-P", "secret", "encrypted_entry.zip", "luong.txt"], cwd=work, check=True)
    with open(os.path.join(work, "encrypted_entry.zip"), "rb") as f:
        write("encrypted_entry.zip", f.read(), "encrypted")

    # Bytes of no format: random (seeded, with NULs and C1 bytes no charset names), and nothing.
    rng = random.Random(42)
    write("random_bytes.bin", bytes(rng.getrandbits(8) for _ in range(4096)), "unknown_type")
    write("empty.bin", b"", "unknown_type")

    # An attachment whose filename holds a raw 8-bit byte (no charset): read completely, its place
    # repaired to UTF-8 (fuzzing found the sandbox refusing it once: the path is part of the answer).
    write("raw_byte_filename.eml",
          b"From: a@example.vn\r\nSubject: x\r\nMIME-Version: 1.0\r\n"
          b"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
          b"--b\r\nContent-Type: text/plain\r\n\r\nT\xe1\xbb\x90I M\xe1\xba\xacT\r\n"
          b"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"ho\x85-so.txt\"\r\n\r\n"
          b"CCCD 001099012345\r\n--b--\r\n", "none")


if __name__ == "__main__":
    sys.exit(main())
