"""Writes through the API (docs/writes.md): media uploads, appended files, instance edits
with the revision check, labels. Each needs an API key with the editor role.

Writes are sent once: they are not retried on a dropped connection, since they are not
assumed idempotent (media uploads are, being content-addressed, and are retried).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Union
from urllib.parse import quote

from ._connection import Connection
from .errors import SluiceError

Media = Union[str, os.PathLike, bytes]


class StaleRevision(SluiceError):
    """A write named a file revision the file no longer has: someone saved first. `current`
    is the revision now; read the file again and decide."""

    def __init__(self, error: SluiceError):
        super().__init__(error.code, error.message, error.status, error.detail)
        self.current = int((error.detail or {}).get("revision", 0))


def _send(connection: Connection, method: str, path: str, if_revision: Optional[int] = None, **kwargs: Any) -> Any:
    headers = {"If-Match": f'"{if_revision}"'} if if_revision is not None else {}
    try:
        response = connection.session.request(
            method, connection.url(path), timeout=connection.timeout, headers=headers, **kwargs)
    except Exception as error:  # a dropped connection: the write may or may not have landed
        raise SluiceError("unreachable", f"{method} {connection.url(path)}: {error}") from error
    if response.status_code >= 400:
        error = SluiceError.from_response(response)
        raise StaleRevision(error) if response.status_code == 412 else error
    return response.json() if response.content else None


def upload_media(connection: Connection, project_id: str, media: Media) -> Dict[str, Any]:
    """Uploads bytes (or the file at a path) unless the server holds them, by SHA-256; returns
    what the server holds (`sha256`, `mime_type`, `type`, `width`, `height`)."""
    data = bytes(media) if isinstance(media, (bytes, bytearray)) else Path(media).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    path = f"/api/v1/projects/{quote(project_id, safe='')}/media/{sha}"
    held = connection.session.head(connection.url(path), timeout=connection.timeout)
    if held.status_code not in (200, 404):
        raise SluiceError.from_response(held)
    body = b"" if held.status_code == 200 else data
    return _send(connection, "PUT", path, data=body)


class ProjectWrites:
    """The write calls of `Project` (mixed in)."""

    connection: Connection
    id: str

    def _project_path(self) -> str:
        return f"/api/v1/projects/{quote(self.id, safe='')}"

    def upload_media(self, media: Media) -> Dict[str, Any]:
        """Uploads bytes or a file unless the server holds them already (see `upload_media`)."""
        return upload_media(self.connection, self.id, media)

    def create_label(self, name: str, color: Optional[str] = None,
                     keypoint_names: Optional[List[str]] = None) -> Dict[str, Any]:
        body: Dict[str, Any] = {"name": name}
        if color is not None:
            body["color"] = color
        if keypoint_names is not None:
            body["keypoint_names"] = keypoint_names
        return _send(self.connection, "POST", f"{self._project_path()}/labels", json=body)

    def rename_label(self, label_id: int, name: str) -> Dict[str, Any]:
        """Items with the label's instances change; earlier versions keep the old name."""
        return _send(self.connection, "PATCH", f"{self._project_path()}/labels/{label_id}", json={"name": name})

    def delete_label(self, label_id: int) -> None:
        """Deletes a label no live instance carries (a `SluiceError` with status 409 otherwise).
        Its tensor index stays taken, so no other label's index moves."""
        _send(self.connection, "DELETE", f"{self._project_path()}/labels/{label_id}")

    def annotation(self, file_id: int) -> Dict[str, Any]:
        """`{"file": …, "instances": […]}`; `file["revision"]` is what `if_revision` takes."""
        return _send(self.connection, "GET", f"/api/v1/files/{file_id}/instances")

    def replace_instances(self, file_id: int, instances: Iterable[Dict[str, Any]],
                          if_revision: Optional[int] = None, create_labels: bool = False) -> Dict[str, Any]:
        """Replaces the file's whole annotation (an annotation tool's save). With `if_revision`,
        a file saved since then raises `StaleRevision` and nothing is written."""
        return _send(self.connection, "PUT", f"/api/v1/files/{file_id}/instances", if_revision,
                     json={"instances": list(instances), "create_labels": create_labels})

    def add_instances(self, file_id: int, instances: Iterable[Dict[str, Any]],
                      if_revision: Optional[int] = None, create_labels: bool = False) -> Dict[str, Any]:
        return _send(self.connection, "POST", f"/api/v1/files/{file_id}/instances", if_revision,
                     json={"instances": list(instances), "create_labels": create_labels})

    def update_instance(self, file_id: int, instance_id: int, instance: Dict[str, Any],
                        if_revision: Optional[int] = None) -> Dict[str, Any]:
        """Replaces one instance; its new state gets a new id (earlier versions keep the old)."""
        return _send(self.connection, "PATCH", f"/api/v1/files/{file_id}/instances/{instance_id}", if_revision,
                     json=instance)

    def delete_instance(self, file_id: int, instance_id: int, if_revision: Optional[int] = None) -> Dict[str, Any]:
        return _send(self.connection, "DELETE", f"/api/v1/files/{file_id}/instances/{instance_id}", if_revision)


def append_files(connection: Connection, project_id: str, dataset_id: int, files: Iterable[Dict[str, Any]],
                 create_labels: bool = False) -> List[Dict[str, Any]]:
    """Appends files, all or none. Each is `{"name", "sha256" | "media", "instances", "metadata"}`:
    `media` (a path or bytes) is uploaded first when the server lacks it."""
    drafts = []
    for file in files:
        draft = dict(file)
        media = draft.pop("media", None)
        if media is not None:
            draft["sha256"] = upload_media(connection, project_id, media)["sha256"]
        drafts.append(draft)
    reply = _send(connection, "POST", f"/api/v1/datasets/{dataset_id}/files",
                  json={"files": drafts, "create_labels": create_labels})
    return reply["files"]


def remove_file(connection: Connection, dataset_id: int, file_id: int) -> Dict[str, Any]:
    """Removes a file from a dataset; returns the dataset (its `removed` count)."""
    return _send(connection, "DELETE", f"/api/v1/datasets/{dataset_id}/files/{file_id}")


def copy_files(connection: Connection, dataset_id: int, file_ids: List[int],
               move_from: Optional[int] = None) -> List[Dict[str, Any]]:
    """Appends files to a dataset; with `move_from`, removes them from that dataset too."""
    body: Dict[str, Any] = {"file_ids": list(file_ids)}
    if move_from is not None:
        body.update({"from": move_from, "move": True})
    return _send(connection, "POST", f"/api/v1/datasets/{dataset_id}/files/copy", json=body)["files"]


def dataset_tags(connection: Connection, dataset_id: int) -> List[str]:
    """The dataset's tags, in byte order."""
    return _send(connection, "GET", f"/api/v1/datasets/{dataset_id}/tags")["tags"]


def add_dataset_tags(connection: Connection, dataset_id: int, tags: Iterable[str]) -> List[str]:
    """Adds tags to a dataset (those it has stay); returns all its tags. A tag has 1 to 256
    bytes and no control characters, or the server refuses them all (422, `detail.field`)."""
    return _send(connection, "POST", f"/api/v1/datasets/{dataset_id}/tags", json={"tags": list(tags)})["tags"]


def remove_dataset_tag(connection: Connection, dataset_id: int, tag: str) -> List[str]:
    """Removes one tag (404 when the dataset does not have it); returns the tags left."""
    return _send(connection, "DELETE", f"/api/v1/datasets/{dataset_id}/tags/{quote(tag, safe='')}")["tags"]
