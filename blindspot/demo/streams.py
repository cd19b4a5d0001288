"""Random streams of the synthetic world and the draws every stage shares.

Each stage draws from streams of its own, seeded by ``(seed, stage, key)``: the key is a
시군구 code for the per-block stages (households, signals) and 0 for the national ones
(area effects, visit selection, the pseudonym key).  So the same seed gives the same
tables whatever the machine, and a 시도 built alone gets the same households as in a
national build.  Reordering draws within a stream changes the data.
"""

from __future__ import annotations

import numpy as np

# Stage numbers that keep the random streams apart.
AREA, HOUSEHOLDS, SIGNALS, VISITS = 1, 2, 3, 4
PSEUDONYM = 99  # the key that scrambles household ids into pseudo_ids


def stream(seed: int, stage: int, key: int = 0) -> np.random.Generator:
    """The random generator of ``stage`` (and block ``key``) for ``seed``.

    >>> float(stream(42, SIGNALS, 36110).random()) == float(stream(42, SIGNALS, 36110).random())
    True
    """
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, stage, key])))


def sigmoid(x):
    """Logistic function of log-odds ``x`` (scalar or array) to a probability.

    >>> float(sigmoid(0.0))
    0.5
    """
    return 1.0 / (1.0 + np.exp(-x))


def categorical(rng: np.random.Generator, cdf: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """One draw per element of ``rows`` from the categorical distribution ``cdf[row]``
    (one uniform per element).

    Offsetting each row's cdf by its row number lets one ``searchsorted`` serve all rows.

    >>> cdf = np.array([[0.0, 1.0], [1.0, 1.0]])
    >>> categorical(np.random.default_rng(0), cdf, np.array([0, 1, 0])).tolist()
    [1, 0, 1]
    """
    flat = (cdf + np.arange(cdf.shape[0])[:, None]).ravel()
    pos = np.searchsorted(flat, rows + rng.random(len(rows)), side="right")
    return np.minimum(pos - rows * cdf.shape[1], cdf.shape[1] - 1)
