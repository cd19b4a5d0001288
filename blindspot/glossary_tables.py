"""The glossary's code → name tables: roles, household and visit vocabularies, column headers,
model measures, map classes, case work.  Import them from :mod:`blindspot.glossary`, which
re-exports every name here; this module only keeps that one under 500 lines.

A table maps a code (what the database, the settings and the code keep) to the one Korean name
people read.  Tables whose codes mean the same thing share a namespace in :data:`TABLES`, and
``tests/test_glossary.py`` checks that a code has one name across the namespace and that no
two codes of a table share a name.  Nothing here imports the rest of the project, so every
feature module can import it.
"""

from __future__ import annotations

# --- who and where ------------------------------------------------------------------------

# What the role may see is explained in the glossary's rows, not in its name: a name in
# brackets nested inside "이름 (역할)" read as "발표자 (발표자 (집계만))".
ROLES = {"admin": "관리자", "analyst": "분석가", "district": "시군구 담당 공무원", "presenter": "발표자"}
ROLE_MEANINGS = {
    "admin": "전국: 가구 명단, 데이터 적재, 감사 기록, 서비스 모델 지정, 시군구 담당 인력 등록.",
    "analyst": "전국: 가구 명단, 데이터 적재, 방문 용량 시뮬레이션 (감사 기록·모델 지정은 못 함).",
    "district": "자기 시군구: 가구 명단과 주소, 방문 결과 입력, 후속 관리, 브리핑 목표.",
    "presenter": "집계만: 소수 억제(비공개)를 거친 지도·브리핑, 가구 단위 자료 없음.",
}

LEVELS = {"sido": "시도", "sgg": "시군구", "emd": "읍면동"}
EMD_TYPES = {"eup": "읍", "myeon": "면", "dong": "동"}
# The unit a ranking or a map is drawn in, as the zones page offers it.
RANKING_LEVELS = {"sgg": "시군구 (전국)", "emd": "읍면동 (시군구 안)"}

# --- households and visits ----------------------------------------------------------------

HEAD_SEX = {"M": "남", "F": "여"}
HOUSING_TYPES = {
    "apartment": "아파트",
    "multiplex": "연립·다세대",
    "detached": "단독주택",
    "officetel": "오피스텔",
    "vulnerable": "취약주거(고시원·반지하·쪽방 등)",
    "other": "기타",
}
WELFARE_STATUS = {"none": "수급 없음", "basic_livelihood": "기초생활수급", "near_poor": "차상위"}
# Visit outcomes (방문 결과).  need_confirmed and supported both count as "need confirmed".
OUTCOMES = {
    "contacted": "접촉·상담(지원 불필요)",
    "need_confirmed": "욕구 확인",
    "supported": "지원 연계",
    "unreachable": "연락 불가",
    "not_eligible": "대상 아님",
    "refused": "지원 거부",
}
# What a supported household was linked to.  These are stored as they read (no codes), and the
# demo generator draws from the same list.
SUPPORT_TYPES = ("민간자원 연계", "긴급지원", "서비스 연계", "공공급여 연계", "기초생활보장 신청")
# How a visited household was found (발굴 경로).
CHANNELS = {
    "system": "발굴시스템 명단",
    "local": "지자체 자체 선정",
    "neighbour": "이웃 신고",
    "volunteer": "명예사회복지공무원",
    "meter_reader": "검침원 제보",
}
# A yes/no value as every file and screen shows it (never True/False).
YES_NO = {True: "예", False: "아니요"}

# --- column headers -----------------------------------------------------------------------

# One header per column code wherever a frame is shown or exported (the risk list, the audit
# log, the filters of an export, the ingest report, the map's household table).
COLUMNS = {
    "round_id": "차수",
    "round_code": "차수",
    "pseudo_id": "가명 ID",
    "sgg_name": "시군구",
    "emd_name": "읍면동",
    "band": "등급",
    "probability": "위기 확률",
    "household_type": "가구 유형",
    "age_band": "세대주 연령대",
    "outcome": "방문 결과",
    "support_type": "지원 내용",
    "address": "주소",
    "file": "파일",
    "file_name": "파일",
    "row": "행",
    "column": "열",
    "value": "값",
    "sgg": "시군구",
    "name": "지역",
}
# Codes that name the same column twice (an old record's key and today's, a code and its name):
# one header for all of them.
COLUMN_ALIASES = {"round": "round_id", "round_code": "round_id", "file_name": "file", "sgg": "sgg_name"}

# Units of a figure, as a column or a weight table names them.
UNITS = {"count": "가구", "per_1000": "천 가구당", "share": "비율", "probability": "확률"}
# Each filter key of an audit record or an export, as read.
FILTER_LABELS = {
    "round_id": COLUMNS["round_id"],
    "round": COLUMNS["round_id"],
    "area": "지역 코드",
    "bands": "등급",
    "indicator": "위기정보 지표",
    "domain": "위기정보 영역",
    "household_type": COLUMNS["household_type"],
    "age_band": COLUMNS["age_band"],
    "new_only": "이번 차수 신규 위기정보만",
    "not_visited": "아직 방문하지 않은 가구만",
    "capacity": "방문 용량 (읍면동 가구 대비)",
    "format": "파일 형식",
    "file": COLUMNS["file"],
    "long": "긴 형식",
    "sgg": COLUMNS["sgg"],
    "limit": "최대 가구 수",
    "pseudo_id": COLUMNS["pseudo_id"],
    "outcome": COLUMNS["outcome"],
    "support_type": COLUMNS["support_type"],
    "db": "데이터베이스",
}
# Audit notes (비고) that are codes.
DETAIL_LABELS = {"inserted": "새로 입력", "updated": "고침"}
# The problems of an ingest check, one row each.
REPORT_LABELS = {
    "file": COLUMNS["file"],
    "row": COLUMNS["row"],
    "column": COLUMNS["column"],
    "value": COLUMNS["value"],
    "message": "문제",
}
# A feature's population stability index against the model's reference round, by the settings
# psi_warn and psi_alert.  Not 주의: that is a risk band.
DRIFT_STATUS = {"stable": "안정", "shift": "변화", "alert": "큰 변화"}
# The risk list's columns as shown and exported (blindspot.casework.lists).
LIST_COLUMNS = {
    "rank": "순위",
    "pseudo_id": COLUMNS["pseudo_id"],
    "sgg_name": COLUMNS["sgg_name"],
    "emd_name": COLUMNS["emd_name"],
    "band": COLUMNS["band"],
    "selection": "선정 경로",
    "probability": COLUMNS["probability"],
    "rank_listed": "읍면동 내 순위",
    "reason_1": "사유 1",
    "reason_2": "사유 2",
    "reason_3": "사유 3",
    "lonely_grade": "고독사 위험",
    "lonely_reasons": "고독사 위험 사유",
    "household_type": COLUMNS["household_type"],
    "age_band": COLUMNS["age_band"],
    "new_signal": "이번 차수 신규",
    "visited": "방문 여부",
    "address": COLUMNS["address"],
}
# A household's type by its size, as the list's filter and column name it.
HOUSEHOLD_TYPES = {"all": "전체", "one_person": "1인 가구", "two_person": "2인 가구", "three_plus": "3인 이상"}
# How a household came onto the list: its band, or the random audit sample (docs/model.md).
LIST_SELECTION = {"listed": "명단", "audit_pick": "무작위 점검"}
# The map's top households of an area.
HOUSEHOLD_COLUMNS = {
    "pseudo_id": COLUMNS["pseudo_id"],
    "emd_name": COLUMNS["emd_name"],
    "band": COLUMNS["band"],
    "probability": COLUMNS["probability"],
    "reasons": "사유 (위기정보)",
}
# The ingest history of the data page.
INGEST_COLUMNS = {
    "loaded_at": "적재 시각",
    "round_code": COLUMNS["round_id"],
    "kind": "종류",
    "file_name": COLUMNS["file"],
    "rows": "행 수",
    "loaded_by": "적재한 사람",
    "replaced": "교체",
    "seconds": "초",
    "file_sha256": "SHA-256",
    "load_id": "적재 ID",
}
# Background jobs of the data page.
JOB_KINDS = {"ingest_job": "적재", "rescore_job": "점수 계산"}

# --- audit --------------------------------------------------------------------------------

AUDIT_ACTIONS = {
    "view_list": "위험 가구 목록 열람",
    "view_map_households": "지도 우선 방문 가구 열람",
    "export_list": "위험 가구 목록 내보내기",
    "record_outcome": "방문 결과 입력",
    "refused_outcome": "방문 결과 입력 거부",
    "export_round": "차수 자료 파일 내보내기 (명령줄)",
    "rebuild_demo": "데모 데이터베이스 다시 만들기 (기록 옮김)",
    "replace_database": "데이터베이스 교체 (명령줄, 명시적)",
    "set_targets": "브리핑 목표 변경",
    "download_file": "파일 내려받기",
    "import_legacy": "옛 분석 파일의 운영 기록 옮김",
    "promote_model": "위험 모델 서비스 지정 (관문 통과)",
    "override_model_gate": "위험 모델 서비스 지정 (관문 미통과, 관리자 무시)",
    "rollback_model": "위험 모델 되돌리기",
    "view_followups": "후속 관리 연락 대상 열람",
    "record_contact": "후속 연락 기록",
    "set_followup_tier": "사례 등급 변경",
    "assign_followup": "사례 담당 맡기·놓기",
    "export_followups": "후속 연락 대상 내보내기",
    "refused_followup": "후속 관리 입력 거부",
    "set_staff": "시군구 담당 인력 등록 (방문 용량)",
}
AUDIT_COLUMNS = {
    "event_id": "번호",
    "happened_at": "시각",
    "user_name": "사용자",
    "role": "역할",
    "action": "행위",
    "scope": "권한 범위",
    "filters": "필터",
    "row_count": "행 수",
    "purpose": "목적",
    "file_hash": "파일 SHA-256",
    "detail": "비고",
}

# --- follow-up cases ----------------------------------------------------------------------

# A case's tier beyond the three band names (the glossary adds those).
CLOSED = "종결"
CLOSED_CADENCE = "한 해 두 번 사후 확인"
CONTACT_METHODS = {"phone": "전화", "visit": "방문", "message": "문자·메신저"}
CASE_TASKS = {"visit": "방문", "contact": "연락"}
TIER_SOURCES = {"band": "모델 등급", "official": "담당자 지정"}
CASE_OWNERS = {"all": "전체", "mine": "내 사례 (미지정 포함)", "untaken": "미지정만"}
# A case row carries the household's band of this round beside the case's own tier, so its band
# column says which round it is about.
CASE_COLUMNS = {
    "case_id": "사례 번호",
    "pseudo_id": COLUMNS["pseudo_id"],
    "emd_name": COLUMNS["emd_name"],
    "tier": "사례 등급",
    "band": "이번 차수 위험 등급",
    "due_on": "연락 예정일",
    "overdue": "기한 지남",
    "task": "할 일",
    "last_contact_on": "마지막 연락",
    "last_outcome": "마지막 결과",
    "contact_count": "연락 횟수",
    "opened_on": "사례 시작",
    "tier_source": "등급 출처",
    "assigned_to": "담당자",
    "address": COLUMNS["address"],
}
CASE_HISTORY_COLUMNS = {"case_id": CASE_COLUMNS["case_id"], "on": "날짜", "what": "내용", "by": "입력"}

# --- the risk model -----------------------------------------------------------------------

# The model's inputs other than the indicators (those are named by the indicator catalogue).
FEATURE_LABELS = {
    "n_signals": "위기정보 수",
    "n_domains": "위기 영역 수",
    "max_months": "최장 체납 개월",
    "total_amount": "연체·체납액",
    "n_new": "새 위기정보 수",
    "n_signals_prev": "직전 차수 위기정보 수",
    "prev_rounds_signalled": "최근 3차수 중 위기정보 차수",
    "streak": "연속 위기정보 차수",
    "emd_signal_rate": "읍면동 위기정보 비율",
    "household_size": "가구원 수",
    "age_band": COLUMNS["age_band"],
    "head_sex": "세대주 성별",
    "one_person": "1인 가구",
    "housing_type": "주거 형태",
    "welfare_status": "복지 수급",
    "emd_type": "읍·면·동 구분",
}
METRIC_LABELS = {
    "recall_at_capacity": "용량 내 재현율 (recall at capacity)",
    "precision_at_capacity": "용량 내 정밀도 (precision at capacity)",
    "pr_auc": "PR-AUC",
    "roc_auc": "ROC-AUC",
    "brier": "Brier score",
    "ece": "기대 보정 오차 (ECE)",
}
# The rankings a backtest compares: the model and the two rules it must beat.
RANKINGS = {"model": "모델", "baseline": "지표 개수 규칙", "strong_baseline": "가중 규칙"}
# How the visit capacity of a 시군구 is shared among its 읍면동.
CAPACITY_RULES = {"flat": "균등 (가구 수 비례)", "need": "필요 비례 (예상 위기 가구 비례)"}
GATE_STATUS = {True: "통과", False: "미통과"}
# The model page's tables: recall by subgroup (blindspot.model.card.subgroup_frame), the input
# drift of a round, the realised precision of the 위험 lists, and the trained models.
MODEL_SUBGROUP_COLUMNS = {
    "dimension": "구분",
    "group": "집단",
    "n": UNITS["count"],
    "positives": "위기 가구",
    "prevalence": "위기 비율",
    "model_recall": "모델 재현율",
    "model_ceiling": "용량 상한",
    "baseline_recall": "규칙 재현율",
    "model_pr_auc": "모델 PR-AUC",
    "baseline_pr_auc": "규칙 PR-AUC",
    "model_ece": "모델 ECE",
    "gap": "격차",
}
DRIFT_COLUMNS = {"label": "변수", "feature": "코드", "psi": "PSI", "status": "판정"}
# "visited" counts households with an outcome (unreachable aside), not the list's 방문 여부.
REALISED_COLUMNS = {
    "round": COLUMNS["round_id"],
    "listed": "위험 등급 가구",
    "visited": "방문 결과 있음",
    "confirmed": OUTCOMES["need_confirmed"],
    "precision": "실현 정밀도",
    "expected": "예측 확률 평균",
    "warn": "기준 미달",
}
# The strong baseline is named as the gate's reasons name it (blindspot.model.registry).
MODEL_LIST_COLUMNS = {
    "version": "버전",
    "created_at": "학습 시각",
    "test_round": "검증 차수",
    "recall_at_capacity": METRIC_LABELS["recall_at_capacity"],
    "ratio_strong": "강한 기준선 대비",
    "ratio_basis": "비교 기준",
    "gate": "관문",
    "gate_reasons": "관문 사유",
    "in_service": "서비스 중",
}

# --- maps ---------------------------------------------------------------------------------

# How a choropleth cuts its values into colour classes.  Quantile classes hold equal numbers of
# areas: "분위수", never "중위수" (the median is one cut, not the method).
CLASS_METHODS = {"quantiles": "분위수 구간 (quantiles)", "natural": "자연 구간 (natural breaks, Fisher-Jenks)"}
HOTSPOT_METHODS = {"gi": "Getis-Ord Gi* (핫·콜드스팟)", "moran": "국지적 Moran's I (LISA)"}
NOT_SIGNIFICANT = "유의하지 않음"
NOT_TESTED = "검정 안 함 (이웃 없음·자료 없음)"
GI_CLASSES = {
    "hot_99": "핫스팟 99%",
    "hot_95": "핫스팟 95%",
    "hot_90": "핫스팟 90%",
    "cold_99": "콜드스팟 99%",
    "cold_95": "콜드스팟 95%",
    "cold_90": "콜드스팟 90%",
    "not_significant": NOT_SIGNIFICANT,
    "not_tested": NOT_TESTED,
}
MORAN_CLASSES = {
    "HH": "높음-높음 (HH, 고위기 군집)",
    "LL": "낮음-낮음 (LL)",
    "HL": "높음-낮음 (HL, 고립된 높음)",
    "LH": "낮음-높음 (LH)",
    "not_significant": NOT_SIGNIFICANT,
    "not_tested": NOT_TESTED,
}
EMERGING_LABELS = {"emerging": "떠오르는 핫스팟", "other": "해당 없음"}
# The hotspot page's tables of significant and of rising 읍면동.
HOTSPOT_COLUMNS = {
    "full_name": LEVELS["emd"],
    "cls": "분류",
    "p_fdr": "FDR 보정 p",
    "z": "Gi* z",
    "I": "Local I",
    "z_first": "처음 z",
    "z_last": "최근 z",
}
# Map measures that do not depend on the domain list or the age bands.
MAP_MEASURES = {
    "households": "가구 수",
    "one_person": "1인 가구 수",
    "one_person_share": "1인 가구 비율",
    "signal_any": "위기정보 가구 (천 가구당)",
    "visited": "방문 가구 수",
    "visited_rate": "방문 가구 (천 가구당)",
    "confirmed": "욕구 확인 가구 수",
    "confirmed_rate": "욕구 확인율 (방문 대비)",
    "supported": "지원 연계 가구 수",
    "supported_rate": "지원 연계율 (방문 대비)",
    "mean_probability": "평균 위기 확률",
}

# --- reach gap and zones ------------------------------------------------------------------

SUPPRESSED = "비공개"
# The rule that hides small counts; a hidden cell reads SUPPRESSED.
SUPPRESSION = "소수 억제"
NO_DATA = "자료 없음"
NO_SCORES = "점수 없음"
# Class of an area on the reach-gap map, in the order of the legend.
REACH_CLASSES = {
    "gap": "발굴 격차 (기준보다 뚜렷이 낮음)",
    "even": "뚜렷한 차이 없음",
    "ahead": "기준보다 높음",
    "hidden": SUPPRESSED,
    "no_scores": NO_SCORES,
    "no_data": NO_DATA,
}
ZONE_STATUS = {"ranked": "순위", "hidden": SUPPRESSED, "no_data": NO_DATA}

# --- one name per concept -------------------------------------------------------------------

# Words that name a concept the glossary calls otherwise: no text in the code may use them.
SYNONYMS = {
    "회차": "차수",
    "위험·주의 가구": "위험군 가구",
    "위험+주의": "위험군",
    "위험 + 주의": "위험군",
    "중위수 구간": "분위수 구간",
    "발표자 (집계만)": "발표자",
    "소수 비공개": SUPPRESSION,
    "위기가구": "위기 가구",
}
