"""The README and docs/ stay honest, without a network: the README stays a front page, every
relative link and anchor lands, every `sluice` command in a shell block exists with the options
it shows (asked of the built binary's help), every Python block parses and imports what this
venv has, and the guide index names pages that exist."""

from __future__ import annotations

import ast
import functools
import importlib.util
import re
import shlex
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import ROOT, sluice_bin

DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
SHELL = {"bash", "sh", "shell", "console"}
PYTHON = {"python", "py", "python3"}
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


# Markdown, read as much as these checks need.

@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def parse(path: Path) -> tuple[list[Block], str]:
    """The fenced blocks of a page, and its text with those blocks blanked (line count kept)."""
    blocks: list[Block] = []
    prose: list[str] = []
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            prose.append(lines[i])
            i += 1
            continue
        fence, indent = opening["fence"], len(opening["indent"])
        start, body = i, []
        i += 1
        while i < len(lines):
            closing = FENCE.match(lines[i])
            if closing and closing["fence"].startswith(fence[0]) and len(closing["fence"]) >= len(fence) \
                    and not closing["info"].strip():
                break
            body.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i].lstrip())
            i += 1
        blocks.append(Block(path, start + 1, opening["info"].strip().split(" ")[0].lower(), "\n".join(body)))
        prose.extend([""] * (i - start + 1))
        i += 1
    return blocks, "\n".join(prose)


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
