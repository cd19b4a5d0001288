"""SQL of the access rules: the 시군구 of a 시도, for :func:`blindspot.access.scope.narrow`."""

SGG_OF_SIDO = "SELECT code FROM regions WHERE level = 'sgg' AND sido_code = ? ORDER BY code"
