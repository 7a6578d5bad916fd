"""The local model: predictions on unseen mail, calibrated probabilities, corrections, save and load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from engine.categories import ALL_CATEGORIES
from engine.classify.compiled import FORMAT_VERSION, CompiledModel, read_meta
from engine.classify.dataset import fingerprint
from engine.classify.features import char_features, word_features
from engine.classify.fit import FOLDS, SEED, SVM_C, fit, stratified_folds
from engine.classify.model import (
    MODEL_FILE,
    MODEL_VERSION,
    ClassifierInput,
    LabelledText,
    LocalClassifier,
    ModelFileError,
    classifier_from_corrections,
)
from engine.classify.text import model_text
from engine.errors import ConfigurationError
from tests.engine.classify.unseen import UNSEEN


@pytest.mark.parametrize(("category", "subject", "body", "sender"), UNSEEN, ids=[u[1] for u in UNSEEN])
def test_unseen_emails_get_the_right_category(
    trained: LocalClassifier, category: str, subject: str, body: str, sender: str
) -> None:
    result = trained.classify(ClassifierInput(subject, body, sender))
    assert result.category == category
    assert result.source == "model"
    assert result.reasons and result.reasons[0].startswith("words: ")


def test_probabilities_are_calibrated_per_category_and_sum_to_one(trained: LocalClassifier) -> None:
    for _, subject, body, sender in UNSEEN:
        probabilities = trained.predict(ClassifierInput(subject, body, sender)).probabilities
        assert set(probabilities) == set(ALL_CATEGORIES)
        assert all(0.0 <= p <= 1.0 for p in probabilities.values())
        assert sum(probabilities.values()) == pytest.approx(1.0)


def test_confidence_is_the_probability_of_the_chosen_category(trained: LocalClassifier) -> None:
    item = ClassifierInput("Cancel my order", "Please cancel order 1234, I no longer need it.", "a@b.co.uk")
    result = trained.classify(item)
    probabilities = trained.predict(item).probabilities
    assert result.confidence == pytest.approx(probabilities[result.category])
    assert result.confidence == pytest.approx(max(probabilities.values()))


def test_reasons_name_the_words_behind_the_decision(trained: LocalClassifier) -> None:
    body = "The banner arrived damaged and torn. I'm not happy and want a refund."
    result = trained.classify(ClassifierInput("Damaged delivery", body, "a@b.co.uk"))
    assert result.category == "complaint"
    words = result.reasons[0]
    assert words.startswith("words: ")
    assert 3 <= words.count('"') // 2 <= 5
    assert "damaged" in words


def test_reasons_can_name_an_automated_sender(trained: LocalClassifier) -> None:
    result = trained.classify(ClassifierInput("Your parcel is on its way", "Track your parcel online.",
                                              "noreply@couriers.example"))
    assert result.category == "notification"
    assert any(r.startswith("sender: ") and "noreply" in r for r in result.reasons)


def test_empty_email_still_gets_a_valid_answer(trained: LocalClassifier) -> None:
    result = trained.classify(ClassifierInput("", "", ""))
    assert result.category in ALL_CATEGORIES
    assert 0.0 <= result.confidence <= 1.0


def _dense_tfidf(text: str, model: CompiledModel) -> np.ndarray:
    """The email's feature vector computed the long way: dense counts, tf, idf, per-block L2 norm."""
    blocks = []
    for features, vocabulary, idf in ((word_features(text), model.word_vocabulary, model.word_idf),
                                      (char_features(text), model.char_vocabulary, model.char_idf)):
        counts = np.zeros(len(vocabulary))
        for feature in features:
            if feature in vocabulary:
                counts[vocabulary[feature]] += 1
        tf = np.zeros_like(counts)
        tf[counts > 0] = 1.0 + np.log(counts[counts > 0])
        block = tf * idf
        norm = np.linalg.norm(block)
        blocks.append(block / norm if norm else block)
    return np.concatenate(blocks)


def _training_set(shipped: list[LabelledText]) -> tuple[list[str], list[str], list[float], list[bool]]:
    """The shipped examples plus a few corrections (weighted 3, pinned), as ``fit`` takes them."""
    corrections = [_CORRECTED, LabelledText("Invoice query", "Which invoice is this payment for?",
                                            "a@b.co.uk", "billing", weight=2.0, source="correction")]
    examples = [*shipped, *corrections]
    texts = [model_text(e.subject, e.body, e.sender) for e in examples]
    weights = [e.weight * (3.0 if e.source == "correction" else 1.0) for e in examples]
    return texts, [e.category for e in examples], weights, [e.source == "correction" for e in examples]


@pytest.fixture(scope="module")
def fitted(shipped: list[LabelledText]) -> CompiledModel:
    """The arrays ``fit`` produces for the shipped examples plus two corrections."""
    return fit(*_training_set(shipped))


def test_compiled_probabilities_match_a_straightforward_computation(fitted: CompiledModel) -> None:
    probes = [model_text(s, b, f) for _, s, b, f in UNSEEN] + ["", "ünïcödé — café £5", "refund refund"]
    n_classes = len(fitted.classes)
    for probe in probes:
        x = _dense_tfidf(probe, fitted)
        expected = np.zeros(n_classes)
        for fold in range(FOLDS):
            columns = slice(fold * n_classes, (fold + 1) * n_classes)
            decision = x @ fitted.weights[:, columns] + fitted.intercepts[columns]
            sigmoid = 1.0 / (1.0 + np.exp(fitted.sigmoid_a[columns] * decision + fitted.sigmoid_b[columns]))
            expected += sigmoid / sigmoid.sum() / FOLDS
        actual = fitted.probabilities(fitted.vectorise(probe))
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-12)
        assert actual.sum() == pytest.approx(1.0)


def test_each_fold_svm_is_the_optimum_of_its_objective(
    shipped: list[LabelledText], fitted: CompiledModel
) -> None:
    """The primal squared-hinge SVM objective's gradient vanishes at the fitted weights of every fold."""
    texts, labels, weights, pinned = _training_set(shipped)
    x = np.array([_dense_tfidf(t, fitted) for t in texts])
    y, cost = np.asarray(labels), SVM_C * np.asarray(weights)
    n_classes = len(fitted.classes)
    splits = stratified_folds(labels, FOLDS, seed=SEED, pinned=pinned)
    for fold, (train, test) in enumerate(splits):
        assert set(np.flatnonzero(pinned)) <= set(train.tolist())
        for k, category in enumerate(fitted.classes):
            column = fold * n_classes + k
            w, b = fitted.weights[:, column], fitted.intercepts[column]
            sign = np.where(y[train] == category, 1.0, -1.0)
            slack = np.maximum(0.0, 1.0 - sign * (x[train] @ w + b))
            pull = 2.0 * cost[train] * slack * sign
            np.testing.assert_allclose(w, x[train].T @ pull, rtol=0, atol=1e-9)
            assert b == pytest.approx(pull.sum(), abs=1e-9)
            # the sigmoid minimises the weighted, smoothed cross-entropy on the held-out part
            decision, positive, w_test = x[test] @ w + b, y[test] == category, np.asarray(weights)[test]
            n_pos, n_neg = w_test[positive].sum(), w_test[~positive].sum()
            target = np.where(positive, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
            prob = 1.0 / (1.0 + np.exp(fitted.sigmoid_a[column] * decision + fitted.sigmoid_b[column]))
            residual = w_test * (target - prob)
            assert abs(residual @ decision) < 1e-7 and abs(residual.sum()) < 1e-7
            assert fitted.sigmoid_a[column] < 0  # a higher decision value means a likelier category


def test_training_is_deterministic(shipped: list[LabelledText], trained: LocalClassifier) -> None:
    again = LocalClassifier.train(shipped)
    item = ClassifierInput(*UNSEEN[0][1:])
    assert again.predict(item).probabilities == trained.predict(item).probabilities
    assert again.fingerprint == trained.fingerprint


# --- staff corrections ---------------------------------------------------------------------------

_CORRECTED = LabelledText(
    subject="Paper price increase from January",
    body="Our prices will rise by 6% from 1 January because of mill increases. Updated price list attached.",
    sender="sales@paperhaus.co.uk",
    category="billing",
    source="correction",
)
_SIMILAR = ClassifierInput(
    subject="Price increase from April",
    body="Our prices will rise by 4% from 1 April because of mill increases. The new price list is attached.",
    sender="sales@paperhaus.co.uk",
)


def test_one_correction_moves_similar_mail(shipped: list[LabelledText], trained: LocalClassifier) -> None:
    before = trained.predict(_SIMILAR)
    assert before.top()[0] != "billing"  # the shipped model alone files a supplier's price notice elsewhere
    corrected = LocalClassifier.train([*shipped, _CORRECTED])
    after = corrected.predict(_SIMILAR)
    assert after.top()[0] == "billing"
    assert after.probabilities["billing"] > before.probabilities["billing"]
    assert corrected.meta.corrections == 1
    for category, subject, body, sender in UNSEEN:  # unrelated mail is not disturbed
        assert corrected.classify(ClassifierInput(subject, body, sender)).category == category


def test_a_correction_overrides_the_shipped_label_of_the_same_text(shipped: list[LabelledText]) -> None:
    original = next(e for e in shipped if e.category == "enquiry" and "parking" in e.subject.lower())
    relabelled = LabelledText(original.subject, original.body, original.sender, "other", source="correction")
    model = LocalClassifier.train([*shipped, relabelled])
    assert model.meta.examples == len(shipped)
    result = model.classify(ClassifierInput(original.subject, original.body, original.sender))
    assert result.category == "other"


def test_training_rejects_unusable_examples(shipped: list[LabelledText]) -> None:
    with pytest.raises(ConfigurationError, match=r"Unknown categories"):
        LocalClassifier.train([*shipped, LabelledText("s", "b", "a@b.uk", "urgent")])
    with pytest.raises(ConfigurationError, match="positive weight"):
        LocalClassifier.train([*shipped, LabelledText("s", "b", "a@b.uk", "order", weight=0.0)])
    few = [e for e in shipped if e.category != "spam"] + [e for e in shipped if e.category == "spam"][:2]
    with pytest.raises(ConfigurationError, match="too few for: spam"):
        LocalClassifier.train(few)


# --- save and load -------------------------------------------------------------------------------

def test_save_and_load_round_trip(trained: LocalClassifier, tmp_path: Path) -> None:
    path = tmp_path / "model" / MODEL_FILE
    trained.save(path)
    loaded = LocalClassifier.load(path)
    assert loaded.meta == trained.meta
    assert read_meta(path).fingerprint == trained.fingerprint
    for _, subject, body, sender in UNSEEN:
        item = ClassifierInput(subject, body, sender)
        assert loaded.predict(item).probabilities == trained.predict(item).probabilities
        assert loaded.classify(item) == trained.classify(item)
    assert [p.name for p in path.parent.iterdir()] == [MODEL_FILE]  # no temporary file left behind


def test_loading_garbage_says_the_file_is_unusable(tmp_path: Path) -> None:
    path = tmp_path / MODEL_FILE
    path.write_bytes(b"this is not a model")
    with pytest.raises(ModelFileError, match="not a model file or damaged"):
        LocalClassifier.load(path)


def test_loading_a_missing_file_fails_clearly(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="no saved model"):
        LocalClassifier.load(tmp_path / MODEL_FILE)


def test_loading_a_truncated_file_fails_clearly(trained: LocalClassifier, tmp_path: Path) -> None:
    path = tmp_path / MODEL_FILE
    trained.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError):
        LocalClassifier.load(path)


def test_loading_another_format_version_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / MODEL_FILE
    meta = json.dumps({"format": FORMAT_VERSION + 1, "model_version": "x", "fingerprint": "f", "classes": [],
                       "examples": 0, "corrections": 0}).encode()
    np.savez(path, meta=np.frombuffer(meta, dtype=np.uint8))
    with pytest.raises(ModelFileError, match=f"file format {FORMAT_VERSION + 1}"):
        LocalClassifier.load(path)


def test_loading_never_unpickles(tmp_path: Path) -> None:
    path = tmp_path / MODEL_FILE
    np.savez(path, meta=np.array([{"format": FORMAT_VERSION}], dtype=object))
    with pytest.raises(ModelFileError):
        LocalClassifier.load(path)


def test_loading_inconsistent_arrays_fails_clearly(trained: LocalClassifier, tmp_path: Path) -> None:
    path = tmp_path / MODEL_FILE
    trained.save(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    arrays["weights"] = arrays["weights"][:-5]
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match="do not fit together"):
        LocalClassifier.load(path)


def test_loading_a_model_of_another_model_version_fails_clearly(
    trained: LocalClassifier, tmp_path: Path
) -> None:
    path = tmp_path / MODEL_FILE
    trained.save(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["meta"].tobytes())
    header["model_version"] = "an-older-model"
    arrays["meta"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    with pytest.raises(ModelFileError, match="an-older-model"):
        LocalClassifier.load(path)


# --- the cached model in the profile -------------------------------------------------------------

def _count_training(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = LocalClassifier.train.__func__  # type: ignore[attr-defined]

    def counting(cls: type[LocalClassifier], examples: list[LabelledText]) -> LocalClassifier:
        calls.append(len(examples))
        return real(cls, examples)  # type: ignore[no-any-return]

    monkeypatch.setattr(LocalClassifier, "train", classmethod(counting))
    return calls


def test_cached_model_is_reused_while_the_training_data_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shipped: list[LabelledText]
) -> None:
    calls = _count_training(monkeypatch)
    first = classifier_from_corrections(tmp_path, [])
    assert calls == [len(shipped)]
    assert (tmp_path / MODEL_FILE).is_file()
    second = classifier_from_corrections(tmp_path, [])
    assert calls == [len(shipped)]
    assert second.fingerprint == first.fingerprint


def test_new_corrections_retrain_the_cached_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shipped: list[LabelledText]
) -> None:
    calls = _count_training(monkeypatch)
    base = classifier_from_corrections(tmp_path, [])
    corrected = classifier_from_corrections(tmp_path, [_CORRECTED])
    assert calls == [len(shipped), len(shipped) + 1]
    assert corrected.fingerprint != base.fingerprint
    assert read_meta(tmp_path / MODEL_FILE).fingerprint == corrected.fingerprint
    assert corrected.classify(_SIMILAR).category == "billing"
    classifier_from_corrections(tmp_path, [_CORRECTED])
    assert len(calls) == 2


def test_a_damaged_cache_is_replaced_by_a_retrained_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / MODEL_FILE).write_bytes(b"\x00" * 100)
    calls = _count_training(monkeypatch)
    model = classifier_from_corrections(tmp_path, [])
    assert len(calls) == 1
    assert read_meta(tmp_path / MODEL_FILE).fingerprint == model.fingerprint


def test_an_unwritable_cache_still_gives_a_working_model(tmp_path: Path) -> None:
    blocker = tmp_path / "model"
    blocker.write_text("a file where the folder should be")
    model = classifier_from_corrections(blocker, [])
    assert model.classify(ClassifierInput(*UNSEEN[0][1:])).category == UNSEEN[0][0]


def test_a_cache_from_the_scikit_learn_era_is_retrained(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shipped: list[LabelledText], trained: LocalClassifier
) -> None:
    """A model cached by an earlier version (same file format) is replaced, not used."""
    old_version = "tfidf-w12-cwb35-linsvc-c0.5-sigmoid3-v1"
    path = tmp_path / MODEL_FILE
    trained.save(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    header = json.loads(arrays["meta"].tobytes())
    header["model_version"] = old_version
    header["fingerprint"] = fingerprint(shipped, model_version=old_version)
    arrays["meta"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    np.savez(path, **arrays)
    calls = _count_training(monkeypatch)
    model = classifier_from_corrections(tmp_path, [])
    assert calls == [len(shipped)]
    assert read_meta(path).model_version == MODEL_VERSION == model.meta.model_version
