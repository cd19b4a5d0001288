"""SQL of the geography: regions, their names, children and geometries, adjacency.

Statements run only through :meth:`blindspot.db.store.Store.run`, with values bound as
parameters.  ``{...}`` slots take SQL structure this package produces itself (a column
name from a fixed list, or the placeholders of :func:`blindspot.access.scope_sql`), never
a user's value.
"""

from __future__ import annotations

UPDATE_REGION_GEOMETRY = (
    "UPDATE regions SET geometry = g.geometry, name = coalesce(g.name, regions.name) "
    "FROM {relation} g WHERE regions.code = g.code"
)

DELETE_ADJACENCY = "DELETE FROM region_adjacency"

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
