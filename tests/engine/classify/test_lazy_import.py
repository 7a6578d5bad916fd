"""scikit-learn is imported only to train: importing the classifier and using a saved model do not need it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from engine.classify.model import MODEL_FILE, LocalClassifier

ROOT = Path(__file__).resolve().parents[3]


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=False)


def test_importing_the_classifier_does_not_import_scikit_learn() -> None:
    result = _run(
        "import sys\n"
        "import engine.classify.classifier, engine.classify.model, engine.drafting.templates\n"
        "assert 'sklearn' not in sys.modules, 'sklearn imported'\n"
    )
    assert result.returncode == 0, result.stderr


def test_a_saved_model_classifies_without_scikit_learn(trained: LocalClassifier, tmp_path: Path) -> None:
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
        "assert 'sklearn' not in sys.modules, 'sklearn imported'\n"
    )
    assert result.returncode == 0, result.stderr
