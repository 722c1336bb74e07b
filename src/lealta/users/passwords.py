"""Password hashing with Argon2id (pwdlib's recommended parameters)."""

from __future__ import annotations

from functools import lru_cache

from pwdlib import PasswordHash

from lealta.errors import InvalidInput

MIN_LENGTH = 10
MAX_LENGTH = 1024  # Argon2 takes any length; a bound keeps a sign-in request cheap to refuse


@lru_cache(maxsize=1)
def _hasher() -> PasswordHash:
    return PasswordHash.recommended()


def check_strength(password: str) -> None:
    """Refuse passwords that are too short or too long (``InvalidInput`` naming ``password``)."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"a password needs at least {MIN_LENGTH} characters", field="password")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"a password has at most {MAX_LENGTH} characters", field="password")


def hash_password(password: str) -> str:
    """An Argon2id hash of ``password`` (salted; slow on purpose)."""
    return _hasher().hash(password)


def verify_password(password: str, hashed: str) -> tuple[bool, str | None]:
    """Whether ``password`` matches ``hashed``, and a new hash when the parameters have changed."""
    if len(password) > MAX_LENGTH:
        return False, None
    return _hasher().verify_and_update(password, hashed)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when no user has the e-mail, so timing does not tell."""
    return hash_password("not a password of anyone's")
