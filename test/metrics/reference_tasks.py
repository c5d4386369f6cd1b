"""Reference values for test/metrics/tasks.test.ts: segmentation, multi-label and generative metrics
from their definitions, with numpy (scipy and sklearn are not installed here), each computed another
way than src/metrics does it:

- segmentation: per class, boolean masks of the pixels (not a confusion matrix); nanmean;
- average precision: one precision/recall point per distinct threshold, by masking (sklearn's
  precision_recall_curve semantics), not by a running count over a sorted list;
- Fréchet distance: numpy.cov and the eigenvalues of the non-symmetric product Σ1·Σ2
  (numpy.linalg.eigvals), not two symmetric eigendecompositions.

stdin: {"segmentation": [{"target": [...], "pred": [...], "num_classes": K, "ignore_index": 255}],
        "multilabel": [{"scores": [[...]], "targets": [[...]], "threshold": 0.5}],
        "frechet": [{"x": [[...]], "y": [[...]]}],
        "coverage": [{"logits": [[...]], "min_count": 1}]}
stdout: the same keys, one result per case.
"""
import json
import sys

import numpy as np


def nan_to_none(x):
    return None if np.isnan(x) else float(x)


def segmentation(c):
    t = np.array(c["target"], dtype=np.int64)
    p = np.array(c["pred"], dtype=np.int64)
    keep = t != c["ignore_index"]
    t, p = t[keep], p[keep]
    iou, dice, support = [], [], []
    for k in range(c["num_classes"]):
        tp = np.sum((t == k) & (p == k))
        fp = np.sum((t != k) & (p == k))
        fn = np.sum((t == k) & (p != k))
        union = tp + fp + fn
        iou.append(tp / union if union else np.nan)
        dice.append(2 * tp / (2 * tp + fp + fn) if union else np.nan)
        support.append(int(np.sum(t == k)))
    return {
        "iou": [nan_to_none(v) for v in iou],
        "dice": [nan_to_none(v) for v in dice],
        "support": support,
        "miou": nan_to_none(np.nanmean(iou)) if not np.all(np.isnan(iou)) else None,
        "mdice": nan_to_none(np.nanmean(dice)) if not np.all(np.isnan(dice)) else None,
        "pixel_accuracy": float(np.mean(t == p)) if len(t) else None,
    }


def average_precision(score, positive):
    if positive.sum() == 0:
        return None
    ap, prev_recall = 0.0, 0.0
    for th in np.unique(score)[::-1]:  # every distinct score, highest first
        sel = score >= th
        precision = np.sum(sel & positive) / np.sum(sel)
        recall = np.sum(sel & positive) / positive.sum()
        ap += (recall - prev_recall) * precision
        prev_recall = recall
    return float(ap)


def div0(a, b):
    return float(a / b) if b else 0.0


def multilabel(c):
    s = np.array(c["scores"], dtype=np.float64)
    y = np.array(c["targets"], dtype=np.int64).astype(bool)
    K = s.shape[1]
    aps = [average_precision(s[:, k], y[:, k]) for k in range(K)]
    defined = [a for a in aps if a is not None]
    pred = s > c["threshold"]
    per = []
    for k in range(K):
        tp = np.sum(pred[:, k] & y[:, k])
        fp = np.sum(pred[:, k] & ~y[:, k])
        fn = np.sum(~pred[:, k] & y[:, k])
        per.append({"precision": div0(tp, tp + fp), "recall": div0(tp, tp + fn), "f1": div0(2 * tp, 2 * tp + fp + fn), "support": int(tp + fn)})
    TP, FP, FN = np.sum(pred & y), np.sum(pred & ~y), np.sum(~pred & y)
    return {
        "ap": aps,
        "map": float(np.mean(defined)) if defined else None,
        "per_class": per,
        "macro": {m: float(np.mean([d[m] for d in per])) for m in ("precision", "recall", "f1")},
        "micro": {"precision": div0(TP, TP + FP), "recall": div0(TP, TP + FN), "f1": div0(2 * TP, 2 * TP + FP + FN)},
    }


def frechet(c):
    x = np.array(c["x"], dtype=np.float64)
    y = np.array(c["y"], dtype=np.float64)
    m1, m2 = x.mean(0), y.mean(0)
    s1, s2 = np.atleast_2d(np.cov(x, rowvar=False)), np.atleast_2d(np.cov(y, rowvar=False))
    eig = np.linalg.eigvals(s1 @ s2).real
    tr_sqrt = np.sum(np.sqrt(np.clip(eig, 0, None)))
    return {
        "fd": float(np.sum((m1 - m2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * tr_sqrt),
        "mean_x": m1.tolist(),
        "cov_x": s1.tolist(),
    }


def coverage(c):
    logits = np.array(c["logits"], dtype=np.float64)
    counts = np.bincount(logits.argmax(1), minlength=logits.shape[1])
    return {"counts": counts.tolist(), "covered": int(np.sum(counts >= c["min_count"]))}


def main():
    req = json.load(sys.stdin)
    handlers = {"segmentation": segmentation, "multilabel": multilabel, "frechet": frechet, "coverage": coverage}
    json.dump({k: [handlers[k](c) for c in v] for k, v in req.items()}, sys.stdout)


if __name__ == "__main__":
    main()
