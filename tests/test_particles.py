"""No Korean particle glued to an interpolated value.

Whether a value takes 을 or 를, 이 or 가, 은 or 는, 과 or 와, 으로 or 로 depends on how it is
read aloud, and for a code ("rm-a4a98b95db", "2024-R3", "3") that is anyone's guess: the
particle is wrong about half the time and reads as machine text.  Messages put the value
where no particle follows it ("새 판을 게시했습니다: {v}", "판 {v}: …", "{label} 차수").

The test reads the source, not the screen, so it sees every message, including errors no
other test provokes: an f-string value, a ``%s`` or ``{}`` placeholder in a string literal,
or a value concatenated with ``+``, followed by one of those particles.  의, 에, 에서, 도,
만, 까지, 부터 do not change with the value and are left alone.  The determiner 이 ("this")
after a value that ends a sentence ("{exc} 이 값은…") looks the same as the particle and is
reported too: such a message says "그 값은" instead.
"""

from __future__ import annotations

import ast
import re

from blindspot import config
from blindspot.vocab import particle

ROOT = config.PROJECT_DIR
SOURCES = sorted([*(ROOT / "blindspot").rglob("*.py"), *(ROOT / "views").rglob("*.py"), ROOT / "app.py"])

PAIRS = ("을/를", "이/가", "은/는", "과/와", "으로/로")
PARTICLES = "|".join(p for pair in PAIRS for p in pair.split("/"))
# What may stand between a value and its particle: spaces, and the closing quote or bracket
# of a value shown quoted or bracketed ("'{x}' 을", "[{x}]를").
BETWEEN = r"""[\s'"’”)\]}>»」』]*"""
# The particle must end its word: followed by space, punctuation or the end of the text.
# That keeps out the nouns, counters and endings that begin with the same syllable:
# "{n}가구", "{n}개", "{a}이상", "{x}이고", "{x}로그", "{x}은행", "{n}과목".
PARTICLE_AFTER_VALUE = re.compile(rf"^{BETWEEN}({PARTICLES})(?=[\s.,!?:;·…()\[\]'\"’”]|$)")
# A word, then brackets holding a value, then a particle: "아이디({username})가", "목록(feature
# set {fp})으로".  Korean spelling attaches the particle to the word before the brackets, a
# known word, so the particle is checked against that word's last syllable instead.
AFTER_BRACKET = re.compile(rf"^\)({PARTICLES})(?=[\s.,!?:;·…()\[\]'\"’”]|$)")
# Placeholders of a ``%`` template (%s, %d, %(name)s, %.1f…) and of a ``.format`` template
# ({}, {0}, {name}, {name!r:>8}); "%%", "{{" and "}}" are literal characters.
PERCENT_FIELD = re.compile(r"(?<!%)%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdifrxXeEgGc]")
FORMAT_FIELD = re.compile(r"(?<!\{)\{[^{}]*\}(?!\})")


def _is_str(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _glued(text: str) -> bool:
    return bool(PARTICLE_AFTER_VALUE.match(text))


def _fits(syllable: str, p: str) -> bool:
    pair = next(pair for pair in PAIRS if p in pair.split("/"))
    return particle(syllable, pair) == syllable + p


def _fstring(node: ast.JoinedStr) -> list[int]:
    """Lines of the values in an f-string that a particle follows.  An implicit concatenation
    ("…{x}" "을 …") is one JoinedStr, so the text after a value is always the next part."""
    parts, lines = node.values, []
    for i, part in enumerate(parts[:-1]):
        after = parts[i + 1]
        if not (isinstance(part, ast.FormattedValue) and _is_str(after) and _glued(after.value)):
            continue
        bracketed, word = AFTER_BRACKET.match(after.value), _word_before_bracket(parts[:i])
        if bracketed and word and _fits(word, bracketed.group(1)):
            continue
        lines.append(part.value.lineno)
    return lines


def _word_before_bracket(parts: list[ast.AST]) -> str | None:
    """The Hangul syllable just before the bracket left open at the end of ``parts``, if any."""
    text = "".join(p.value if _is_str(p) else "\ufffc" for p in parts)
    depth = 0
    for k in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[k], 0)
        if depth < 0:
            return text[k - 1] if k and "가" <= text[k - 1] <= "힣" else None
    return None


def _template(text: str) -> bool:
    return any(_glued(text[m.end() :]) for field in (PERCENT_FIELD, FORMAT_FIELD) for m in field.finditer(text))


def _starts_with_particle(node: ast.AST) -> bool:
    if _is_str(node):
        return _glued(node.value)
    return isinstance(node, ast.JoinedStr) and bool(node.values) and _starts_with_particle(node.values[0])


def _ends_with_value(node: ast.AST) -> bool:
    """Whether the text ``node`` makes ends with something computed, not with a literal."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _ends_with_value(node.right)
    if isinstance(node, ast.JoinedStr):
        return bool(node.values) and isinstance(node.values[-1], ast.FormattedValue)
    return not isinstance(node, ast.Constant)


def offences(source: str) -> list[int]:
    """Lines of ``source`` where a particle follows an interpolated value."""
    tree = ast.parse(source)
    in_fstring = {id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values}
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            lines += _fstring(node)
        elif _is_str(node) and id(node) not in in_fstring:
            # Any literal with placeholders, not only one that ``%`` or ``.format`` is applied
            # to where it stands: a template kept in a table is formatted elsewhere.
            if _template(node.value):
                lines.append(node.lineno)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            if _ends_with_value(node.left) and _starts_with_particle(node.right):
                lines.append(node.right.lineno)
    return sorted(set(lines))


def test_no_particle_after_an_interpolated_value():
    found = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        source_lines = text.splitlines()
        found += [f"{path.relative_to(ROOT)}:{n}: {source_lines[n - 1].strip()}" for n in offences(text)]
    assert not found, "a particle follows an interpolated value:\n" + "\n".join(found)


BAD = (
    'f"새 판 {v} 을 게시했습니다"',
    'f"{target} 가 이미 있습니다"',
    'f"판 {v}을 지금 판으로 했습니다"',
    "f\"모델 '{v}' 는 없습니다\"",
    'f"{a} 과 {b}"',
    'f"{v}으로 바꿨습니다"',
    'f"{v}로."',
    'f"{v}를(을) 지웁니다"',
    'f"{v}를"',
    'f"{a}이{b}"',  # a value straight after a particle leaves it glued to the first
    'f"{v}" "를 지웁니다"',
    'f"값 ({v})는 없습니다"',  # no word before the bracket: the particle is the value's
    'f"아이디({v})이 있습니다"',  # the word before the bracket takes 가, not 이
    'f"목록 ({v})으로"',  # a space before the bracket: no word to agree with
    '"%s 를 지웁니다" % v',
    '"%(name)s 은 없습니다" % {"name": v}',
    '"{} 이 없습니다".format(v)',
    'MESSAGES = {"gone": "{name} 은 없습니다"}',
    'v + " 을 지웁니다"',
    '"판 " + v + "은 없습니다"',
)
FINE = (
    'f"{n}개 동"',
    'f"{n}명"',
    'f"{n}가구"',
    'f"{n} 가구"',
    'f"{a}이상"',
    'f"{x}이고"',
    'f"{x}로그"',
    'f"{x}의 위험도"',
    'f"{x}에 있습니다"',
    'f"{x}까지"',
    'f"새 판을 게시했습니다: {v}"',
    'f"판 {v}: 지금 판으로 지정했습니다"',
    'f"{label} 차수"',
    'f"아이디({v})가 있습니다"',
    'f"검증 차수 {n}개({names})를 합치면"',
    'f"목록(feature set {fp})으로 학습"',
    'f"모델({v} 버전, {d})이 있습니다"',
    '"100%를 넘습니다"',
    '"{{x}} 를".format()',
    '"--force 를 붙이세요"',
    '"판 " + "을"',
)


def test_the_check_finds_glued_particles_and_only_them():
    assert [s for s in BAD if not offences(s)] == []
    assert [s for s in FINE if offences(s)] == []
