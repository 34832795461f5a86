"""Account changes shared by ``classroom-monitor user ...`` and the admin settings page.

Each function works inside the caller's write transaction and raises :class:`AccountError` with one line
meant for the person at the keyboard. A password change or disabling an account ends all its logins.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from dashboard import usersessions
from monitor.store import directory
from monitor.store.schema import AuditLog, Camera, CameraAssignment, User, username_key

MIN_PASSWORD_LENGTH = 10
MAX_NAME_LENGTH = 100
# A few of the most used passwords that pass the length rule (lower-case; compared case-free).
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0987654321",
        "12345678910",
        "123456789a",
        "1q2w3e4r5t",
        "1qaz2wsx3edc",
        "abcdefghij",
        "qwertyuiop",
        "asdfghjkl1",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "qwerty1234",
        "qwerty12345",
        "iloveyou12",
        "welcome123",
        "letmein123",
        "changeme123",
        "administrator",
        "admin12345",
        "teacher123",
        "classroom1",
        "classroom123",
        "school1234",
        "football123",
        "sunshine123",
        "princess123",
    }
)
PASSWORD_RULE = (
    f"passwords need at least {MIN_PASSWORD_LENGTH} characters, not all the same, "
    "not the user name and not a common password"
)


class AccountError(Exception):
    """A refused account change; the message is one line for the user."""


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_problem(password: str, name: str) -> str | None:
    """Why ``password`` is too weak for user ``name`` (None: acceptable)."""
    folded = password.casefold()
    if (
        len(password) < MIN_PASSWORD_LENGTH
        or len(set(password)) == 1
        or folded == username_key(name)
        or folded in COMMON_PASSWORDS
    ):
        return f"weak password: {PASSWORD_RULE}"
    return None


def check_name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise AccountError(f"user names are 1 to {MAX_NAME_LENGTH} printable characters")
    return name


def find_user(db: Session, name: str) -> User | None:
    """The account called ``name``, whatever its case."""
    return directory.user_named(db, name)


def get_user(db: Session, name: str) -> User:
    user = find_user(db, name)
    if user is None:
        raise AccountError(f"no user {name!r}")
    return user


def add_user(db: Session, name: str, password: str, admin: bool, actor: str) -> User:
    name = check_name(name)
    existing = find_user(db, name)
    if existing is not None:
        raise AccountError(f"user {existing.username!r} exists already (user names ignore case)")
    if problem := password_problem(password, name):
        raise AccountError(problem)
    user = User(username=name, password_hash=hash_password(password), is_admin=admin)
    db.add(user)
    db.add(AuditLog(actor=actor, action="user_add", detail=f"user={name} admin={admin}"))
    db.flush()
    return user


def set_password(db: Session, user: User, password: str, actor: str, keep: str | None = None) -> int:
    """Change the password and end the user's logins (except the token ``keep``); returns how many ended."""
    if problem := password_problem(password, user.username):
        raise AccountError(problem)
    user.password_hash = hash_password(password)
    ended = usersessions.end_all(db, user.id, keep=keep)
    db.add(AuditLog(actor=actor, action="user_passwd", detail=f"user={user.username} sessions_ended={ended}"))
    return ended


def set_active(db: Session, user: User, active: bool, actor: str) -> int:
    """Enable or disable the account; disabling ends its logins. Returns how many logins ended."""
    user.is_active = active
    ended = 0 if active else usersessions.end_all(db, user.id)
    action = "user_enable" if active else "user_disable"
    db.add(AuditLog(actor=actor, action=action, detail=f"user={user.username} sessions_ended={ended}"))
    return ended


def assign_camera(db: Session, user: User, camera: Camera, assigned: bool, actor: str) -> bool:
    """Give ``camera`` to ``user`` (or take it away); returns whether anything changed."""
    row = db.get(CameraAssignment, (user.id, camera.id))
    if assigned == (row is not None):
        return False
    if assigned:
        db.add(CameraAssignment(user_id=user.id, camera_id=camera.id))
    else:
        db.delete(row)
    action = "assign" if assigned else "unassign"
    db.add(AuditLog(actor=actor, action=action, detail=f"user={user.username} camera={camera.name}"))
    return True


def set_cameras(
    db: Session, user: User, camera_ids: Iterable[int], actor: str
) -> tuple[list[str], list[str]]:
    """Let ``user`` see exactly ``camera_ids``; returns the names of the cameras (added, removed).

    Raises ``AccountError`` for an id that is not a camera (nothing changes then).
    """
    wanted = set(camera_ids)
    cams = directory.cameras_by_id(db, wanted)
    if missing := sorted(wanted - cams.keys()):
        raise AccountError(f"no camera with id {missing[0]}")
    have = set(directory.camera_ids_for_user(db, user.id))
    cams.update(directory.cameras_by_id(db, have - wanted))
    added = [cams[i] for i in wanted - have if assign_camera(db, user, cams[i], True, actor)]
    removed = [cams[i] for i in have - wanted if assign_camera(db, user, cams[i], False, actor)]
    db.flush()
    return _names(added), _names(removed)


def _names(cameras: list[Camera]) -> list[str]:
    return sorted((c.name for c in cameras), key=str.casefold)
