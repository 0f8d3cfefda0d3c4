"""The local corpus: Markdown documents with a small front-matter block each."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..sources import PROTOCOLS, License, domain_of, source_id

__all__ = ["CorpusDocument", "load_corpus"]

log = logging.getLogger(__name__)

REQUIRED_FIELDS = ("title", "url", "author", "published", "publisher", "license_protocol", "price_cents")
# A corpus file is an article, not a book; larger files are skipped rather than indexed.
MAX_FILE_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class CorpusDocument:
    id: str
    title: str
    url: str
    domain: str
    author: str
    published: str
    topic: str | None
    body: str
    license: License


class MalformedDocument(ValueError):
    pass


def load_corpus(directory: Path) -> list[CorpusDocument]:
    """Every well-formed `*.md` file, in name order; a malformed one is skipped with a warning."""
    documents: list[CorpusDocument] = []
    seen: set[str] = set()
    if not directory.is_dir():
        log.warning("corpus directory %s does not exist; local search will find nothing", directory)
        return documents
    for path in sorted(directory.glob("*.md")):
        try:
            document = parse_document(path)
        except (MalformedDocument, OSError, UnicodeDecodeError) as exc:
            log.warning("skipping corpus file %s: %s", path.name, exc)
            continue
        if document.id in seen:
            log.warning("skipping corpus file %s: its url duplicates another document's", path.name)
            continue
        seen.add(document.id)
        documents.append(document)
    return documents


def parse_document(path: Path) -> CorpusDocument:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise MalformedDocument(f"larger than {MAX_FILE_BYTES} bytes")
    text = path.read_text(encoding="utf-8")
    fields, body = _split_front_matter(text)
    missing = [name for name in REQUIRED_FIELDS if not fields.get(name)]
    if missing:
        raise MalformedDocument(f"front matter lacks {', '.join(missing)}")
    protocol = fields["license_protocol"].lower()
    if protocol not in PROTOCOLS or protocol == "unknown":
        raise MalformedDocument(f"license_protocol {protocol!r} is not rsl, tollbit, cloudflare or free")
    try:
        price = int(fields["price_cents"])
        date.fromisoformat(fields["published"])
    except ValueError as exc:
        raise MalformedDocument(str(exc)) from None
    if price < 0 or (protocol == "free" and price != 0):
        raise MalformedDocument(f"price_cents {price} does not fit license_protocol {protocol}")
    if not fields["url"].startswith(("https://", "http://")):
        raise MalformedDocument("url must be http(s)")
    if not body.strip():
        raise MalformedDocument("the document has no body")
    return CorpusDocument(
        id=source_id(fields["url"]),
        title=fields["title"],
        url=fields["url"],
        domain=domain_of(fields["url"]),
        author=fields["author"],
        published=fields["published"],
        topic=fields.get("topic"),
        body=body.strip(),
        license=License(protocol, price, publisher=fields["publisher"]),
    )


def _split_front_matter(text: str) -> tuple[dict[str, str], str]:
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        raise MalformedDocument("no front matter (the file must start with ---)")
    try:
        end = next(n for n, line in enumerate(lines[1:], start=1) if line.strip() == "---")
    except StopIteration:
        raise MalformedDocument("front matter is not closed by ---") from None
    fields: dict[str, str] = {}
    for line in lines[1:end]:
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            raise MalformedDocument(f"front matter line is not 'key: value': {line[:60]!r}")
        fields[key.strip().lower()] = value.strip()
    return fields, "\n".join(lines[end + 1 :])
