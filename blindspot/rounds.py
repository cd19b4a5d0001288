"""Bi-monthly detection rounds (발굴 차수): six a year.

A round is written ``YYYY-Rn`` (n = 1..6, round 1 = January–February) and stored
as the integer ``YYYY*10 + n``, so integer order is time order.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from blindspot.errors import BlindspotError

_ROUND_RE = re.compile(r"^(\d{4})-R([1-6])$")

# The demo's last round matches the population reference date (end of June 2024).
LATEST_DEMO_ROUND = "2024-R3"


@dataclass(frozen=True)
class Round:
    year: int
    seq: int

    @property
    def code(self) -> str:
        return f"{self.year}-R{self.seq}"

    @property
    def round_id(self) -> int:
        return self.year * 10 + self.seq

    @property
    def start(self) -> dt.date:
        return dt.date(self.year, 2 * self.seq - 1, 1)

    @property
    def end(self) -> dt.date:
        nxt = self.next()
        return nxt.start - dt.timedelta(days=1)

    @property
    def label_ko(self) -> str:
        return f"{self.year}년 {self.seq}차 ({2 * self.seq - 1}–{2 * self.seq}월)"

    @property
    def short_ko(self) -> str:
        """The round as axes and tables write it.

        >>> parse_round("2023-R4").short_ko
        '2023년 4차'
        """
        return f"{self.year}년 {self.seq}차"

    def next(self) -> Round:
        return Round(self.year + 1, 1) if self.seq == 6 else Round(self.year, self.seq + 1)

    def prev(self) -> Round:
        return Round(self.year - 1, 6) if self.seq == 1 else Round(self.year, self.seq - 1)


def parse_round(text: str) -> Round:
    """Parse ``YYYY-Rn``.

    >>> parse_round("2024-R3").round_id
    20243
    """
    m = _ROUND_RE.match(str(text).strip())
    if not m:
        raise BlindspotError(f"차수 형식이 잘못되었습니다: {text!r}. 'YYYY-Rn' 형식(n은 1~6, 예: 2024-R3)으로 쓰세요.")
    return Round(int(m.group(1)), int(m.group(2)))


def from_id(round_id: int) -> Round:
    """Inverse of :attr:`Round.round_id`.

    >>> from_id(20243).code
    '2024-R3'
    """
    return parse_round(f"{round_id // 10}-R{round_id % 10}")


def last_n(n: int, latest: str = LATEST_DEMO_ROUND) -> list[Round]:
    """The ``n`` consecutive rounds ending with ``latest``, oldest first.

    >>> [r.code for r in last_n(3)]
    ['2024-R1', '2024-R2', '2024-R3']
    """
    if n < 1:
        raise BlindspotError("차수는 1개 이상이어야 합니다.")
    out = [parse_round(latest)]
    while len(out) < n:
        out.append(out[-1].prev())
    return out[::-1]
