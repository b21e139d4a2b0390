"""Identity without passwords, safe against guessing: a nickname (unique in the class, look-alikes refused) and
a 4-word return code shown once; only hashes of codes and session tokens are ever stored."""

from __future__ import annotations

import hashlib
import secrets
import unicodedata

from core.classroom.return_words import WORDS

NICKNAME_MAX = 24
WRONG_NICKNAME_OR_CODE = ("That nickname and return code do not match. Check both: the code is the four words you "
                          "were shown when you joined (your teacher can give you a new one).")
CODE_ITERATIONS = 60_000


class NicknameProblem(ValueError):
    """A nickname that cannot be used; the message says why."""


class LoginRefused(ValueError):
    """Wrong nickname or return code, or too many tries from one browser; the message says what to do."""


def clean_nickname(text: str) -> str:
    """NFC, spaces collapsed; refuses control and bidirectional-override characters (they disguise names)."""
    text = unicodedata.normalize("NFC", (text or "").strip(" "))
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn") for ch in text):
        raise NicknameProblem("That nickname has invisible or control characters: use letters, digits and spaces.")
    name = " ".join(text.split())
    if not name:
        raise NicknameProblem("Type a nickname (your first name or a made-up one).")
    if len(name) > NICKNAME_MAX:
        raise NicknameProblem(f"A nickname has at most {NICKNAME_MAX} characters.")
    return name


def nickname_key(name: str) -> str:
    return clean_nickname(name).casefold()


def new_return_code() -> str:
    return " ".join(secrets.choice(WORDS) for _ in range(4))


def normalise_code(code: str) -> str:
    return " ".join((code or "").lower().replace("-", " ").split())


def hash_code(code: str, salt: bytes) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", normalise_code(code).encode(), salt, CODE_ITERATIONS)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
