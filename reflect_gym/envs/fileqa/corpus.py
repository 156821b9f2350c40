"""The default FileQA corpus: real repositories that every Python install can build offline.

The corpus is built once per Python version (and :data:`GENERATOR_VERSION`) under the cache folder
(``$REFLECT_RL_CACHE``, else ``~/.cache/reflect_rl``), in ``fileqa/<corpus version>/``:

* ``repos/stdlib-*``: code repositories, each a copy of a themed group of the running Python's standard
  library packages and modules (:data:`STDLIB_GROUPS`), tests and text files included as they ship; a
  group's root holds top-level modules (tasks of depth 0), its packages (depth 1) and their subpackages
  (depth 2). Grouping packages, rather than taking one package per repository, gives the tree depth
  the paper's curriculum needs; a package missing from an install is skipped.
* ``repos/unicode-tables``, ``repos/python-tables``, ``repos/web-tables``: data repositories. The standard
  library ships almost no CSV files, so these are written deterministically from real tables inside the
  running Python: :mod:`unicodedata` (Basic Multilingual Plane), tokens, keywords, opcodes, AST nodes,
  built-in exceptions, codec and locale aliases, pickle opcodes, HTTP status codes and methods, MIME
  types, HTML entities, e-mail charsets and URL schemes.
* ``repos/python-reference-topics``, ``repos/python-library-topics``: text repositories, the Python
  documentation's topics as shipped in :mod:`pydoc_data.topics`, one ``.txt`` file per topic, in a
  folder per documentation chapter.
* ``tasks.jsonl`` (repository paths relative to it) and ``corpus.json`` (version and counts).

Train and test splits go by repository (:data:`TEST_REPOS`), so the test split measures generalisation
to unseen repositories, and both splits hold all three kinds of task. The splits differ in more than
their repositories. At depth 1, a quarter of the train split's tasks lie in ``idlelib/`` (77 files) and
more than another quarter in ``asyncio/``, ``encodings/`` and ``distutils/``; these folders' names
rarely appear in the questions. The test split's folders are small and named after what its questions
ask about (``email/``, ``json/``, ``http/``), so a baseline that only matches names to the question does
far better on the test split than on the train split (``docs/results.md`` in the project's repository has
the measured rates).
"""

from __future__ import annotations

import ast as ast_module
import builtins
import csv
import email.charset
import encodings.aliases
import html.entities
import http
import io
import json
import keyword
import locale
import mimetypes
import opcode
import os
import pickletools
import platform
import shutil
import sys
import sysconfig
import token
import types
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path

from reflect_gym.envs.fileqa.tasks import Task, build_tasks, count_tasks, load_tasks, save_tasks
from reflect_gym.files import atomic_directory

#: Bump when the corpus or the question generator changes what the default corpus holds.
GENERATOR_VERSION = 2

# fmt: off
#: Code repositories: standard-library packages and modules grouped by theme.
STDLIB_GROUPS: dict[str, tuple[str, ...]] = {
    "stdlib-concurrency": (
        "asyncio", "concurrent", "multiprocessing", "threading.py", "queue.py", "sched.py", "selectors.py",
        "subprocess.py", "socketserver.py",
    ),
    "stdlib-devtools": (
        "idlelib", "lib2to3", "pdb.py", "bdb.py", "cProfile.py", "profile.py", "pstats.py", "trace.py", "timeit.py",
        "tabnanny.py", "pyclbr.py", "pydoc.py",
    ),
    "stdlib-packaging": (
        "importlib", "ensurepip", "venv", "distutils", "zipimport.py", "pkgutil.py", "modulefinder.py", "runpy.py",
        "site.py", "sysconfig.py", "zipapp.py", "py_compile.py", "compileall.py",
    ),
    "stdlib-runtime": (
        "collections", "ctypes", "re", "encodings", "functools.py", "abc.py", "copy.py", "dataclasses.py", "enum.py",
        "typing.py", "types.py", "weakref.py", "inspect.py", "ast.py", "dis.py", "contextlib.py",
    ),
    "stdlib-interface": (
        "tkinter", "curses", "turtledemo", "unittest", "turtle.py", "cmd.py", "argparse.py", "optparse.py",
        "getopt.py", "getpass.py", "textwrap.py", "pprint.py",
    ),
    "stdlib-web": (
        "email", "http", "html", "json", "urllib", "wsgiref", "xmlrpc", "mimetypes.py", "smtplib.py", "imaplib.py",
        "poplib.py", "ftplib.py", "webbrowser.py", "base64.py", "ipaddress.py",
    ),
    "stdlib-storage": (
        "xml", "sqlite3", "dbm", "logging", "zoneinfo", "tomllib", "csv.py", "configparser.py", "shelve.py",
        "pickle.py", "plistlib.py", "netrc.py", "tarfile.py", "zipfile.py", "gzip.py", "shutil.py",
    ),
}
# fmt: on
#: Repositories of the test split; every other default repository is in train.
TEST_REPOS: frozenset[str] = frozenset({"stdlib-web", "stdlib-storage", "web-tables", "python-library-topics"})

# pydoc_data topic -> folder (the documentation chapter it comes from). Unlisted topics go to "other".
_REFERENCE_CHAPTERS: dict[str, str] = {
    "lexical-analysis": "identifiers id-classes strings integers floating imaginary numbers",
    "data-model": (
        "objects types specialnames customization attribute-access callable-types sequence-types numeric-types "
        "context-managers async"
    ),
    "execution-model": "execmodel naming dynamic-features exceptions",
    "expressions": (
        "atom-identifiers atom-literals lists dict attribute-references subscriptions slicings calls await power "
        "unary binary shifting bitwise comparisons in booleans lambda exprlists operator-summary conversions"
    ),
    "simple-statements": "assert assignment augassign pass del return yield raise break continue import global nonlocal",
    "compound-statements": "compound if else while for try with function class",
}
_LIBRARY_CHAPTERS: dict[str, str] = {
    "built-in-types": (
        "truth typesseq typesseq-mutable string-methods typesmapping typesmodules typesfunctions typesmethods "
        "bltin-code-objects bltin-type-objects bltin-null-object bltin-ellipsis-object specialattrs"
    ),
    "string": "formatstrings",
    "pdb": "debugger",
}

_CATEGORY_FILES: dict[str, tuple[str, str]] = {
    "Lu": ("letter", "uppercase-letter"),
    "Ll": ("letter", "lowercase-letter"),
    "Lt": ("letter", "titlecase-letter"),
    "Lm": ("letter", "modifier-letter"),
    "Lo": ("letter", "other-letter"),
    "Mn": ("mark", "nonspacing-mark"),
    "Mc": ("mark", "spacing-mark"),
    "Me": ("mark", "enclosing-mark"),
    "Nd": ("number", "decimal-number"),
    "Nl": ("number", "letter-number"),
    "No": ("number", "other-number"),
    "Pc": ("punctuation", "connector-punctuation"),
    "Pd": ("punctuation", "dash-punctuation"),
    "Ps": ("punctuation", "open-punctuation"),
    "Pe": ("punctuation", "close-punctuation"),
    "Pi": ("punctuation", "initial-punctuation"),
    "Pf": ("punctuation", "final-punctuation"),
    "Po": ("punctuation", "other-punctuation"),
    "Sm": ("symbol", "math-symbol"),
    "Sc": ("symbol", "currency-symbol"),
    "Sk": ("symbol", "modifier-symbol"),
    "So": ("symbol", "other-symbol"),
    "Zs": ("separator", "space-separator"),
    "Zl": ("separator", "line-separator"),
    "Zp": ("separator", "paragraph-separator"),
    "Cc": ("other", "control"),
    "Cf": ("other", "format"),
}
_EAST_ASIAN_WIDTHS = {"F": "fullwidth", "H": "halfwidth", "W": "wide", "Na": "narrow", "A": "ambiguous", "N": "neutral"}

Table = list[list[str]]


def cache_dir() -> Path:
    """The cache folder: ``$REFLECT_RL_CACHE``, else ``~/.cache/reflect_rl``."""
    return Path(os.environ.get("REFLECT_RL_CACHE") or Path.home() / ".cache" / "reflect_rl")


def corpus_version() -> str:
    """The default corpus's version: the Python implementation and version, and :data:`GENERATOR_VERSION`."""
    return f"{platform.python_implementation().lower()}-{platform.python_version()}-fileqa{GENERATOR_VERSION}"


def stdlib_dir() -> Path:
    """The running Python's standard-library source folder (the one holding ``json/``)."""
    path = Path(sysconfig.get_paths()["stdlib"])
    if not (path / "json" / "__init__.py").is_file():
        path = Path(json.__file__).resolve().parent.parent
    return path


def default_corpus_dir() -> Path:
    """Where the default corpus of this Python lives (it may not be built yet)."""
    return cache_dir() / "fileqa" / corpus_version()


def default_tasks_path(rebuild: bool = False) -> Path:
    """The default corpus's ``tasks.jsonl``, building the corpus first if needed (seconds, once).

    The corpus is built beside its final place and published atomically
    (:func:`reflect_gym.files.atomic_directory`); a process that loses a race to build it keeps the winner's copy.
    """
    final = default_corpus_dir()
    if rebuild or not (final / "tasks.jsonl").is_file():
        # A corpus folder of an older build (without the project's marker) is recognized by its tasks file.
        with atomic_directory(
            final, owned=lambda existing: (existing / "tasks.jsonl").is_file(), keep_existing=not rebuild
        ) as staging:
            _build_corpus(staging)
    return final / "tasks.jsonl"


def _build_corpus(folder: Path) -> None:
    repos = folder / "repos"
    names = []
    stdlib = stdlib_dir()
    for name, members in STDLIB_GROUPS.items():
        if _copy_group(stdlib, members, repos / name):
            names.append(name)
    for name, tables in _TABLE_REPOS.items():
        _write_tables(repos / name, tables())
        names.append(name)
    for name, chapters in (
        ("python-reference-topics", _REFERENCE_CHAPTERS),
        ("python-library-topics", _LIBRARY_CHAPTERS),
    ):
        if _write_topics(repos / name, chapters, other=name == "python-reference-topics"):
            names.append(name)
    splits = {name: "test" if name in TEST_REPOS else "train" for name in names}
    tasks = build_tasks([repos / name for name in names], splits=splits)
    save_tasks(tasks, folder / "tasks.jsonl", relative_repos=True)
    metadata = {
        "corpus_version": corpus_version(),
        "python": sys.version,
        "stdlib": str(stdlib),
        "generator_version": GENERATOR_VERSION,
        "unicode_version": unicodedata.unidata_version,
        "repos": splits,
        "counts": {f"{split}/{kind}/depth{depth}": n for (split, kind, depth), n in sorted(count_tasks(tasks).items())},
    }
    (folder / "corpus.json").write_text(json.dumps(metadata, indent=2) + "\n", encoding="utf-8")


def load_default_tasks() -> tuple[Task, ...]:
    """The default corpus's tasks (built on first use)."""
    return load_tasks(default_tasks_path())


def _copy_group(stdlib: Path, members: list[str] | tuple[str, ...], target: Path) -> bool:
    """Copy the ``members`` of ``stdlib`` that exist into ``target``; ``False`` if none exists."""
    copied = False
    for member in members:
        source = stdlib / member
        if source.is_dir() and (source / "__init__.py").is_file():
            shutil.copytree(source, target / member, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            copied = True
        elif source.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target / member)
            copied = True
    return copied


def _write_tables(repo: Path, tables: Iterator[tuple[str, list[str], Table]]) -> None:
    for relative, header, rows in tables:
        path = repo / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t" if relative.endswith(".tsv") else ",", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        path.write_text(buffer.getvalue(), encoding="utf-8")


def _write_topics(repo: Path, chapters: dict[str, str], other: bool) -> bool:
    """One ``.txt`` per pydoc topic in ``chapters`` (and every unlisted topic, under ``other/``, if asked)."""
    try:
        from pydoc_data.topics import topics
    except ImportError:
        return False
    folder_of = {topic: chapter for chapter, names in chapters.items() for topic in names.split()}
    listed = {
        topic for names in (*_REFERENCE_CHAPTERS.values(), *_LIBRARY_CHAPTERS.values()) for topic in names.split()
    }
    written = False
    for topic in sorted(topics):
        chapter = folder_of.get(topic) or ("other" if other and topic not in listed else None)
        if chapter is None:
            continue
        path = repo / chapter / f"{topic}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            "\n".join(line.rstrip() for line in topics[topic].strip().splitlines()) + "\n", encoding="utf-8"
        )
        written = True
    return written


# ------------------------------------------------------------------------------------------------
# Tables. Each generator yields (path in the repository, header, rows), deterministic per Python version.


def _code_point(char: str) -> str:
    return f"U+{ord(char):04X}"


def _unicode_tables() -> Iterator[tuple[str, list[str], Table]]:
    by_category: dict[str, Table] = {code: [] for code in _CATEGORY_FILES}
    by_width: dict[str, Table] = {code: [] for code in _EAST_ASIAN_WIDTHS}
    mirrored, digits, numerics, combining, canonical, compatibility = [], [], [], [], [], []
    for value in range(0x10000):
        char = chr(value)
        category = unicodedata.category(char)
        if category not in _CATEGORY_FILES:  # unassigned, surrogates, private use
            continue
        point, name = _code_point(char), unicodedata.name(char, "<control>" if category == "Cc" else "<unnamed>")
        combining_class = unicodedata.combining(char)
        by_category[category].append(
            [point, name, unicodedata.bidirectional(char), str(combining_class), str(unicodedata.mirrored(char))]
        )
        by_width[unicodedata.east_asian_width(char)].append([point, name, category])
        if unicodedata.mirrored(char):
            mirrored.append([point, name, category])
        if combining_class:
            combining.append([point, name, str(combining_class)])
        if unicodedata.decimal(char, None) is not None:
            digits.append([point, name, str(unicodedata.decimal(char))])
        elif unicodedata.numeric(char, None) is not None:
            numerics.append([point, name, repr(unicodedata.numeric(char))])
        decomposition = unicodedata.decomposition(char)
        if decomposition.startswith("<"):
            tag, _, parts = decomposition.partition(" ")
            compatibility.append([point, name, tag.strip("<>"), parts])
        elif decomposition:
            canonical.append([point, name, decomposition])
    for code, (folder, stem) in _CATEGORY_FILES.items():
        if by_category[code]:
            yield (
                f"general-category/{folder}/{stem}.tsv",
                ["code_point", "name", "bidirectional", "combining", "mirrored"],
                by_category[code],
            )
    for code, stem in _EAST_ASIAN_WIDTHS.items():
        yield f"east-asian-width/{stem}.tsv", ["code_point", "name", "category"], by_width[code]
    yield "properties/mirrored.tsv", ["code_point", "name", "category"], mirrored
    yield "properties/combining-classes.tsv", ["code_point", "name", "combining_class"], combining
    yield "properties/numeric/decimal-digits.tsv", ["code_point", "name", "decimal"], digits
    yield "properties/numeric/other-numeric-values.tsv", ["code_point", "name", "numeric"], numerics
    yield "properties/decompositions/canonical.tsv", ["code_point", "name", "decomposition"], canonical
    yield "properties/decompositions/compatibility.tsv", ["code_point", "name", "tag", "decomposition"], compatibility


def _summary(obj: object) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return " ".join(doc.split("\n\n", 1)[0].split()) if doc else ""


def _python_tables() -> Iterator[tuple[str, list[str], Table]]:
    keywords = [[word, "hard"] for word in keyword.kwlist] + [[word, "soft"] for word in keyword.softkwlist]
    yield "keywords/keywords.csv", ["keyword", "kind"], keywords
    yield "tokens/token-types.csv", ["number", "name"], [[str(n), name] for n, name in sorted(token.tok_name.items())]
    yield (
        "tokens/operators.csv",
        ["operator", "token"],
        [[text, token.tok_name[n]] for text, n in sorted(token.EXACT_TOKEN_TYPES.items())],
    )
    jumps = set(opcode.hasjrel) | set(opcode.hasjabs)
    yield (
        "bytecode/opcodes.csv",
        ["opcode", "name", "takes_argument", "jumps"],
        [
            [str(code), name, str(code >= opcode.HAVE_ARGUMENT), str(code in jumps)]
            for name, code in sorted(opcode.opmap.items(), key=lambda kv: kv[1])
        ],
    )
    nodes = sorted(
        (obj for obj in vars(ast_module).values() if isinstance(obj, type) and issubclass(obj, ast_module.AST)),
        key=lambda cls: cls.__name__,
    )
    yield (
        "ast/node-types.csv",
        ["node", "base", "fields"],
        [[cls.__name__, cls.__base__.__name__, " ".join(cls._fields)] for cls in nodes if cls is not ast_module.AST],
    )
    exceptions = sorted(
        (obj for obj in vars(builtins).values() if isinstance(obj, type) and issubclass(obj, BaseException)),
        key=lambda cls: cls.__name__,
    )
    yield (
        "builtins/exceptions.csv",
        ["exception", "base", "summary"],
        [[cls.__name__, cls.__base__.__name__, _summary(cls)] for cls in exceptions if cls is not BaseException],
    )
    functions = sorted(
        (name, obj)
        for name, obj in vars(builtins).items()
        if isinstance(obj, types.BuiltinFunctionType) and not name.startswith("_")
    )
    yield (
        "builtins/functions.csv",
        ["function", "summary"],
        [[name, _summary(obj).split(". ")[0]] for name, obj in functions],
    )
    yield (
        "codecs/aliases.csv",
        ["alias", "codec"],
        sorted([alias, codec] for alias, codec in encodings.aliases.aliases.items()),
    )
    yield (
        "locale/aliases.csv",
        ["alias", "locale"],
        sorted([alias, name] for alias, name in locale.locale_alias.items()),
    )
    yield (
        "locale/windows-lcids.csv",
        ["lcid", "locale"],
        [[f"0x{lcid:04x}", name] for lcid, name in sorted(locale.windows_locale.items())],
    )
    yield (
        "serialization/pickle-opcodes.csv",
        ["name", "code", "protocol", "argument", "stack_after"],
        [
            [
                op.name,
                repr(op.code),
                str(op.proto),
                op.arg.name if op.arg else "",
                " ".join(s.name for s in op.stack_after),
            ]
            for op in pickletools.opcodes
        ],
    )


def _web_tables() -> Iterator[tuple[str, list[str], Table]]:
    classes = {
        1: "1xx-informational",
        2: "2xx-success",
        3: "3xx-redirection",
        4: "4xx-client-error",
        5: "5xx-server-error",
    }
    for first, stem in classes.items():
        rows = [[str(s.value), s.phrase, s.description] for s in http.HTTPStatus if s.value // 100 == first]
        yield f"http/status-codes/{stem}.csv", ["code", "phrase", "description"], rows
    if hasattr(http, "HTTPMethod"):
        yield "http/methods.csv", ["method", "description"], [[m.value, m.description] for m in http.HTTPMethod]
    types = mimetypes.MimeTypes(filenames=())  # the built-in tables only, not the system's files
    loose, strict = types.types_map  # (non-strict, strict)
    by_top: dict[str, Table] = {}
    for extension, mime in sorted(strict.items()):
        by_top.setdefault(mime.split("/")[0], []).append([extension, mime])
    for top, rows in sorted(by_top.items()):
        yield f"mime/types/{top}.csv", ["extension", "mime_type"], rows
    yield "mime/non-standard-types.csv", ["extension", "mime_type"], [[e, m] for e, m in sorted(loose.items())]
    yield "mime/encodings.csv", ["extension", "encoding"], [[e, m] for e, m in sorted(types.encodings_map.items())]
    yield "mime/suffixes.csv", ["suffix", "expands_to"], [[e, m] for e, m in sorted(types.suffix_map.items())]
    yield (
        "html/entities/html4.csv",
        ["entity", "code_point", "character"],
        [[name, _code_point(chr(point)), chr(point)] for name, point in sorted(html.entities.name2codepoint.items())],
    )
    yield (
        "html/entities/html5.csv",
        ["entity", "code_points"],
        [[name, " ".join(_code_point(c) for c in text)] for name, text in sorted(html.entities.html5.items())],
    )

    def codec(value: object) -> str:
        names = {
            email.charset.QP: "quoted-printable",
            email.charset.BASE64: "base64",
            email.charset.SHORTEST: "shortest",
        }
        return names.get(value, "" if value is None else str(value))

    yield (
        "email/charsets.csv",
        ["charset", "header_encoding", "body_encoding", "output_charset"],
        [[name, codec(h), codec(b), o or ""] for name, (h, b, o) in sorted(email.charset.CHARSETS.items())],
    )
    yield "email/charset-aliases.csv", ["alias", "charset"], sorted([a, c] for a, c in email.charset.ALIASES.items())
    schemes = sorted(
        set(urllib.parse.uses_relative) | set(urllib.parse.uses_netloc) | set(urllib.parse.uses_params) - {""}
    )
    yield (
        "url/schemes.csv",
        ["scheme", "relative", "netloc", "params"],
        [
            [
                s,
                str(s in urllib.parse.uses_relative),
                str(s in urllib.parse.uses_netloc),
                str(s in urllib.parse.uses_params),
            ]
            for s in schemes
            if s
        ],
    )


#: Data repositories and the functions that write their tables.
_TABLE_REPOS: dict[str, Callable[[], Iterator[tuple[str, list[str], Table]]]] = {
    "unicode-tables": _unicode_tables,
    "python-tables": _python_tables,
    "web-tables": _web_tables,
}
