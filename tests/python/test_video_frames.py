"""A video as first-class media: a 10,000-frame video (Debian's ffmpeg, `testsrc`) annotated in
CVAT's XML by the test, imported, and streamed one sample per annotated frame into a PyTorch
DataLoader with 2 workers: every annotated frame exactly once, with the instances of that frame
(boxes interpolated between keyframes as CVAT does) and the pixels ffmpeg itself decodes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import serving, sluice_bin
from cvat_oracle import make_video

pytest.importorskip("av")
torch = pytest.importorskip("torch")

FRAMES = 10_000
WIDTH, HEIGHT = 64, 48


def _box(frame: int) -> list:
    """Track 0's box on `frame`: keyframes at 0 and FRAMES - 1, linear between."""
    t = frame / (FRAMES - 1)
    return [2 + 40 * t, 3 + 20 * t, 12 + 40 * t, 13 + 20 * t]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("video")
    make_video(root / "long.mp4", FRAMES, WIDTH, HEIGHT)
    (root / "annotations.xml").write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta><task><mode>interpolation</mode><start_frame>0</start_frame><stop_frame>{FRAMES - 1}</stop_frame>
    <labels><label><name>car</name></label><label><name>bird</name></label></labels>
  </task><source>long.mp4</source></meta>
  <track id="0" label="car">
    <box frame="0" outside="0" occluded="0" keyframe="1" xtl="2" ytl="3" xbr="12" ybr="13"/>
    <box frame="{FRAMES - 1}" outside="0" occluded="0" keyframe="1" xtl="42" ytl="23" xbr="52" ybr="33"/>
  </track>
  <track id="1" label="bird">
    <points frame="100" outside="0" occluded="0" keyframe="1" points="5,5"/>
    <points frame="200" outside="1" occluded="0" keyframe="1" points="5,5"/>
  </track>
</annotations>
""")
    data = root / "data"
    done = subprocess.run([sluice_bin(), "import", "cvat", str(root), "--project", "clips", "--dataset", "long",
                           "--data", str(data)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    with serving(data) as url:
        yield url, root


def _ffmpeg_frame(video: Path, frame: int) -> np.ndarray:
    """Frame `frame` as Debian's ffmpeg decodes it (rgb24), independent of PyAV."""
    raw = subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(video), "-vf", f"select=eq(n\\,{frame})", "-vframes", "1",
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True, timeout=120).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(HEIGHT, WIDTH, 3)


def _as_list(batch: list) -> list:
    return batch


def _dataset(url: str, tmp_path: Path):
    import sluice

    return sluice.Project("clips", host=url).directory.get("long")


def test_dataloader_with_two_workers_reads_each_annotated_frame_once(served, tmp_path: Path) -> None:
    url, root = served
    frames = _dataset(url, tmp_path).to_pytorch(frames=True, streaming=True, cache_dir=str(tmp_path / "cache"))
    # Frames hold different numbers of instances: batches as lists, as docs/video.md shows.
    loader = torch.utils.data.DataLoader(frames, batch_size=32, num_workers=2, collate_fn=_as_list)
    seen: dict = {}
    probes = {0: None, 150: None, 5_000: None, FRAMES - 1: None}
    for batch in loader:
        for sample in batch:
            n = sample["frame"]
            assert n not in seen, f"frame {n} delivered twice"
            seen[n] = (sample["tracks"].tolist(), sample["label_name_list"], sample["boxes"].tolist())
            assert sample["image"].shape == (HEIGHT, WIDTH, 3) and sample["image"].dtype == np.uint8
            if n in probes:
                probes[n] = sample["image"].copy()
    assert sorted(seen) == list(range(FRAMES)), "every annotated frame once, none other"
    assert seen[150][0] == [0, 1] and seen[150][1] == ["car", "bird"], seen[150]
    assert seen[99][0] == [0] and seen[200][0] == [0], "the bird is on frames 100–199 only"
    for n in (0, 1234, 5_000, FRAMES - 1):
        assert seen[n][2][0] == pytest.approx(_box(n), abs=1e-3), f"frame {n}: the interpolated box"
    video = root / "long.mp4"
    for n, pixels in probes.items():
        reference = _ffmpeg_frame(video, n)
        assert np.abs(pixels.astype(int) - reference.astype(int)).mean() < 2.0, f"frame {n}: not ffmpeg's pixels"
    # testsrc changes every frame: a sample is its own frame, not a neighbour.
    assert np.abs(probes[5_000].astype(int) - _ffmpeg_frame(video, 5_001).astype(int)).mean() > np.abs(
        probes[5_000].astype(int) - _ffmpeg_frame(video, 5_000).astype(int)).mean()


def test_map_style_frames_decode_on_their_own(served, tmp_path: Path) -> None:
    url, root = served
    frames = _dataset(url, tmp_path).to_pytorch(frames=True, cache_dir=str(tmp_path / "cache"))
    assert len(frames) == FRAMES
    sample = frames[7_777]
    assert sample["frame"] == 7_777 and sample["tracks"].tolist() == [0]
    assert sample["boxes"].tolist()[0] == pytest.approx(_box(7_777), abs=1e-3)
    reference = _ffmpeg_frame(root / "long.mp4", 7_777)
    assert np.abs(sample["image"].astype(int) - reference.astype(int)).mean() < 2.0


def test_video_records_carry_frames_not_bytes(served, tmp_path: Path) -> None:
    url, _ = served
    records = list(_dataset(url, tmp_path).records())
    assert len(records) == 1
    record = records[0]
    assert "image" not in record.tensors, "a video is read from /files/{id}/media, not inlined in the stream"
    assert record.metadata["type"] == "video" and record.metadata["frame_count"] == str(FRAMES)
    assert float(record.metadata["frame_rate"]) == pytest.approx(25.0)
    assert len(record.tensors["frames"]) == FRAMES + 100 == len(record.tensors["tracks"])


def test_tensor_frames_carry_frames_and_tracks_as_the_records_do(served) -> None:
    from conftest import assert_frames_are_the_records

    url, _ = served
    ds = _dataset(url, Path("."))
    assert assert_frames_are_the_records(ds) == 1
    record = next(iter(ds.records()))
    assert len(record.tensors["frames"]) > 0 and len(record.tensors["tracks"]) > 0
