"""The risk model: features, the scikit-learn pipeline, training, scoring, evaluation, artifacts, card.

Modules: ``features``, ``pipeline``, ``training``, ``scoring``, ``evaluation``, ``artifacts``,
``card`` and ``sql``, one each.  Described in ``docs/model.md``."""
