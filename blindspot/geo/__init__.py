"""Korea's administrative geography: 시도, 시군구, 읍면동 boundaries, population and adjacency."""
