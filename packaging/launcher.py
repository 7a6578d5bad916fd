"""The bundle's entry script: exactly what ``inbox-triage`` and ``python -m desktop`` run."""

import multiprocessing
import sys

from desktop.__main__ import main

if __name__ == "__main__":
    # a frozen app that ever starts a worker process must not start a second app instead
    multiprocessing.freeze_support()
    sys.exit(main())
