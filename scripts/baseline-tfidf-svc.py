"""The peer the multilingual goal is measured against: TF-IDF + LinearSVC (scikit-learn), one
model over every locale of a bot definition, trained on its examples and scored on held-out
phrasings (`{"text", "intent", "locale"}` per line) as top-1 intent accuracy per locale, the
figure `tests/store_heldout.rs` prints as `top-1` for sottovoce on the same rows.

Features as the usual baseline: word 1-2-grams plus character 1-4-grams within word
boundaries, sublinear TF, lowercased, accents kept. C is chosen by 5-fold stratified
cross-validation over the training examples only (never the held-out lines).

Needs scikit-learn (not part of `make test`: `python3 -m venv v && v/bin/pip install
scikit-learn`). Usage:
  python3 scripts/baseline-tfidf-svc.py www/bots/store.json tests/fixtures/nlu/store-heldout*.jsonl [--json out.json]
"""
import json
import re
import sys
from collections import defaultdict

from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import FeatureUnion, make_pipeline
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC


MARKUP = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def main(argv):
    out = None
    if "--json" in argv:
        i = argv.index("--json")
        out = argv[i + 1]
        argv = argv[:i] + argv[i + 2:]
    definition, heldout = argv[0], argv[1:]
    bot = json.load(open(definition, encoding="utf-8"))
    texts, labels = [], []
    for intent in bot["intents"]:
        for locale, examples in intent.get("examples", {}).items():
            for e in examples:
                # Slot markup "[veste](product)" is read as its words, as sottovoce trains.
                texts.append(MARKUP.sub(r"\1", e))
                labels.append(intent["name"])
    features = FeatureUnion([
        ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
        ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)),
    ])
    search = GridSearchCV(
        make_pipeline(features, LinearSVC()),
        {"linearsvc__C": [0.1, 0.3, 1.0, 3.0]},
        cv=StratifiedKFold(5, shuffle=True, random_state=0),
        n_jobs=1,
    )
    search.fit(texts, labels)
    model = search.best_estimator_
    rows = [json.loads(l) for f in heldout for l in open(f, encoding="utf-8") if l.strip()]
    known = set(labels)
    rows = [r for r in rows if r["intent"] in known]
    predicted = model.predict([r["text"] for r in rows])
    right, total = defaultdict(int), defaultdict(int)
    for r, p in zip(rows, predicted):
        for key in (r["locale"], "all"):
            total[key] += 1
            right[key] += p == r["intent"]
    result = {
        "peer": "TF-IDF (word 1-2, char_wb 1-4, sublinear) + LinearSVC, one model for all locales",
        "C": search.best_params_["linearsvc__C"],
        "cv_accuracy": round(search.best_score_, 4),
        "train_examples": len(texts),
        "top1": {k: round(right[k] / total[k], 4) for k in sorted(total)},
        "n": dict(sorted(total.items())),
    }
    print(json.dumps(result, indent=2))
    if out:
        json.dump(result, open(out, "w"), indent=2)


if __name__ == "__main__":
    main(sys.argv[1:])
