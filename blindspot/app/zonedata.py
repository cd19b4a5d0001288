"""What the 특별지원구역 page reads, cached like every aggregate (:func:`blindspot.app.cache.cached`):
each round's components, the ranking and its one-page briefing.  Aggregates only; nothing here
is audited (the page's downloads are, by :func:`blindspot.app.widgets.download_button`)."""

from __future__ import annotations

from blindspot.access import Scope
from blindspot.app.cache import cached
from blindspot.db.store import Store


@cached("특별지원구역 차수별 성분 집계 중…")
def zone_round(store: Store, scope: Scope, level: str, area: str | None, round_id: int):
    """One round's components of the ranking (:func:`blindspot.zones.figures.round_components`):
    kept apart from the ranking so that new weights rank again without reading the rounds."""
    from blindspot.zones import figures as zones

    return zones.round_components(store, scope, level, int(round_id), area)


@cached("특별지원구역 순위 계산 중 (차수 부트스트랩)…")
def zone_ranking(store: Store, scope: Scope, level: str, area: str | None, round_id: int, weights: tuple):
    """The special support zone ranking; ``weights`` as ((key, weight), …) so it keys the cache."""
    from blindspot.zones import figures as zones

    def read_round(r: int):
        return zone_round(scope, level, area, r)

    return zones.zone_ranking(store, scope, level, int(round_id), area, dict(weights), read_round=read_round)


@cached("특별지원구역 브리핑(PDF) 만드는 중…")
def zone_brief(store: Store, scope: Scope, level: str, area: str | None, round_id: int, weights: tuple) -> bytes:
    """The one-page designation briefing (PDF bytes) of the same ranking."""
    from blindspot.zones import brief

    ranking = zone_ranking(scope, level, area, round_id, weights)
    return brief.render(store, scope, ranking)
