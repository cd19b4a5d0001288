"""Command line: ``python -m blindspot <command>``; its argparse table is :mod:`blindspot.cli_parser`.

Commands: build-demo, init-db, geo-import, info, settings, train, evaluate, score, models, ingest, export-round,
reach-gap (:mod:`blindspot.reach.cli`), stats, bench, users, snapshots, followups (:mod:`blindspot.followup.command`),
audit, serve (``train`` and ``models``: :mod:`blindspot.cli_models`).  Commands that change data write the next
snapshot version and publish it
(:mod:`blindspot.db.snapshots`); the others read the active version, read-only, so all of them run while the app
serves.  Long work prints a progress line on
stderr; results go to stdout.  Errors meant for people exit with status 2 and a message that says what to do.
Defaults of options come from :mod:`blindspot.settings` (an option left out reads its setting: environment first).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path

from blindspot import config, settings
from blindspot.cli_parser import build_parser
from blindspot.db.store import Store
from blindspot.errors import BlindspotError


def _or_setting(value, name: str):
    """A value given on the command line, else setting ``name`` (environment, then default)."""
    return settings.get(name) if value is None else value


@contextlib.contextmanager
def _database(args):
    """The ``--db`` database's active version, read-only: runs beside the app and loaders."""
    st = Store(config.db_path(args.db), read_only=True)
    try:
        yield st
    finally:
        st.close()


@contextlib.contextmanager
def _next_version(args, command: str):
    """Write the next snapshot version of ``--db`` (a copy of the active one) and publish it
    when the command succeeds; apps switch to it on their next page run.  A second loader
    is refused at once, naming the first (:mod:`blindspot.db.snapshots`)."""
    from blindspot.db import snapshots

    with snapshots.loader(config.db_path(args.db), command, _user(args)) as draft:
        yield draft
    if draft.published:
        print(f"새 판을 게시했습니다: {draft.published} (앱은 다음 화면부터 이 판을 씁니다).", file=sys.stderr)


def _user(args) -> str:
    return getattr(args, "user", None) or os.environ.get("USER") or "cli"


def _cmd_build_demo(args) -> int:
    from blindspot.db import snapshots
    from blindspot.demo.build import build_demo, inspect_existing
    from blindspot.demo.synthetic import SyntheticConfig
    from blindspot.progress import LineProgress

    cfg = SyntheticConfig(
        seed=_or_setting(args.seed, "demo_seed"),
        scale=_or_setting(args.scale, "demo_scale"),
        rounds=_or_setting(args.rounds, "demo_rounds"),
        sido=tuple(args.sido) if args.sido else None,
    )
    target = config.db_path(args.db)
    if args.skip_if_real and args.force_replace_real:
        raise BlindspotError("--skip-if-real 과 --force-replace-real 은 함께 쓸 수 없습니다.")
    if args.skip_if_real:
        existing = inspect_existing(target)
        if existing is not None and not existing.is_demo:
            # `make run` lists source files as inputs of the database: it must never rebuild real data.
            print(
                f"실데이터 데이터베이스라서 다시 만들지 않습니다: {target} ({existing.why_real()}). "
                "데모가 필요하면 --db 로 다른 파일을 지정하세요.",
                file=sys.stderr,
            )
            return 0
    models = None if args.no_model else config.models_dir(args.models)
    report = build_demo(
        target,
        cfg,
        geo_dir=args.geo_dir,
        progress=LineProgress(),
        models_dir=models,
        replace_real=args.force_replace_real,
        user=os.environ.get("USER") or "cli",
    )
    if report.model and "skipped" in report.model:
        # Not through the progress line: it may skip messages that arrive too quickly.
        print(f"모델 학습을 건너뜁니다: {report.model['skipped']}", file=sys.stderr)
    print(
        json.dumps(
            {
                "db": str(target),
                "households": report.households,
                "observations": report.observations,
                "visits": report.visits,
                "model": report.model,
                "snapshot": snapshots.active_version(target),
                "calibration": report.calibration,
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


def _cmd_geo_import(args) -> int:
    from blindspot.geo.regions import import_boundary_file

    with _next_version(args, "geo-import") as draft:
        result = import_boundary_file(draft.store, Path(args.path), args.code_column, args.name_column, args.level)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _cmd_info(args) -> int:
    from blindspot.db import queries, snapshots

    path = config.db_path(args.db)
    with _database(args) as st:
        counts = queries.table_counts(st)
        info = queries.data_info(st)
        rounds = queries.rounds(st)["round_code"].tolist()
    out = {
        "db": str(path),
        **counts,
        "round_codes": rounds,
        "data_kind": info.get("data_kind"),
        "schema_version": int(info["schema_version"]),
        "geo_ref_month": info.get("geo_ref_month"),
        "seed": info.get("seed"),
        "scale": info.get("scale"),
        "calibration": info.get("calibration"),
        "snapshot": snapshots.active_version(path),
    }
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


def _thresholds(args):
    from blindspot.model.pipeline import Thresholds

    return Thresholds(
        medium=_or_setting(args.medium, "band_medium"),
        low=_or_setting(args.low, "band_low"),
        capacity_share=_or_setting(args.capacity, "capacity_share"),
    )


def _load_in_service(st: Store, models):
    from blindspot.model import artifacts
    from blindspot.model.pipeline import ModelError

    version = artifacts.in_service(st)
    if not version:
        raise ModelError("서비스 중인 모델이 없습니다. `python -m blindspot train` 으로 먼저 학습하세요.")
    return (version, *artifacts.load(models, version))


def _cmd_score(args) -> int:
    from blindspot.model.capacity import current_plan
    from blindspot.model.scoring import score_round
    from blindspot.progress import LineProgress
    from blindspot.rounds import parse_round as parse

    with _next_version(args, f"score {args.round}") as draft:
        version, fitted, meta = _load_in_service(draft.store, config.models_dir(args.models))
        round_id = parse(args.round).round_id
        # With the model's drift reference, the round's PSI per feature is stored beside its scores.
        reference = meta.get("drift_reference")
        plan = current_plan(fitted.thresholds.capacity_share)
        result = score_round(
            draft.store, fitted, version, round_id, progress=LineProgress(), reference=reference, plan=plan
        )
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _cmd_init_db(args) -> int:
    from blindspot.demo.build import build_empty
    from blindspot.progress import LineProgress

    target = config.db_path(args.db)
    if target.exists() and not args.force:
        raise BlindspotError(
            f"이미 있는 파일입니다: {target}. 덮어쓰려면 --force 를 붙이세요 (새 판에서는 가구·위기정보·방문 결과가 "
            "빠지고 이전 판은 되돌리기용으로 남습니다; 감사 기록·브리핑 목표·적재 이력은 운영 저장소에 그대로)."
        )
    build_empty(target, geo_dir=args.geo_dir, progress=LineProgress(), user=os.environ.get("USER") or "cli")
    print(json.dumps({"db": str(target)}, ensure_ascii=False))
    return 0


def _cmd_ingest(args) -> int:
    from blindspot.ingest import load as ingest
    from blindspot.ingest.report import report_csv
    from blindspot.progress import LineProgress

    progress = LineProgress()
    with _next_version(args, f"ingest {args.round}") as draft:
        st = draft.store
        try:
            result = ingest.ingest_paths(
                st,
                args.round,
                Path(args.file),
                Path(args.outcomes) if args.outcomes else None,
                replace=args.replace,
                loaded_by=args.user,
                progress=progress,
                sgg=args.sgg,
            )
        except ingest.IngestError as exc:
            if args.report:
                _write_private(Path(args.report), report_csv(exc.report))
                raise BlindspotError(f"{exc}\n문제 목록 전체: {args.report}") from None
            raise BlindspotError(f"{exc}\n문제 목록 전체를 CSV로 받으려면 --report 문제.csv 를 붙이세요.") from None
        if args.rescore and result["status"] == "loaded":
            from blindspot.model.pipeline import ModelError

            try:
                result["rescore"] = ingest.rescore(st, args.round, config.models_dir(args.models), progress=progress)
            except ModelError as exc:
                # The round is loaded and committed; only the optional scoring could not run.
                result["rescore"] = {"skipped": str(exc)}
                print(f"적재는 완료되었습니다. 점수 계산은 하지 못했습니다: {exc}", file=sys.stderr)
        draft.keep = result["status"] == "loaded"
    if draft.published:
        ingest.record_loads(result, draft.published)
        result["snapshot"] = draft.published
    result.pop("loads", None)
    if result["status"] == "already_loaded":
        print(f"이미 적재됨: {result['round']} 차수는 이 파일로 적재되어 있어 바뀐 것이 없습니다.", file=sys.stderr)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _cmd_export_round(args) -> int:
    from blindspot.access import Scope
    from blindspot.casework import audit
    from blindspot.ingest.exchange import export_round_audited

    if not (args.purpose or "").strip():
        raise BlindspotError(
            "--purpose 로 내보내는 목적을 적으세요 (예: --purpose '적재 형식 견본'). "
            "가구 단위(가명) 자료를 파일로 내보내면 감사 기록에 남습니다."
        )
    try:
        purpose = audit.check_purpose(args.purpose)
    except audit.PurposeRequired as exc:
        raise BlindspotError(f"--purpose: {exc}") from None
    user = args.user or os.environ.get("USER") or "cli"
    # The command line runs with the database file's own rights: all areas, unless --sgg narrows it.
    scope = Scope.district(args.sgg, user=user) if args.sgg else Scope.all_areas(user=user, role="admin")
    with _database(args) as st:  # the audit record goes to the operational store
        result = export_round_audited(st, scope, args.round, Path(args.out), args.format, args.long, purpose)
    print(json.dumps(result, ensure_ascii=False))
    return 0


def _cmd_reach_gap(args) -> int:
    from blindspot.reach.cli import run

    return run(args)


def _cmd_stats(args) -> int:
    from blindspot.db import aggregates as stats

    with _next_version(args, "stats") as draft:
        with draft.store.transaction():
            rounds = stats.refresh_all(draft.store)
    print(json.dumps({"refreshed_rounds": rounds}))
    return 0


def _cmd_bench(args) -> int:
    from blindspot.bench.run import run_bench

    if args.layout:
        from blindspot.bench.run import layout_comparison

        if not args.db:
            raise BlindspotError("--layout 은 --db 로 측정할 데이터베이스를 지정해야 합니다.")
        result = layout_comparison(args.db)
    else:
        result = run_bench(
            scale=args.scale,
            db=args.db,
            keep=args.keep,
            model=not args.no_model,
            serving=not args.no_serving,
            sessions=tuple(args.sessions or ()),
            pages=not args.no_pages,
        )
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        for k, v in result.items():
            print(f"{k:24s} {v}")
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """Write a file the owner alone may read (0600), whatever the umask."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)


def _cmd_users(args) -> int:
    from blindspot.app import auth

    path = auth.auth_path(args.auth)
    passwords = auth.init_demo(path, force=args.force)
    if passwords is None:
        print(f"계정 파일이 이미 있습니다: {path} (그대로 둡니다). 새로 만들려면 --force.")
        return 0
    out = Path(args.passwords_file) if args.passwords_file else path.with_name("demo-passwords.txt")
    auth.write_private(out, auth.demo_passwords_text(path, passwords))
    print(
        f"데모 계정을 만들었습니다: {path} (bcrypt 해시만 저장). 비밀번호는 {out} 에 있습니다 "
        "(소유자만 읽기 가능, 0600): 확인한 뒤 지우세요."
    )
    return 0


def _new_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    import getpass

    first = getpass.getpass("새 비밀번호: ")
    if getpass.getpass("한 번 더: ") != first:
        raise BlindspotError("두 비밀번호가 다릅니다.")
    return first


def _cmd_users_add(args) -> int:
    from blindspot.app import auth

    auth.add_account(
        args.auth, args.username, args.name or args.username, args.role, args.sgg, _new_password(args), email=args.email
    )
    print(f"계정을 만들었습니다: {args.username} ({args.role}), 계정 파일 {auth.auth_path(args.auth)}.")
    return 0


def _cmd_users_passwd(args) -> int:
    from blindspot.app import auth

    auth.set_password(args.auth, args.username, _new_password(args))
    print(f"계정 {args.username} 의 비밀번호를 바꿨습니다.")
    return 0


def _cmd_serve(args) -> int:
    import logging

    # Importing the page module before the server exists makes Streamlit warn once per cached
    # function that it has no runtime yet; the caches are looked up again when called.
    logging.getLogger("streamlit.runtime.caching.cache_data_api").setLevel(logging.ERROR)
    from blindspot.app import serve as app_serve

    app_serve.serve(args.address or settings.get("address"), _or_setting(args.port, "port"))
    return 0


def _cmd_snapshots(args) -> int:
    from blindspot.db import snapshots

    path = config.db_path(args.db)
    if args.action == "activate":
        if not args.version:
            raise BlindspotError("되돌릴 판 이름을 주세요: python -m blindspot snapshots activate v0003-…")
        snapshots.activate(path, args.version, _user(args))
        print(f"지금 판을 바꿨습니다: {args.version} (앱은 다음 화면부터 이 판을 씁니다).", file=sys.stderr)
    rows = [
        {
            "version": v.name,
            "active": v.active,
            "bytes": v.bytes,
            "created_at": v.manifest.get("created_at"),
            "command": v.manifest.get("command"),
            "user": v.manifest.get("user"),
            "parent": v.manifest.get("parent"),
        }
        for v in snapshots.versions(path)
    ]
    if args.json or args.action == "activate":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        if not rows:
            print(f"{path} 에는 아직 게시된 판이 없습니다 (첫 적재·점수 계산이 지금 파일을 1판으로 삼습니다).")
        for r in rows:
            mark = "*" if r["active"] else " "
            size = f"{int(r['bytes'] or 0) / 2**20:8,.1f} MB"
            print(f"{mark} {r['version']}  {size}  {r['created_at'] or '-':19s}  {r['command'] or '-'}")
    return 0


def _cmd_followups(args) -> int:
    from blindspot.followup.command import run

    return run(args)


def _cmd_audit(args) -> int:
    from blindspot.db import opstore

    result = opstore.open_ops().verify_audit()
    print(json.dumps(result, ensure_ascii=False))
    if result["ok"]:
        print(f"감사 기록 {result['records']:,}건의 해시 사슬이 온전합니다.", file=sys.stderr)
        return 0
    print(
        f"감사 기록 사슬이 끊겼습니다: 처음 어긋난 기록 번호 {result['first_broken']} ({result['reason']}).",
        file=sys.stderr,
    )
    return 1


def _cmd_settings(args) -> int:
    path = Path(args.auth) if args.auth else settings.get("auth")
    overrides = settings.read_account_overrides(path)
    if overrides is None and args.auth:
        raise BlindspotError(f"계정 파일이 없습니다: {path}.")
    rows = settings.resolved(overrides)
    # Keys of the block that no account setting reads (a typo, or a setting that is environment-only).
    unused = sorted(set(overrides or {}) - {s.name for s in settings.SETTINGS if s.account})
    if args.json:
        out = {"account_file": str(path) if overrides is not None else None, "unused_keys": unused, "settings": rows}
        print(json.dumps(out, ensure_ascii=False, indent=2, default=str))
    else:
        print(f"계정 파일  {path}" + ("" if overrides is not None else "  (없음: 환경변수와 기본값만)"))
        if unused:
            print(f"           settings 블록에서 읽지 않는 항목: {', '.join(map(str, unused))}")
        print(f"우선순위   {settings.FROM_ENV} > {settings.FROM_FILE}(계정 파일 settings:) > {settings.FROM_DEFAULT}")
        print("\n" + settings.text_table(rows), end="")
    if any(r["error"] for r in rows):
        print("오류: 쓸 수 없는 설정 값이 있습니다 (위 목록의 ↳ 줄). 고치거나 환경변수를 지우세요.", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    config.private_umask()
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BlindspotError as exc:
        print(f"오류: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("중단되었습니다. 기존 데이터베이스는 바뀌지 않았습니다.", file=sys.stderr)
        return 130
