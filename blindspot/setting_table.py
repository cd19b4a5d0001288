"""The table of every setting (:data:`SETTINGS`): name, default, help text, kind and group.

Reading, parsing and listing the values is :mod:`blindspot.settings`; the table is a module of
its own so that the one table can grow without the parsing growing with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ENV_PREFIX = "BLINDSPOT_"
KINDS = ("int", "float", "bool", "str", "list", "path", "memory")


@dataclass(frozen=True)
class Setting:
    """One setting.  ``kind`` parses environment text; ``group`` orders the listing;
    ``account``: the account file's ``settings:`` block may set it; ``lenient``: a malformed
    value is ignored (the next source or the default is used) instead of refused, for limits
    whose default is the safe side and values read when a module is imported;
    ``minimum``/``maximum`` bound numbers (a lenient setting is clamped to them); ``choices``
    the allowed texts.  A ``path`` default is relative to the project folder."""

    name: str
    default: Any
    help: str
    kind: str
    group: str
    account: bool = False
    lenient: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"setting {self.name}: kind {self.kind!r} is not one of {KINDS}")

    @property
    def env(self) -> str:
        """The environment variable that sets it.

        >>> BY_NAME["ingest_max_rows"].env
        'BLINDSPOT_INGEST_MAX_ROWS'
        """
        return ENV_PREFIX + self.name.upper()

    def shown_default(self) -> str:
        """The default as the documentation and ``--help`` show it.

        >>> BY_NAME["ingest_max_rows"].shown_default(), BY_NAME["db"].shown_default()
        ('30,000,000', 'data/blindspot.duckdb')
        """
        return show(self.default)


def show(value: Any) -> str:
    """A value as text: large numbers in thousands, ``true``/``false``, a list comma-separated.

    >>> show(8_000_000_000), show(8501), show(0.008), show(False), show(()), show(None), show(["10.0.0.1", "::1"])
    ('8,000,000,000', '8501', '0.008', 'false', '[]', '(없음)', '10.0.0.1, ::1')
    """
    if value is None:
        return "(없음)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 100_000 else str(value)  # not a port or a seed
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) if value else "[]"
    return str(value)


MODEL, PRIVACY, LOGIN, SERVER, LIMITS, MEMORY, PATHS, DEMO = (
    "모델",
    "개인정보",
    "로그인",
    "서버",
    "적재 한도",
    "메모리",
    "경로",
    "데모",
)
FOLLOWUP = "후속 관리"
ZONES = "특별지원구역"

SETTINGS: tuple[Setting, ...] = (
    # --- the risk model (docs/model.md) ---
    # domain.md: about 0.8 % of all households are flagged for a visit per round.
    Setting(
        "capacity_share",
        0.008,
        "읍면동 방문 용량: 한 차수에 방문할 수 있는 가구 비율 (가구 대비, 최소 1가구)",
        "float",
        MODEL,
        account=True,
    ),
    # domain.md: "~100 targets per officer per round".
    Setting(
        "visits_per_officer",
        100,
        "담당 공무원 1명이 한 차수에 연락·방문할 수 있는 가구 수 (인력 등록 시군구의 용량 = 인력 × 이 값)",
        "int",
        MODEL,
        minimum=1,
    ),
    Setting(
        "capacity_allocation",
        "flat",
        "시군구 방문 용량을 읍면동에 나누는 규칙: flat 은 가구 수, need 는 예상 위기 가구(보정 확률 합)에 비례",
        "str",
        MODEL,
        choices=("flat", "need"),
    ),
    # A random audit sample of visits (docs/model.md "Unbiased evaluation"): 3 % of a round's
    # visits, so the estimate has a few hundred audited crises at national scale.
    Setting(
        "audit_sample_share",
        0.03,
        "무작위 점검: 읍면동 방문 중 이 비율만큼을 명단 밖 신호 가구에서 무작위로 뽑음 (불편 재현율 추정용)",
        "float",
        MODEL,
        minimum=0.0,
        maximum=1.0,
    ),
    Setting("band_medium", 0.15, "주의 등급 최소 확률 (위험: 방문 용량 안이면서 이 확률 이상)", "float", MODEL),
    Setting("band_low", 0.05, "관심 등급 최소 확률", "float", MODEL),
    Setting("model_c", 1.0, "로지스틱 회귀 정규화 강도의 역수 (train --C)", "float", MODEL),
    # docs/model.md "Rolling backtest": with 1,000 replicates another seed moves an interval's
    # ends by a small fraction of its width, and the cost (seconds) grows with 읍면동, not households.
    Setting(
        "backtest_replicates",
        1000,
        "차수별 검증(백테스트)의 부트스트랩 반복 수: 95% 구간 계산 (읍면동 단위 복원추출)",
        "int",
        MODEL,
        minimum=100,
        maximum=100_000,
    ),
    # Each fold reruns the prediction over every household of its round (national: minutes per
    # fold), so train tests only the latest N labelled rounds; six rounds are one year.
    Setting(
        "backtest_folds",
        6,
        "차수별 검증(백테스트)에서 검증 차수로 쓸 최근 라벨 차수 수 (1: train 의 검증 차수만)",
        "int",
        MODEL,
        minimum=1,
    ),
    # docs/model.md "Gate, rollback and drift": 0.1 and 0.25 are the usual convention for the
    # population stability index (credit scoring), not a figure measured in the field.
    Setting(
        "psi_warn",
        0.1,
        "입력 변수 분포 변화(PSI) 변화 기준: 이 값 이상이면 모델 화면에 '변화' 경고 (PSI 관례값, 현장 수치 아님)",
        "float",
        MODEL,
        minimum=0.0,
    ),
    Setting(
        "psi_alert",
        0.25,
        "입력 변수 분포 변화(PSI) 큰 변화 기준: 이 값 이상이면 '큰 변화', 재학습 검토 (PSI 관례값, 현장 수치 아님)",
        "float",
        MODEL,
        minimum=0.0,
    ),
    # A judgement, not a field figure: a calibrated model's list should confirm about as many
    # needs as its probabilities promise; well below that, the world or the outcomes changed.
    Setting(
        "precision_warn_ratio",
        0.8,
        "실현 정밀도 주의 기준: 위험 등급 방문 가구의 실제 욕구 확인 비율이 예측 확률 평균의 이 배수 미만이면 주의",
        "float",
        MODEL,
        minimum=0.0,
        maximum=1.0,
    ),
    # docs/reach-gap.md: a judgement, not a field figure.  Below 1 so that an area is called a
    # gap only when it is clearly behind its peers, not merely not ahead of them.
    Setting(
        "reach_gap_ratio",
        0.8,
        "발굴 격차 기준: 발견률(발견 ÷ 예상 위기 가구)의 95% 구간 위 끝이 "
        "권한 범위 전체 발견률의 이 배수 미만인 지역을 격차로 표시",
        "float",
        MODEL,
        minimum=0.0,
        maximum=1.0,
    ),
    # shared/docs/domain.md: local youth bands conflict (19–34 in law, 20–39 on Daegu's maps);
    # its defaults are 20–39, 40–64, 65+.  "65-" means 65 and over.
    Setting(
        "life_stage_bands",
        ("20-39", "40-64", "65-"),
        "고독사 위험의 생애주기 구간 (세대주 나이, 양 끝 포함; '65-' 는 65세 이상; 쉼표로 구분)",
        "list",
        MODEL,
    ),
    # docs/lonely.md: the grade's weights are log rate ratios among visited one-person
    # households; 0.35 ≈ the sum of a strong and a weaker signal, chosen on the demo world.
    Setting(
        "lonely_high_score",
        0.35,
        "고독사 위험 '높음' 기준: 1인 가구의 고독사 위기정보 가중치 합이 이 값 이상 (docs/lonely.md)",
        "float",
        MODEL,
        minimum=0.0,
    ),
    # --- small counts (docs/access.md) ---
    Setting(
        "min_count",
        5,
        "소수 억제 기준 k: 집계만 보는 계정(발표자·브리핑)에게 이보다 작은 수는 숨김",
        "int",
        PRIVACY,
        account=True,
        minimum=1,
    ),
    # The hotspot page's number input offers 5–200; read on import, so a typo must not stop the app.
    Setting(
        "hex_min_count",
        10,
        "육각형(H3) 지도: 가구가 이보다 적은 셀은 그리지도 내보내지도 않음",
        "int",
        PRIVACY,
        lenient=True,
        minimum=5,
        maximum=200,
    ),
    # --- login (docs/access.md, Login safety) ---
    Setting(
        "session_timeout_minutes",
        30,
        "이 시간(분) 동안 동작이 없으면 로그아웃 (0: 만료 없음)",
        "int",
        LOGIN,
        account=True,
        minimum=0,
    ),
    Setting(
        "free_failures", 5, "한 계정에 대기 없이 허용되는 연속 로그인 실패 횟수", "int", LOGIN, account=True, minimum=0
    ),
    # Several people may share one address behind NAT.
    Setting(
        "free_failures_address",
        20,
        "한 접속 주소에 대기 없이 허용되는 로그인 실패 횟수",
        "int",
        LOGIN,
        account=True,
        minimum=0,
    ),
    Setting(
        "backoff_seconds",
        30,
        "허용 횟수를 넘긴 첫 대기(초); 실패할 때마다 두 배",
        "int",
        LOGIN,
        account=True,
        minimum=0,
    ),
    Setting("max_backoff_seconds", 3600, "가장 긴 로그인 대기(초)", "int", LOGIN, account=True, minimum=0),
    Setting(
        "failure_reset_seconds",
        86400,
        "이만큼(초) 새 실패가 없으면 실패 횟수를 다시 셈",
        "int",
        LOGIN,
        account=True,
        minimum=0,
    ),
    Setting(
        "mode",
        "production",
        "배포 방식: production 이면 데모 계정이 있는 계정 파일을 거부 (demo 는 users init-demo 가 만든 파일)",
        "str",
        LOGIN,
        account=True,
        choices=("demo", "production"),
    ),
    # --- the server (docs/access.md, Server gate) ---
    Setting("address", "127.0.0.1", "serve 가 받을 주소 (0.0.0.0 이면 밖에서도 접속)", "str", SERVER),
    Setting("port", 8501, "serve 가 받을 포트", "int", SERVER, minimum=1, maximum=65535),
    Setting(
        "trusted_proxies", (), "X-Forwarded-For 를 믿을 역방향 프록시 주소 (쉼표로 구분)", "list", SERVER, account=True
    ),
    Setting("secure_cookie", False, "HTTPS 뒤에서 true: 브라우저 쿠키를 TLS 로만 보냄", "bool", SERVER, account=True),
    # Read on import of the app's cache module: a typo falls back rather than stop the app.
    Setting(
        "cache_ttl_seconds",
        600,
        "앱이 질의 결과를 캐시에 두는 시간(초); 새 자료는 캐시를 바로 비움",
        "int",
        SERVER,
        lenient=True,
        minimum=0,
    ),
    # --- limits on extraction files (docs/ingest-format.md) ---
    # A hostile or broken file must be refused before it is expanded: a compressed XLSX or
    # Parquet of a few hundred KB can declare gigabytes or tens of millions of rows.  The
    # defaults fit the largest real round (a national file is loaded per 시도 or raised here).
    # Lenient: a malformed value must not lift a limit, it falls back to the default.
    Setting(
        "max_upload_mb",
        100,
        "앱에서 올릴 수 있는 파일 크기 상한(MB; server.maxUploadSize 이하)",
        "int",
        LIMITS,
        account=True,
        lenient=True,
        minimum=1,
    ),
    Setting(
        "ingest_max_file_bytes",
        8_000_000_000,
        "추출 파일 한 개의 저장 크기 상한(바이트)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    # A national round is about 24 million households.
    Setting("ingest_max_rows", 30_000_000, "파일 한 개의 자료 행 수 상한", "int", LIMITS, lenient=True, minimum=1),
    Setting(
        "ingest_max_xlsx_bytes",
        1_000_000_000,
        "XLSX 가 풀렸을 때 크기 상한(압축 항목 합, 바이트)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    Setting(
        "ingest_max_zip_ratio",
        200,
        "XLSX 압축 항목 하나의 최대 압축률(풀린 크기 ÷ 압축 크기)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    # Real rows carry a distinct id and compress to several bytes each; a bomb of repeated rows does not.
    Setting(
        "ingest_max_rows_per_kb",
        2_000,
        "Parquet 저장 1,000바이트당 행 수 상한 (100,000행 넘는 파일)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    Setting(
        "ingest_max_parquet_bytes",
        12_000_000_000,
        "Parquet 열 자료가 풀렸을 때 크기 상한(바이트)",
        "int",
        LIMITS,
        lenient=True,
        minimum=1,
    ),
    # --- DuckDB memory (docs/data-model.md) ---
    # A build must stay within the benchmark's memory budget (8 GB) beside the generator's own
    # arrays; DuckDB would otherwise take up to 80 % of RAM for buffers.
    Setting("build_memory_limit", "1500MB", "데모·빈 데이터베이스 구축 중 DuckDB 메모리 상한", "memory", MEMORY),
    # A full-scale `train` peaked at 17.5 GB without a limit; 3 GB keeps training and scoring
    # inside the 8 GB budget, spilling to disk when a national aggregate needs more.
    Setting(
        "session_memory_limit", "3GB", "그 밖의 모든 연결의 DuckDB 메모리 상한 (넘으면 디스크 사용)", "memory", MEMORY
    ),
    # A national households file as text cells is ~7 GB: checked in pieces of this many rows.
    Setting("validation_piece_rows", 1_000_000, "가구 파일을 나눠 검사하는 단위 (행 수)", "int", MEMORY, minimum=1),
    # --- where things live (blindspot/config.py) ---
    Setting("db", "data/blindspot.duckdb", "데이터베이스 파일 (--db 가 우선)", "path", PATHS),
    Setting("models", "models", "모델 폴더: 버전마다 하위 폴더 하나 (--models 가 우선)", "path", PATHS),
    Setting(
        "geo_dir",
        None,
        "행정구역 경계·인구 자료 폴더 (--geo-dir 가 우선; 없으면 data/geo → ../shared/geo)",
        "path",
        PATHS,
    ),
    Setting("auth", "config/auth.yaml", "계정 파일 (--auth 가 우선)", "path", PATHS),
    Setting(
        "ops_url",
        None,
        "운영 저장소(감사 기록, 입력한 방문 결과, 브리핑 목표, 적재 이력, 로그인 실패 횟수) SQLAlchemy URL "
        "(없으면 data/ops.sqlite 의 SQLite; 여러 서버면 postgresql+psycopg://…)",
        "str",
        PATHS,
    ),
    Setting("snapshots_keep", 3, "분석 데이터 판(스냅숏)을 몇 개 남길지 (되돌리기용; 지금 판은 늘 남음)", "int", PATHS),
    Setting("bench_dir", None, "bench 가 측정용 데이터베이스를 만들 폴더 (없으면 시스템 임시 폴더)", "path", PATHS),
    Setting(
        "run_log",
        None,
        "화면 실행 시간 기록 폴더: 정하면 앱 프로세스가 실행마다 한 줄을 씀 (bench 동시 세션 측정용)",
        "path",
        PATHS,
    ),
    # --- follow-up cadence (docs/followups.md): the 수영구 casebook's tiers, in days ---
    # weekly contact and a monthly visit for 위험, monthly for 주의, every two months for 관심,
    # twice a year for 종결; a month is counted as 30 days so a date never depends on month length.
    Setting(
        "followup_days_high",
        7,
        "위험 사례 연락 주기(일): 마지막 연락(없으면 사례 시작) 뒤 이만큼",
        "int",
        FOLLOWUP,
        minimum=1,
    ),
    Setting(
        "followup_visit_days_high",
        30,
        "위험 사례 방문 주기(일): 마지막 방문(없으면 사례 시작) 뒤 이만큼",
        "int",
        FOLLOWUP,
        minimum=1,
    ),
    Setting("followup_days_medium", 30, "주의 사례 연락 주기(일)", "int", FOLLOWUP, minimum=1),
    Setting("followup_days_low", 60, "관심 사례 연락 주기(일)", "int", FOLLOWUP, minimum=1),
    Setting("followup_days_closed", 182, "종결 사례 사후 확인 주기(일): 한 해 두 번", "int", FOLLOWUP, minimum=1),
    # The holiday library knows the law's holidays; a 임시공휴일 is declared weeks ahead, later than its release.
    Setting(
        "followup_extra_holidays",
        [],
        "연락 예정일에서 피할 임시공휴일 (YYYY-MM-DD, 쉼표로 구분; 예: 2025-01-27). 법정·대체공휴일은 holidays 가 앎",
        "list",
        FOLLOWUP,
    ),
    # --- special support zones (docs/zones.md): the composite need index, default weights ---
    # Weights are relative (divided by their sum).  Half goes to need itself (crisis signals,
    # the model's 위험군, need the system has not found), three tenths to living alone by life
    # stage (domain.md names young, middle-aged and older people living alone as blind spots),
    # a fifth to ageing (65+ residents; the lonely-death targets concern them).
    Setting(
        "zones_weight_crisis", 0.2, "특별지원구역 지수 가중치: 위기정보 가구 (천 가구당)", "float", ZONES, minimum=0.0
    ),
    Setting(
        "zones_weight_at_risk", 0.1, "특별지원구역 지수 가중치: 위험군 가구 (천 가구당)", "float", ZONES, minimum=0.0
    ),
    Setting(
        "zones_weight_reach_gap",
        0.2,
        "특별지원구역 지수 가중치: 미발견 추정 (예상 위기 가구 − 발견, 천 가구당)",
        "float",
        ZONES,
        minimum=0.0,
    ),
    Setting(
        "zones_weight_alone_young", 0.1, "특별지원구역 지수 가중치: 1인 가구 비율 20–39세", "float", ZONES, minimum=0.0
    ),
    Setting(
        "zones_weight_alone_middle", 0.1, "특별지원구역 지수 가중치: 1인 가구 비율 40–64세", "float", ZONES, minimum=0.0
    ),
    Setting(
        "zones_weight_alone_old", 0.1, "특별지원구역 지수 가중치: 1인 가구 비율 65세 이상", "float", ZONES, minimum=0.0
    ),
    Setting("zones_weight_elderly", 0.2, "특별지원구역 지수 가중치: 65세 이상 인구 비율", "float", ZONES, minimum=0.0),
    # domain.md: six rounds a year; a designation lasts four years, so one year of rounds.
    Setting("zones_rounds", 6, "특별지원구역 지수에 쓰는 차수 수 (고른 차수까지 최근 차수)", "int", ZONES, minimum=1),
    Setting(
        "zones_replicates", 1000, "특별지원구역 순위 구간의 부트스트랩 반복 수 (차수 재표집)", "int", ZONES, minimum=10
    ),
    Setting("zones_seed", 2024, "특별지원구역 부트스트랩 난수 시드 (같은 시드 → 같은 구간)", "int", ZONES),
    # The Ministry's seed release designates the first 8 시군구.
    Setting("zones_designate", 8, "특별지원구역 후보로 강조할 상위 지역 수", "int", ZONES, minimum=1),
    # --- the demo `make run` builds: every 읍면동, a tenth of the real households ---
    Setting("demo_scale", 0.1, "데모 규모: 실제 세대수 대비 비율 (전국 실규모 1)", "float", DEMO),
    Setting("demo_rounds", 6, "데모 격월 차수 개수 (마지막 2024-R3)", "int", DEMO),
    Setting("demo_seed", 42, "데모 난수 시드 (같은 시드 → 같은 데이터)", "int", DEMO),
)

BY_NAME = {s.name: s for s in SETTINGS}
