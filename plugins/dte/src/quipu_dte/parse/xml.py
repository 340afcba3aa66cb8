"""Safe SII XML → nested dict with SII element names.

Security: DOCTYPE/ENTITY declarations are refused before parsing (no entity
expansion, no billion laughs, no external entities), the parser never touches
the network, ``huge_tree`` stays off (libxml2's depth and text-node limits
apply), and input size and element count are capped.

Namespaces (``http://www.sii.cl/SiiDte`` or none) are dropped: only local
names matter. ``Signature`` elements are skipped: signatures are not checked.
"""

import re
import threading
from typing import Any, Final

from lxml import etree

from quipu_dte.parse.coerce import MAX_XML_CHARS, MAX_XML_ELEMENTS

__all__ = ["xml_to_dict"]

_DECLARATION_RE: Final = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_DTD_RE: Final = re.compile(rb"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_ROOTS: Final = frozenset(
    {"EnvioDTE", "EnvioBOLETA", "DTE", "Documento", "Liquidacion", "Exportaciones"}
)
_local = threading.local()  # lxml parser objects must not be shared between threads


def _parser() -> etree.XMLParser:
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            huge_tree=False,
            load_dtd=False,
            dtd_validation=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        _local.parser = parser
    return parser


def _convert(element: Any) -> Any:
    """Element → text (leaf) or dict of child name → value / list of values.

    A repeated child becomes a list. This runs once per element with children (a 60-line
    factura has ~1,000 elements, most of them leaves): leaves are read inline instead of
    through a call, which halves the cost of the step.
    """
    out: dict[str, Any] = {}
    repeated: set[str] = set()
    for child in element:
        tag = child.tag
        if type(tag) is not str:  # comments / processing instructions
            continue
        name = tag.rpartition("}")[2] if "}" in tag else tag
        if name == "Signature":
            continue
        if len(child):
            value = _convert(child)
        else:
            text = child.text
            value = (text.strip() or None) if text is not None else None
        if name in out:
            if name in repeated:
                out[name].append(value)
            else:
                out[name] = [out[name], value]
                repeated.add(name)
        else:
            out[name] = value
    if out:
        return out
    text = element.text
    if text is None:
        return None
    text = text.strip()
    return text or None


def xml_to_dict(xml: Any) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """Parse SII XML text into ``{root_name: content}``.

    ``xml`` is normally a ``str`` (the XML declaration, whatever encoding it
    names, is dropped because the text is already decoded); ``bytes`` are also
    accepted and decoded by libxml2 according to their declaration.
    Returns ``(dict or None, problems)``; paths in problems start at ``dte_xml``.
    """
    where = "dte_xml"
    if isinstance(xml, str):
        if len(xml) > MAX_XML_CHARS:
            return None, [
                (where, f"XML too large ({len(xml)} characters); at most {MAX_XML_CHARS}")
            ]
        text = _DECLARATION_RE.sub("", xml.lstrip("\ufeff"), count=1)
        data = text.encode("utf-8")
    elif isinstance(xml, (bytes, bytearray)):
        if len(xml) > MAX_XML_CHARS:
            return None, [(where, f"XML too large ({len(xml)} bytes); at most {MAX_XML_CHARS}")]
        data = bytes(xml)
    else:
        return None, [(where, f"expected the XML document as a string, got {type(xml).__name__}")]
    if not data.strip():
        return None, [(where, "empty; send the SII XML of the DTE or EnvioDTE")]
    if _DTD_RE.search(data):
        return None, [(where, "DOCTYPE/ENTITY declarations are not allowed in a DTE; remove them")]
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        return None, [(where, f"the XML is not well-formed: {exc.msg} (line {exc.lineno})")]
    except (etree.LxmlError, ValueError) as exc:
        return None, [(where, f"the XML could not be read: {exc}")]
    if root.getroottree().docinfo.internalDTD is not None:  # pragma: no cover - regex above
        return None, [(where, "DOCTYPE declarations are not allowed in a DTE")]
    # Every element takes at least 4 bytes ("<a/>"), so small inputs cannot
    # exceed the element cap and skip the count.
    if len(data) >= 4 * MAX_XML_ELEMENTS:
        for count, _ in enumerate(root.iter()):
            if count >= MAX_XML_ELEMENTS:
                return None, [(where, f"too many XML elements; at most {MAX_XML_ELEMENTS}")]
    name = root.tag.rpartition("}")[2] if isinstance(root.tag, str) else ""
    if name not in _ROOTS:
        return None, [
            (where, f"root element <{name}> is not a DTE; send <DTE>, <EnvioDTE> or <EnvioBOLETA>")
        ]
    return {name: _convert(root)}, []
