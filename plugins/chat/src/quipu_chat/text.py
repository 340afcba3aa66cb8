"""Text normalisation shared by the knowledge base and skill routing.

One pipeline turns any text into search terms, so a query and a document always meet on
the same ground:

1. lower-case and fold accents (``crédito`` → ``credito``, ``ñ`` → ``n``), so users who
   type without accents match documents written with them;
2. split into words on Unicode word boundaries (``\\w+``): ``caf`` never matches inside
   ``cafetería``;
3. drop Spanish stop words (the Snowball list shipped by ``bm25s``, folded too);
4. reduce each word with the Spanish Snowball stemmer (``PyStemmer``), so ``facturas``,
   ``factura`` and ``facturación`` share the term ``factur``.

The stemmer runs after folding; it stems unaccented Spanish as well as accented
(``facturacion`` → ``factur``), and doing both sides the same way is what matters.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_SPANISH

__all__ = ["STOPWORDS", "fold", "stem", "terms", "words"]

_WORD = re.compile(r"\w+")
#: Words of the Snowball list that are also nouns of the domain ("estado del DTE").
_KEEP = frozenset({"estado", "estados"})


def fold(text: str) -> str:
    """Lower-case ``text`` and strip its diacritics (``Crédito Año`` → ``credito ano``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


#: Spanish stop words, folded, minus a few domain nouns.
STOPWORDS: frozenset[str] = frozenset(fold(w) for w in STOPWORDS_SPANISH) - _KEEP

_STEMMER = Stemmer.Stemmer("spanish")


def words(text: str) -> list[str]:
    """The folded words of ``text``, in order, stop words included."""
    return _WORD.findall(fold(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Spanish Snowball stem of one folded word."""
    result: str = _STEMMER.stemWord(word)
    return result


def terms(text: str) -> list[str]:
    """Search terms of ``text``: folded words, without stop words, stemmed, in order."""
    return [stem(w) for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]
