"""The store's schema: tables (DDL by version), migrations, memory settings, meta statements.

SCHEMA_VERSION is the version a new store is created at; MIGRATIONS[v] upgrades v to v + 1
(:meth:`blindspot.db.store.Store` applies them in one transaction).

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value; the one operator's value, a memory limit (:func:`memory_limit_sql`), must
match a number and a unit first.
"""

from __future__ import annotations

from blindspot import settings

SCHEMA_VERSION = 6

# Large tables have no PRIMARY KEY: DuckDB would build an ART index of 24 million
# (households) or 100 million (observations) keys at load, which costs minutes and
# gigabytes; uniqueness is guaranteed by the generator and checked by ingest instead.
DDL_V1 = (
    """CREATE TABLE meta (
        key VARCHAR PRIMARY KEY,
        value VARCHAR NOT NULL)""",
    """CREATE TABLE regions (
        level VARCHAR NOT NULL CHECK (level IN ('sido', 'sgg', 'emd')),
        code VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        full_name VARCHAR NOT NULL,
        name_en VARCHAR,
        parent_code VARCHAR,
        sido_code VARCHAR NOT NULL,
        sgg_code VARCHAR,
        lg_code VARCHAR,
        lg_name VARCHAR,
        emd_type VARCHAR,
        area_km2 DOUBLE,
        population BIGINT,
        population_male BIGINT,
        population_female BIGINT,
        households BIGINT,
        branch_office_population BIGINT,
        population_age_0_14 BIGINT,
        population_age_65_plus BIGINT,
        ref_month VARCHAR,
        geometry BLOB)""",
    """CREATE TABLE population_by_age (
        level VARCHAR NOT NULL,
        code VARCHAR NOT NULL,
        sex VARCHAR NOT NULL,
        age_group VARCHAR NOT NULL,
        age_from SMALLINT NOT NULL,
        population BIGINT NOT NULL)""",
    """CREATE TABLE region_adjacency (
        emd_code VARCHAR NOT NULL,
        neighbor_code VARCHAR NOT NULL)""",
    """CREATE TABLE domains (
        domain VARCHAR PRIMARY KEY,
        name_ko VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL,
        sort_order INTEGER NOT NULL)""",
    """CREATE TABLE indicators (
        code VARCHAR PRIMARY KEY,
        name_ko VARCHAR NOT NULL,
        name_en VARCHAR NOT NULL,
        domain VARCHAR NOT NULL,
        institution VARCHAR NOT NULL,
        kind VARCHAR NOT NULL CHECK (kind IN ('flag', 'months', 'amount')),
        lonely_death BOOLEAN NOT NULL,
        reason_ko VARCHAR NOT NULL,
        sort_order INTEGER NOT NULL)""",
    """CREATE TABLE rounds (
        round_id INTEGER PRIMARY KEY,
        round_code VARCHAR NOT NULL UNIQUE,
        year INTEGER NOT NULL,
        seq INTEGER NOT NULL CHECK (seq BETWEEN 1 AND 6),
        start_date DATE NOT NULL,
        end_date DATE NOT NULL,
        source VARCHAR NOT NULL)""",
    """CREATE TABLE households (
        household_id INTEGER NOT NULL,
        pseudo_id VARCHAR NOT NULL,
        sido_code VARCHAR NOT NULL,
        sgg_code VARCHAR NOT NULL,
        emd_code VARCHAR NOT NULL,
        head_age SMALLINT NOT NULL,
        head_sex VARCHAR NOT NULL,
        household_size SMALLINT NOT NULL,
        one_person BOOLEAN NOT NULL,
        housing_type VARCHAR NOT NULL,
        welfare_status VARCHAR NOT NULL,
        lon DOUBLE NOT NULL,
        lat DOUBLE NOT NULL,
        valid_from_round INTEGER NOT NULL,
        valid_to_round INTEGER)""",
    """CREATE TABLE observations (
        round_id INTEGER NOT NULL,
        household_id INTEGER NOT NULL,
        sgg_code VARCHAR NOT NULL,
        emd_code VARCHAR NOT NULL,
        indicator_code VARCHAR NOT NULL,
        value INTEGER NOT NULL)""",
    """CREATE TABLE visits (
        round_id INTEGER NOT NULL,
        household_id INTEGER NOT NULL,
        sgg_code VARCHAR NOT NULL,
        emd_code VARCHAR NOT NULL,
        channel VARCHAR NOT NULL
            CHECK (channel IN ('system', 'local', 'neighbour', 'volunteer', 'meter_reader')),
        outcome VARCHAR NOT NULL CHECK (outcome IN (
            'contacted', 'need_confirmed', 'supported', 'unreachable', 'not_eligible', 'refused')),
        support_type VARCHAR,
        recorded_at TIMESTAMP NOT NULL,
        recorded_by VARCHAR NOT NULL)""",
    # Ground truth of the synthetic generator (households truly in crisis per round).
    # Only evaluation reads it; it never feeds model training and is empty for real data.
    """CREATE TABLE synthetic_crisis (
        round_id INTEGER NOT NULL,
        household_id INTEGER NOT NULL)""",
)

# One row per household and round scored, from the model in service (model_version);
# rescoring a round replaces all its rows.  Reasons are the three features that added
# most to the household's log-odds (contribution in log-odds units), in Korean.
DDL_V2 = (
    """CREATE TABLE scores (
        round_id INTEGER NOT NULL,
        household_id INTEGER NOT NULL,
        sgg_code VARCHAR NOT NULL,
        emd_code VARCHAR NOT NULL,
        model_version VARCHAR NOT NULL,
        probability DOUBLE NOT NULL,
        band VARCHAR NOT NULL CHECK (band IN ('high', 'medium', 'low', 'none')),
        rank_in_emd INTEGER NOT NULL,
        reason_1 VARCHAR, reason_code_1 VARCHAR, contribution_1 REAL,
        reason_2 VARCHAR, reason_code_2 VARCHAR, contribution_2 REAL,
        reason_3 VARCHAR, reason_code_3 VARCHAR, contribution_3 REAL)""",
    """CREATE TABLE score_runs (
        round_id INTEGER NOT NULL,
        model_version VARCHAR NOT NULL,
        scored_at TIMESTAMP NOT NULL,
        households BIGINT NOT NULL,
        seconds DOUBLE NOT NULL,
        thresholds VARCHAR NOT NULL)""",
)

# audit_log: one row per look at or export of household-level data (and refusals), with
# who, role, scope, filters, rows, purpose and the exported file's hash.
# briefing_targets: the targets (목표 A) of the council evaluation table, per area.
# ingest_loads: one row per loaded extraction file.
DDL_V3 = (
    "CREATE SEQUENCE audit_seq START 1",
    """CREATE TABLE audit_log (
        event_id BIGINT PRIMARY KEY DEFAULT nextval('audit_seq'),
        happened_at TIMESTAMP NOT NULL,
        user_name VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        action VARCHAR NOT NULL,
        scope VARCHAR NOT NULL,
        filters VARCHAR,
        row_count INTEGER,
        purpose VARCHAR,
        file_hash VARCHAR,
        detail VARCHAR)""",
    """CREATE TABLE briefing_targets (
        area_code VARCHAR NOT NULL,
        indicator VARCHAR NOT NULL,
        target DOUBLE NOT NULL,
        updated_by VARCHAR NOT NULL,
        updated_at TIMESTAMP NOT NULL,
        PRIMARY KEY (area_code, indicator))""",
    """CREATE TABLE ingest_loads (
        load_id VARCHAR PRIMARY KEY,
        round_id INTEGER NOT NULL,
        kind VARCHAR NOT NULL,
        file_name VARCHAR NOT NULL,
        file_sha256 VARCHAR NOT NULL,
        rows BIGINT NOT NULL,
        loaded_by VARCHAR NOT NULL,
        loaded_at TIMESTAMP NOT NULL,
        replaced BOOLEAN NOT NULL,
        seconds DOUBLE)""",
)

# A national map scans 24 million households, their signals and scores (4–8 s); these
# tables hold the same counts per 읍면동 and round (thousands of rows), refreshed by
# blindspot/db/aggregates.py whenever households, signals or scores of a round change.  Visits stay
# live: outcome entry changes them one row at a time.  A migrated database has them empty
# until `python -m blindspot stats` (or the next build, ingest or scoring) fills them; the
# maps read the live tables meanwhile.
DDL_V4 = (
    """CREATE TABLE stats_ages (
        round_id INTEGER NOT NULL, sido_code VARCHAR NOT NULL, sgg_code VARCHAR NOT NULL,
        emd_code VARCHAR NOT NULL, head_age SMALLINT NOT NULL, n BIGINT NOT NULL, one BIGINT NOT NULL)""",
    """CREATE TABLE stats_masks (
        round_id INTEGER NOT NULL, sido_code VARCHAR NOT NULL, sgg_code VARCHAR NOT NULL,
        emd_code VARCHAR NOT NULL, mask BIGINT NOT NULL, n BIGINT NOT NULL)""",
    """CREATE TABLE stats_risk (
        round_id INTEGER NOT NULL, sido_code VARCHAR NOT NULL, sgg_code VARCHAR NOT NULL,
        emd_code VARCHAR NOT NULL, scored BIGINT NOT NULL, at_risk BIGINT NOT NULL, sum_probability DOUBLE NOT NULL)""",
)

# Drift of a scored round against the reference the model in service stored at training
# (its test round's population): one row per feature, the population stability index and
# the round's shares per reference bin (JSON), written with the round's scores and replaced
# with them (blindspot/model/drift.py).  A few dozen rows per round.
DDL_V5 = (
    """CREATE TABLE feature_drift (
        round_id INTEGER NOT NULL,
        model_version VARCHAR NOT NULL,
        reference_round VARCHAR NOT NULL,
        feature VARCHAR NOT NULL,
        psi DOUBLE NOT NULL,
        shares VARCHAR NOT NULL)""",
)

# Version 6: the random audit sample (무작위 점검, blindspot/model/auditsample.py).  A scored
# household drawn for a random visit besides the list; scores of older versions have none.
DDL_V6 = ("ALTER TABLE scores ADD COLUMN audit_pick BOOLEAN DEFAULT false",)

# Migrations: MIGRATIONS[v] upgrades a database of schema version v to v + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {1: DDL_V2, 2: DDL_V3, 3: DDL_V4, 4: DDL_V5, 5: DDL_V6}

TABLES = (
    "meta",
    "regions",
    "population_by_age",
    "region_adjacency",
    "domains",
    "indicators",
    "rounds",
    "households",
    "observations",
    "visits",
    "synthetic_crisis",
    "scores",
    "score_runs",
    "audit_log",
    "briefing_targets",
    "ingest_loads",
    "stats_ages",
    "stats_masks",
    "stats_risk",
    "feature_drift",
)

# DuckDB would take up to 80 % of RAM for its buffers: a build (setting build_memory_limit)
# and every other session (session_memory_limit) are bounded, blindspot/settings.py says why.
# SET binds no parameter, so memory_limit_sql checks the value before formatting it in.
SET_MEMORY_LIMIT = "SET memory_limit = '{limit}'"


def memory_limit_sql(name: str) -> str:
    """The ``SET memory_limit`` statement of memory setting ``name`` (environment first).

    >>> memory_limit_sql("session_memory_limit").startswith("SET memory_limit = '")
    True
    """
    limit = settings.get(name)
    if settings.setting(name).kind != "memory" or not settings.MEMORY_PATTERN.fullmatch(limit):
        raise settings.SettingError(f"메모리 크기 설정이 아닙니다: {name} ({limit!r}).")
    return SET_MEMORY_LIMIT.format(limit=limit)


META_ALL = "SELECT key, value FROM meta ORDER BY key"

META_GET = "SELECT value FROM meta WHERE key = ?"

META_SET = "INSERT OR REPLACE INTO meta VALUES (?, ?)"

META_DELETE = "DELETE FROM meta WHERE key = ?"

HAS_META_TABLE = "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta' AND table_schema = 'main'"
