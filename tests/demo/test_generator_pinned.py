"""The generated data of a small build, pinned.

Why: a demo database is identified by its generator version and config (seed, scale,
rounds, 시도).  Entered outcomes are carried into a rebuild by pseudonymous id and round,
saved figures (docs/synthetic-data.md, model cards) describe one world, and `make` does
not rebuild a database whose inputs did not change.  So a change to what the generator
draws (a constant, the order of the random draws, a stream) must be deliberate: bump
``GENERATOR_VERSION`` (blindspot/demo/synthetic.py), update docs/synthetic-data.md, and add
the new version's fingerprints below.  A restructuring of the generator must leave this
test passing unchanged.

The hashes are SHA-256 of each table read back sorted and written as CSV by pandas, so
they do not depend on DuckDB's internal hash function.
"""

import hashlib

import pytest

from blindspot.db.store import Store
from blindspot.demo.build import build_demo
from blindspot.demo.synthetic import GENERATOR_VERSION, SyntheticConfig

# Sejong alone (24 읍면동 of 동, 읍 and 면), about 3,200 households: a few seconds.  The
# area model is still built nationally, so every 읍면동's area draws are exercised.
PINNED_CONFIG = SyntheticConfig(seed=7, scale=0.02, rounds=3, sido=("36",))
ORDER = {
    "households": "household_id",
    "observations": "round_id, household_id, indicator_code",
    "visits": "round_id, household_id",
    "synthetic_crisis": "round_id, household_id",
}
PINNED = {
    "2": {
        "households": (3246, "36032f002c0e4aed2465abb27a741542b7d4f30b626fab2d7674b61e351cdbf9"),
        "observations": (5033, "ad32f5583f7c04a61f190df5f0a0f1d7f708efdfa223e9b63011538594fe348e"),
        "visits": (78, "a3105bde827a13396dbee46af6c0ad841bbc67fe0bc20f8622f361ac873cc5d8"),
        "synthetic_crisis": (162, "667a2f5f1f7cd0aae900b0ab82ea4c942fe33dfc6c77ac06733ed3701664dd7a"),
    },
    # Generator 3 (issue 14, "freeze the world to the field"): one-person target 41.5 %, flagged
    # = system + local 0.8 % split 0.75/0.25 with referrals on top, 1 % unreachable, crisis
    # intercept −3.7 (supported share of the flagged in the field band), onsets corrected for
    # collisions.
    "3": {
        "households": (3246, "ed9408746ca6c0fe5858a03ee793870f23fed111bff3fd7ea832defddf867239"),
        "observations": (5372, "fa352a073918fbc87beb6a9f982f33e99a63a6ee019926142d4f882250604b92"),
        "visits": (87, "0b8012ac8cc960a12bdd6bf48fdb52855a3b9be73f2247281e9f70d0f09ad53f"),
        "synthetic_crisis": (320, "82e8950f58730889553b938c80187c22e9cdb4cf67f1d098551b375f5b48adc1"),
    },
}


def table_digests(store: Store) -> dict[str, tuple[int, str]]:
    out = {}
    for table, order in ORDER.items():
        df = store.df(f"SELECT * FROM {table} ORDER BY {order}")  # names from ORDER, not input
        out[table] = (len(df), hashlib.sha256(df.to_csv(index=False).encode()).hexdigest())
    return out


@pytest.fixture(scope="module")
def pinned_build(tmp_path_factory):
    path = tmp_path_factory.mktemp("pinned") / "pinned.duckdb"
    report = build_demo(path, PINNED_CONFIG)
    st = Store(path, read_only=True)
    try:
        yield report, table_digests(st)
    finally:
        st.close()


def test_generator_version_has_pinned_data():
    assert GENERATOR_VERSION in PINNED, (
        f"GENERATOR_VERSION {GENERATOR_VERSION} has no pinned fingerprints: add them to PINNED"
    )


@pytest.mark.parametrize("table", list(ORDER))
def test_generated_table_is_unchanged(pinned_build, table):
    _, got = pinned_build
    want = PINNED[GENERATOR_VERSION][table]
    assert got[table] == want, (
        f"{table} of the pinned build changed ({got[table]} != {want}). If that is deliberate, bump "
        "GENERATOR_VERSION and pin the new data; if not, the generator's draws changed by accident."
    )


def test_report_counts_match_the_tables(pinned_build):
    report, got = pinned_build
    assert (report.households, report.observations, report.visits, report.crisis_rows) == (
        got["households"][0],
        got["observations"][0],
        got["visits"][0],
        got["synthetic_crisis"][0],
    )
