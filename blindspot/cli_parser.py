"""The argparse table of ``python -m blindspot``: every command, its options and their Korean help.

Apart from :mod:`blindspot.cli` (one small function per command, and ``main``) because the
table is long and reads best in one place, and the two together were too long for one module.
Each command runs its ``_cmd_*`` function in :mod:`blindspot.cli`, where an option left out
reads its setting; the help shows that setting's default and environment variable.
"""

from __future__ import annotations

import argparse

from blindspot import settings


def _default_text(name: str) -> str:
    """``기본 0.15 또는 BLINDSPOT_BAND_MEDIUM``: the table's default and its variable, for --help."""
    s = settings.setting(name)
    return f"기본 {s.shown_default()} 또는 {s.env}"


def _cmd_lonely(args) -> int:
    from blindspot.lonely.cli import run

    return run(args)


def _cmd_zones(args) -> int:
    from blindspot.zones.cli import run

    return run(args)


def build_parser() -> argparse.ArgumentParser:
    # blindspot.cli imports this module at its top; its command functions are looked up here,
    # when the parser is built, by which time both modules are loaded.
    from blindspot import cli, cli_capacity, cli_models

    p = argparse.ArgumentParser(prog="python -m blindspot", description="복지사각지대 지도: 데이터 구축·점검 명령")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build-demo", help="합성 데모 데이터베이스 생성 (실제 행정구역·인구 기반)")
    b.add_argument("--scale", type=float, help=f"실제 세대수 대비 비율 ({_default_text('demo_scale')}; 전국 실규모 1)")
    b.add_argument("--rounds", type=int, help=f"격월 차수 개수 ({_default_text('demo_rounds')}; 2024-R3 까지)")
    b.add_argument("--seed", type=int, help=f"난수 시드 ({_default_text('demo_seed')}; 같은 시드 → 같은 데이터)")
    b.add_argument("--sido", nargs="+", metavar="CODE", help="이 시도만 생성 (예: --sido 11 27)")
    b.add_argument("--db", help=f"데이터베이스 파일 ({_default_text('db')})")
    b.add_argument("--geo-dir", help="경계·인구 자료 폴더 (기본: BLINDSPOT_GEO_DIR → data/geo → ../shared/geo)")
    b.add_argument("--models", help=f"모델 폴더 ({_default_text('models')})")
    b.add_argument("--no-model", action="store_true", help="모델 학습·점수 계산을 건너뜀")
    b.add_argument(
        "--force-replace-real",
        action="store_true",
        help="실데이터 데이터베이스(init-db·적재 차수)도 데모로 교체 (감사 기록·목표만 옮기고 나머지는 지움)",
    )
    b.add_argument(
        "--skip-if-real",
        action="store_true",
        help="대상이 실데이터 데이터베이스면 아무것도 하지 않고 끝냄 (make 가 씀)",
    )
    b.set_defaults(func=cli._cmd_build_demo)

    g = sub.add_parser("geo-import", help="새 행정구역 경계 파일로 경계 교체 (GeoParquet, GeoJSON, Shapefile)")
    g.add_argument("path", help="경계 파일 경로")
    g.add_argument("--code-column", required=True, help="행정기관코드 열 이름")
    g.add_argument("--name-column", help="이름 열 이름 (선택)")
    g.add_argument("--level", required=True, choices=["sido", "sgg", "emd"], help="행정구역 단계")
    g.add_argument("--db", help="데이터베이스 파일")
    g.set_defaults(func=cli._cmd_geo_import)

    i = sub.add_parser("info", help="데이터베이스 내용 요약 (표별 건수)")
    i.add_argument("--json", action="store_true", help="JSON 으로 출력")
    i.add_argument("--db", help="데이터베이스 파일")
    i.set_defaults(func=cli._cmd_info)

    o = sub.add_parser("settings", help="설정 목록: 이름·값·출처(환경변수 > 설정 파일 > 기본값)·환경변수·설명")
    o.add_argument("--json", action="store_true", help="JSON 으로 출력")
    o.add_argument("--auth", help=f"settings 블록을 읽을 계정 파일 ({_default_text('auth')})")
    o.set_defaults(func=cli._cmd_settings)

    def model_options(parser):
        parser.add_argument("--db", help="데이터베이스 파일")
        parser.add_argument("--models", help=f"모델 폴더 ({_default_text('models')})")

    def gate_options(parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="관문을 통과하지 못해도 서비스 모델로 지정 (관리자; --reason 필수, 감사 기록)",
        )
        parser.add_argument("--reason", help="지정·되돌리기 사유 (4~200자; 감사 기록에 남음)")
        parser.add_argument("--user", help="지정한 사람 (기본: 로그인 사용자 이름)")

    t = sub.add_parser(
        "train", help="위험 모델 학습·검증·저장; 관문(서비스 모델·강한 기준선보다 나음)을 통과하면 서비스 모델로 지정"
    )
    model_options(t)
    t.add_argument("--test-round", help="검증 차수 (예: 2024-R3; 기본: 방문 결과가 있는 최근 차수)")
    gate_options(t)
    for option, name in (
        ("--C", "model_c"),
        ("--medium", "band_medium"),
        ("--low", "band_low"),
        ("--capacity", "capacity_share"),
    ):
        # Left out: the setting, read when the command runs (a bad variable is then reported, not a traceback).
        t.add_argument(option, type=float, help=f"{settings.setting(name).help} ({_default_text(name)})")
    t.set_defaults(func=cli_models._cmd_train)

    e = sub.add_parser("evaluate", help="서비스 모델과 지표 개수 규칙 비교 (재현율·PR-AUC·보정)")
    model_options(e)
    e.add_argument("--round", help="평가 차수 (기본: 모델의 검증 차수)")
    e.add_argument("--json", action="store_true", help="JSON 한 줄로 출력")
    e.add_argument("--no-oracle", action="store_true", help="오라클(직전 차수 정답 전체로 학습한 상한) 계산을 건너뜀")
    e.add_argument(
        "--seeds", type=int, nargs="+", help="시드마다 합성 세계를 새로 만들어 평가 (--db 는 쓰지 않음; 시드별 표)"
    )
    e.add_argument("--scale", type=float, default=0.05, help="--seeds 세계의 규모 (기본 0.05)")
    e.add_argument("--rounds", type=int, default=6, help="--seeds 세계의 차수 수 (기본 6)")
    e.set_defaults(func=cli_models._cmd_evaluate)

    s = sub.add_parser("score", help="서비스 모델로 한 차수의 모든 가구 점수 계산")
    model_options(s)
    s.add_argument("--round", required=True, help="차수 (예: 2024-R3)")
    s.set_defaults(func=cli._cmd_score)

    mo = sub.add_parser(
        "models", help="모델 목록(관문 결과·서비스 표시), 서비스 모델 지정·되돌리기 (새 판, 점수 다시 계산)"
    )
    mo.add_argument(
        "action",
        choices=["list", "activate", "rollback"],
        help="list: 목록, activate: 그 버전을 서비스 모델로 (관문 검사), rollback: 직전 서비스 모델로",
    )
    mo.add_argument("version", nargs="?", help="activate 할 모델 버전 (list 에 나옴)")
    model_options(mo)
    gate_options(mo)
    mo.add_argument("--json", action="store_true", help="JSON 으로 출력 (list)")
    mo.set_defaults(func=cli_models._cmd_models)

    ca = sub.add_parser(
        "capacity", help="방문 용량: 기본 비율·배분 규칙·시군구 담당 인력 (등록하면 점수 등급을 다시 계산, 새 판)"
    )
    ca.add_argument(
        "action",
        choices=["list", "set", "refresh"],
        help="list: 용량 설정과 등록 인력, set: 시군구 담당 인력 등록/해제, refresh: 현재 설정으로 등급 다시 계산",
    )
    ca.add_argument("--sgg", help="시군구 코드 5자리 (set)")
    ca.add_argument("--officers", type=float, help="담당 공무원 수 (set; 차수당 용량 = 인원 × visits_per_officer)")
    ca.add_argument("--clear", action="store_true", help="등록 해제: 그 시군구는 전국 방문 비율로 (set)")
    ca.add_argument("--no-rescore", action="store_true", help="등록만 하고 점수 등급은 다시 계산하지 않음 (set)")
    ca.add_argument("--json", action="store_true", help="JSON 으로 출력 (list)")
    model_options(ca)
    ca.set_defaults(func=cli_capacity._cmd_capacity)

    n = sub.add_parser("init-db", help="실데이터용 빈 데이터베이스 생성 (행정구역·지표 목록만; 차수는 ingest 로 적재)")
    n.add_argument("--db", help=f"데이터베이스 파일 ({_default_text('db')})")
    n.add_argument("--geo-dir", help="경계·인구 자료 폴더")
    n.add_argument("--force", action="store_true", help="이미 있는 파일을 덮어씀")
    n.set_defaults(func=cli._cmd_init_db)

    j = sub.add_parser("ingest", help="추출 파일 한 차수 적재 (CSV·XLSX·Parquet; 검사 후 한 트랜잭션으로)")
    j.add_argument("file", help="가구 파일 (docs/ingest-format.md)")
    j.add_argument("--round", required=True, help="차수 (예: 2024-R4)")
    j.add_argument("--outcomes", help="방문 결과 파일 (선택)")
    j.add_argument("--replace", action="store_true", help="이미 있는 차수를 이 파일로 교체")
    j.add_argument(
        "--sgg",
        nargs="+",
        metavar="CODE",
        help="일부 지역 적재: 파일이 담은 시군구 (예: --sgg 11110). 전국보다(교체 시 기존 차수보다) 적은 "
        "지역을 담은 파일에 필요; 범위 밖 행은 거부, 차수는 '일부 지역'으로 기록",
    )
    j.add_argument("--rescore", action="store_true", help="적재 후 서비스 모델로 이 차수 점수 계산")
    j.add_argument("--report", help="문제 목록을 이 CSV 파일로 저장")
    j.add_argument("--user", help="적재한 사람 (기본: 로그인 사용자 이름)")
    model_options(j)
    j.set_defaults(func=cli._cmd_ingest)

    x = sub.add_parser("export-round", help="한 차수를 적재 형식 파일로 내보내기 (견본·왕복 검사)")
    x.add_argument("--round", required=True, help="차수 (예: 2024-R3)")
    x.add_argument("--out", required=True, help="출력 폴더")
    x.add_argument("--format", choices=["csv", "xlsx", "parquet"], default="csv", help="파일 형식 (기본 csv)")
    x.add_argument("--long", action="store_true", help="긴 형식 (가구·지표 한 행씩)")
    x.add_argument("--sgg", nargs="+", metavar="CODE", help="이 시군구만 (예: --sgg 36110)")
    x.add_argument("--purpose", help="내보내는 목적 (필수; 감사 기록에 남음)")
    x.add_argument("--user", help="내보내는 사람 (기본: 로그인 사용자 이름)")
    x.add_argument("--db", help="데이터베이스 파일")
    x.set_defaults(func=cli._cmd_export_round)

    r = sub.add_parser(
        "reach-gap",
        help="발굴 격차: 시군구·읍면동별 예상 위기 가구, 발견, 지원 연계, 발견률과 95%% 구간 (docs/reach-gap.md)",
    )
    r.add_argument("--level", required=True, choices=["sgg", "emd"], help="지역 단계 (시군구 또는 읍면동)")
    r.add_argument("--round", required=True, help="차수 (예: 2024-R3; 위기 점수가 있어야 함)")
    r.add_argument("--json", action="store_true", help="JSON 한 줄로 출력")
    r.add_argument("--db", help=f"데이터베이스 파일 ({_default_text('db')})")
    r.set_defaults(func=cli._cmd_reach_gap)

    lo = sub.add_parser(
        "lonely",
        help="고독사 위험: 시군구의 생애주기별 1인 가구, 고독사 위기정보, 중장년 1인 남성, 등급 수 (docs/lonely.md)",
    )
    lo.add_argument("--sgg", required=True, help="시군구 코드 (5자리, 예: 29110)")
    lo.add_argument("--round", required=True, help="차수 (예: 2024-R3)")
    lo.add_argument("--json", action="store_true", help="JSON 한 줄로 출력")
    lo.add_argument("--db", help=f"데이터베이스 파일 ({_default_text('db')})")
    lo.set_defaults(func=_cmd_lonely)

    zo = sub.add_parser(
        "zones",
        help="사회보장 특별지원구역: 시군구·읍면동 필요 지수, 성분, 순위와 부트스트랩 순위 구간 (docs/zones.md)",
    )
    zo.add_argument("--round", required=True, help="기준 차수 (예: 2024-R3)")
    zo.add_argument("--level", choices=["sgg", "emd"], help="지역 단계 (기본 sgg: 전국 시군구; emd 는 --sgg 필요)")
    zo.add_argument("--sgg", metavar="CODE", help="읍면동 순위를 매길 시군구 코드 (5자리)")
    zo.add_argument(
        "--weight",
        action="append",
        metavar="KEY=W",
        help="성분 가중치 바꾸기 (여러 번; 예: reach_gap=0.4; 기본은 zones_weight_* 설정)",
    )
    zo.add_argument("--xlsx", metavar="PATH", help="순위와 방법을 XLSX 로 저장 (0600)")
    zo.add_argument("--json", action="store_true", help="JSON 한 줄로 출력")
    zo.add_argument("--db", help=f"데이터베이스 파일 ({_default_text('db')})")
    zo.set_defaults(func=_cmd_zones)

    a = sub.add_parser("stats", help="지도용 읍면동 집계 다시 계산 (옛 데이터베이스를 올린 뒤 한 번)")
    a.add_argument("--db", help="데이터베이스 파일")
    a.set_defaults(func=cli._cmd_stats)

    k = sub.add_parser("bench", help="성능 측정: 구축 시간·최대 메모리·질의 시간")
    k.add_argument("--scale", type=float, default=1.0, help="구축 규모 (기본 1 = 전국 약 2,400만 가구)")
    k.add_argument("--db", help="이미 만든 데이터베이스를 측정 (구축 생략)")
    k.add_argument("--keep", action="store_true", help="측정용으로 만든 데이터베이스를 지우지 않음")
    k.add_argument("--layout", action="store_true", help="위기정보 저장 방식 비교 (long vs wide; --db 필요)")
    k.add_argument("--no-model", action="store_true", help="모델 학습·점수 계산 측정을 건너뜀")
    k.add_argument(
        "--no-serving", action="store_true", help="새 판 게시와 차수 적재→화면 표시(turnaround) 측정을 건너뜀"
    )
    k.add_argument("--no-pages", action="store_true", help="화면별 서버 실행 시간(차가운·따뜻한) 측정을 건너뜀")
    k.add_argument(
        "--sessions",
        type=int,
        nargs="+",
        help="동시 로그인 세션 수들 (예: 10 20 50): 앱 1·2 프로세스에서 로그인→지도→목록 (헤드리스 Chromium)",
    )
    k.add_argument("--json", action="store_true", help="JSON 한 줄로 출력")
    k.set_defaults(func=cli._cmd_bench)

    u = sub.add_parser("users", help="로그인 계정 관리")
    usub = u.add_subparsers(dest="users_command", required=True)
    ui_ = usub.add_parser(
        "init-demo", help="데모 계정(관리자·분석가·시군구 담당 2명·발표자)을 임의 비밀번호로 만들고 출력"
    )
    ui_.add_argument("--auth", help=f"계정 파일 ({_default_text('auth')})")
    ui_.add_argument("--force", action="store_true", help="이미 있는 계정 파일을 새로 만듦 (기존 비밀번호 무효)")
    ui_.add_argument("--passwords-file", help="비밀번호를 적을 파일 (0600; 기본: 계정 파일 옆 demo-passwords.txt)")
    ui_.set_defaults(func=cli._cmd_users)
    from blindspot.access import ROLES

    for name, func, text in (
        ("add", cli._cmd_users_add, "계정 추가 (비밀번호 규칙 검사)"),
        ("passwd", cli._cmd_users_passwd, "비밀번호 바꾸기 (비밀번호 규칙 검사)"),
    ):
        c = usub.add_parser(name, help=text)
        c.add_argument("username")
        if name == "add":
            c.add_argument("--role", required=True, choices=list(ROLES))
            c.add_argument("--name", help="표시 이름")
            c.add_argument("--email", help="OIDC 로그인에 쓰는 전자우편 주소")
            c.add_argument("--sgg", nargs="+", help="시군구 담당 공무원의 시군구 코드 (5자리)")
        c.add_argument("--password-stdin", action="store_true", help="비밀번호를 표준입력 한 줄로 받음")
        c.add_argument("--auth", help=f"계정 파일 ({_default_text('auth')})")
        c.set_defaults(func=func)

    n = sub.add_parser("snapshots", help="분석 데이터 판(스냅숏) 목록, 이전 판으로 되돌리기")
    n.add_argument("action", choices=["list", "activate"], help="list: 목록, activate: 그 판을 지금 판으로")
    n.add_argument("version", nargs="?", help="activate 할 판 이름 (list 에 나옴)")
    n.add_argument("--db", help=f"데이터베이스 ({_default_text('db')})")
    n.add_argument("--user", help="되돌린 사람 (기본: 로그인 사용자 이름)")
    n.add_argument("--json", action="store_true", help="JSON 으로 출력")
    n.set_defaults(func=cli._cmd_snapshots)

    f = sub.add_parser("followups", help="후속 관리: 한 시군구의 연락 대상(기한까지·지난 것) 목록 (감사 기록)")
    f.add_argument("--sgg", required=True, metavar="CODE", help="시군구 코드 (5자리, 예: 29110)")
    f.add_argument("--due-by", metavar="DATE", help="이날까지 연락할 사례 (YYYY-MM-DD; 기본: 이번 주 일요일)")
    f.add_argument("--purpose", help="열람 목적 (기본: 사례관리; 감사 기록에 남음)")
    f.add_argument("--user", help="열람한 사람 (기본: 로그인 사용자 이름)")
    f.add_argument(
        "--owner",
        choices=["all", "mine", "untaken"],
        default="all",
        help="담당: all 전체, mine --user 의 사례와 미지정, untaken 미지정만 (기본 all)",
    )
    f.add_argument("--json", action="store_true", help="JSON 한 줄로 출력")
    f.add_argument("--db", help=f"데이터베이스 파일 ({_default_text('db')})")
    f.set_defaults(func=cli._cmd_followups)

    a = sub.add_parser("audit", help="감사 기록 해시 사슬 검사 (운영 저장소)")
    a.add_argument("action", choices=["verify"], help="verify: 사슬을 처음부터 검사, 처음 끊긴 기록을 알림")
    a.set_defaults(func=cli._cmd_audit)

    v = sub.add_parser("serve", help="앱 실행 (서버 관문: 로그인한 세션만 올리기·내려받기, 보안 헤더)")
    v.add_argument("--address", help=f"받을 주소 ({_default_text('address')})")
    v.add_argument("--port", type=int, help=f"받을 포트 ({_default_text('port')})")
    v.set_defaults(func=cli._cmd_serve)
    return p
