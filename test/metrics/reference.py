"""Reference values for test/metrics: the textbook definitions, written with numpy.

sklearn is not installed here, so each metric is written from its definition, deliberately
not the way src/metrics computes it (ROC-AUC from the ROC curve and the trapezoid rule, not by
counting pairs; top-k from a stable sort, not by counting higher scores; ECE by masking each bin).

stdin: {"cases": [{"scores": [[...], ...], "labels": [...], "num_classes": K, "ignore_index": -100,
                   "inputs": "probabilities" | "logits", "k": [1, 3], "bins": 15}]}
stdout: {"results": [{...}, ...]}
"""
import json
import sys

import numpy as np


def softmax(x):
    z = x - x.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def confusion(y, pred, K):
    cm = np.zeros((K, K), dtype=np.int64)
    for t, p in zip(y, pred):
        cm[t, p] += 1
    return cm


def div0(a, b):
    return a / b if b != 0 else 0.0


def prf(y, pred, K):
    per = []
    for c in range(K):
        tp = int(np.sum((y == c) & (pred == c)))
        fp = int(np.sum((y != c) & (pred == c)))
        fn = int(np.sum((y == c) & (pred != c)))
        p = div0(tp, tp + fp)
        r = div0(tp, tp + fn)
        f = div0(2 * p * r, p + r)
        per.append({"precision": p, "recall": r, "f1": f, "support": int(np.sum(y == c))})
    # sklearn's default label set: the labels seen in y_true or y_pred.
    present = sorted(set(y.tolist()) | set(pred.tolist()))
    macro = {m: float(np.mean([per[c][m] for c in present])) for m in ("precision", "recall", "f1")}
    sup = np.array([d["support"] for d in per], dtype=np.float64)
    weighted = {m: float(np.sum(np.array([d[m] for d in per]) * sup) / sup.sum()) for m in ("precision", "recall", "f1")}
    tp_all = int(np.sum(y == pred))
    micro_p = tp_all / len(y)  # Σtp / Σ(tp + fp): every sample is predicted once
    micro_r = tp_all / len(y)
    micro = {"precision": micro_p, "recall": micro_r, "f1": div0(2 * micro_p * micro_r, micro_p + micro_r)}
    return per, macro, micro, weighted


def topk(scores, y, k):
    hits = 0
    for row, t in zip(scores, y):
        order = np.argsort(-row, kind="stable")  # descending, equal scores by class index
        hits += int(t in order[:k])
    return hits / len(y)


def roc_auc(score, positive):
    """Area under the ROC curve: one point per distinct threshold, trapezoid rule."""
    P = positive.sum()
    N = len(positive) - P
    if P == 0 or N == 0:
        return None
    thresholds = np.unique(score)[::-1]
    tpr = [0.0]
    fpr = [0.0]
    for th in thresholds:
        sel = score >= th
        tpr.append(np.sum(sel & positive) / P)
        fpr.append(np.sum(sel & ~positive) / N)
    area = 0.0
    for i in range(1, len(tpr)):
        area += (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2
    return float(area)


def ece(probs, y, bins):
    conf = probs.max(axis=1)
    pred = probs.argmax(axis=1)
    correct = (pred == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    total = 0.0
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if lo == 0.0:
            m |= conf == 0.0
        n = int(m.sum())
        if n:
            total += n / len(y) * abs(correct[m].mean() - conf[m].mean())
        out.append({"count": n, "confidence": float(conf[m].mean()) if n else None, "accuracy": float(correct[m].mean()) if n else None})
    return total, out


def case(c):
    K = c["num_classes"]
    raw = np.array(c["scores"], dtype=np.float64).reshape(-1, K)
    y = np.array(c["labels"], dtype=np.int64)
    keep = y != c["ignore_index"]
    positions = np.nonzero(keep)[0]
    raw, y = raw[keep], y[keep]
    if c["inputs"] == "logits":
        probs = softmax(raw)
        logp = raw - raw.max(axis=1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(axis=1, keepdims=True))
        sample_losses = -logp[np.arange(len(y)), y]
    else:
        probs = raw
        sample_losses = -np.log(probs[np.arange(len(y)), y])
    loss = float(sample_losses.mean())
    # Highest losses first; equal losses: the earlier sample first.
    worst = sorted(range(len(y)), key=lambda i: (-sample_losses[i], i))[:8]
    pred = probs.argmax(axis=1)  # numpy: the first maximum
    cm = confusion(y, pred, K)
    per, macro, micro, weighted = prf(y, pred, K)
    aucs = [roc_auc(probs[:, c], y == c) for c in range(K)]
    defined = [(a, int(np.sum(y == c))) for c, a in enumerate(aucs) if a is not None]
    e, bins = ece(probs, y, c.get("bins", 15))
    off = [(int(cm[t, p]), t, p) for t in range(K) for p in range(K) if t != p and cm[t, p] > 0]
    off.sort(key=lambda x: (-x[0], x[1], x[2]))
    return {
        "n": int(len(y)),
        "confusion": cm.tolist(),
        "accuracy": float(np.mean(pred == y)),
        "per_class": per,
        "macro": macro,
        "micro": micro,
        "weighted": weighted,
        "topk": {str(k): topk(probs, y, k) for k in c["k"]},
        "auc": aucs,
        "auc_macro": float(np.mean([a for a, _ in defined])) if defined else None,
        "auc_weighted": float(sum(a * w for a, w in defined) / sum(w for _, w in defined)) if defined else None,
        "ece": e,
        "ece_bins": bins,
        "loss": loss,
        "highest_loss": [[int(positions[i]), float(sample_losses[i])] for i in worst],
        "most_confused": [[t, p, n] for n, t, p in off[:10]],
    }


def main():
    req = json.load(sys.stdin)
    json.dump({"results": [case(c) for c in req["cases"]]}, sys.stdout)


if __name__ == "__main__":
    main()
