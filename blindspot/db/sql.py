"""Every SQL statement of the product, in one place.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
``?`` parameters.  A few statements have ``{...}`` slots: they take SQL structure
that this package produces itself (a column name from a fixed list, or the
placeholder list of :func:`blindspot.access.scope_sql`), never a user's value.
"""

SCHEMA_VERSION = 4

# --- schema, version 1 ---
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

# --- schema, version 2: risk scores ---
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

# --- schema, version 3: audit trail and ingest provenance ---
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

# --- schema, version 4: per-읍면동 aggregates for the maps --------------------------------
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

# Migrations: MIGRATIONS[v] upgrades a database of schema version v to v + 1.
MIGRATIONS: dict[int, tuple[str, ...]] = {1: DDL_V2, 2: DDL_V3, 3: DDL_V4}

TABLES = ("meta", "regions", "population_by_age", "region_adjacency", "domains", "indicators",
          "rounds", "households", "observations", "visits", "synthetic_crisis", "scores", "score_runs",
          "audit_log", "briefing_targets", "ingest_loads", "stats_ages", "stats_masks", "stats_risk")

# A build must stay within the benchmark's memory budget (8 GB) beside the
# generator's own arrays; DuckDB would otherwise take up to 80 % of RAM for buffers.
BUILD_SETTINGS = "SET memory_limit = '1500MB'"
# Every other session: DuckDB would take up to 80 % of RAM for its buffers (measured: a
# full-scale `train` peaked at 17.5 GB); 3 GB keeps training and scoring inside the 8 GB
# budget, spilling to disk when a national aggregate needs more.
SESSION_SETTINGS = "SET memory_limit = '3GB'"

# --- meta ---
META_ALL = "SELECT key, value FROM meta ORDER BY key"
META_GET = "SELECT value FROM meta WHERE key = ?"
META_SET = "INSERT OR REPLACE INTO meta VALUES (?, ?)"
META_DELETE = "DELETE FROM meta WHERE key = ?"
HAS_META_TABLE = (
    "SELECT count(*) FROM information_schema.tables "
    "WHERE table_name = 'meta' AND table_schema = 'main'")

# --- loading ---
# {table} is one of TABLES; the relation is a registered Arrow/pandas object.
APPEND_FROM = "INSERT INTO {table} BY NAME SELECT * FROM {relation}"
INSERT_HOUSEHOLDS = """
    INSERT INTO households
    SELECT household_id,
           -- A bijective scramble of the id (odd multiplier mod 2^32): unique by construction.
           printf('H%08X', (household_id::BIGINT * 2654435761 + ?) % 4294967296) AS pseudo_id,
           sido_code, sgg_code, emd_code, head_age, head_sex, household_size, one_person,
           housing_type, welfare_status, lon, lat, valid_from_round, valid_to_round
    FROM {relation}"""
INSERT_ROUND = "INSERT INTO rounds VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_DOMAIN = "INSERT INTO domains VALUES (?, ?, ?, ?)"
INSERT_INDICATOR = "INSERT INTO indicators VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
UPDATE_REGION_GEOMETRY = "UPDATE regions SET geometry = g.geometry, name = coalesce(g.name, regions.name) FROM {relation} g WHERE regions.code = g.code"
DELETE_ADJACENCY = "DELETE FROM region_adjacency"
REGION_CODES_AT_LEVEL = "SELECT code FROM regions WHERE level = ? ORDER BY code"

# --- counts (info) ---
REGION_LEVEL_COUNTS = "SELECT level, count(*) FROM regions GROUP BY level"
COUNT_ROWS = "SELECT count(*) FROM {table}"

# --- reading ---
ROUNDS = "SELECT round_id, round_code, year, seq, start_date, end_date, source FROM rounds ORDER BY round_id"
ROUND_IDS = "SELECT round_id FROM rounds ORDER BY round_id"
ROUND_SOURCE = "SELECT source FROM rounds WHERE round_id = ?"
REGION_NAMES_AT_LEVEL = "SELECT code, name FROM regions WHERE level = ? ORDER BY code"

REGIONS = """
    SELECT code, name, full_name, name_en, parent_code, sido_code, sgg_code, lg_code, lg_name,
           emd_type, area_km2, population, households, population_age_65_plus, ref_month
    FROM regions
    WHERE level = ? AND {scope}
    ORDER BY code"""

REGION_BY_CODE = """
    SELECT level, code, name, full_name, parent_code, sido_code, sgg_code
    FROM regions WHERE code = ? AND {scope}"""

REGIONS_BY_NAME = """
    SELECT level, code, name, full_name, parent_code, sido_code, sgg_code
    FROM regions
    WHERE (name = ? OR full_name = ? OR full_name LIKE '%' || ? || '%') AND {scope}
    ORDER BY length(full_name), code"""

REGION_CHILDREN = """
    SELECT level, code, name, full_name, parent_code, sido_code, sgg_code
    FROM regions WHERE parent_code = ? AND {scope} ORDER BY code"""

REGION_GEOMETRIES = "SELECT code, name, geometry FROM regions WHERE level = ? AND {scope} ORDER BY code"

# Households and one-person households per region for one round.  {level_col} is
# sido_code, sgg_code or emd_code.  Exact counts (blindspot.db.queries suppresses them);
# a region with no households at all (no data, e.g. not generated) is NULL.
HOUSEHOLDS_BY_REGION = """
    WITH agg AS (
        SELECT {level_col} AS code,
               count(*) AS households,
               count(*) FILTER (WHERE one_person) AS one_person
        FROM households
        WHERE valid_from_round <= ? AND (valid_to_round IS NULL OR valid_to_round >= ?)
          AND {scope}
        GROUP BY ALL)
    SELECT r.code, r.name, r.full_name, r.parent_code,
           agg.households, agg.one_person
    FROM regions r LEFT JOIN agg ON agg.code = r.code
    WHERE r.level = ? AND {region_scope}
    ORDER BY r.code"""

# The same count without the product's layer around it, for the benchmark.
BARE_EMD_GROUPBY = """
    SELECT emd_code, count(*), count(*) FILTER (WHERE one_person)
    FROM households GROUP BY emd_code"""

# --- fingerprints ---
# Order-independent: a sum and a xor of row hashes, plus the row count.
FINGERPRINT = "SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0)::VARCHAR, coalesce(bit_xor(hash(t)), 0)::VARCHAR FROM {table} t"

# --- layout benchmark (long vs wide observations) ---
# {columns}: one "max(value) FILTER (WHERE indicator_code = '<code>') AS <code>" per
# catalogue code; codes are validated identifiers of the shipped catalogue.
LAYOUT_MAKE_WIDE = """
    CREATE TABLE obs_wide AS
    SELECT h.round_id, h.household_id, h.sgg_code, h.emd_code, {columns}
    FROM (SELECT r.round_id, hh.household_id, hh.sgg_code, hh.emd_code
          FROM households hh CROSS JOIN rounds r) h
    LEFT JOIN observations o USING (round_id, household_id)
    GROUP BY ALL ORDER BY h.round_id, h.household_id"""
LAYOUT_LONG_PREVALENCE = """
    SELECT emd_code, indicator_code, count(*) FROM observations WHERE round_id = ? GROUP BY ALL"""
LAYOUT_WIDE_PREVALENCE = """
    SELECT emd_code, {counts} FROM obs_wide WHERE round_id = ? GROUP BY emd_code"""
LAYOUT_LONG_SGG = "SELECT household_id, indicator_code, value FROM observations WHERE round_id = ? AND sgg_code = ?"
LAYOUT_WIDE_SGG = "SELECT * FROM obs_wide WHERE round_id = ? AND sgg_code = ?"
# On-disk size: distinct storage blocks (256 KiB each) the table's columns occupy.
LAYOUT_BLOCK_BYTES = "SELECT count(DISTINCT block_id) * 262144 FROM pragma_storage_info('{table}') WHERE block_id >= 0"

# --- model features ---
# One row per household valid in round $t, with signal history from rounds $t1..$t3
# only, and the 읍면동's share of signalled households in $t.  Nothing from a round
# after $t is read.  Categorical columns come back as 1-based positions in the
# vocabulary lists $sex, $housing, $welfare, $emd_types (0 = not in the list), and region
# codes as integers, because turning millions of strings into Python objects costs more
# than the query.  Indicator values are fetched long by FEATURE_SIGNALS and pivoted in numpy.
FEATURES = """
WITH hh_all AS (
    SELECT household_id, sgg_code, emd_code, head_age, head_sex, household_size,
           one_person, housing_type, welfare_status
    FROM households
    WHERE valid_from_round <= $t AND (valid_to_round IS NULL OR valid_to_round >= $t) AND {scope}),
cur AS (
    SELECT o.household_id, o.indicator_code, o.value, i.domain, i.kind
    FROM observations o JOIN indicators i ON i.code = o.indicator_code
    WHERE o.round_id = $t AND {scope}),
prev AS (
    SELECT household_id, indicator_code FROM observations WHERE round_id = $t1 AND {scope}),
hist AS (
    SELECT household_id,
           bool_or(round_id = $t1) AS s1, bool_or(round_id = $t2) AS s2, bool_or(round_id = $t3) AS s3,
           count(*) FILTER (WHERE round_id = $t1) AS n_signals_prev
    FROM observations WHERE round_id IN ($t1, $t2, $t3) AND {scope}
    GROUP BY household_id),
agg AS (
    SELECT c.household_id,
           count(*) AS n_signals,
           count(DISTINCT c.domain) AS n_domains,
           max(c.value) FILTER (WHERE c.kind = 'months') AS max_months,
           sum(c.value) FILTER (WHERE c.kind = 'amount') AS total_amount,
           count(*) FILTER (WHERE p.household_id IS NULL) AS n_new
    FROM cur c LEFT JOIN prev p ON p.household_id = c.household_id AND p.indicator_code = c.indicator_code
    GROUP BY c.household_id),
emd_rate AS (
    SELECT h.emd_code, count(a.household_id) / count(*) AS emd_signal_rate
    FROM hh_all h LEFT JOIN agg a USING (household_id)
    GROUP BY h.emd_code),
hh AS (SELECT * FROM hh_all WHERE {subset})
SELECT hh.household_id,
       hh.sgg_code::INTEGER AS sgg, hh.emd_code::BIGINT AS emd,
       hh.head_age, hh.household_size,
       hh.one_person,
       coalesce(list_position($sex, hh.head_sex), 0) AS head_sex,
       coalesce(list_position($housing, hh.housing_type), 0) AS housing_type,
       coalesce(list_position($welfare, hh.welfare_status), 0) AS welfare_status,
       coalesce(list_position($emd_types, r.emd_type), 0) AS emd_type,
       coalesce(agg.n_signals, 0) AS n_signals,
       coalesce(agg.n_domains, 0) AS n_domains,
       coalesce(agg.max_months, 0) AS max_months,
       coalesce(agg.total_amount, 0) AS total_amount,
       coalesce(agg.n_new, 0) AS n_new,
       coalesce(hist.n_signals_prev, 0) AS n_signals_prev,
       (coalesce(hist.s1, false)::INT + coalesce(hist.s2, false)::INT + coalesce(hist.s3, false)::INT) AS prev_rounds_signalled,
       CASE WHEN coalesce(agg.n_signals, 0) = 0 THEN 0
            ELSE 1 + (coalesce(hist.s1, false))::INT + (coalesce(hist.s1 AND hist.s2, false))::INT
                   + (coalesce(hist.s1 AND hist.s2 AND hist.s3, false))::INT END AS streak,
       e.emd_signal_rate
FROM hh
JOIN regions r ON r.code = hh.emd_code
JOIN emd_rate e ON e.emd_code = hh.emd_code
LEFT JOIN agg USING (household_id)
LEFT JOIN hist USING (household_id)"""
# Restricts FEATURES to the households visited in round $t (training and evaluation rows).
FEATURES_VISITED = "household_id IN (SELECT household_id FROM visits WHERE round_id = $t)"
FEATURE_SIGNALS = """
    SELECT o.household_id, i.sort_order AS j, o.value
    FROM observations o JOIN indicators i ON i.code = o.indicator_code
    WHERE o.round_id = $t AND {scope} AND {subset}"""

# Visit outcomes of round ? as labels: need confirmed, supported or refused support = 1;
# contacted without need or not eligible = 0; unreachable households have no label.
LABELS = """
    SELECT household_id,
           (outcome IN ('need_confirmed', 'supported', 'refused'))::INT AS label
    FROM visits WHERE round_id = ? AND outcome <> 'unreachable'"""


# --- risk model ---
# Rounds with visit outcomes usable as labels, per channel list $channels.
LABELLED_ROUNDS = """
    SELECT round_id, count(*) AS labelled,
           count(*) FILTER (WHERE outcome IN ('need_confirmed', 'supported', 'refused')) AS positives
    FROM visits
    WHERE outcome <> 'unreachable' AND list_contains($channels, channel)
    GROUP BY round_id ORDER BY round_id"""
# Labels of round $t from the channels $channels (see blindspot/model/pipeline.py for why not all).
CHANNEL_LABELS = """
    SELECT household_id, (outcome IN ('need_confirmed', 'supported', 'refused'))::INT AS label
    FROM visits
    WHERE round_id = $t AND outcome <> 'unreachable' AND list_contains($channels, channel)"""
# Households of a round per 시군구, to cut scoring into batches of whole 시군구.
HOUSEHOLDS_PER_SGG = """
    SELECT sgg_code, count(*) AS households FROM households
    WHERE valid_from_round <= ? AND (valid_to_round IS NULL OR valid_to_round >= ?) AND {scope}
    GROUP BY sgg_code ORDER BY sgg_code"""
# Synthetic ground truth of a round (evaluation only; empty for real data).
TRUTH_IDS = "SELECT household_id FROM synthetic_crisis WHERE round_id = ? ORDER BY household_id"
TRUTH_ROUND_COUNT = "SELECT count(*) FROM synthetic_crisis WHERE round_id = ?"
DELETE_SCORES = "DELETE FROM scores WHERE round_id = ?"
INSERT_SCORES = "INSERT INTO scores SELECT * FROM {relation}"
INSERT_SCORE_RUN = "INSERT INTO score_runs VALUES (?, ?, ?, ?, ?, ?)"
SCORE_RUNS = "SELECT * FROM score_runs ORDER BY scored_at"
SCORED_ROUNDS = """
    SELECT round_id, model_version, count(*) AS households,
           count(*) FILTER (WHERE band = 'high') AS high,
           count(*) FILTER (WHERE band = 'medium') AS medium,
           count(*) FILTER (WHERE band = 'low') AS low
    FROM scores GROUP BY ALL ORDER BY round_id"""
BAND_COUNTS = """
    SELECT band, count(*) AS households FROM scores
    WHERE round_id = ? AND {scope} GROUP BY band"""
# Top-ranked households of a scope (household level: callers check the scope first).
TOP_SCORES = """
    SELECT h.pseudo_id, s.sgg_code, s.emd_code, r.name AS emd_name, s.probability, s.band, s.rank_in_emd,
           s.reason_1, s.reason_2, s.reason_3
    FROM scores s
    JOIN households h USING (household_id)
    JOIN regions r ON r.code = s.emd_code
    WHERE s.round_id = ? AND {scope}
    ORDER BY s.probability DESC, h.pseudo_id
    LIMIT ?"""


# --- maps and hotspots ---
# Map measures come back long, one row per (region, measure) with the household count
# behind it, so one statement serves any set of age bands and indicator domains.
# {level_col} is sido_code, sgg_code, emd_code or the literal '00' (the whole country)
# for households, and {obs_level_col} / {visit_level_col} the same for observations
# (alias o) and visits, which hold no 시도 code.
# {scope}, {obs_scope} and {visit_scope} are the caller's 시군구 condition on each table.
# Named parameters: $t round, $band_keys/$band_lo/$band_hi the
# head-of-household age bands (inclusive years).
# Signals and visits are counted from their own tables' region columns (copied from
# the household at load, and only households of that round get rows), because joining
# a round's million signals back to 24 million households doubled the cost.  A
# household's domains are a bit mask (bit = domains.sort_order): list(DISTINCT …) per
# household was eight times slower.  Households are first grouped by (region, mask),
# at most 2^domains rows per region, so the domain split runs on a small table.
# One-person households by band are grouped by (region, age) first and banded after,
# so any number of (overlapping) bands costs one scan.
# Counts come back exact: small-count suppression (primary and complementary) is applied
# in Python by blindspot.access.protect (blindspot.maps.data.region_counts), and rates are
# formed only from pairs where both counts survived.
# The measures of one region level from CTEs ``ages`` (code, head_age, n, one) and
# ``masks`` (code, mask, n), plus live visits: shared by MAP_COUNTS (live tables) and
# MAP_COUNTS_STATS (per-읍면동 aggregates), so both give the same numbers (tested).
_MAP_MEASURES = """
    bands AS (
        SELECT unnest($band_keys) AS band, unnest($band_lo) AS lo, unnest($band_hi) AS hi),
    counts AS (
        SELECT code, 'households' AS measure, sum(n) AS n FROM ages GROUP BY code
        UNION ALL
        SELECT code, 'one_person', sum(one) FROM ages GROUP BY code
        UNION ALL
        SELECT ages.code, 'one_person_' || b.band, sum(ages.one)
        FROM ages JOIN bands b ON ages.head_age BETWEEN b.lo AND b.hi GROUP BY ALL
        UNION ALL
        SELECT m.code, 'domain_' || d.domain, sum(m.n)
        FROM masks m JOIN domains d ON (m.mask & (1::BIGINT << d.sort_order)) <> 0 GROUP BY ALL
        UNION ALL
        SELECT code, 'signal_any', sum(n) FROM masks GROUP BY code
        UNION ALL
        SELECT code, unnest(['visited', 'confirmed', 'supported']),
               unnest([count(DISTINCT household_id),
                       count(DISTINCT household_id) FILTER (WHERE outcome IN ('need_confirmed', 'supported')),
                       count(DISTINCT household_id) FILTER (WHERE outcome = 'supported')])
        FROM (SELECT {visit_level_col} AS code, household_id, outcome FROM visits
              WHERE round_id = $t AND {visit_scope})
        GROUP BY code)
    SELECT code, measure, n
    FROM counts ORDER BY code, measure"""

MAP_COUNTS = """
    WITH ages AS (
        SELECT {level_col} AS code, head_age, count(*) AS n, count(*) FILTER (WHERE one_person) AS one
        FROM households
        WHERE valid_from_round <= $t AND (valid_to_round IS NULL OR valid_to_round >= $t) AND {scope}
        GROUP BY ALL),
    sig AS (
        SELECT o.household_id, any_value({obs_level_col}) AS code,
               bit_or(1::BIGINT << d.sort_order) AS mask
        FROM observations o
        JOIN indicators i ON i.code = o.indicator_code
        JOIN domains d ON d.domain = i.domain
        WHERE o.round_id = $t AND {obs_scope}
        GROUP BY o.household_id),
    masks AS (
        SELECT code, mask, count(*) AS n FROM sig GROUP BY ALL),
""" + _MAP_MEASURES

# Risk scores exist once a model has scored the round; the map reads them only when the
# table exists, so a database built before the model still draws every other measure.
HAS_SCORES_TABLE = (
    "SELECT count(*) FROM information_schema.tables "
    "WHERE table_name = 'scores' AND table_schema = 'main'")
SCORES_IN_ROUND = "SELECT count(*) FROM scores WHERE round_id = ?"

# Households at risk (band 위험 or 주의), households scored and mean probability per region;
# same slots as MAP_COUNTS, exact counts (suppressed by the caller).
MAP_RISK = """
    WITH hh AS (
        SELECT household_id, {level_col} AS code
        FROM households
        WHERE valid_from_round <= $t AND (valid_to_round IS NULL OR valid_to_round >= $t) AND {scope}),
    agg AS (
        SELECT hh.code, count(*) AS scored,
               count(*) FILTER (WHERE s.band IN ('high', 'medium')) AS at_risk,
               avg(s.probability) AS mean_probability
        FROM scores s JOIN hh USING (household_id)
        WHERE s.round_id = $t AND {score_scope}
        GROUP BY hh.code)
    SELECT code, at_risk, scored, mean_probability
    FROM agg ORDER BY code"""

# What the protected counts of a round depend on beyond the build (blindspot.maps.data's
# memo): that round's visits and outcomes, its scores, and the loads of real rounds.
PROTECT_FINGERPRINT = """
    SELECT (SELECT count(*) FROM visits WHERE round_id = $t),
           (SELECT coalesce(sum(hash(household_id, outcome, channel)), 0) FROM visits WHERE round_id = $t),
           (SELECT count(*) FROM ingest_loads)"""
PROTECT_FINGERPRINT_SCORES = """
    SELECT count(*), coalesce(sum(hash(household_id, band)), 0) FROM scores WHERE round_id = $t"""
PREVIOUS_ROUND = "SELECT max(round_id) FROM rounds WHERE round_id < ?"
ROUNDS_UP_TO = "SELECT round_id, round_code FROM rounds WHERE round_id <= ? ORDER BY round_id"

# The 시군구 of one 시도 (narrowing a view to one 시도 lets DuckDB prune by 시군구).
SGG_OF_SIDO = "SELECT code FROM regions WHERE level = 'sgg' AND sido_code = ? ORDER BY code"

# Top-ranked households of one 시군구 or 읍면동 with their signals as reasons.  $area is
# a 5- or 10-digit code, matched against the household's 시군구 or 읍면동.
TOP_HOUSEHOLDS = """
    WITH top AS (
        SELECT s.household_id, s.probability, s.band
        FROM scores s
        WHERE s.round_id = $t AND {score_scope}
          AND (s.sgg_code = $area OR s.emd_code = $area)
        ORDER BY s.probability DESC, s.household_id
        LIMIT $limit)
    SELECT h.pseudo_id, r.name AS emd_name, top.band, top.probability,
           string_agg(replace(i.reason_ko, '{{value}}', o.value::VARCHAR), ', ' ORDER BY i.sort_order) AS reasons
    FROM top
    JOIN households h ON h.household_id = top.household_id
        AND h.valid_from_round <= $t AND (h.valid_to_round IS NULL OR h.valid_to_round >= $t)
    JOIN regions r ON r.code = h.emd_code
    LEFT JOIN observations o ON o.household_id = top.household_id AND o.round_id = $t AND {obs_scope}
    LEFT JOIN indicators i ON i.code = o.indicator_code
    GROUP BY ALL
    ORDER BY top.probability DESC, h.pseudo_id"""

# Queen neighbours of the 읍면동 (both directions are stored), both ends inside the scope:
# {scope} and {neighbor_scope} test the first five digits (the 시군구) of each code.
EMD_ADJACENCY = """
    SELECT emd_code, neighbor_code FROM region_adjacency
    WHERE {scope} AND {neighbor_scope}
    ORDER BY emd_code, neighbor_code"""

# Household points of one 시군구 for the hexagon micro-map.  {risk_join} and {risk} are
# HEX_RISK_JOIN and HEX_RISK_COLUMN when the scores table exists, else '' and HEX_NO_RISK_COLUMN.
HEX_POINTS = """
    SELECT h.lon, h.lat, h.one_person, {risk} AS at_risk
    FROM households h {risk_join}
    WHERE h.valid_from_round <= $t AND (h.valid_to_round IS NULL OR h.valid_to_round >= $t)
      AND h.sgg_code = $sgg AND {scope}"""
HEX_RISK_JOIN = "LEFT JOIN scores s ON s.household_id = h.household_id AND s.round_id = $t"
HEX_RISK_COLUMN = "coalesce(s.band IN ('high', 'medium'), false)"
HEX_NO_RISK_COLUMN = "NULL::BOOLEAN"

DOMAINS = "SELECT domain, name_ko FROM domains ORDER BY sort_order"


# --- council briefing ---
# Visits of round ? per channel and outcome, in scope (aggregates; suppressed by the caller).
BRIEFING_CHANNELS = """
    SELECT channel,
           count(*) AS flagged,
           count(*) FILTER (WHERE outcome <> 'unreachable') AS contacted,
           count(*) FILTER (WHERE outcome IN ('need_confirmed', 'supported')) AS confirmed,
           count(*) FILTER (WHERE outcome = 'supported') AS supported
    FROM visits WHERE round_id = ? AND {scope}
    GROUP BY channel ORDER BY channel"""
BRIEFING_TARGETS = "SELECT indicator, target FROM briefing_targets WHERE area_code = ?"
# Households and one-person households of round ? in scope (one scan, no grouping).
BRIEFING_HOUSEHOLDS = """
    SELECT count(*), count(*) FILTER (WHERE one_person) FROM households
    WHERE valid_from_round <= ? AND (valid_to_round IS NULL OR valid_to_round >= ?) AND {scope}"""
UPSERT_BRIEFING_TARGET = "INSERT OR REPLACE INTO briefing_targets VALUES (?, ?, ?, ?, ?)"
DELETE_BRIEFING_TARGET = "DELETE FROM briefing_targets WHERE area_code = ? AND indicator = ?"


# --- risk lists, exports, audit ---
# Household-level statements: callers (blindspot.casework.lists, blindspot.casework.outcomes) check that the
# scope allows household rows and write the audit record.  {scope}, {obs_scope},
# {visit_scope} and {score_scope} are the caller's 시군구 condition on households,
# observations (alias o), visits (alias v) and scores (alias s), as $p0, $p1, ...
# Named parameters: $t round, $prev the previous loaded round (NULL if none), $emd one
# 읍면동 or NULL, $bands list of band codes, $indicator / $domain or NULL, $size_lo/$size_hi
# household size, $age_lo/$age_hi head's age (inclusive), $new_only, $not_visited,
# $trim and $capacity (share of a 읍면동's households it can visit this round).
# "New" = at least one signal this round that the household did not have last round.
RISK_LIST = """
    WITH hh AS (
        SELECT household_id, pseudo_id, sgg_code, emd_code, head_age, household_size
        FROM households
        WHERE valid_from_round <= $t AND (valid_to_round IS NULL OR valid_to_round >= $t) AND {scope}),
    emd_size AS (SELECT emd_code, count(*) AS households FROM hh GROUP BY emd_code),
    cur AS (
        SELECT o.household_id, o.indicator_code, i.domain
        FROM observations o JOIN indicators i ON i.code = o.indicator_code
        WHERE o.round_id = $t AND {obs_scope}),
    prev AS (SELECT o.household_id, o.indicator_code FROM observations o WHERE o.round_id = $prev AND {obs_scope}),
    sig AS (
        SELECT c.household_id,
               bool_or(p.household_id IS NULL) AS new_signal,
               coalesce(bool_or(c.indicator_code = $indicator), false) AS has_indicator,
               coalesce(bool_or(c.domain = $domain), false) AS has_domain
        FROM cur c LEFT JOIN prev p ON p.household_id = c.household_id AND p.indicator_code = c.indicator_code
        GROUP BY c.household_id),
    visited AS (SELECT DISTINCT v.household_id FROM visits v WHERE v.round_id = $t AND {visit_scope}),
    listed AS (
        SELECT hh.pseudo_id, s.sgg_code, s.emd_code, s.probability, s.band, s.rank_in_emd, s.model_version,
               s.reason_1, s.reason_2, s.reason_3, hh.head_age, hh.household_size,
               coalesce(sig.new_signal, false) AS new_signal, vis.household_id IS NOT NULL AS visited
        FROM scores s
        JOIN hh ON hh.household_id = s.household_id
        LEFT JOIN sig ON sig.household_id = s.household_id
        LEFT JOIN visited vis ON vis.household_id = s.household_id
        WHERE s.round_id = $t AND {score_scope}
          AND ($emd IS NULL OR s.emd_code = $emd)
          AND list_contains($bands, s.band)
          AND ($indicator IS NULL OR coalesce(sig.has_indicator, false))
          AND ($domain IS NULL OR coalesce(sig.has_domain, false))
          AND hh.household_size BETWEEN $size_lo AND $size_hi
          AND hh.head_age BETWEEN $age_lo AND $age_hi
          AND (NOT $new_only OR coalesce(sig.new_signal, false))
          AND (NOT $not_visited OR vis.household_id IS NULL)),
    ranked AS (
        SELECT l.*, row_number() OVER (PARTITION BY l.emd_code ORDER BY l.probability DESC, l.pseudo_id) AS rank_listed,
               greatest(1, round(e.households * $capacity))::INTEGER AS capacity
        FROM listed l JOIN emd_size e ON e.emd_code = l.emd_code)
    SELECT ranked.pseudo_id, ranked.sgg_code, g.name AS sgg_name, ranked.emd_code, r.name AS emd_name,
           r.full_name AS emd_full_name, ranked.probability, ranked.band, ranked.rank_in_emd, ranked.rank_listed,
           ranked.capacity, ranked.reason_1, ranked.reason_2, ranked.reason_3, ranked.head_age,
           ranked.household_size, ranked.new_signal, ranked.visited, ranked.model_version
    FROM ranked
    JOIN regions r ON r.code = ranked.emd_code
    JOIN regions g ON g.code = ranked.sgg_code
    WHERE NOT $trim OR ranked.rank_listed <= ranked.capacity
    ORDER BY ranked.probability DESC, ranked.pseudo_id"""

# Scored households per region ({level_col}: sgg_code or emd_code of scores) by band, and
# how many were visited; exact counts (blindspot.casework.lists.risk_summary suppresses them).
RISK_SUMMARY = """
    WITH visited AS (SELECT DISTINCT v.household_id FROM visits v WHERE v.round_id = $t AND {visit_scope}),
    agg AS (
        SELECT s.{level_col} AS code, count(*) AS scored,
               count(*) FILTER (WHERE s.band = 'high') AS high,
               count(*) FILTER (WHERE s.band = 'medium') AS medium,
               count(*) FILTER (WHERE s.band = 'low') AS low,
               count(vis.household_id) FILTER (WHERE s.band IN ('high', 'medium')) AS visited_at_risk
        FROM scores s LEFT JOIN visited vis ON vis.household_id = s.household_id
        WHERE s.round_id = $t AND {score_scope} AND ($emd IS NULL OR s.emd_code = $emd)
        GROUP BY ALL)
    SELECT r.code, r.full_name,
           scored, high, medium, low, visited_at_risk
    FROM agg JOIN regions r ON r.code = agg.code
    ORDER BY r.code"""

INDICATOR_LIST = "SELECT code, name_ko, domain FROM indicators ORDER BY sort_order"
MODEL_VERSION_OF_ROUND = "SELECT any_value(model_version) FROM scores WHERE round_id = ?"

# The household an outcome is for: scored in round ? and inside the scope (with its band;
# the caller also checks it is on the list shown).
OUTCOME_TARGET = """
    SELECT s.household_id, s.sgg_code, s.emd_code, s.band
    FROM scores s JOIN households h ON h.household_id = s.household_id
    WHERE s.round_id = ? AND h.pseudo_id = ? AND {scope}"""
# One visit row per household and round: a new outcome replaces the earlier one (keeping
# how the household was found) only once the official confirmed it; a household not
# visited before is a local selection.
VISIT_EARLIER = """
    SELECT outcome, support_type, channel, recorded_at, recorded_by
    FROM visits WHERE round_id = ? AND household_id = ?"""
VISIT_UPDATE = """
    UPDATE visits SET outcome = ?, support_type = ?, recorded_at = ?, recorded_by = ?
    WHERE round_id = ? AND household_id = ?"""
VISIT_INSERT = "INSERT INTO visits VALUES (?, ?, ?, ?, 'local', ?, ?, ?, ?)"

AUDIT_INSERT = """
    INSERT INTO audit_log (happened_at, user_name, role, action, scope, filters, row_count, purpose, file_hash, detail)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING event_id"""
AUDIT_LIST = """
    SELECT event_id, happened_at, user_name, role, action, scope, filters, row_count, purpose, file_hash, detail
    FROM audit_log
    WHERE ($user IS NULL OR user_name = $user) AND ($action IS NULL OR action = $action)
      AND happened_at >= $since AND happened_at < $until
    ORDER BY event_id DESC
    LIMIT $limit"""
AUDIT_USERS = "SELECT DISTINCT user_name FROM audit_log ORDER BY user_name"


# --- rebuilding a database keeps its audit trail ---
# blindspot/demo/build.py reads these from the database being replaced (read-only) and writes
# them into the new build before the swap.  Entered outcomes are the visits an official
# recorded (the generator's own visits say recorded_by = 'synthetic'); they are matched to
# the new build's households by pseudonymous id and round.
TABLE_EXISTS = ("SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_name = ?")
OLD_DB_FACTS = """
    SELECT (SELECT count(*) FROM ingest_loads) AS loads,
           (SELECT count(*) FROM rounds WHERE source <> 'synthetic') AS real_rounds,
           (SELECT count(*) FROM audit_log) AS audit_rows,
           (SELECT count(*) FROM briefing_targets) AS targets,
           (SELECT count(*) FROM visits WHERE recorded_by <> 'synthetic') AS entered"""
OLD_DB_REAL_ROUNDS = "SELECT count(*) FROM rounds WHERE source <> 'synthetic'"
OLD_DB_ENTERED = "SELECT count(*) FROM visits WHERE recorded_by <> 'synthetic'"
CARRY_AUDIT = "SELECT * FROM audit_log ORDER BY event_id"
CARRY_TARGETS = "SELECT * FROM briefing_targets"
CARRY_LOADS = "SELECT * FROM ingest_loads"
CARRY_ENTERED_VISITS = """
    SELECT v.round_id, h.pseudo_id, v.channel, v.outcome, v.support_type, v.recorded_at, v.recorded_by
    FROM visits v JOIN households h ON h.household_id = v.household_id
        AND h.valid_from_round <= v.round_id AND (h.valid_to_round IS NULL OR h.valid_to_round >= v.round_id)
    WHERE v.recorded_by <> 'synthetic'"""
# The copied log keeps its event ids; the sequence must then start after the largest.
AUDIT_SEQ_ADVANCE = "SELECT max(nextval('audit_seq')) FROM range(?)"
CARRY_STAGE_VISITS = """
    CREATE TEMP TABLE carried_visits AS
    SELECT c.round_id, h.household_id, h.sgg_code, h.emd_code, c.channel, c.outcome, c.support_type,
           c.recorded_at, c.recorded_by
    FROM {relation} c JOIN households h ON h.pseudo_id = c.pseudo_id
        AND h.valid_from_round <= c.round_id AND (h.valid_to_round IS NULL OR h.valid_to_round >= c.round_id)"""
CARRY_STAGED_COUNT = "SELECT count(*) FROM carried_visits"
CARRY_REPLACE_VISITS = (
    """DELETE FROM visits WHERE EXISTS (SELECT 1 FROM carried_visits c
        WHERE c.round_id = visits.round_id AND c.household_id = visits.household_id)""",
    "INSERT INTO visits SELECT * FROM carried_visits",
    "DROP TABLE carried_visits",
)


# --- ingest of extraction files ---
# A round is loaded in one transaction (blindspot/ingest/load.py).  Named parameters: $t the
# round, $prev / $next the rounds before and after it (round ids are not consecutive
# integers across years), $at / $by when and by whom.  {relation} is the file's rows,
# registered by Store.run_with.  Household versions are cut around $t so that, after a
# load, the households of round $t are exactly the file's.
INGEST_ROUND_EXISTS = "SELECT count(*) FROM rounds WHERE round_id = ?"
# The 시군구 a round's households cover (partial rounds).
ROUND_SGG_COVERED = """
    SELECT DISTINCT sgg_code FROM households
    WHERE valid_from_round <= ? AND (valid_to_round IS NULL OR valid_to_round >= ?) ORDER BY 1"""
INGEST_LAST_LOAD = """
    SELECT file_sha256, file_name, loaded_at FROM ingest_loads
    WHERE round_id = ? AND kind = ? ORDER BY loaded_at DESC, load_id DESC LIMIT 1"""
INGEST_EMD_GEOMETRY = "SELECT code, geometry FROM regions WHERE level = 'emd' ORDER BY code"
# Replacing a round: its signals, visits, scores and (synthetic) ground truth go.
INGEST_CLEAR_ROUND = (
    "DELETE FROM observations WHERE round_id = $t",
    "DELETE FROM visits WHERE round_id = $t",
    "DELETE FROM scores WHERE round_id = $t",
    "DELETE FROM score_runs WHERE round_id = $t",
    "DELETE FROM synthetic_crisis WHERE round_id = $t",
    # A replaced demo round now holds the file's households: never synthetic-only code paths.
    "UPDATE rounds SET source = 'ingest' WHERE round_id = $t",
)
# Versions covering $t: the part after $t is kept as a new version, the part before is
# shortened to end at $prev, and a version that began at $t is removed.
INGEST_CUT_VERSIONS = (
    """INSERT INTO households
       SELECT * REPLACE ($next AS valid_from_round) FROM households
       WHERE valid_from_round <= $t AND (valid_to_round IS NULL OR valid_to_round > $t)""",
    """UPDATE households SET valid_to_round = $prev
       WHERE valid_from_round < $t AND (valid_to_round IS NULL OR valid_to_round >= $t)""",
    """DELETE FROM households
       WHERE valid_from_round = $t AND (valid_to_round IS NULL OR valid_to_round >= $t)""",
)
# The file's households with internal ids: a pseudonymous id seen before keeps its
# household_id (every version of a household shares it); new ones get ids after the
# largest in use, in pseudo_id order, so the same file always gives the same ids.
INGEST_STAGE_HOUSEHOLDS = """
    CREATE OR REPLACE TEMP TABLE ingest_hh AS
    WITH known AS (
        SELECT pseudo_id, min(household_id) AS known_id FROM households
        WHERE pseudo_id IN (SELECT pseudo_id FROM {relation}) GROUP BY pseudo_id),
    f AS (SELECT f.*, k.known_id FROM {relation} f LEFT JOIN known k USING (pseudo_id))
    SELECT f.* EXCLUDE (known_id),
           coalesce(known_id, (SELECT coalesce(max(household_id), 0) FROM households)
                    + row_number() OVER (PARTITION BY known_id IS NULL ORDER BY pseudo_id))::INTEGER AS household_id
    FROM f"""
# A household whose version ends at $prev with the same attributes continues into $t.
INGEST_EXTEND_VERSIONS = """
    UPDATE households SET valid_to_round = $t
    FROM ingest_hh n
    WHERE households.household_id = n.household_id AND households.valid_to_round = $prev
      AND households.emd_code = n.emd_code AND households.head_age = n.head_age
      AND households.head_sex = n.head_sex AND households.household_size = n.household_size
      AND households.one_person = n.one_person AND households.housing_type = n.housing_type
      AND households.welfare_status = n.welfare_status"""
INGEST_INSERT_HOUSEHOLDS = """
    INSERT INTO households
    SELECT household_id, pseudo_id, sido_code, sgg_code, emd_code, head_age, head_sex, household_size,
           one_person, housing_type, welfare_status, lon, lat, $t AS valid_from_round, $t AS valid_to_round
    FROM ingest_hh n
    WHERE NOT EXISTS (SELECT 1 FROM households h
                      WHERE h.household_id = n.household_id AND h.valid_from_round < $t AND h.valid_to_round = $t)
    ORDER BY emd_code, pseudo_id"""
INGEST_INSERT_OBSERVATIONS = """
    INSERT INTO observations
    SELECT $t, n.household_id, n.sgg_code, n.emd_code, o.indicator_code, o.value
    FROM {relation} o JOIN ingest_hh n USING (pseudo_id)
    ORDER BY n.sgg_code, n.emd_code, n.household_id, o.indicator_code"""
INGEST_INSERT_VISITS = """
    INSERT INTO visits
    SELECT $t, n.household_id, n.sgg_code, n.emd_code, v.channel, v.outcome, v.support_type, $at, $by
    FROM {relation} v JOIN ingest_hh n USING (pseudo_id)
    ORDER BY n.sgg_code, n.household_id"""
INGEST_DROP_STAGE = "DROP TABLE IF EXISTS ingest_hh"
INGEST_INSERT_LOAD = "INSERT INTO ingest_loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
INGEST_HISTORY = """
    SELECT l.loaded_at, coalesce(r.round_code, l.round_id::VARCHAR) AS round_code, l.kind, l.file_name,
           l.rows, l.loaded_by, l.replaced, l.seconds, l.file_sha256, l.load_id
    FROM ingest_loads l LEFT JOIN rounds r USING (round_id)
    ORDER BY l.loaded_at DESC, l.load_id DESC"""

# Export of one round in the ingest format (sample files, round trips).  {pivot} has one
# "max(value) FILTER (WHERE indicator_code = '<code>') AS <code>" per catalogue code
# (validated identifiers of the shipped catalogue); {scope}/{obs_scope} restrict 시군구.
EXPORT_HOUSEHOLDS_WIDE = """
    WITH sig AS (
        SELECT household_id, {pivot} FROM observations o
        WHERE round_id = $t AND {obs_scope} GROUP BY household_id)
    SELECT h.pseudo_id, h.emd_code, h.head_age, h.head_sex, h.household_size, h.one_person::INTEGER AS one_person,
           h.housing_type, h.welfare_status, sig.* EXCLUDE (household_id)
    FROM households h LEFT JOIN sig USING (household_id)
    WHERE h.valid_from_round <= $t AND (h.valid_to_round IS NULL OR h.valid_to_round >= $t) AND {scope}
    ORDER BY h.emd_code, h.pseudo_id"""
EXPORT_HOUSEHOLDS_LONG = """
    SELECT h.pseudo_id, h.emd_code, h.head_age, h.head_sex, h.household_size, h.one_person::INTEGER AS one_person,
           h.housing_type, h.welfare_status, o.indicator_code, o.value
    FROM households h
    LEFT JOIN (SELECT household_id, indicator_code, value FROM observations o
               WHERE round_id = $t AND {obs_scope}) o USING (household_id)
    WHERE h.valid_from_round <= $t AND (h.valid_to_round IS NULL OR h.valid_to_round >= $t) AND {scope}
    ORDER BY h.emd_code, h.pseudo_id, o.indicator_code"""
EXPORT_VISITS = """
    SELECT h.pseudo_id, v.channel, v.outcome, v.support_type
    FROM visits v JOIN households h ON h.household_id = v.household_id
        AND h.valid_from_round <= $t AND (h.valid_to_round IS NULL OR h.valid_to_round >= $t)
    WHERE v.round_id = $t AND {scope}
    ORDER BY h.pseudo_id"""
# What a round holds per 읍면동 (round trips and the load summary).
ROUND_HOUSEHOLDS_PER_EMD = """
    SELECT emd_code, count(*) AS households, count(*) FILTER (WHERE one_person) AS one_person
    FROM households
    WHERE valid_from_round <= ? AND (valid_to_round IS NULL OR valid_to_round >= ?)
    GROUP BY emd_code ORDER BY emd_code"""
ROUND_SIGNALS_PER_EMD = """
    SELECT emd_code, indicator_code, count(*) AS households, sum(value) AS value_sum
    FROM observations WHERE round_id = ? GROUP BY ALL ORDER BY ALL"""
ROUND_VISITS_PER_EMD = """
    SELECT emd_code, channel, outcome, count(*) AS visits
    FROM visits WHERE round_id = ? GROUP BY ALL ORDER BY ALL"""


# --- per-읍면동 aggregates (blindspot/db/aggregates.py) ---------------------------------------------
STATS_DELETE = "DELETE FROM {table} WHERE round_id = ?"
STATS_INSERT_AGES = """
    INSERT INTO stats_ages
    SELECT $t, sido_code, sgg_code, emd_code, head_age, count(*), count(*) FILTER (WHERE one_person)
    FROM households
    WHERE valid_from_round <= $t AND (valid_to_round IS NULL OR valid_to_round >= $t)
    GROUP BY ALL"""
STATS_INSERT_MASKS = """
    INSERT INTO stats_masks
    WITH sig AS (
        SELECT o.household_id, any_value(o.emd_code) AS emd_code, bit_or(1::BIGINT << d.sort_order) AS mask
        FROM observations o
        JOIN indicators i ON i.code = o.indicator_code
        JOIN domains d ON d.domain = i.domain
        WHERE o.round_id = $t
        GROUP BY o.household_id)
    SELECT $t, left(emd_code, 2), left(emd_code, 5), emd_code, mask, count(*) FROM sig GROUP BY ALL"""
STATS_INSERT_RISK = """
    INSERT INTO stats_risk
    SELECT $t, left(s.sgg_code, 2), s.sgg_code, s.emd_code, count(*),
           count(*) FILTER (WHERE s.band IN ('high', 'medium')), sum(s.probability)
    FROM scores s
    WHERE s.round_id = $t
    GROUP BY ALL"""
STATS_READY = "SELECT count(*) FROM stats_ages WHERE round_id = ?"
STATS_RISK_READY = "SELECT count(*) FROM stats_risk WHERE round_id = ?"
# MAP_COUNTS from the aggregates: the same measures and slots.
MAP_COUNTS_STATS = """
    WITH ages AS (
        SELECT {level_col} AS code, head_age, sum(n) AS n, sum(one) AS one
        FROM stats_ages WHERE round_id = $t AND {scope}
        GROUP BY ALL),
    masks AS (
        SELECT {level_col} AS code, mask, sum(n) AS n
        FROM stats_masks WHERE round_id = $t AND {scope}
        GROUP BY ALL),
""" + _MAP_MEASURES
MAP_RISK_STATS = """
    WITH agg AS (
        SELECT {level_col} AS code, sum(scored) AS scored, sum(at_risk) AS at_risk,
               sum(sum_probability) / sum(scored) AS mean_probability
        FROM stats_risk WHERE round_id = $t AND {scope}
        GROUP BY ALL)
    SELECT code, at_risk, scored, mean_probability
    FROM agg ORDER BY code"""

# Replacing a round keeps the outcomes officials entered in the app (a `record_outcome`
# audit record names the household and round): they are held by pseudonymous id while the
# round is cleared and written back for the same households, unless the new file brings
# its own outcome for that household.
INGEST_HOLD_ENTERED = """
    CREATE OR REPLACE TEMP TABLE ingest_entered AS
    SELECT v.*, (SELECT any_value(h.pseudo_id) FROM households h WHERE h.household_id = v.household_id)
               AS pseudo_id
    FROM visits v
    WHERE v.round_id = $t AND EXISTS (
        SELECT 1 FROM audit_log a
        WHERE a.action = 'record_outcome' AND a.user_name = v.recorded_by
          AND json_extract_string(a.filters, '$.round') = CAST($t AS VARCHAR)
          AND json_extract_string(a.filters, '$.pseudo_id') =
              (SELECT any_value(h.pseudo_id) FROM households h WHERE h.household_id = v.household_id))"""
INGEST_ENTERED_COUNT = """
    SELECT count(*) FROM ingest_entered e JOIN ingest_hh n USING (pseudo_id)
    WHERE NOT EXISTS (SELECT 1 FROM visits v WHERE v.round_id = $t AND v.household_id = n.household_id)"""
INGEST_ENTERED_MISSING = """
    SELECT count(*) FROM ingest_entered e WHERE e.pseudo_id NOT IN (SELECT pseudo_id FROM ingest_hh)"""
INGEST_RESTORE_ENTERED = """
    INSERT INTO visits
    SELECT $t, n.household_id, n.sgg_code, n.emd_code, e.channel, e.outcome, e.support_type,
           e.recorded_at, e.recorded_by
    FROM ingest_entered e JOIN ingest_hh n USING (pseudo_id)
    WHERE NOT EXISTS (SELECT 1 FROM visits v WHERE v.round_id = $t AND v.household_id = n.household_id)"""
INGEST_DROP_ENTERED = "DROP TABLE IF EXISTS ingest_entered"
