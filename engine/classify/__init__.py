"""Offline classification: user rules, header signals and a small local model.

Nothing here touches the network. The model is trained and applied with NumPy alone
(:mod:`engine.classify.fit`, :mod:`engine.classify.compiled`); the training code is imported only
when a model has to be trained, so loading a cached model skips it.
"""
