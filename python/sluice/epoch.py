"""Epochs: a dataset's or slice's items in a deterministic order, resumable from a token.

The order (shuffle, shard, earlier runs) is the Swift SDK's `StreamOrder`, computed by the
server from the request's parameters; the state token is the Swift SDK's too, so a run stopped
in Swift resumes in Python and the other way round.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from typing import Any, Dict, Iterator, List, Optional

from .errors import SluiceError
from .records import OrderReader, Prefetcher, Record

TOKEN_PREFIX = "sluice-stream-1."


@dataclass(frozen=True)
class EpochState:
    """Where a consumer stands in an epoch (the fields of the Swift SDK's `StreamState`)."""

    dataset_id: int
    slice_id: Optional[str]
    version: int
    count: int
    shuffle: Optional[Dict[str, int]] = None  # seed, epoch, block_size
    shard: Dict[str, Any] = field(default_factory=lambda: {"rank": 0, "world_size": 1, "tail": "keep"})
    history: List[Dict[str, Any]] = field(default_factory=list)  # [{world_size, counts}]
    delivered: int = 0
    pinned: bool = False  # a pinned dataset version's epoch (the Swift SDK's `Dataset.at`)

    @property
    def token(self) -> str:
        """`sluice-stream-1.` + the base64url of the state's JSON: one short string."""
        body: Dict[str, Any] = {"datasetID": self.dataset_id, "version": self.version, "count": self.count,
                                "shard": self.shard, "history": self.history, "delivered": self.delivered}
        if self.slice_id is not None:
            body["sliceID"] = self.slice_id
        if self.shuffle is not None:
            body["shuffle"] = self.shuffle
        if self.pinned:
            body["pinned"] = True
        text = json.dumps(body, sort_keys=True, separators=(",", ":"))
        return TOKEN_PREFIX + base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> "EpochState":
        if not token.startswith(TOKEN_PREFIX):
            raise SluiceError("invalid_argument", f"not a stream token (it starts with '{TOKEN_PREFIX}')")
        text = token[len(TOKEN_PREFIX):]
        try:
            body = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            return cls(dataset_id=int(body["datasetID"]), slice_id=body.get("sliceID"), version=int(body["version"]),
                       count=int(body["count"]), shuffle=body.get("shuffle"), shard=body["shard"],
                       history=body.get("history", []), delivered=int(body["delivered"]),
                       pinned=bool(body.get("pinned", False)))
        except (ValueError, KeyError, TypeError) as error:
            raise SluiceError("invalid_argument", f"a damaged stream token: {error}") from error

    def parameters(self) -> Dict[str, Any]:
        """The order as the stream endpoint's query parameters."""
        params: Dict[str, Any] = {"count": self.count}
        if self.shuffle is not None:
            params.update(seed=self.shuffle["seed"], epoch=self.shuffle["epoch"])
            if self.shuffle.get("block_size", 0):
                params["block_size"] = self.shuffle["block_size"]
        params.update(rank=self.shard["rank"], world_size=self.shard["world_size"], tail=self.shard["tail"])
        if self.history:
            params["consumed"] = ";".join(
                f"{run['world_size']}:" + ",".join(str(c) for c in run["counts"]) for run in self.history)
        if self.slice_id is not None or self.pinned:
            params["version"] = self.version
        return params


def merged(states: List[EpochState]) -> tuple:
    """The stopped run every rank's state belongs to, as (its epoch, the run's consumed counts)."""
    first = states[0]
    world = first.shard["world_size"]
    counts: List[Optional[int]] = [None] * world
    for state in states:
        same = (state.dataset_id, state.slice_id, state.version, state.pinned, state.count, state.shuffle,
                state.history, state.shard["world_size"], state.shard["tail"])
        if same != (first.dataset_id, first.slice_id, first.version, first.pinned, first.count, first.shuffle,
                    first.history, world, first.shard["tail"]):
            raise SluiceError("invalid_argument", "the stream tokens are not from one run of one epoch (dataset, "
                              "slice, version, seed, epoch and world size must agree)")
        if counts[state.shard["rank"]] is not None:
            raise SluiceError("invalid_argument", f"two stream tokens of rank {state.shard['rank']}")
        counts[state.shard["rank"]] = state.delivered
    missing = [rank for rank, count in enumerate(counts) if count is None]
    if missing:
        raise SluiceError("invalid_argument", "resuming with another world size needs the tokens of every rank "
                          f"of the run; missing ranks {missing}")
    return first, {"world_size": world, "counts": counts}


class Epoch:
    """One pass over a dataset or slice in a deterministic order, or one shard of it.

    `shuffled()` and `sharded()` return new epochs; `records()` streams what is not delivered
    yet and counts what the consumer received, so `state.token` after a `break` (or a crash
    with the token saved) names exactly the next record.
    """

    def __init__(self, connection: Any, state: EpochState):
        self.connection = connection
        self._state = state
        # Records delivered since `_state` was made: counted per record, folded into the
        # state only when it is read (a frozen dataclass per record cost ~25 µs).
        self._counted = 0
        self.route = (f"/api/v1/slices/{state.slice_id}" if state.slice_id is not None
                      else f"/api/v1/datasets/{state.dataset_id}")
        self.length: Optional[int] = None

    @property
    def state(self) -> EpochState:
        if self._counted:
            self._state = replace(self._state, delivered=self._state.delivered + self._counted)
            self._counted = 0
        return self._state

    @state.setter
    def state(self, value: EpochState) -> None:
        self._state, self._counted = value, 0

    @property
    def delivered(self) -> int:
        return self._state.delivered + self._counted

    @property
    def token(self) -> str:
        return self.state.token

    def _reordered(self, **changes: Any) -> "Epoch":
        if self.state.delivered or self.state.history:
            raise SluiceError("invalid_argument", "the order of an epoch that has begun cannot change")
        return Epoch(self.connection, replace(self.state, **changes))

    def shuffled(self, seed: int, epoch: int = 0, block_size: int = 0) -> "Epoch":
        """A permutation of the positions, the same for the same seed and epoch on any machine.
        `block_size` > 0 shuffles blocks of consecutive positions (faster reads, less mixing)."""
        return self._reordered(shuffle={"seed": seed, "epoch": epoch, "block_size": block_size})

    def sharded(self, rank: int, world_size: int, tail: str = "keep") -> "Epoch":
        """Rank `rank`'s strided part of `world_size` disjoint, near-equal parts; `tail` is
        `keep`, `drop` (all equal, the remainder left out) or `pad` (all equal, repeats)."""
        return self._reordered(shard={"rank": rank, "world_size": world_size, "tail": tail})

    def records(self, prefetch: int = 64, range_size: int = 256) -> Iterator[Record]:
        """The records not yet delivered, in order, fetched `range_size` at a time up to
        `prefetch` records ahead; a dropped connection resumes at the first one missing."""
        reader = OrderReader(self.connection, self.route, self.state.parameters())
        start = self.state.delivered

        def ranges() -> Iterator[Record]:
            index = start
            while True:
                got = 0
                for record in reader.read(index, index + range_size):
                    got += 1
                    yield record
                index += got
                self.length = reader.length
                if got == 0 or index >= (reader.length or 0):
                    return

        source = Prefetcher(ranges, window=prefetch) if prefetch > 0 else ranges()
        try:
            for record in source:
                # A removed position counts as delivered (so tokens resume after it) but is no sample.
                self._counted += 1
                if not record.removed:
                    yield record
        finally:
            if isinstance(source, Prefetcher):
                source.close()


def resume(connection: Any, tokens: Any, rank: Optional[int] = None, world_size: Optional[int] = None,
           ) -> Epoch:
    """The epoch a token (or every rank's token) left off, optionally as rank `rank` of a new
    run of `world_size` ranks (elastic: what no rank delivered is split among the new ones)."""
    states = [EpochState.from_token(t) for t in ([tokens] if isinstance(tokens, str) else list(tokens))]
    if not states:
        raise SluiceError("invalid_argument", "no stream tokens to resume from")
    new_shard = None if rank is None else {"rank": rank, "world_size": world_size or 1,
                                          "tail": states[0].shard["tail"]}
    if len(states) == 1 and (new_shard is None or new_shard == states[0].shard):
        return Epoch(connection, states[0])
    if new_shard is None:
        raise SluiceError("invalid_argument", "resuming from several tokens needs the new rank and world size")
    epoch, run = merged(states)
    return Epoch(connection, replace(epoch, shard=new_shard, history=epoch.history + [run], delivered=0))
