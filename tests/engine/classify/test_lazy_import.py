"""The classifier needs NumPy only: no scikit-learn or SciPy, and no training code to use a saved model."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine.classify.model import MODEL_FILE, LocalClassifier

ROOT = Path(__file__).resolve().parents[3]
_NOT_LOADED = (
    "for name in ('sklearn', 'scipy'):\n"
    "    assert not any(m == name or m.startswith(name + '.') for m in sys.modules), name + ' imported'\n"
)


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


def test_importing_the_classifier_loads_no_training_code() -> None:
    result = _run(
        "import sys\n"
        "import engine.classify.classifier, engine.classify.model, engine.drafting.templates\n"
        "assert 'engine.classify.fit' not in sys.modules, 'training code imported'\n" + _NOT_LOADED
    )
    assert result.returncode == 0, result.stderr


def test_a_saved_model_classifies_without_the_training_code(trained: LocalClassifier, tmp_path: Path) -> None:
    path = tmp_path / MODEL_FILE
    trained.save(path)
    result = _run(
        "import sys\n"
        "from pathlib import Path\n"
        "from engine.classify.classifier import OfflineClassifier\n"
        "from engine.classify.model import ClassifierInput, LocalClassifier\n"
        f"model = LocalClassifier.load(Path({str(path)!r}))\n"
        "item = ClassifierInput('Cancel my order', 'Please cancel it.', 'a@b.uk')\n"
        "r = OfflineClassifier([], model).classify(item)\n"
        "assert r.category == 'cancellation', r\n"
        "assert 'engine.classify.fit' not in sys.modules, 'training code imported'\n" + _NOT_LOADED
    )
    assert result.returncode == 0, result.stderr


def test_training_needs_neither_scikit_learn_nor_scipy() -> None:
    result = _run(
        "import sys\n"
        "sys.modules['sklearn'] = None  # importing either now fails\n"
        "sys.modules['scipy'] = None\n"
        "from engine.classify.dataset import load_shipped_examples\n"
        "from engine.classify.model import ClassifierInput, LocalClassifier\n"
        "model = LocalClassifier.train(load_shipped_examples())\n"
        "assert model.classify(ClassifierInput('Cancel my order', 'Please cancel it.', 'a@b.uk')).category"
        " == 'cancellation'\n"
        "del sys.modules['sklearn'], sys.modules['scipy']\n" + _NOT_LOADED
    )
    assert result.returncode == 0, result.stderr
