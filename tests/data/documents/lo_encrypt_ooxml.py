#!/usr/bin/python3
"""Saves a document password-protected with LibreOffice, as its File > Save with password does
for OOXML: EncryptionData {OOXPassword, CryptoType "Standard"} (ECMA-376 Standard encryption, an
OLE2 file holding EncryptionInfo and EncryptedPackage). `soffice --convert-to` cannot pass it, so
this drives a headless soffice over UNO (Debian: python3-uno).
Usage: lo_encrypt_ooxml.py SOURCE TARGET FILTER PASSWORD WORKDIR  (FILTER: "MS Word 2007 XML")"""
import os
import subprocess
import sys
import time

import uno
from com.sun.star.beans import NamedValue, PropertyValue


def prop(name, value):
    p = PropertyValue()
    p.Name = name
    p.Value = value
    return p


def main():
    source, target, filter_name, password, workdir = sys.argv[1:6]
    port = 20000 + os.getpid() % 10000
    office = subprocess.Popen(
        ["soffice", "--headless", "--invisible", "--norestore",
         "-env:UserInstallation=file://%s/lo-uno-profile" % os.path.abspath(workdir),
         "--accept=socket,host=127.0.0.1,port=%d;urp;" % port],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        for _ in range(120):
            try:
                ctx = resolver.resolve("uno:socket,host=127.0.0.1,port=%d;urp;StarOffice.ComponentContext" % port)
                break
            except Exception:
                time.sleep(0.5)
        else:
            raise SystemExit("soffice did not answer on port %d" % port)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        doc = desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(source)), "_blank", 0,
                                           (prop("Hidden", True),))
        encryption = uno.Any("[]com.sun.star.beans.NamedValue",
                             (NamedValue("OOXPassword", password), NamedValue("CryptoType", "Standard")))
        args = uno.Any("[]com.sun.star.beans.PropertyValue",
                       (prop("FilterName", filter_name), prop("EncryptionData", encryption)))
        uno.invoke(doc, "storeToURL", (uno.systemPathToFileUrl(os.path.abspath(target)), args))
        doc.close(True)
        try:
            desktop.terminate()
        except Exception:
            pass  # the bridge drops as soffice exits
    finally:
        try:
            office.wait(timeout=30)
        except subprocess.TimeoutExpired:
            office.kill()


if __name__ == "__main__":
    main()
