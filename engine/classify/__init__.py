"""Offline classification: user rules, header signals and a small local model.

Nothing here touches the network. scikit-learn is imported lazily, only by the functions that
train or load the model, so importing this package costs nothing at start-up.
"""
