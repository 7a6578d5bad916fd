"""Turning the model's text into features: word 1–2-grams and character 3–5-grams, TF-IDF weighted.

The analyzers, the vocabulary with its idf and the vector of one email here are used both when
training (:mod:`engine.classify.fit`) and when classifying (:mod:`engine.classify.compiled`), so
the two can never tokenise or weigh differently.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from engine.classify.text import SENDER_DOMAIN_PREFIX, SENDER_ROLE_PREFIX

CHAR_NGRAMS = (3, 5)
_WORD = re.compile(r"(?u)\b\w\w+\b")
_SENDER_PREFIXES = (SENDER_DOMAIN_PREFIX, SENDER_ROLE_PREFIX)

#: Common English words never shown as a reason on their own (they still count in the model).
STOP_WORDS = frozenset((
    "a", "about", "above", "after", "again", "all", "am", "an", "and", "any", "are", "as", "at", "be",
    "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did",
    "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have",
    "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in",
    "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "now",
    "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own",
    "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them",
    "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under",
    "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom",
    "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "hi", "hello",
    "dear", "not", "thanks", "thank", "please", "regards", "ll", "ve", "re", "don", "im", "ive", "id", "it's",
    "i'm", "can't", "won't", "also", "get", "got", "isn", "doesn", "didn", "wasn", "aren", "couldn",
    "wouldn", "haven", "hasn", "cant", "dont", "just", "one", "two", "let", "us",
))


def word_features(text: str) -> list[str]:
    """Lower-cased word unigrams and bigrams (words of two or more letters or digits)."""
    words = _WORD.findall(text.lower())
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def char_features(text: str) -> list[str]:
    """Character 3–5-grams inside word boundaries (each word padded with a space on both sides).

    The sender tokens are skipped: they are whole-word features already.
    """
    low, high = CHAR_NGRAMS
    grams: list[str] = []
    for word in text.lower().split():
        if word.startswith(_SENDER_PREFIXES):
            continue
        padded = f" {word} "
        length = len(padded)
        for n in range(low, high + 1):
            if n > length:
                break
            grams.extend(padded[i : i + n] for i in range(length - n + 1))
    return grams


def fit_vocabulary(
    documents: Sequence[Sequence[str]], *, min_df: int = 1
) -> tuple[dict[str, int], npt.NDArray[np.float64]]:
    """The vocabulary (features in at least ``min_df`` documents, sorted) and each feature's idf.

    idf is smoothed as in the usual TF-IDF definition: ``ln((1 + n) / (1 + df)) + 1`` for ``n``
    documents, so a feature in every document still counts a little.
    """
    df: Counter[str] = Counter()
    for features in documents:
        df.update(set(features))
    terms = sorted(term for term, count in df.items() if count >= min_df)
    counts = np.fromiter((df[t] for t in terms), dtype=np.float64, count=len(terms))
    idf = np.log((1.0 + len(documents)) / (1.0 + counts)) + 1.0
    return {term: index for index, term in enumerate(terms)}, idf


def document_vector(
    text: str,
    word_vocabulary: Mapping[str, int],
    word_idf: npt.NDArray[np.float64],
    char_vocabulary: Mapping[str, int],
    char_idf: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """One email's sparse feature vector: word block, then character block (each L2-normalised)."""
    return features_vector(word_features(text), char_features(text), word_vocabulary=word_vocabulary,
                           word_idf=word_idf, char_vocabulary=char_vocabulary, char_idf=char_idf)


def features_vector(
    words: Sequence[str],
    chars: Sequence[str],
    *,
    word_vocabulary: Mapping[str, int],
    word_idf: npt.NDArray[np.float64],
    char_vocabulary: Mapping[str, int],
    char_idf: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """:func:`document_vector` from the email's already extracted word and character features."""
    w_index, w_values = tfidf_vector(words, word_vocabulary, word_idf)
    c_index, c_values = tfidf_vector(chars, char_vocabulary, char_idf)
    index = np.concatenate((w_index, c_index + len(word_vocabulary)))
    return index, np.concatenate((w_values, c_values))


def tfidf_vector(
    features: Sequence[str], vocabulary: Mapping[str, int], idf: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
    """Sparse TF-IDF of one document: (column indices, values), sublinear tf, L2-normalised.

    Each feature's weight is ``(1 + ln count) × idf``; unknown features are ignored.
    """
    counts = Counter(vocabulary[f] for f in features if f in vocabulary)
    if not counts:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
    index = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
    tf = np.fromiter((1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts))
    values = tf * idf[index]
    norm = float(np.sqrt(np.dot(values, values)))
    if norm > 0.0:
        values /= norm
    return index, values
