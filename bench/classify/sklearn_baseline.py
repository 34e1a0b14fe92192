#!/usr/bin/env python3
"""Peer baseline for the label_l1 classifier: scikit-learn TF-IDF (character n-grams) + LinearSVC.

Trained on train.jsonl + train_segmented.jsonl only (segmented rows: tokens joined without spaces,
the same preprocessing as our TypeScript model). Evaluated on holdout.jsonl (acceptance data: the
score is reported as it comes out; nothing here is tuned on it). Prints one JSON object.

    pip install scikit-learn
    python3 bench/classify/sklearn_baseline.py [--data-dir ../shared/data/tipdm2020c] [--cv]

--cv runs 5-fold cross-validation on train.jsonl (segmented rows always in the training part, minus
the copies of the validation fold's rows) on EXACTLY the folds of bench/classify/cv.ts (foldsOf in
core/catalog/model.ts, re-implemented below), so the two CV figures compare like with like. It does not
touch the holdout. --cv-sklearn-folds uses sklearn's own StratifiedKFold(shuffle, random_state=7) instead.
"""
import argparse
import json
import os
import sys
import time

try:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics import f1_score, accuracy_score
    from sklearn.model_selection import StratifiedKFold
    from sklearn.svm import LinearSVC
except ImportError:  # pragma: no cover
    print(json.dumps({"error": "scikit-learn not installed: pip install scikit-learn"}))
    sys.exit(2)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def row_text(r):
    if "text" in r and r["text"]:
        return r["text"]
    if "tokens" in r:
        return r["tokens"].replace(" ", "")
    return (r.get("title") or "") + "\n" + (r.get("detail") or "")


def folds_of(labels, k):
    """Port of foldsOf (core/catalog/model.ts): per label in first-seen order, a Fisher-Yates shuffle
    driven by the 32-bit LCG s = s * 1103515245 + 12345 (seed 12345), then fold = position % k."""
    by_label = {}
    for i, lab in enumerate(labels):
        by_label.setdefault(lab, []).append(i)
    fold = [0] * len(labels)
    s = 12345
    for idx in by_label.values():
        for i in range(len(idx) - 1, 0, -1):
            s = (s * 1103515245 + 12345) & 0xFFFFFFFF
            j = int(s / 4294967296 * (i + 1))
            idx[i], idx[j] = idx[j], idx[i]
        for n, row in enumerate(idx):
            fold[row] = n % k
    return fold


def make_model():
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True, min_df=2)
    return vec, LinearSVC(C=1.0)


def fit_predict(train_x, train_y, test_x):
    vec, clf = make_model()
    xtr = vec.fit_transform(train_x)
    clf.fit(xtr, train_y)
    return clf.predict(vec.transform(test_x))


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data-dir", default=os.environ.get("INTAKE_SHARED_DATA", os.path.join(here, "..", "..", "..", "shared", "data")))
    ap.add_argument("--cv", action="store_true")
    ap.add_argument("--cv-sklearn-folds", action="store_true")
    ap.add_argument("--dump-folds", action="store_true", help="print the fold of each train.jsonl row (to check the port)")
    a = ap.parse_args()
    d = a.data_dir if a.data_dir.rstrip("/").endswith("tipdm2020c") else os.path.join(a.data_dir, "tipdm2020c")
    train = read_jsonl(os.path.join(d, "train.jsonl"))
    seg = read_jsonl(os.path.join(d, "train_segmented.jsonl"))
    labels = sorted({r["label_l1"] for r in train})
    if a.dump_folds:
        print(json.dumps(folds_of([r["label_l1"] for r in train], 5)))
        return
    if a.cv or a.cv_sklearn_folds:
        x = [row_text(r) for r in train]
        y = [r["label_l1"] for r in train]
        f1s = []
        if a.cv_sklearn_folds:
            splits = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=7).split(x, y))
        else:
            fold = folds_of(y, 5)
            splits = [([i for i in range(len(y)) if fold[i] != f], [i for i in range(len(y)) if fold[i] == f]) for f in range(5)]
        t0 = time.time()
        for tr, te in splits:
            # train_segmented holds a segmented copy of every train.jsonl row (same `row`): drop the
            # copies of the validation fold, or the fold leaks into training.
            held = {train[i]["row"] for i in te}
            s = [r for r in seg if r["row"] not in held]
            p = fit_predict([x[i] for i in tr] + [row_text(r) for r in s], [y[i] for i in tr] + [r["label_l1"] for r in s], [x[i] for i in te])
            f1s.append(f1_score([y[i] for i in te], p, average="macro"))
        print(json.dumps({
            "model": "sklearn TF-IDF char(1,3) sublinear_tf min_df=2 + LinearSVC(C=1)",
            "folds_used": "sklearn StratifiedKFold(5, shuffle, random_state=7)" if a.cv_sklearn_folds else "foldsOf (the folds of bench/classify/cv.ts)",
            "cv_macro_f1": round(sum(f1s) / len(f1s), 4),
            "folds": [round(v, 4) for v in f1s],
            "seconds": round(time.time() - t0, 1),
        }))
        return
    hold = read_jsonl(os.path.join(d, "holdout.jsonl"))
    t0 = time.time()
    pred = fit_predict([row_text(r) for r in train + seg], [r["label_l1"] for r in train + seg], [row_text(r) for r in hold])
    gold = [r["label_l1"] for r in hold]
    per = f1_score(gold, pred, average=None, labels=labels)
    print(json.dumps({
        "model": "sklearn TF-IDF char(1,3) sublinear_tf min_df=2 + LinearSVC(C=1)",
        "sklearn": __import__("sklearn").__version__,
        "train_rows": len(train) + len(seg),
        "holdout_rows": len(hold),
        "macro_f1": f1_score(gold, pred, average="macro"),
        "accuracy": accuracy_score(gold, pred),
        "per_label_f1": dict(zip(labels, [float(v) for v in per])),
        "seconds": time.time() - t0,
    }, ensure_ascii=False))


if __name__ == "__main__":
    main()
