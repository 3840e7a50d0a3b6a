"""What a password must be (密码策略): long, not blank, not common, not a trivial pattern.

Accounts here can publicize, accept, revoke and fund platforms; a guessable password gives that
away whatever the login throttling does. The rules follow NIST SP 800-63B: length counts, and a
password found in lists of the most common ones (or made of one repeated or sequential pattern)
is refused, without composition rules. The bundled list is short on purpose: the most common
choices, each of which also refuses itself with digits or symbols added at either end
(``Password2024!``).
"""

from __future__ import annotations

from itertools import pairwise

from aggregates.errors import InvalidInput

MIN_LENGTH = 12

# The most common passwords of the published breach corpora (lower case), the ones a person
# lengthens to reach twelve characters included.
COMMON = frozenset("""
password passw0rd p@ssw0rd p@ssword password1 qwerty qwertyuiop qwerty123 qwertyuiop123 asdfghjkl
zxcvbnm 1q2w3e4r 1q2w3e4r5t 1qaz2wsx 1qaz2wsx3edc zaq12wsx iloveyou admin administrator
administrator1 welcome welcome1 letmein monkey dragon football baseball basketball master
sunshine princess superman batman trustno1 starwars shadow michael jennifer whatever freedom
changeme changeit secret default computer internet abc123 abcd1234 abcdef123 aa123456 a123456
a1b2c3d4 woaini woaini1314 wodemima mima password123 admin123 root toor guest test tester
testing user login hello hello123 helloworld loveme lovely 5201314 1314520 iloveu
chinaman china huawei xiaomi tencent baidu zhongguo beijing shanghai changsha hunan
registry platform platforms bureau finance auditor applicant expert agency
""".split())

_KEYBOARD_ROWS = ("`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./",
                  "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/-['=]")
_ENDS = "0123456789!@#$%^&*()-_=+.,;:?~`'\"[]{}<>/\\| "


def check_password(password: str) -> str:
    """``password`` if it may be used, else :class:`InvalidInput` (field ``password``) saying why."""
    if len(password) < MIN_LENGTH:
        _refuse("password_too_short", f"a password has at least {MIN_LENGTH} characters")
    if not password.strip():
        _refuse("password_blank", "a password cannot be only spaces")
    lowered = password.lower()
    core = lowered.strip(_ENDS)
    if lowered in COMMON or core in COMMON:
        _refuse("password_common", "this password is among the most common ones; choose another")
    if _trivial(lowered):
        _refuse("password_trivial", "a password made of one repeated or sequential pattern is easy to guess")
    return password


def _refuse(code: str, message: str) -> None:
    raise InvalidInput(code, message, "password")


def _trivial(p: str) -> bool:
    """Few distinct characters, one unit repeated, an alphabet or digit run, or a keyboard walk."""
    if len(set(p)) <= 3:
        return True
    for size in range(1, len(p) // 2 + 1):
        if len(p) % size == 0 and p[:size] * (len(p) // size) == p:
            return True
    steps = {ord(b) - ord(a) for a, b in pairwise(p)}
    if steps <= {1, -9} or steps <= {-1, 9} or steps == {1} or steps == {-1}:
        return True
    return any(p in row * 3 or p in row[::-1] * 3 for row in _KEYBOARD_ROWS)
