"""HTTP to a Sluice server: one connection pool per process, retries, JSON errors."""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Iterator, Mapping, Optional

import requests

from .errors import SluiceError

#: Statuses worth another try: the server restarting or overloaded.
_TRANSIENT_STATUSES = {502, 503, 504}


class Connection:
    """A server address and key; requests go through a per-process, per-thread session.

    A `requests.Session` must not cross a `fork()` (DataLoader workers fork): its pooled
    sockets would be shared by two processes. Sessions are therefore keyed by process id, so
    a forked worker opens its own pool on first use. They are per thread too, since a session
    is not documented as thread-safe and the prefetcher reads on its own thread.
    """

    def __init__(self, host: Optional[str] = None, api_key: Optional[str] = None,
                 timeout: float = 30.0, retries: int = 5):
        self.host = (host or os.environ.get("SLUICE_HOST") or "http://127.0.0.1:8085").rstrip("/")
        self.api_key = api_key if api_key is not None else os.environ.get("SLUICE_API_KEY")
        self.timeout = timeout
        self.retries = retries
        self._local = threading.local()

    def __getstate__(self) -> dict:
        # Pickled into spawned DataLoader workers: the sessions stay behind.
        state = self.__dict__.copy()
        del state["_local"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._local = threading.local()

    @property
    def session(self) -> requests.Session:
        local = self._local
        if getattr(local, "pid", None) != os.getpid():
            local.session = requests.Session()
            if self.api_key:
                local.session.headers["Authorization"] = f"Bearer {self.api_key}"
            local.pid = os.getpid()
        return local.session

    def url(self, path: str) -> str:
        return f"{self.host}{path}"

    def get_json(self, path: str, params: Optional[Mapping[str, Any]] = None) -> Any:
        return self._request("GET", path, params=params).json()

    def post_json(self, path: str, body: Any) -> Any:
        return self._request("POST", path, json=body).json()

    def get_bytes(self, path: str, params: Optional[Mapping[str, Any]] = None) -> bytes:
        return self._request("GET", path, params=params).content

    def open_stream(self, path: str, params: Mapping[str, Any]) -> requests.Response:
        """A streaming response (the caller reads `iter_content` and closes it)."""
        return self._request("GET", path, params=params, stream=True)

    def _request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        delay = 0.05
        for attempt in range(self.retries + 1):
            try:
                response = self.session.request(method, self.url(path), timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                if attempt == self.retries:
                    raise SluiceError("unreachable", f"{method} {self.url(path)}: {error}") from error
            else:
                if response.status_code < 400:
                    return response
                if response.status_code not in _TRANSIENT_STATUSES or attempt == self.retries:
                    raise SluiceError.from_response(response)
                response.close()
            time.sleep(delay)
            delay = min(delay * 2, 2.0)
        raise AssertionError("unreachable")

    def iter_stream(self, path: str, params: Mapping[str, Any], chunk_size: int = 1 << 18) -> Iterator[bytes]:
        with self.open_stream(path, params) as response:
            yield from response.iter_content(chunk_size=chunk_size)
