"""The README and docs/ stay honest: the README stays a front page, every relative link and
anchor lands, every `sluice` command in a shell block exists with the options it shows (asked of
the built binary's help), every Python block parses, imports what this venv has and runs against
a live server with the sample, every Swift block is in the generated Swift Testing suite
(scripts/doc_examples.py), every JSON block parses, every `curl` names a route the API
describes, and the guide index names pages that exist.

A block may be marked on the line directly before its fence: `<!-- continues -->` (it goes on
from the block before it on the page, in the same language, and runs after it) or
`<!-- not run: REASON -->` (a GPU, a cluster, a private key, a deliberate fragment: still
parsed, not run). See scripts/doc_examples.py."""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
import requests

from conftest import FIXTURES, ROOT, serving, sluice_bin


def _load_doc_examples():
    spec = importlib.util.spec_from_file_location("doc_examples", ROOT / "scripts" / "doc_examples.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["doc_examples"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


doc_examples = _load_doc_examples()

DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
SHELL = {"bash", "sh", "shell", "console"}
PYTHON = {"python", "py", "python3"}


# Markdown, read as much as these checks need: the one parser the Swift examples' generator uses.
Block = doc_examples.Block
parse = doc_examples.parse


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def all_blocks() -> list[Block]:
    return [block for page in PAGES for block in parse(page)[0]]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@functools.lru_cache(maxsize=None)
def anchors(path: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in parse(path)[1].split("\n"):
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not heading:
            continue
        base = slug(heading[1])
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return frozenset(out)


LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$", re.MULTILINE)


def links(path: Path) -> list[tuple[int, str]]:
    """(line, target) of every inline and reference link outside code blocks and code spans."""
    prose = parse(path)[1]
    # Blank code spans, keeping offsets, so that `[x](y)` written as code is not a link.
    prose = re.sub(r"`[^`\n]*`", lambda m: " " * len(m[0]), prose)
    found = [(m.start(1), m[1]) for m in LINK.finditer(prose)] + [(m.start(1), m[1]) for m in REFERENCE.finditer(prose)]
    return [(prose.count("\n", 0, offset) + 1, target) for offset, target in found]


def link_problem(page: Path, target: str) -> str | None:
    """Why a link from `page` does not land, or None when it does."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
        return None  # absolute (https:, mailto:): not checked without a network
    file_part, _, anchor = target.partition("#")
    destination = (page.parent / file_part).resolve() if file_part else page
    if not destination.exists():
        return f"no file {file_part}"
    if ROOT.resolve() not in destination.resolve().parents and destination.resolve() != ROOT.resolve():
        return f"{file_part} is outside the repository"
    if anchor:
        if destination.suffix != ".md":
            return f"anchor #{anchor} into a file that is not Markdown"
        if anchor not in anchors(destination):
            return f"no heading #{anchor} in {rel(destination)}"
    return None


# The `sluice` command line, as its own help describes it.

@functools.lru_cache(maxsize=None)
def help_text(path: tuple[str, ...]) -> str:
    result = subprocess.run([sluice_bin(), "help", *path], capture_output=True, text=True, timeout=60)
    return result.stdout + result.stderr


def section(text: str, title: str) -> list[str]:
    out: list[str] = []
    inside = False
    for line in text.split("\n"):
        if re.match(r"^[A-Z][A-Z ]*:", line):
            inside = line.startswith(title + ":")
            continue
        if inside:
            out.append(line)
    return out


@functools.lru_cache(maxsize=None)
def subcommands(path: tuple[str, ...]) -> frozenset[str]:
    return frozenset(m[1] for line in section(help_text(path), "SUBCOMMANDS")
                     if (m := re.match(r"^  ([a-z][a-z0-9-]*)(\s|$)", line)))


@functools.lru_cache(maxsize=None)
def options(path: tuple[str, ...]) -> frozenset[str]:
    names = set()
    for line in section(help_text(path), "OPTIONS"):
        if not re.match(r"^  -", line):
            continue  # a description's continuation
        spec = re.sub(r"<[^>]*>", "", re.split(r"\s{2,}", line.strip())[0])
        for flag in re.findall(r"(?:^|(?<=[\s,]))(--?\[?[A-Za-z0-9][\w\-\[\]]*)", spec):
            if "[no-]" in flag:
                names.update({flag.replace("[no-]", ""), flag.replace("[no-]", "no-")})
            else:
                names.add(flag)
    return frozenset(names)


def command_problems(args: list[str]) -> list[str]:
    """What is wrong with `sluice ARGS`: an unknown subcommand or an option the command lacks."""
    if not args or args[0] in ("-h", "--help"):
        return []
    asking_help = args[0] == "help"
    rest = args[1:] if asking_help else args
    path: list[str] = []
    while rest and not rest[0].startswith("-"):
        choices = subcommands(tuple(path))
        if not choices:
            break  # a leaf: what follows are its arguments
        if rest[0] not in choices:
            where = " ".join(["sluice", *path])
            return [f"`{where}` has no subcommand {rest[0]!r} (it has {', '.join(sorted(choices))})"]
        path.append(rest[0])
        rest = rest[1:]
    if asking_help:
        return []
    if not path:
        return ["no subcommand after `sluice`"]
    if subcommands(tuple(path)) and "--help" not in rest and "-h" not in rest:
        return [f"`sluice {' '.join(path)}` needs one of its subcommands"]
    known = options(tuple(path))
    problems = []
    for token in rest:
        if token == "--":
            break
        if re.fullmatch(r"-\d+(\.\d+)?", token) or not token.startswith("-") or token == "-":
            continue  # a value or a positional argument
        name = token.split("=", 1)[0]
        if name not in known:
            problems.append(f"`sluice {' '.join(path)}` has no option {name} (it has {', '.join(sorted(known))})")
    return problems


SEPARATORS = {"|", "||", "&", "&&", ";", "(", ")", "!"}
REDIRECTS = {">", ">>", "<", "<<", ">&", "<&", "&>", ">|"}


def sluice_invocations(script: str) -> list[list[str]]:
    """The arguments of every `sluice` run in a shell script (pipes, lists, env prefixes and
    paths to the binary included; comments, redirections and other programs left out)."""
    segments: list[list[str]] = [[]]
    skip = False
    for line in re.sub(r"\\\n", " ", script).split("\n"):  # a line is a command; \ continues it
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        try:
            tokens = list(lexer)
        except ValueError as error:  # an unclosed quote: the line is not shell
            raise ValueError(f"{error} in: {line}") from None
        segments.append([])
        for token in tokens:
            if skip:
                skip = False
            elif token in SEPARATORS:
                segments.append([])
            elif token in REDIRECTS:
                skip = True
            else:
                segments[-1].append(token)
        skip = False
    found = []
    for words in segments:
        while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
            words = words[1:]  # VAR=value prefixes
        if words[:2] == ["swift", "run"]:
            words = words[2:]
        elif words[:1] in (["exec"], ["time"], ["sudo"]):
            words = words[1:]
        if words and words[0].rsplit("/", 1)[-1] == "sluice":
            found.append(words[1:])
    return found


def shell_scripts(block: Block) -> str:
    """A shell block as a script: a console block's `$ ` lines only (with continuations)."""
    if block.lang != "console":
        return block.text
    script, continuing = [], False
    for line in block.text.split("\n"):
        if continuing or line.lstrip().startswith("$ "):
            command = line.lstrip()[2:] if not continuing else line
            script.append(command)
            continuing = command.rstrip().endswith("\\")
    return "\n".join(script)


# Python blocks.

def sluice_package_names() -> set[str]:
    """What `from sluice import …` may name: the package's public names and its modules."""
    package = ROOT / "python" / "sluice"
    tree = ast.parse((package / "__init__.py").read_text(encoding="utf-8"))
    names = {p.stem for p in package.glob("*.py")}
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return names


def module_exists(dotted: str) -> bool:
    """Whether `dotted` is importable here, found on disk without importing anything (torch and
    TensorFlow take seconds to import)."""
    top, *parts = dotted.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None:
        return False
    locations = list(spec.submodule_search_locations or [])
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        nested = [Path(loc) / part for loc in locations if (Path(loc) / part).is_dir()]
        if nested:
            locations = [str(p) for p in nested]
            continue
        if last and any(list(Path(loc).glob(f"{part}.py")) + list(Path(loc).glob(f"{part}.*.so"))
                        + list(Path(loc).glob(f"{part}.so")) for loc in locations):
            return True
        return False
    return True


def import_problems(source: str) -> list[str]:
    problems = []
    sluice_names = None
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                problems.append(f"relative import of {node.module!r}")
                continue
            modules = [node.module or ""]
            if node.module == "sluice":
                sluice_names = sluice_names or sluice_package_names()
                problems += [f"sluice has no {a.name!r}" for a in node.names if a.name not in sluice_names]
        else:
            continue
        for module in modules:
            if module.split(".")[0] == "sluice":
                if not (ROOT / "python" / Path(*module.split("."))).with_suffix(".py").exists() \
                        and not (ROOT / "python" / Path(*module.split("."))).is_dir():
                    problems.append(f"no module {module} in python/")
            elif not module_exists(module):
                problems.append(f"{module} is not importable in this venv")
    return problems


# The tests.

def test_readme_is_a_front_page() -> None:
    lines = README.read_text(encoding="utf-8").split("\n")
    assert len(lines) < 250, f"README.md has {len(lines)} lines; move detail into docs/"


def test_readme_keeps_the_two_commands() -> None:
    blocks = [b for b in parse(README)[0] if b.lang in SHELL]
    commands = {line.split("#")[0].strip() for b in blocks for line in b.text.split("\n")}
    assert {"bash scripts/quickstart.sh", "bash scripts/test.sh"} <= commands


def test_every_code_block_names_its_language() -> None:
    bare = [f"{rel(b.path)}:{b.line}" for b in all_blocks() if not b.lang]
    assert not bare, f"fenced blocks without a language tag: {bare}"


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_relative_links_land(page: Path) -> None:
    problems = [f"{rel(page)}:{line}: ({target}) {why}"
                for line, target in links(page) if (why := link_problem(page, target))]
    assert not problems, "\n".join(problems)


def test_every_mention_of_a_docs_page_names_one_that_exists() -> None:
    """Code comments, scripts and tests cite docs/NAME.md in plain text; each must exist."""
    roots = ["Sources", "Tests", "tests", "scripts", "bench", "examples", "python", "Benchmarks", "Fuzz", "docs"]
    files = [README, ROOT / ".ci" / "run", *(p for r in roots for p in (ROOT / r).rglob("*"))]
    problems = []
    for path in files:
        inside = path.relative_to(ROOT).parts
        if not path.is_file() or "Fixtures" in inside or any(part.startswith(".") and part != ".ci" for part in inside) \
                or path.suffix not in {".md", ".swift", ".py", ".sh", ".toml", ".txt", ""}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").split("\n"), 1):
            for name in re.findall(r"\bdocs/([\w-]+\.md)\b", line):
                if name != "NAME.md" and not (DOCS / name).exists():
                    problems.append(f"{rel(path)}:{number}: docs/{name}")
    assert not problems, "mentions of missing pages:\n" + "\n".join(problems)


def shell_blocks() -> list[Block]:
    return [b for b in all_blocks() if b.lang in SHELL]


@pytest.mark.parametrize("block", shell_blocks(), ids=lambda b: f"{rel(b.path)}:{b.line}")
def test_sluice_commands_exist_with_their_options(block: Block) -> None:
    problems = [f"{rel(block.path)}:{block.line}: sluice {' '.join(args)}\n    {p}"
                for args in sluice_invocations(shell_scripts(block)) for p in command_problems(args)]
    assert not problems, "\n".join(problems)


def inline_command_problems(page: Path) -> list[str]:
    """Options in code spans such as `sluice serve --data DIR [--port 8085]` (the command
    tables), checked against the command they name; a span naming a group loosely
    (`sluice import --host`) or no command is left alone."""
    problems = []
    prose = parse(page)[1]
    for match in re.finditer(r"`sluice ([^`]+)`", prose):
        path: list[str] = []
        for word in match[1].split():
            if word not in subcommands(tuple(path)):
                break
            path.append(word)
        if not path or subcommands(tuple(path)):
            continue
        known = options(tuple(path))
        line = prose.count("\n", 0, match.start()) + 1
        problems += [f"{rel(page)}:{line}: `sluice {' '.join(path)}` has no option {name}"
                     for name in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", match[1]) if name not in known]
    return problems


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_sluice_commands_in_code_spans_have_their_options(page: Path) -> None:
    problems = inline_command_problems(page)
    assert not problems, "\n".join(problems)


def python_blocks() -> list[Block]:
    return [b for b in all_blocks() if b.lang in PYTHON]


@pytest.mark.parametrize("block", python_blocks(), ids=lambda b: f"{rel(b.path)}:{b.line}")
def test_python_blocks_parse_and_import_what_exists(block: Block) -> None:
    try:
        ast.parse(block.text)
    except SyntaxError as error:
        pytest.fail(f"{rel(block.path)}:{block.line + (error.lineno or 0)}: {error.msg}")
    problems = import_problems(block.text)
    assert not problems, f"{rel(block.path)}:{block.line}: " + "; ".join(problems)


def index_entries() -> list[str]:
    text = parse(DOCS / "README.md")[1]
    return re.findall(r"^\s*\d+\.\s+\[[^\]]+\]\(([^)#]+)(?:#[^)]*)?\)", text, re.MULTILINE)


def test_the_guide_index_names_pages_that_exist_and_every_page_is_in_it() -> None:
    entries = index_entries()
    assert entries, "docs/README.md lists no pages"
    assert len(entries) == len(set(entries)), "a page is listed twice in docs/README.md"
    missing = [e for e in entries if not (DOCS / e).is_file()]
    assert not missing, f"docs/README.md lists pages that do not exist: {missing}"
    pages = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    unlisted = sorted(pages - set(entries))
    assert not unlisted, f"pages in docs/ missing from docs/README.md: {unlisted}"


def test_the_readme_links_every_page_of_the_guide() -> None:
    linked = {(README.parent / target.partition("#")[0]).resolve() for _, target in links(README)}
    unlinked = sorted(p.name for p in DOCS.glob("*.md") if p.resolve() not in linked)
    assert not unlinked, f"README.md does not link: {unlinked}"


# The checkers themselves find what they are for (a doc gone wrong must fail the tests above).

def test_the_command_check_catches_a_wrong_subcommand_or_option() -> None:
    assert command_problems(["serve", "--data", "d", "--port", "0"]) == []
    assert command_problems(["tag", "add", "x", "--project", "p", "--dataset", "D", "--data", "d"]) == []
    assert command_problems(["serve", "--data", "d", "--no-such-option", "1"])
    assert command_problems(["frobnicate"])
    assert command_problems(["tag", "rename", "x"])
    assert command_problems(["snapshot"])
    assert sluice_invocations("FOO=1 sluice query 'a > 1' --count | jq . > out  # note\n") == [["query", "a > 1", "--count"]]


def test_the_link_check_catches_a_missing_file_or_heading() -> None:
    assert link_problem(DOCS / "README.md", "concepts.md") is None
    assert link_problem(DOCS / "README.md", "no-such-page.md")
    assert link_problem(DOCS / "README.md", "concepts.md#no-such-heading")
    assert slug("Local cache: later epochs from disk, and offline") == "local-cache-later-epochs-from-disk-and-offline"


def test_the_import_check_catches_a_missing_module() -> None:
    assert import_problems("import numpy\nfrom sluice import Project\n") == []
    assert import_problems("import no_such_module_here")
    assert import_problems("from sluice import NoSuchName")
    assert import_problems("from torchvision.transforms.functionl import to_tensor")


# Markers: `<!-- continues -->` and `<!-- not run: REASON -->` on the line before a fence.

RUN_LANGUAGES = PYTHON | {"swift"}


def marker_problems(page: Path) -> list[str]:
    """Markers that are not directly before a fence, `not run` without a reason, `continues`
    on a language that does not run or with nothing before it to continue."""
    problems = []
    lines = page.read_text(encoding="utf-8").split("\n")
    fences = {b.line - 1 for b in doc_examples.blocks(page)}
    for index, line in enumerate(lines):
        if "<!--" in line and re.search(r"<!--\s*(continues|not run)", line):
            if not doc_examples.MARKER.match(line):
                problems.append(f"{rel(page)}:{index + 1}: a marker is `<!-- continues -->` or `<!-- not run: reason -->`")
            elif index + 1 not in fences:
                problems.append(f"{rel(page)}:{index + 1}: a marker must be on the line directly before a fence")
    page_blocks = doc_examples.blocks(page)
    for block in page_blocks:
        if block.marker == "continues" and block.lang not in RUN_LANGUAGES:
            problems.append(f"{block.where}: `continues` on a {block.lang or 'bare'} block, which is not run")
    for languages in (PYTHON, {"swift"}):
        try:
            doc_examples.chains(page_blocks, languages)
        except doc_examples.MarkerError as error:
            problems.append(str(error))
    return problems


@pytest.mark.parametrize("page", PAGES, ids=rel)
def test_markers_sit_on_a_fence_and_give_their_reason(page: Path) -> None:
    problems = marker_problems(page)
    assert not problems, "\n".join(problems)


# Python blocks run, each page's chain of blocks in one process, against a live server.

SAMPLE_SETS = [
    ("val2017-persons/person_keypoints_val2017.json", "val2017-persons/images"),
    ("crowdpose/test_crowdpose.json", "crowdpose"),
    ("ochuman/test_ochuman.json", "ochuman"),
]
#: The photograph a doc example uploads as `photos/a.jpg` (relative to where it runs).
PHOTO = FIXTURES / "ochuman" / "000817.jpg"


@dataclass
class DocsServer:
    url: str
    work: Path  # where examples run: holds photos/a.jpg
    placeholders: dict  # names the docs leave to the reader (keys), with values for this server


@pytest.fixture(scope="module")
def docs_server() -> Iterator[DocsServer]:
    """A live server of its own, since examples write: the sample in coco-dataset/Default, a
    snapshot `v1` of it (`sluice snapshot create`), an editor key, and an empty label `cat`
    (Diffgram's walkthrough slices `labels.cat > 0`)."""
    with tempfile.TemporaryDirectory(prefix="sluice-pytest-docs-") as tmp:
        data = Path(tmp) / "data"

        def sluice(*args: str) -> str:
            return subprocess.run([sluice_bin(), *args, "--data", str(data)],
                                  check=True, capture_output=True, text=True, timeout=120).stdout

        for annotations, images in SAMPLE_SETS:
            sluice("import", "coco", str(FIXTURES / annotations), "--project", "coco-dataset",
                   "--dataset", "Default", "--images", str(FIXTURES / images))
        sluice("snapshot", "create", "--project", "coco-dataset", "--dataset", "Default", "--name", "v1")
        key = dict(re.findall(r"^(\w+): (\S+)$",
                              sluice("keys", "create", "--project", "coco-dataset", "--role", "editor"), re.MULTILINE))
        work = Path(tmp) / "work"
        (work / "photos").mkdir(parents=True)
        shutil.copyfile(PHOTO, work / "photos" / "a.jpg")
        with serving(data) as url:
            requests.post(f"{url}/api/v1/projects/coco-dataset/labels", json={"name": "cat"},
                          headers={"Authorization": f"Bearer {key['api_key']}"}, timeout=30).raise_for_status()
            yield DocsServer(url, work, {
                "EDITOR_KEY": key["api_key"], "CLIENT_ID": key["client_id"], "CLIENT_SECRET": key["client_secret"],
            })


def python_chains() -> list[list[Block]]:
    out = []
    for page in PAGES:
        try:
            out += doc_examples.chains(doc_examples.blocks(page), PYTHON)
        except doc_examples.MarkerError:
            pass  # reported by test_markers_sit_on_a_fence_and_give_their_reason
    return out


def example_script(chain: list, url: str) -> tuple[str, list[str]]:
    """The chain's blocks as one script, the documented server replaced by `url`, and for each
    of its lines the page and line it comes from."""
    lines: list[str] = []
    origins: list[str] = []
    for block in chain:
        text = block.text
        for documented in doc_examples.DOCUMENTED_URLS:
            text = text.replace(documented, url)
        for offset, line in enumerate(text.split("\n")):
            lines.append(line)
            origins.append(f"{rel(block.path)}:{block.line + 1 + offset}")
    return "\n".join(lines) + "\n", origins


#: Runs the example file argv[1] as __main__, with the placeholders as globals. torchvision's
#: fake-kernel registrations are left out as in conftest.py (its C ops do not load with the CPU
#: torch of this venv; only its pure-Python parts are used).
BOOT = """
import json, os, runpy, sys, types
sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
runpy.run_path(sys.argv[1], init_globals=json.loads(os.environ["SLUICE_DOC_PLACEHOLDERS"]), run_name="__main__")
"""


@pytest.mark.parametrize("chain", python_chains(), ids=lambda chain: f"{rel(chain[0].path)}:{chain[0].line}")
def test_python_examples_run(chain: list, docs_server: DocsServer) -> None:
    script, origins = example_script(chain, docs_server.url)
    path = docs_server.work / "example.py"
    path.write_text(script, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    env.update({
        "PYTHONPATH": os.pathsep.join([str(ROOT / "python"), *filter(None, [os.environ.get("PYTHONPATH")])]),
        "SLUICE_DOC_PLACEHOLDERS": json.dumps(docs_server.placeholders),
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    result = subprocess.run([sys.executable, "-c", BOOT, str(path)], cwd=docs_server.work, env=env,
                            capture_output=True, text=True, timeout=180)
    # Tracebacks name the page and line of the Markdown, not the temporary script.
    stderr = re.sub(rf'File "{re.escape(str(path))}", line (\d+)',
                    lambda m: f'File "{origins[int(m[1]) - 1]}"' if int(m[1]) <= len(origins) else m[0],
                    result.stderr)
    if result.returncode != 0:
        where = ", ".join(b.where for b in chain)
        pytest.fail(f"{where} exited {result.returncode}:\n{stderr[-4000:]}", pytrace=False)


# Swift blocks: the generated suite is what the docs give.

def test_the_swift_examples_suite_is_generated_from_the_current_docs() -> None:
    expected = doc_examples.generate()
    current = doc_examples.OUTPUT.read_text(encoding="utf-8") if doc_examples.OUTPUT.exists() else ""
    assert current == expected, (f"{rel(doc_examples.OUTPUT)} is not what the docs give: "
                                 "run python3 scripts/doc_examples.py and commit the result")


def test_every_swift_block_is_in_the_suite_or_says_why_not() -> None:
    generated = doc_examples.OUTPUT.read_text(encoding="utf-8")
    missing = [b.where for b in all_swift_blocks() if b.runs and f"// {b.where}\n" not in generated]
    assert not missing, f"Swift blocks missing from {rel(doc_examples.OUTPUT)}: {missing}"


def all_swift_blocks() -> list:
    return [b for page in PAGES for b in doc_examples.blocks(page) if b.lang == "swift"]


# JSON blocks parse.

JSON = {"json"}


def json_problems(blocks: list) -> list[str]:
    problems = []
    for block in blocks:
        if block.lang not in JSON or not block.runs:
            continue
        try:
            json.loads(block.text)
        except json.JSONDecodeError as error:
            problems.append(f"{rel(block.path)}:{block.line + error.lineno}: {error.msg}")
    return problems


def test_json_blocks_parse() -> None:
    problems = json_problems([b for page in PAGES for b in doc_examples.blocks(page)])
    assert not problems, "JSON blocks that do not parse (or mark them <!-- not run: why -->):\n" + "\n".join(problems)


# `curl` in shell blocks names a route the API describes.

HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
URL_PATH = re.compile(r"(?:https?://[^/\s'\"]+|\$\{?[A-Za-z_]\w*\}?)(/[^\s'\"?#]*)")


def curl_requests(script: str) -> list[tuple[str, str]]:
    """(method, path) of every `curl` in a shell script: the method from -X, -I, or a body."""
    found = []
    for line in re.sub(r"\\\n", " ", script).split("\n"):
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        lexer.commenters = "#"
        tokens = list(lexer)
        segments, current = [], []
        for token in tokens:
            if token in SEPARATORS:
                segments.append(current)
                current = []
            else:
                current.append(token)
        segments.append(current)
        for words in segments:
            while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
                words = words[1:]
            if not words or words[0].rsplit("/", 1)[-1] != "curl":
                continue
            method, paths, args = None, [], words[1:]
            for index, word in enumerate(args):
                if word in ("-X", "--request") and index + 1 < len(args):
                    method = args[index + 1].upper()
                elif word.startswith("-X") and len(word) > 2:
                    method = word[2:].upper()
                elif word in ("-I", "--head") and method is None:
                    method = "HEAD"
                elif word in ("-T", "--upload-file") and method is None:
                    method = "PUT"
                elif (word in ("-F", "--form") or word.startswith("--data") or word == "-d"
                      or word.startswith("--json")) and method is None:
                    method = "POST"
                else:
                    match = URL_PATH.match(word)
                    previous = args[index - 1] if index else ""
                    if match and previous not in ("-H", "--header", "-o", "--output", "-d", "--data", "-u", "--user"):
                        paths.append(match[1])
            found += [(method or "GET", path) for path in paths]
    return found


def template_pattern(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template)) + "/?$")


@functools.lru_cache(maxsize=None)
def diffgram_routes() -> frozenset[tuple[str, str]]:
    """(method, path template) of Diffgram's routes, as docs/diffgram-compat.md lists them."""
    text = (DOCS / "diffgram-compat.md").read_text(encoding="utf-8")
    return frozenset((m[1], m[2]) for m in re.finditer(rf"`({'|'.join(HTTP_METHODS)}) (/api/[^`\s]+)`", text))


def described_routes(openapi: dict) -> set[tuple[str, str]]:
    routes = set(diffgram_routes())
    for template, item in openapi.get("paths", {}).items():
        for method in item:
            if method.upper() in HTTP_METHODS:
                routes.add((method.upper(), template))
                if method.upper() == "GET":
                    routes.add(("HEAD", template))
    return routes


def curl_problems(block: Block, routes: set[tuple[str, str]]) -> list[str]:
    problems = []
    for method, path in curl_requests(shell_scripts(block)):
        matching = [(m, t) for m, t in routes if template_pattern(t).match(path)]
        if not matching:
            problems.append(f"{rel(block.path)}:{block.line}: curl {path}: no such route in the OpenAPI document "
                            "or docs/diffgram-compat.md")
        elif method not in {m for m, _ in matching}:
            problems.append(f"{rel(block.path)}:{block.line}: curl -X {method} {path}: the route takes "
                            f"{', '.join(sorted({m for m, _ in matching}))}")
    return problems


@pytest.fixture(scope="module")
def openapi(docs_server: DocsServer) -> dict:
    return requests.get(f"{docs_server.url}/api/v1/openapi.json", timeout=30).json()


def test_curl_commands_name_routes_the_api_describes(openapi: dict) -> None:
    routes = described_routes(openapi)
    problems = [p for b in shell_blocks() for p in curl_problems(b, routes)]
    assert not problems, "\n".join(problems)
    assert any(curl_requests(shell_scripts(b)) for b in shell_blocks()), "the docs show curl somewhere"


def test_the_example_checks_catch_what_they_are_for(openapi: dict) -> None:
    routes = described_routes(openapi)
    block = Block(README, 1, "bash", "curl -s -X POST http://127.0.0.1:8085/api/v1/datasets/1/slices -d '{}'\n"
                                       "curl -s -H 'Authorization: Bearer x' 'http://h:1/api/v1/datasets/1/count?v=1'")
    assert curl_problems(block, routes) == []
    assert curl_requests(block.text) == [("POST", "/api/v1/datasets/1/slices"), ("GET", "/api/v1/datasets/1/count")]
    assert curl_problems(Block(README, 1, "bash", "curl http://127.0.0.1:8085/api/v1/datasets/1/nothing"), routes)
    assert curl_problems(Block(README, 1, "bash", "curl -X DELETE http://127.0.0.1:8085/api/v1/datasets/1/count"), routes)
    assert ("POST", "/api/project/{p}/user/sdk/file/list") in diffgram_routes()
    assert json_problems([doc_examples.Block(README, 1, "json", '{"a": 1,}')])
    assert not json_problems([doc_examples.Block(README, 1, "json", '{"a": 1,}', "not run", "a fragment")])
    with pytest.raises(doc_examples.MarkerError):
        doc_examples.chains([doc_examples.Block(README, 1, "python", "x = 1", "continues")], PYTHON)
    with pytest.raises(doc_examples.MarkerError):
        doc_examples.chains([doc_examples.Block(README, 1, "python", "x = 1", "not run", "")], PYTHON)
    chained = doc_examples.chains([doc_examples.Block(README, 1, "python", "x = 1"),
                                   doc_examples.Block(README, 5, "python", "y = x", "continues"),
                                   doc_examples.Block(README, 9, "python", "z = 1")], PYTHON)
    assert [[b.line for b in chain] for chain in chained] == [[1, 5], [9]]
