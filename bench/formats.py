"""Import rates of the folder formats (Pascal VOC, YOLO, CVAT, LabelMe) beside the COCO
importer's, on the same generated images and objects, in the same run (issue 16's bar:
>= 50k instances/s).

    python3 bench/formats.py --files 100000 --instances-per-file 7

`sluice generate --images` writes the COCO file and a tiny PNG per image; this script writes
the same objects as a VOC folder (one XML per image), a YOLO folder (darknet layout, one
label file per image), a CVAT folder (one annotations.xml for every image) and two LabelMe
folders (the labelme tool's JSON beside each image; MIT LabelMe XML in Annotations/ with the
images in Images/, as Datumaro writes it), the PNGs hard-linked, kept in --work for the next
run. Each import runs
into a fresh store with --data, its input read once before and the disk quiet (I/O pressure
under 5%, waited for up to 5 minutes); the table gives instances/s, the importer's peak memory and its
CPU time (user + system) per image. `--before SLUICE` imports each format with an earlier build
too, the two taking turns going first, and prints both.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import add_dataset_arguments, run_measured, step  # noqa: E402


def progress(done: int, total: int, started: float, what: str) -> None:
    if done % 10_000 and done != total:
        return
    rate = done / max(time.perf_counter() - started, 1e-9)
    print(f"\r    {what} · {done:,}/{total:,} · {rate:,.0f}/s · ETA {(total - done) / rate:.0f} s",
          end="\n" if done == total else "", file=sys.stderr, flush=True)


def write_folders(generated: Path, voc: Path, yolo: Path, cvat: Path, labelme: Path) -> None:
    """The generated COCO file's images and objects as VOC, YOLO, CVAT and LabelMe folders."""
    coco = json.loads((generated / "annotations.json").read_text())
    labels = {c["id"]: (i, c["name"]) for i, c in enumerate(coco["categories"])}
    objects: dict[int, list[dict]] = {}
    for a in coco["annotations"]:
        objects.setdefault(a["image_id"], []).append(a)
    for d in ["Annotations", "JPEGImages", "ImageSets/Main"]:
        (voc / d).mkdir(parents=True, exist_ok=True)
    (yolo / "obj_train_data").mkdir(parents=True, exist_ok=True)
    (cvat / "images").mkdir(parents=True, exist_ok=True)
    labelme.mkdir(parents=True, exist_ok=True)
    cvat_xml = open(cvat / "annotations.xml", "w")
    cvat_xml.write('<?xml version="1.0" encoding="utf-8"?>\n<annotations><version>1.1</version><meta><task>'
                   "<mode>annotation</mode><labels>"
                   + "".join(f"<label><name>{escape(name)}</name></label>" for _, name in labels.values())
                   + "</labels></task></meta>\n")
    (voc / "labelmap.txt").write_text("".join(f"{name}:::\n" for _, name in labels.values()))
    (yolo / "obj.names").write_text("".join(f"{name}\n" for _, name in labels.values()))
    (yolo / "obj.data").write_text(f"classes = {len(labels)}\ntrain = data/train.txt\nnames = data/obj.names\n")
    ids, listed = [], []
    started = time.perf_counter()
    for n, image in enumerate(coco["images"], 1):
        stem, w, h = Path(image["file_name"]).stem, image["width"], image["height"]
        source = generated / "images" / image["file_name"]
        os.link(source, voc / "JPEGImages" / image["file_name"])
        os.link(source, yolo / "obj_train_data" / image["file_name"])
        os.link(source, cvat / "images" / image["file_name"])
        os.link(source, labelme / image["file_name"])
        boxes, shapes = [], []
        xml = [f"<annotation><filename>{escape(image['file_name'])}</filename>"
               f"<size><width>{w}</width><height>{h}</height><depth>3</depth></size>"]
        lines = []
        for a in objects.get(image["id"], []):
            x, y, bw, bh = a["bbox"]
            index, name = labels[a["category_id"]]
            xml.append(f"<object><name>{escape(name)}</name><difficult>0</difficult><truncated>0</truncated>"
                       f"<bndbox><xmin>{x:g}</xmin><ymin>{y:g}</ymin><xmax>{x + bw:g}</xmax><ymax>{y + bh:g}</ymax></bndbox></object>")
            lines.append(f"{index} {(x + bw / 2) / w:.6f} {(y + bh / 2) / h:.6f} {bw / w:.6f} {bh / h:.6f}\n")
            boxes.append(f'<box label="{escape(name)}" occluded="0" xtl="{x:g}" ytl="{y:g}" xbr="{x + bw:g}" ybr="{y + bh:g}"/>')
            shapes.append({"label": name, "points": [[x, y], [x + bw, y + bh]], "shape_type": "rectangle",
                           "group_id": None, "flags": {}})
        xml.append("</annotation>\n")
        (voc / "Annotations" / f"{stem}.xml").write_text("".join(xml))
        (yolo / "obj_train_data" / f"{stem}.txt").write_text("".join(lines))
        cvat_xml.write(f'<image id="{n - 1}" name="{escape(image["file_name"])}" width="{w}" height="{h}">'
                       + "".join(boxes) + "</image>\n")
        (labelme / f"{stem}.json").write_text(json.dumps({
            "version": "5.5.0", "flags": {}, "shapes": shapes, "imagePath": image["file_name"], "imageData": None,
            "imageHeight": h, "imageWidth": w}))
        ids.append(stem)
        listed.append(f"data/obj_train_data/{image['file_name']}\n")
        progress(n, len(coco["images"]), started, "writing VOC, YOLO, CVAT and LabelMe folders")
    (voc / "ImageSets/Main/train.txt").write_text("\n".join(ids) + "\n")
    (yolo / "train.txt").write_text("".join(listed))
    cvat_xml.write("</annotations>\n")
    cvat_xml.close()


def warm(paths: list[Path]) -> None:
    """Reads every file under `paths` once, so that each import finds its input in the page cache
    (without this, whichever import came first read from the disk and ran up to twice as long)."""
    for path in paths:
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        for file in files:
            with open(file, "rb") as f:
                while f.read(1 << 20):
                    pass


def quiet_disk(limit: float = 5.0, longest: float = 300.0) -> float:
    """Waits until the kernel's I/O pressure (the share of the last 10 s in which some task
    waited on the disk) is under `limit`%, at most `longest` seconds; returns the seconds waited.
    After a store of 100,000 files is deleted the kernel writes back for minutes, and an import
    started then ran up to 20 times slower."""
    started = time.monotonic()
    try:
        while time.monotonic() - started < longest:
            with open("/proc/pressure/io") as f:
                some = float(f.readline().split()[1].split("=")[1])
            if some < limit:
                break
            time.sleep(2)
    except (OSError, IndexError, ValueError):
        pass  # no pressure information (an older kernel): nothing to wait for
    return time.monotonic() - started


def write_labelme_xml(generated: Path, root: Path) -> None:
    """The generated COCO file's images and objects as MIT LabelMe XML, as Datumaro writes it:
    `Annotations/STEM.xml` per image, each box a four-corner `<polygon>` of `<type>bounding_box`,
    the images in `Images/`."""
    coco = json.loads((generated / "annotations.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    objects: dict[int, list[dict]] = {}
    for a in coco["annotations"]:
        objects.setdefault(a["image_id"], []).append(a)
    for d in ["Annotations", "Images"]:
        (root / d).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    for n, image in enumerate(coco["images"], 1):
        os.link(generated / "images" / image["file_name"], root / "Images" / image["file_name"])
        xml = [f"<annotation><filename>{escape(image['file_name'])}</filename><folder></folder>"
               f"<imagesize><nrows>{image['height']}</nrows><ncols>{image['width']}</ncols></imagesize>"]
        for k, a in enumerate(objects.get(image["id"], [])):
            x, y, w, h = a["bbox"]
            corners = "".join(f"<pt><x>{px:g}</x><y>{py:g}</y></pt>" for px, py in ((x, y), (x + w, y), (x + w, y + h), (x, y + h)))
            xml.append(f"<object><name>{escape(names[a['category_id']])}</name><deleted>0</deleted><verified>0</verified>"
                       f"<occluded>no</occluded><date></date><id>{k}</id><parts><hasparts></hasparts><ispartof></ispartof>"
                       f"</parts><type>bounding_box</type><polygon><username></username>{corners}</polygon>"
                       "<attributes></attributes></object>")
        xml.append("</annotation>\n")
        (root / "Annotations" / f"{Path(image['file_name']).stem}.xml").write_text("".join(xml))
        progress(n, len(coco["images"]), started, "writing the LabelMe XML folder")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_arguments(parser)
    parser.set_defaults(files=100_000)
    parser.add_argument("--before", default=None, metavar="SLUICE",
                        help="an earlier build of sluice: each format is imported by it too, into a store of its own, "
                             "the two builds taking turns first, and both rates are printed")
    args = parser.parse_args()
    started = time.perf_counter()
    base = Path(args.work) / f"formats-{args.files}-{args.instances_per_file}-{args.labels}"
    generated, voc, yolo, cvat, labelme, labelme_xml = (
        base / name for name in ("generated", "voc", "yolo", "cvat", "labelme", "labelme-xml"))
    step(1, 3, f"generate {args.files:,} images × {args.instances_per_file} objects", started)
    if not (base / ".written-4").exists():
        shutil.rmtree(base, ignore_errors=True)
        run_measured([args.sluice, "generate", "--files", str(args.files), "--instances-per-file", str(args.instances_per_file),
             "--labels", str(args.labels), "--images", "--out", str(generated)])
        write_folders(generated, voc, yolo, cvat, labelme)
        (base / ".written-4").touch()
    if not (base / ".written-labelme-xml").exists():
        shutil.rmtree(labelme_xml, ignore_errors=True)
        write_labelme_xml(generated, labelme_xml)
        (base / ".written-labelme-xml").touch()
    stale = [store for store in base.glob("store-*") if store.is_dir()]
    deleted = base / ".stores-deleted"
    if stale:
        # A run stopped part-way left its stores: delete them and let their inodes age first.
        for store in stale:
            shutil.rmtree(store, ignore_errors=True)
        deleted.touch()
    if deleted.exists() and (since := time.time() - deleted.stat().st_mtime) < 300:
        # The last run's stores were deleted minutes ago (see below): the first import here
        # ran at less than half its rate.
        print(f"    waiting {300 - since:.0f} s: stores were deleted {since:.0f} s ago (ext4's recently freed inodes)",
              file=sys.stderr)
        time.sleep(300 - since)
    rows = []
    before_rows = {}
    stores: list[Path] = []
    builds = [("after", args.sluice)] + ([("before", args.before)] if args.before else [])
    for n, (fmt, source, extra) in enumerate([
        ("coco", generated / "annotations.json", ["--images", str(generated / "images")]),
        ("voc", voc, []),
        ("yolo", yolo, []),
        ("cvat", cvat, []),
        ("labelme", labelme, []),
        ("labelme-xml", labelme_xml, []),
    ]):
        step(2 + (n > 0), 3, f"sluice import {fmt}", started)
        # The builds take turns going first: the file system slows as a run fills it.
        for build, binary in builds if n % 2 == 0 else builds[::-1]:
            warm([source, *(Path(x) for x in extra[1:2])])
            waited = quiet_disk()
            if waited >= 1:
                print(f"    waited {waited:.0f} s for the disk to go quiet (I/O pressure under 5%)", file=sys.stderr)
            store = base / f"store-{fmt}-{build}"
            stores.append(store)
            _, err, wall, rss, cpu = run_measured([binary, "import", fmt.removesuffix("-xml"), str(source), *extra,
                                                   "--project", "bench", "--dataset", fmt, "--data", str(store)])
            done = re.search(r"imported (\d+) files, (\d+) instances", err)
            assert done, err
            row = (fmt, int(done.group(1)), int(done.group(2)), wall, rss, cpu)
            if build == "after":
                rows.append(row)
            else:
                before_rows[fmt] = row
    # Deleted only now: ext4 passes over inodes freed in the last minutes when it makes files
    # (`recently_deleted`), and an import that followed the deletion of another's 200k files
    # and folders ran three to four times slower. The next run waits them out (see above).
    for store in stores:
        shutil.rmtree(store, ignore_errors=True)
    deleted.touch()
    coco_rate = rows[0][2] / rows[0][3]
    print(f"\n{args.files:,} images, {rows[0][2]:,} objects, media included; {os.cpu_count()} cores\n")
    print("| importer | files | instances | seconds | instances/s | vs COCO | peak RSS MB | CPU per image, µs |"
          + (" before: instances/s | before: CPU per image, µs |" if before_rows else ""))
    print("|---|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if before_rows else ""))
    for fmt, files, instances, wall, rss, cpu in rows:
        rate = instances / wall
        line = (f"| {fmt} | {files:,} | {instances:,} | {wall:.1f} | {rate:,.0f} | {rate / coco_rate:.2f}× | {rss:.0f} "
                f"| {cpu / files * 1e6:,.0f} |")
        if fmt in before_rows:
            _, b_files, b_instances, b_wall, _, b_cpu = before_rows[fmt]
            line += f" {b_instances / b_wall:,.0f} | {b_cpu / b_files * 1e6:,.0f} |"
        print(line)


if __name__ == "__main__":
    main()
