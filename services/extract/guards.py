"""Guards against parser loops in pdfminer that no resource limit cuts short in good time.

A PDF object may be an indirect reference to another reference (``6 0 obj 7 0 R``, ``7 0 obj 6 0 R``);
pdfminer's ``resolve1`` follows such chains with ``while isinstance(x, PDFObjRef)`` and never ends on
a cycle, so a 600-byte file would burn CPU until the document deadline. The guard makes one
``PDFObjRef.resolve`` follow the whole chain itself, remembering what it has seen: a cycle, or a chain
longer than any real file needs, raises ``PDFSyntaxError`` at once, which the engine reports as
``corrupt``. Installed once per process (``install``), before any PDF is opened.
"""

from __future__ import annotations

from typing import Any

#: Longer chains of references to references than this are not found in real files.
MAX_REFERENCE_CHAIN = 64

_installed = False


def install() -> None:
    """Patch ``pdfminer.pdftypes.PDFObjRef.resolve`` with a cycle-safe version (idempotent)."""
    global _installed
    if _installed:
        return
    from pdfminer.pdfparser import PDFSyntaxError
    from pdfminer.pdftypes import PDFObjectNotFound, PDFObjRef

    def resolve(self: PDFObjRef, default: object = None) -> Any:
        seen = {self.objid}
        doc = self.doc
        if doc is None:
            return default
        try:
            obj = doc.getobj(self.objid)
        except PDFObjectNotFound:
            return default
        while isinstance(obj, PDFObjRef):
            if obj.objid in seen or len(seen) >= MAX_REFERENCE_CHAIN:
                raise PDFSyntaxError(f"reference cycle through object {obj.objid}")
            seen.add(obj.objid)
            if obj.doc is None:
                return default
            try:
                obj = obj.doc.getobj(obj.objid)
            except PDFObjectNotFound:
                return default
        return obj

    PDFObjRef.resolve = resolve  # type: ignore[method-assign]  # the guard replaces the library's loop
    _installed = True
