#!/usr/bin/env python3
"""Generates Tests/DocExamplesTests/DocExamples.swift from the ```swift blocks of README.md and
docs/*.md, so that `swift test` compiles every Swift example of the documentation and runs it
against a live server on 127.0.0.1 with the bundled sample imported.

    python3 scripts/doc_examples.py           # rewrite the generated file
    python3 scripts/doc_examples.py --check   # exit 1 when it is not what the docs give

Markers, an HTML comment on the line directly before a block's opening fence:

- `<!-- continues -->`: the block goes on from the block before it on the same page (same
  language); it joins that block's test, after it.
- `<!-- not run: REASON -->`: the block is not run (a GPU, a cluster, a private key, a
  deliberate fragment); REASON must say why. A Swift block so marked is left out.

In a block, the documented server `"http://127.0.0.1:8085"` (or `"http://localhost:8085"`)
becomes `documentedServer`, the live server's URL. Names the documentation leaves to the
reader are supplied: `editorKey` (an editor key of `coco-dataset`) and `photoURL` (a
photograph of the sample). The live store has the sample in `coco-dataset/Default` and an
empty dataset `validation`. `import` lines move to the top of the file.

Standard library only: tests/python/test_docs.py imports this file and checks that the
generated file is up to date.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "Tests" / "DocExamplesTests" / "DocExamples.swift"
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
MARKER = re.compile(r"^\s*<!--\s*(?P<kind>continues|not run)\s*(?::(?P<reason>.*?))?\s*-->\s*$")
DOCUMENTED_URLS = ("http://127.0.0.1:8085", "http://localhost:8085")
SWIFT = {"swift"}

#: What the generated tests supply for names the documentation leaves to the reader.
SWIFT_PLACEHOLDERS = {
    "photoURL": 'let photoURL = URL(fileURLWithPath: Fixtures.path("coco/ochuman/000817.jpg"))',
}
#: Imports every generated test needs; a block's own imports are added to them.
SWIFT_IMPORTS = ["Foundation", "Sluice", "SluiceStore", "SluiceTestSupport", "Testing"]


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marker: str | None = None  # "continues", "not run", or None
    reason: str = ""  # a "not run" marker's reason

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"

    @property
    def runs(self) -> bool:
        return self.marker != "not run"


def parse(path: Path) -> tuple[list[Block], str]:
    """The fenced blocks of a Markdown page, each with the marker on the line before it, and
    the page's text with those blocks blanked (its line count kept), for the prose checks."""
    found: list[Block] = []
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
        marker = MARKER.match(lines[start - 1]) if start > 0 else None
        found.append(Block(path, start + 1, opening["info"].strip().split(" ")[0].lower(), "\n".join(body),
                           marker["kind"] if marker else None, (marker["reason"] or "").strip() if marker else ""))
        prose.extend([""] * (i - start + 1))
        i += 1
    return found, "\n".join(prose)


def blocks(path: Path) -> list[Block]:
    """The fenced blocks of a Markdown page, each with the marker on the line before it."""
    return parse(path)[0]


class MarkerError(ValueError):
    pass


def chains(page_blocks: list[Block], languages: set[str]) -> list[list[Block]]:
    """The runnable blocks of one page in `languages`, grouped: a `continues` block joins the
    group of the runnable block before it. Raises MarkerError for a marker that makes no sense."""
    out: list[list[Block]] = []
    for block in page_blocks:
        if block.lang not in languages:
            continue
        if block.marker == "not run":
            if not block.reason:
                raise MarkerError(f"{block.where}: `not run` needs a reason: <!-- not run: why -->")
            continue
        if block.marker == "continues":
            if not out:
                raise MarkerError(f"{block.where}: marked `continues`, but no runnable {block.lang} block is before it")
            out[-1].append(block)
        else:
            out.append([block])
    return out


def test_name(page: Path, chain: list[Block], index: int) -> str:
    stem = "readme" if page.name == "README.md" else page.stem
    return re.sub(r"[^A-Za-z0-9_]", "_", f"{stem}_{index}")


def swift_body(block: Block) -> tuple[list[str], list[str]]:
    """(imports, body lines) of a Swift block, the documented URL replaced."""
    imports, body = [], []
    for line in block.text.split("\n"):
        imported = re.match(r"^\s*import\s+([A-Za-z_][A-Za-z0-9_.]*)\s*(//.*)?$", line)
        if imported:
            imports.append(imported[1])
            continue
        for url in DOCUMENTED_URLS:
            line = line.replace(f'"{url}"', "documentedServer")
        if any(url in line for url in DOCUMENTED_URLS):
            raise MarkerError(f"{block.where}: the documented server's URL appears other than as a plain string literal")
        body.append(line)
    return imports, body


def generate() -> str:
    imports = list(SWIFT_IMPORTS)
    tests: list[str] = []
    for page in pages():
        page_blocks = blocks(page)
        swift_blocks = [b for b in page_blocks if b.lang in SWIFT]
        for chain in chains(page_blocks, SWIFT):
            index = swift_blocks.index(chain[0]) + 1
            body: list[str] = []
            for block in chain:
                block_imports, lines = swift_body(block)
                imports += [name for name in block_imports if name not in imports]
                body.append(f"// {block.where}")
                body += lines
            used = "\n".join(body)
            setup = [declaration for name, declaration in SWIFT_PLACEHOLDERS.items()
                     if re.search(rf"\b{name}\b", used) and not re.search(rf"\b(let|var)\s+{name}\b", used)]
            inner = "\n".join(("            " + line).rstrip() for line in setup + body)
            tests.append(
                f"    /// {', '.join(b.where for b in chain)}\n"
                f"    @Test func {test_name(page, chain, index)}() async throws {{\n"
                f"        try await withDocServer {{ documentedServer, editorKey in\n"
                f"{inner}\n"
                f"        }}\n"
                f"    }}\n")
    head = "\n".join(f"import {name}" for name in imports)
    return f"""// GENERATED by scripts/doc_examples.py from the ```swift blocks of README.md and docs/*.md.
// Do not edit: change the documentation and run `python3 scripts/doc_examples.py`.
// tests/python/test_docs.py fails when this file is not what the documentation gives.
// swiftlint:disable all

{head}

/// A live server on 127.0.0.1 over a fresh store with the sample in `coco-dataset/Default` and
/// an empty dataset `validation`; `body` gets its URL and an editor key of `coco-dataset`.
private func withDocServer(
    _ body: @escaping @Sendable (_ documentedServer: String, _ editorKey: String) async throws -> Void
) async throws {{
    try await withTemporaryStore {{ store, _ in
        try await store.importSample()
        _ = try await store.ensureDataset(projectID: "coco-dataset", name: "validation")
        let editorKey = try await store.editorToken()
        try await withLiveServer(store: store) {{ host in
            try await body(host, editorKey)
        }}
    }}
}}

/// Every Swift example of the README and docs/, run as written but for the server's URL.
@Suite struct DocExamples {{
{chr(10).join(tests)}}}
"""


def main(argv: list[str]) -> int:
    text = generate()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
            print(f"{OUTPUT.relative_to(ROOT)} is out of date: run python3 scripts/doc_examples.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
