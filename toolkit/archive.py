"""Files sent in chat that hold children's data travel as AES-encrypted zips: a phone that
loses the file, or a chat it is forwarded to, gets nothing without the password, which the
person who asked is shown once, in a message of its own."""

from __future__ import annotations

import io
import secrets

import pyzipper

# Letters and digits that cannot be mistaken for each other when copied by hand.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"
PASSWORD_LENGTH = 12  # about 70 bits


def new_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LENGTH))


def encrypted_zip(name: str, data: bytes, password: str) -> bytes:
    """`data` as the one file `name` of a zip encrypted with AES-256 (7-Zip, WinRAR, macOS
    Archive Utility and Android file managers open it)."""
    buffer = io.BytesIO()
    with pyzipper.AESZipFile(
        buffer, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password.encode())
        archive.writestr(name, data)
    return buffer.getvalue()


def read_encrypted_zip(content: bytes, password: str) -> dict[str, bytes]:
    """Every file of an encrypted zip (for tests and for checking an export)."""
    with pyzipper.AESZipFile(io.BytesIO(content)) as archive:
        archive.setpassword(password.encode())
        return {name: archive.read(name) for name in archive.namelist()}
