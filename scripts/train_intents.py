"""Fit the planner's intent model and write commands/intent-model.json.

    python scripts/train_intents.py [--c 8] [--prune 0.02] [--check]

Needs scikit-learn (pip install -e '.[train]'); Hero itself reads the JSON with plain Python
(see herotui/planner/classify.py, which also holds the featuriser and the training data).
--check only reports the cross-validated accuracy of the current settings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def fit(data, c: float):
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import Normalizer

    from herotui.planner.classify import features

    pipe = make_pipeline(CountVectorizer(analyzer=features, binary=True, lowercase=False), Normalizer(),
                         LogisticRegression(C=c, max_iter=3000))
    pipe.fit([t for t, _ in data], [lab for _, lab in data])
    return pipe


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--c", type=float, default=8.0)
    ap.add_argument("--prune", type=float, default=0.1, help="drop weights smaller than this (0.1: 1.3 MB, same dev score as 0.02 at 2.9 MB)")
    ap.add_argument("--check", action="store_true", help="cross-validate only")
    opts = ap.parse_args()
    from herotui.planner import classify

    data = classify.training_data()
    labels = sorted({lab for _, lab in data})
    print(f"{len(data)} sentences, {len(labels)} labels")
    if opts.check:
        from sklearn.model_selection import cross_val_score

        from sklearn.feature_extraction.text import CountVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import Normalizer

        pipe = make_pipeline(CountVectorizer(analyzer=classify.features, binary=True, lowercase=False), Normalizer(),
                             LogisticRegression(C=opts.c, max_iter=3000))
        scores = cross_val_score(pipe, [t for t, _ in data], [lab for _, lab in data], cv=5)
        print(f"5-fold accuracy {scores.mean():.3f}")
        return
    t0 = time.perf_counter()
    pipe = fit(data, opts.c)
    vec, _norm, clf = pipe.steps[0][1], pipe.steps[1][1], pipe.steps[2][1]
    classes = list(clf.classes_)
    feats: list[str] = []
    weights: list[str] = []
    names = vec.get_feature_names_out()
    coef = clf.coef_
    kept = 0
    for j, feat in enumerate(names):
        col = [f"{i}:{float(coef[i, j]):.3f}" for i in range(len(classes)) if abs(coef[i, j]) >= opts.prune]
        if col:
            feats.append(str(feat))
            weights.append(";".join(col))
            kept += len(col)
    assert not any("\n" in f for f in feats)
    out = {"labels": classes, "bias": [round(float(b), 4) for b in clf.intercept_], "features": "\n".join(feats),
           "weights": weights, "vocabulary": sorted(classify.build_vocabulary()), "data_hash": classify.data_hash(),
           "sentences": len(data), "c": opts.c}
    path = ROOT / "commands" / "intent-model.json"
    path.write_text(json.dumps(out, separators=(",", ":"), sort_keys=True) + "\n")
    print(f"fitted in {time.perf_counter() - t0:.1f} s; {len(feats)} features, {kept} weights; "
          f"{path.stat().st_size / 1e6:.2f} MB -> {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
