"""Text as first-class media: Doccano's JSONL imported by the CLI, served, and read by
`to_pytorch` as the text with its spans, where `text[start:end]` is the annotated span even
past non-ASCII characters (offsets count Unicode scalars, as Python's `str` does)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import run_sluice, said, serving

torch = pytest.importorskip("torch")

DOCUMENTS = [
    {"id": 1, "text": "Zoë met Анна in Köln 🎉.", "label": [[0, 3, "PER"], [8, 12, "PER"], [16, 20, "LOC"]]},
    {"id": 2, "text": "Great food, slow service.", "label": ["positive"], "meta": {"source": "review"}},
    {"id": 3, "text": "Ada works at IBM.",
     "entities": [{"id": 10, "label": "PER", "start_offset": 0, "end_offset": 3},
                  {"id": 11, "label": "ORG", "start_offset": 13, "end_offset": 16}],
     "relations": [{"id": 1, "from_id": 10, "to_id": 11, "type": "works_at"}]},
]


def _spans(document: dict) -> list:
    if "entities" in document:
        return [(e["label"], document["text"][e["start_offset"]:e["end_offset"]]) for e in document["entities"]]
    return [(span[2], document["text"][span[0]:span[1]]) for span in document.get("label", []) if isinstance(span, list)]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("doccano")
    path = root / "ner.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in DOCUMENTS) + "\n", encoding="utf-8")
    data = root / "data"
    done = run_sluice("import", "doccano", path, "--project", "texts", "--dataset", "ner", "--data", data)
    assert done.returncode == 0, said(done)
    assert "3 files" in done.stderr + done.stdout, said(done)
    with serving(data) as url:
        yield url, root, data


@pytest.mark.parametrize("streaming", [False, True])
def test_to_pytorch_yields_each_text_with_its_spans(served, streaming: bool) -> None:
    import sluice

    url, _, _ = served
    dataset = sluice.Project("texts", host=url).directory.get("ner")
    samples = list(dataset.to_pytorch(streaming=streaming))
    assert [s["text"] for s in samples] == [d["text"] for d in DOCUMENTS]
    for sample, document in zip(samples, DOCUMENTS):
        assert isinstance(sample["spans"], torch.Tensor) and sample["spans"].dtype == torch.int64
        assert sample["spans"].shape == (len(_spans(document)), 2)
        got = [(name, sample["text"][start:end]) for name, (start, end) in
               zip(sample["span_name_list"], sample["spans"].tolist())]
        assert got == _spans(document)
        assert len(sample["span_labels"]) == len(got)
    assert [samples[0]["text"][a:b] for a, b in samples[0]["spans"].tolist()] == ["Zoë", "Анна", "Köln"]
    # The classification is a global tag of the file, queried like any label.
    assert len(dataset.slice("labels.positive > 0")) == 1


@pytest.mark.parametrize("decode", [False, True])
def test_to_tensorflow_yields_each_text_with_its_spans(served, decode: bool) -> None:
    tf = pytest.importorskip("tensorflow")
    import sluice

    url, _, _ = served
    dataset = sluice.Project("texts", host=url).directory.get("ner")
    elements = list(dataset.to_tensorflow(decode=decode))
    assert [e["text"].numpy().decode("utf-8") for e in elements] == [d["text"] for d in DOCUMENTS]
    for element, document in zip(elements, DOCUMENTS):
        assert element["spans"].dtype == tf.int64 and element["spans"].shape == (len(_spans(document)), 2)
        assert element["image"].shape == ((0, 0, 3) if decode else ())
        starts, ends = element["spans"][:, 0], element["spans"][:, 1]
        # Offsets count Unicode characters: TensorFlow cuts the same words with UTF8_CHAR units.
        words = tf.strings.substr(element["text"], starts, ends - starts, unit="UTF8_CHAR").numpy()
        assert [w.decode("utf-8") for w in words] == [text for _, text in _spans(document)]
        assert len(element["span_labels"]) == len(words)


def test_a_bad_line_is_refused_whole_with_its_place(served, tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(DOCUMENTS[0]) + "\n" + json.dumps({"text": "Köln", "label": [[1, 5, "LOC"]]}) + "\n",
                    encoding="utf-8")
    done = run_sluice("import", "doccano", path, "--project", "texts", "--dataset", "bad", "--data", tmp_path / "data")
    assert done.returncode != 0, said(done)
    assert "bad.jsonl:2: label[0]: ends at 5, past the text's 4 characters" in done.stderr, said(done)


def test_the_doccano_export_is_the_file_doccano_wrote(served, tmp_path: Path) -> None:
    _, _, data = served
    out = tmp_path / "out"
    done = run_sluice("export", out, "--project", "texts", "--dataset", "ner", "--format", "doccano",
                      "--data", data)
    assert done.returncode == 0, said(done)
    written = [json.loads(line) for line in (out / "all.jsonl").read_text(encoding="utf-8").splitlines()]
    assert written == DOCUMENTS


def test_tensor_frames_carry_the_spans_the_records_do(served) -> None:
    import sluice
    from conftest import assert_frames_are_the_records

    url, _, _ = served
    ds = sluice.Project("texts", host=url).directory.get("ner")
    assert assert_frames_are_the_records(ds) == 0  # spans are not boxes: no detector instances
    assert any(len(r.tensors.get("spans", [])) for r in ds.records())
