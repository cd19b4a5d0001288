"""Command line: ``python -m blindspot <command>``.

Commands: build-demo, geo-import, info, bench.  Long work prints a progress line on
stderr; results go to stdout.  Errors meant for people exit with status 2 and a
message that says what to do.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from blindspot import config
from blindspot.errors import BlindspotError


def _cmd_build_demo(args) -> int:
    from blindspot.build import build_demo
    from blindspot.progress import LineProgress
    from blindspot.synthetic import SyntheticConfig

    cfg = SyntheticConfig(seed=args.seed, scale=args.scale, rounds=args.rounds,
                          sido=tuple(args.sido) if args.sido else None)
    target = config.db_path(args.db)
    report = build_demo(target, cfg, geo_dir=args.geo_dir, progress=LineProgress())
    print(json.dumps({"db": str(target), "households": report.households,
                      "observations": report.observations, "visits": report.visits,
                      "calibration": report.calibration}, ensure_ascii=False, indent=2))
    return 0


def _cmd_geo_import(args) -> int:
    from blindspot.geography import import_boundary_file
    from blindspot.store import Store

    st = Store(config.db_path(args.db))
    try:
        result = import_boundary_file(st, Path(args.path), args.code_column, args.name_column, args.level)
        st.checkpoint()
    finally:
        st.close()
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _cmd_info(args) -> int:
    from blindspot import queries
    from blindspot.store import Store

    path = config.db_path(args.db)
    st = Store(path, read_only=True)
    try:
        counts = queries.table_counts(st)
        info = queries.data_info(st)
        rounds = queries.rounds(st)["round_code"].tolist()
    finally:
        st.close()
    out = {"db": str(path), **counts, "round_codes": rounds,
           "data_kind": info.get("data_kind"), "schema_version": int(info["schema_version"]),
           "geo_ref_month": info.get("geo_ref_month"), "seed": info.get("seed"), "scale": info.get("scale"),
           "calibration": info.get("calibration")}
    if args.json:
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        r = counts["regions"]
        print(f"데이터베이스   {path}  (스키마 v{out['schema_version']}, {out['data_kind']})")
        print(f"행정구역       시도 {r['sido']} / 시군구 {r['sgg']} / 읍면동 {r['emd']}  (기준 {out['geo_ref_month']})")
        print(f"가구           {counts['households']:,}")
        print(f"차수           {counts['rounds']} ({', '.join(rounds)})")
        print(f"위기정보       {counts['observations']:,}건")
        print(f"방문 결과      {counts['visits']:,}건")
    return 0


def _cmd_bench(args) -> int:
    from blindspot.bench import run_bench

    if args.layout:
        from blindspot.bench import layout_comparison

        if not args.db:
            raise BlindspotError("--layout 은 --db 로 측정할 데이터베이스를 지정해야 합니다.")
        result = layout_comparison(args.db)
    else:
        result = run_bench(scale=args.scale, db=args.db, keep=args.keep)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for k, v in result.items():
            print(f"{k:24s} {v}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m blindspot",
                                description="복지사각지대 지도: 데이터 구축·점검 명령")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build-demo", help="합성 데모 데이터베이스 생성 (실제 행정구역·인구 기반)")
    b.add_argument("--scale", type=float, default=config.DEMO_SCALE, help="실제 세대수 대비 비율 (기본 0.1, 전국 실규모 1)")
    b.add_argument("--rounds", type=int, default=config.DEMO_ROUNDS, help="격월 차수 개수 (기본 6, 2024-R3 까지)")
    b.add_argument("--seed", type=int, default=config.DEMO_SEED, help="난수 시드 (같은 시드 → 같은 데이터)")
    b.add_argument("--sido", nargs="+", metavar="CODE", help="이 시도만 생성 (예: --sido 11 27)")
    b.add_argument("--db", help="데이터베이스 파일 (기본 data/blindspot.duckdb 또는 BLINDSPOT_DB)")
    b.add_argument("--geo-dir", help="경계·인구 자료 폴더 (기본: BLINDSPOT_GEO_DIR → data/geo → ../shared/geo)")
    b.set_defaults(func=_cmd_build_demo)

    g = sub.add_parser("geo-import", help="새 행정구역 경계 파일로 경계 교체 (GeoParquet, GeoJSON, Shapefile)")
    g.add_argument("path", help="경계 파일 경로")
    g.add_argument("--code-column", required=True, help="행정기관코드 열 이름")
    g.add_argument("--name-column", help="이름 열 이름 (선택)")
    g.add_argument("--level", required=True, choices=["sido", "sgg", "emd"], help="행정구역 단계")
    g.add_argument("--db", help="데이터베이스 파일")
    g.set_defaults(func=_cmd_geo_import)

    i = sub.add_parser("info", help="데이터베이스 내용 요약 (표별 건수)")
    i.add_argument("--json", action="store_true", help="JSON 으로 출력")
    i.add_argument("--db", help="데이터베이스 파일")
    i.set_defaults(func=_cmd_info)

    k = sub.add_parser("bench", help="성능 측정: 구축 시간·최대 메모리·질의 시간")
    k.add_argument("--scale", type=float, default=1.0, help="구축 규모 (기본 1 = 전국 약 2,400만 가구)")
    k.add_argument("--db", help="이미 만든 데이터베이스를 측정 (구축 생략)")
    k.add_argument("--keep", action="store_true", help="측정용으로 만든 데이터베이스를 지우지 않음")
    k.add_argument("--layout", action="store_true", help="위기정보 저장 방식 비교 (long vs wide; --db 필요)")
    k.add_argument("--json", action="store_true", help="JSON 한 줄로 출력")
    k.set_defaults(func=_cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BlindspotError as exc:
        print(f"오류: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("중단되었습니다. 기존 데이터베이스는 바뀌지 않았습니다.", file=sys.stderr)
        return 130
