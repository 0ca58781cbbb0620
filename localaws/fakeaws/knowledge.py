"""The fake's knowledge base: the demo business's documents in `knowledge/*.md`, cut into passages
(one a paragraph, as a knowledge base's chunking would), ranked for a query by word overlap.

A score is the share of the query's words (small words left out) that the passage or its title
contains: 0 when none, 1 when all. Real Bedrock ranks by vector similarity; the fake needs only
something deterministic that moves with the words, so tests can predict which document answers.
Each document's first line (`# Title`) is its title; its location is an `s3://` URI as an S3 data
source would give.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FOLDER = Path(__file__).with_name("knowledge")
BUCKET = "wecare-digital-knowledge-base"
DATA_SOURCE_ID = "LOCALDOCS01"

_WORD = re.compile(r"[a-z0-9]+")
# Words that say nothing about the subject; without them "is my order ready" matches on "order".
_SMALL_WORDS = (
    "a an and are as at be but by can could do does for from have hello hi how i if in is it its me "
    "my no not of on or our please so that the their them then there this to us was we what when "
    "where which who will with would you your yes thanks thank"
)
_SMALL = frozenset(_SMALL_WORDS.split())


def words(text: str) -> set[str]:
    """The text's meaningful words, lower case, a plural's trailing s dropped."""
    found = set()
    for word in _WORD.findall(text.lower()):
        if word in _SMALL:
            continue
        found.add(word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word)
    return found


@dataclass(frozen=True)
class Passage:
    document: str  # file name, e.g. "orders-and-pickup.md"
    number: int  # its place in the document, from 1
    title: str
    text: str

    @property
    def uri(self) -> str:
        return f"s3://{BUCKET}/{self.document}"

    @property
    def chunk_id(self) -> str:
        return f"{self.document.removesuffix('.md')}-{self.number}"

    def metadata(self) -> dict[str, str]:
        """What Bedrock adds to a result: its source and chunk, and the document's own `title`
        attribute (a knowledge base gets it from the document's `.metadata.json` file)."""
        return {
            "x-amz-bedrock-kb-source-uri": self.uri,
            "x-amz-bedrock-kb-chunk-id": self.chunk_id,
            "x-amz-bedrock-kb-data-source-id": DATA_SOURCE_ID,
            "title": self.title,
        }

    def score(self, query: set[str]) -> float:
        if not query:
            return 0.0
        return round(len(query & (words(self.text) | words(self.title))) / len(query), 4)


@cache
def passages() -> tuple[Passage, ...]:
    found = []
    for path in sorted(FOLDER.glob("*.md")):
        lines = path.read_text(encoding="utf-8").strip().splitlines()
        title = lines[0].lstrip("# ").strip()
        paragraphs = [p.strip() for p in "\n".join(lines[1:]).split("\n\n") if p.strip()]
        found += [Passage(path.name, n, title, " ".join(p.split())) for n, p in enumerate(paragraphs, 1)]
    return tuple(found)


def search(text: str, limit: int) -> list[tuple[Passage, float]]:
    """The best ``limit`` passages for ``text``, best first; passages sharing no word are left out."""
    query = words(text)
    scored = [(passage, passage.score(query)) for passage in passages()]
    ranked = sorted((pair for pair in scored if pair[1] > 0), key=lambda pair: -pair[1])
    return ranked[:limit]


def best_sentence(passage: Passage, text: str) -> str:
    """The passage's sentence sharing most words with ``text`` (the first of equals)."""
    query = words(text)
    sentences = re.split(r"(?<=[.!?])\s+", passage.text)
    return max(sentences, key=lambda sentence: len(words(sentence) & query))
