"""The secret keys in a backup: only when the operator asks, and then encrypted.

The token signing key (``PLATFORMS_SECRET_KEY``, or ``secret.key`` in development) and the
checkpoint signing key are what an intruder with a copy of the backup would most like to have:
the first mints tokens, the second signs checkpoints in the registry's name. By default a backup
holds neither, and its manifest says where the operator must keep them. With ``--include-keys``
they are written into one file, ``keys.enc``: a Fernet token (AES-128-CBC and HMAC-SHA256, from
``cryptography``) under a key derived from a passphrase with scrypt (n=2^15, r=8, p=1: about
0.1 s and 32 MiB to try one passphrase), its random salt beside it. A wrong passphrase, or a
file altered in any bit, fails Fernet's authentication and nothing is restored.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from .manifest import PRIVATE_FILE, BackupRefused

__all__ = ["KEYS_FILE", "MIN_PASSPHRASE", "SecretKeys", "seal", "unseal"]

KEYS_FILE = "keys.enc"
KEYS_FORMAT = "platform-registry-keys/1"
MIN_PASSPHRASE = 12
_N, _R, _P = 2**15, 8, 1


@dataclass(frozen=True)
class SecretKeys:
    """The token signing key and the checkpoint signing key's PEM, each None when absent."""

    token_secret: str | None
    checkpoint_private_pem: str | None

    def names(self) -> list[str]:
        return [name for name, value in (("token_secret", self.token_secret),
                                         ("checkpoint_private_key", self.checkpoint_private_pem)) if value]


def _fernet(passphrase: str, salt: bytes, n: int = _N, r: int = _R, p: int = _P) -> Fernet:
    key = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def seal(keys: SecretKeys, passphrase: str, path: Path) -> None:
    """Write ``keys`` to ``path`` (created 0600, never overwritten), encrypted under ``passphrase``."""
    if len(passphrase) < MIN_PASSPHRASE:
        raise BackupRefused(f"the keys' passphrase must have at least {MIN_PASSPHRASE} characters")
    salt = os.urandom(16)
    plain = json.dumps({"token_secret": keys.token_secret,
                        "checkpoint_private_pem": keys.checkpoint_private_pem}).encode("utf-8")
    document = {"format": KEYS_FORMAT, "kdf": {"name": "scrypt", "n": _N, "r": _R, "p": _P,
                                                "salt": base64.b64encode(salt).decode("ascii")},
                "fernet": _fernet(passphrase, salt).encrypt(plain).decode("ascii")}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(document, fh, indent=2)
        fh.write("\n")


def unseal(path: Path, passphrase: str) -> SecretKeys:
    """The keys sealed in ``path``; :class:`BackupRefused` for a wrong passphrase or a damaged file."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        kdf = document["kdf"]
        if document.get("format") != KEYS_FORMAT or kdf.get("name") != "scrypt":
            raise BackupRefused(f"{path.name} is not a keys file this release reads")
        fernet = _fernet(passphrase, base64.b64decode(kdf["salt"]), int(kdf["n"]), int(kdf["r"]), int(kdf["p"]))
        plain = json.loads(fernet.decrypt(document["fernet"].encode("ascii")))
    except InvalidToken:
        raise BackupRefused(f"cannot decrypt {path.name}: wrong passphrase, or the file was altered") from None
    except BackupRefused:
        raise
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BackupRefused(f"{path.name} is damaged ({exc.__class__.__name__})") from None
    return SecretKeys(plain.get("token_secret"), plain.get("checkpoint_private_pem"))
