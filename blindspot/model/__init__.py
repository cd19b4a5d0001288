"""The risk model: features, the scikit-learn pipeline, training, scoring, evaluation, artifacts, card."""
