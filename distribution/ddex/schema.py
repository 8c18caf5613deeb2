"""Validate messages against the official DDEX ERN 4.3 XSD, with errors a person can act on.

The schema directory is a parameter (the project reads it from the DDEX_SCHEMA_DIR setting; this
module never imports Django settings). release-notification.xsd imports allowed-value-sets.xsd by
a relative schemaLocation, so the XSD is parsed from its file path, never from a string. Compiling
it takes a noticeable fraction of a second, so each directory's schema is compiled once and kept.

libxml2 (under lxml) does not enforce xs:ID / xs:IDREF on element content: a duplicate
ResourceReference or a ReleaseResourceReference to a resource that does not exist passes its XSD
validation. ERN ties the whole message together with such references, so `validate` also checks
them, taking the list of ID and IDREF elements from the schema itself rather than from memory.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

_XS = "{http://www.w3.org/2001/XMLSchema}"
MAIN_XSD = "release-notification.xsd"
AVS_XSD = "allowed-value-sets.xsd"

# lxml lists every allowed value in enumeration errors: hundreds of territory codes per line.
_LONG_SET = re.compile(r"is not an element of the set \{[^}]{120,}\}")


class SchemaNotFound(Exception):
    """The configured directory does not hold the ERN 4.3 schema files."""

    def __init__(self, directory: Path, missing: str) -> None:
        self.directory = directory
        super().__init__(
            f"DDEX ERN 4.3 schema not found: {directory / missing} does not exist. Point "
            f"DDEX_SCHEMA_DIR at the directory holding {MAIN_XSD} and {AVS_XSD}."
        )


@dataclass(frozen=True)
class _CompiledSchema:
    schema: etree.XMLSchema
    # An XMLSchema keeps the last run's error_log on itself: one validation at a time.
    lock: threading.Lock
    anchors: frozenset[str]  # element names typed xs:ID (PartyReference, ResourceReference, ...)
    references: frozenset[str]  # element names typed xs:IDREF (ArtistPartyReference, ...)


def validate(xml: bytes, schema_dir: Path | str) -> list[str]:
    """Schema errors of `xml` as "line N: message" strings; an empty list means valid."""
    compiled = _load(Path(schema_dir).resolve())
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    try:
        document = etree.fromstring(xml, parser)
    except etree.XMLSyntaxError as error:
        return [f"line {error.lineno}: not well-formed XML: {error.msg}"]
    with compiled.lock:
        valid = compiled.schema.validate(document)
        errors = (
            []
            if valid
            else [
                f"line {entry.line}: {_readable(entry.message)}"
                for entry in compiled.schema.error_log
            ]
        )
    return errors + _reference_errors(document, compiled)


def _reference_errors(document: etree._Element, compiled: _CompiledSchema) -> list[str]:
    anchors: dict[str, int] = {}
    errors: list[str] = []
    references: list[etree._Element] = []
    for element in document.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions
        value = (element.text or "").strip()
        if element.tag in compiled.anchors:
            if value in anchors:
                errors.append(
                    f"line {element.sourceline}: Element '{element.tag}': duplicate anchor "
                    f"'{value}' (already declared on line {anchors[value]})."
                )
            else:
                anchors[value] = element.sourceline
        elif element.tag in compiled.references:
            references.append(element)
    for element in references:
        value = (element.text or "").strip()
        if value not in anchors:
            errors.append(
                f"line {element.sourceline}: Element '{element.tag}': '{value}' refers to "
                "nothing declared in this message."
            )
    return errors


def _readable(message: str) -> str:
    return _LONG_SET.sub("is not one of the schema's allowed values", message)


@lru_cache(maxsize=8)
def _load(directory: Path) -> _CompiledSchema:
    for name in (MAIN_XSD, AVS_XSD):
        if not (directory / name).is_file():
            raise SchemaNotFound(directory, name)
    parser = etree.XMLParser(no_network=True)
    document = etree.parse(str(directory / MAIN_XSD), parser)
    anchors, references = _id_elements(document)
    return _CompiledSchema(
        schema=etree.XMLSchema(document),
        lock=threading.Lock(),
        anchors=anchors,
        references=references,
    )


def _id_elements(xsd: etree._ElementTree) -> tuple[frozenset[str], frozenset[str]]:
    """Names of the elements the schema types as xs:ID and as xs:IDREF.

    A name declared with different types in different places (one such exists) is left out
    rather than guessed.
    """
    bases: dict[str, str] = {}  # named type -> the type it restricts or extends
    for named in xsd.iterfind(f"{_XS}simpleType[@name]"):
        if (restriction := named.find(f"{_XS}restriction")) is not None:
            bases[named.get("name")] = restriction.get("base", "")
    for named in xsd.iterfind(f"{_XS}complexType[@name]"):
        if (extension := named.find(f"{_XS}simpleContent/{_XS}extension")) is not None:
            bases[named.get("name")] = extension.get("base", "")

    def kind(type_name: str | None) -> str | None:
        for _ in range(10):  # derivation chains are short; this bounds a cyclic schema
            if type_name in ("xs:ID", "xs:IDREF"):
                return type_name
            if type_name is None:
                return None
            type_name = bases.get(type_name.partition(":")[2] or type_name)
        return None

    kinds: dict[str, set[str | None]] = {}
    for element in xsd.iter(f"{_XS}element"):
        if not (name := element.get("name")):
            continue
        base = element.get("type")
        if base is None:
            inline = element.find(f"{_XS}simpleType/{_XS}restriction")
            if inline is None:
                inline = element.find(f"{_XS}complexType/{_XS}simpleContent/{_XS}extension")
            base = inline.get("base") if inline is not None else None
        kinds.setdefault(name, set()).add(kind(base))
    unique = {name: found.pop() for name, found in kinds.items() if len(found) == 1}
    return (
        frozenset(name for name, found in unique.items() if found == "xs:ID"),
        frozenset(name for name, found in unique.items() if found == "xs:IDREF"),
    )
