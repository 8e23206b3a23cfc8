"""The one exception type of the package, carrying the server's error code."""

from __future__ import annotations

from typing import Any, Optional


class SluiceError(Exception):
    """A request the server refused (with its `code`, e.g. `not_found`) or could not be made."""

    def __init__(self, code: str, message: str, status: Optional[int] = None, detail: Any = None):
        super().__init__(f"{code}: {message}" if status is None else f"{status} {code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.detail = detail

    @classmethod
    def from_response(cls, response: Any) -> "SluiceError":
        try:
            body = response.json()["error"]
            return cls(body.get("code", "error"), body.get("message", ""), response.status_code, body.get("detail"))
        except Exception:
            return cls("http_error", response.text[:200], response.status_code)
