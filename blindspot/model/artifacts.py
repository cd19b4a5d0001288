"""Versioned model artifacts: ``models/<version>/`` with the model, its metadata and card.

* ``model.skops`` — the fitted pipeline in skops format, which rebuilds objects from an
  allow-list of types instead of unpickling arbitrary code; loading refuses any type
  that skops does not trust by default (none are needed for this pipeline).
* ``metadata.json`` — library versions, training-data fingerprint, rounds, features,
  thresholds, metrics, curves, subgroup results, importance.
* ``model-card.md`` — generated from the metadata (blindspot/model/card.py).

The version is a hash of what made the model (data fingerprint, features, parameters,
library version), so retraining on the same data gives the same version.  The model in
service is recorded in the database's ``meta`` table (``model_version``); a model is put
in service only after it loaded back and passed every check, so a bad artifact never
replaces a good one.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
from pathlib import Path

import numpy as np
import sklearn
import skops.io as sio

from blindspot.db.store import Store
from blindspot.indicators.catalogue import Catalogue
from blindspot.model.features import FeatureSet, feature_set
from blindspot.model.pipeline import FittedModel, ModelError, Thresholds, column_groups

MODEL_FILE = "model.skops"
METADATA_FILE = "metadata.json"
CARD_FILE = "model-card.md"
META_KEY = "model_version"


def library_versions() -> dict[str, str]:
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        **{name: version(name) for name in ("scikit-learn", "numpy", "pandas", "skops", "duckdb")},
    }


def make_version(data_fingerprint: str, fs: FeatureSet, params: dict) -> str:
    """Deterministic version id.

    >>> make_version("abc", FeatureSet(("a",), (), (), (), ()), {"C": 1.0})[:3]
    'rm-'
    """
    key = json.dumps(
        {"data": data_fingerprint, "features": fs.fingerprint, "params": params, "sklearn": sklearn.__version__},
        sort_keys=True,
    )
    return "rm-" + hashlib.sha256(key.encode()).hexdigest()[:10]


def save(models_dir: Path, fitted: FittedModel, metadata: dict, card: str, tables: dict | None = None) -> Path:
    """Write the three files into ``models_dir/<version>/`` (via a temporary folder), and
    ``tables`` ({file name: DataFrame}, e.g. the capacity what-if's) as Parquet beside them."""
    version = metadata["version"]
    target = Path(models_dir) / version
    tmp = Path(models_dir) / f".{version}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    sio.dump(fitted.pipeline, tmp / MODEL_FILE)
    # The reasons' reference point and whose means it is (the training rows, or a round's
    # whole population after pipeline.set_population_base), beside what train put there.
    extra = {
        **metadata.get("explain", {}),
        "column_means": fitted.column_means.tolist(),
        "groups": fitted.groups.tolist(),
        "base_population": fitted.base_population,
        "base_logit": fitted.base_logit,
    }
    (tmp / METADATA_FILE).write_text(
        json.dumps({**metadata, "explain": extra}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    (tmp / CARD_FILE).write_text(card, encoding="utf-8")
    for name, table in (tables or {}).items():
        table.to_parquet(tmp / name, index=False)
    # Not world-readable: the metadata holds per-group counts of the training data.
    for f in tmp.iterdir():
        os.chmod(f, 0o640)
    os.chmod(tmp, 0o750)
    if target.exists():
        shutil.rmtree(target)
    tmp.rename(target)
    return target


def read_metadata(models_dir: Path, version: str) -> dict:
    path = Path(models_dir) / version / METADATA_FILE
    if not path.is_file():
        raise ModelError(
            f"모델 {version} 의 메타데이터가 없습니다: {path}. `python -m blindspot train` 으로 다시 학습하세요."
        )
    return json.loads(path.read_text(encoding="utf-8"))


def load(models_dir: Path, version: str, catalogue: Catalogue | None = None) -> tuple[FittedModel, dict]:
    """Load and check a model; refuse one made for other features or another scikit-learn.

    Raises :class:`ModelError` with what is wrong and what to do.
    """
    meta = read_metadata(models_dir, version)
    current = feature_set(catalogue)
    fs_meta = meta.get("feature_set", {})
    if fs_meta.get("fingerprint") != current.fingerprint:
        raise ModelError(
            f"{version} 모델은 다른 입력 변수 목록(feature set {fs_meta.get('fingerprint')})으로 학습되었습니다. "
            f"현재 목록은 {current.fingerprint} 입니다 (지표 목록이 바뀜). "
            "`python -m blindspot train` 으로 다시 학습하세요."
        )
    trained_with = meta.get("library_versions", {}).get("scikit-learn")
    if trained_with != sklearn.__version__:
        raise ModelError(
            f"{version} 모델은 scikit-learn {trained_with} 버전으로 학습되었고 "
            f"지금은 {sklearn.__version__} 버전입니다. "
            "버전이 다른 모델은 결과가 달라질 수 있어 쓰지 않습니다. `python -m blindspot train` 으로 다시 학습하세요."
        )
    path = Path(models_dir) / version / MODEL_FILE
    untrusted = sio.get_untrusted_types(file=path)
    if untrusted:
        raise ModelError(
            f"모델 파일 {path} 에 신뢰할 수 없는 객체 형식이 있어 불러오지 않습니다: {', '.join(untrusted)}"
        )
    pipeline = sio.load(path)
    fs = FeatureSet(**{k: tuple(fs_meta[k]) for k in ("flags", "months", "amounts", "numeric", "categorical")})
    groups = column_groups(pipeline, fs)
    if groups.tolist() != meta["explain"]["groups"]:
        raise ModelError(f"모델 {version} 의 파일과 메타데이터가 맞지 않습니다 (변수 구성 불일치).")
    thresholds = Thresholds(**meta["thresholds"])
    explain = meta["explain"]
    fitted = FittedModel(pipeline, fs, groups, np.asarray(explain["column_means"]), thresholds)
    if "base_population" in explain:  # models saved before it was recorded: the training rows
        fitted.base_population = explain["base_population"]
    return fitted, meta


def in_service(store: Store) -> str | None:
    """Version of the model in service for this database, if any."""
    return store.meta().get(META_KEY)


def activate(store: Store, models_dir: Path, version: str, catalogue: Catalogue | None = None) -> None:
    """Put a model in service after it loaded back and passed every check."""
    load(models_dir, version, catalogue)
    store.set_meta(META_KEY, version)


def update_metadata(models_dir: Path, version: str, fields: dict) -> dict:
    """Add or replace top-level ``fields`` of a saved model's metadata.json (its drift
    reference, its last gate result) and return the whole metadata.  Written beside and
    renamed over, so a reader never sees half a file; the model file is not touched."""
    meta = read_metadata(models_dir, version)
    meta.update(fields)
    path = Path(models_dir) / version / METADATA_FILE
    tmp = path.with_name(f".{METADATA_FILE}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    os.chmod(tmp, 0o640)
    os.replace(tmp, path)
    return meta
