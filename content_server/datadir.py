"""Creating a data folder (``content-server init``) and opening one.

A data folder holds ``content.db``, ``keys/signing.key``,
``keys/mqtt-server.password`` and ``assets/``. ``initialise`` creates all of
it or, if anything fails, nothing: the database is built under a temporary
name and renamed last, so ``content.db`` existing means "initialised". It
refuses a folder that is initialised already (unless it would change
nothing) or that holds anything else.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from datetime import datetime

from signage_core.signing import SigningKey
from signage_core.timefmt import format_time

from .accounts import check_new_password, hash_password, new_password, verify_password
from .errors import ConflictError, InvalidInputError, NotInitialisedError
from .keys import create_mqtt_server_password, create_signing_key, load_signing_key
from .models import User
from .settings import Settings
from .store import Store


class AlreadyInitialisedError(ConflictError):
    title = "Already initialised"
    code = "already-initialised"


@dataclass(frozen=True)
class InitResult:
    created: bool
    key: SigningKey
    admin_user: str
    generated_password: str | None  # shown once, when none was given


def _refusal(settings: Settings) -> AlreadyInitialisedError:
    return AlreadyInitialisedError(
        f"{settings.data_dir} is already initialised; refusing to initialise it again. "
        "Use another --data-dir, or remove this folder to start over (that deletes "
        "its signing key: every device would need a new configuration)"
    )


def initialise(
    settings: Settings, admin_user: str, admin_password: str | None, now: datetime
) -> InitResult:
    data = settings.data_dir
    if settings.db_path.exists():
        if admin_password is None:
            raise _refusal(settings)
        store = Store.open(settings.db_path)
        try:
            user = store.user(admin_user)
        finally:
            store.close()
        key = load_signing_key(settings.signing_key_path)
        if (
            user is None
            or user.role != "admin"
            or not verify_password(admin_password, user.password_hash)
        ):
            raise _refusal(settings)
        return InitResult(False, key, admin_user, None)
    if data.exists() and (not data.is_dir() or any(data.iterdir())):
        raise AlreadyInitialisedError(
            f"{data} is not empty and is not a content-server data folder; "
            "give an empty or new folder to --data-dir"
        )
    generated = None
    if admin_password is None:
        admin_password = generated = new_password()
    try:
        check_new_password(admin_password)
    except ValueError as e:
        raise InvalidInputError(f"admin password: {e}") from e
    data.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        key = create_signing_key(settings.signing_key_path)
        create_mqtt_server_password(settings.mqtt_server_password_path)
        settings.assets_dir.mkdir(mode=0o700)
        building = settings.db_path.with_name(settings.db_path.name + ".init")
        store = Store.open(building)
        try:
            ts = format_time(now)
            with store.transaction():
                store.add_user(User(admin_user, hash_password(admin_password), "admin", None), ts)
                store.audit(ts, "cli", "init", str(data), "local", {"admin": admin_user})
        finally:
            store.close()
        os.replace(building, settings.db_path)
    except BaseException:
        for child in data.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
        raise
    return InitResult(True, key, admin_user, generated)


def open_store(settings: Settings) -> Store:
    if not settings.db_path.is_file():
        raise NotInitialisedError(
            f"{settings.data_dir} holds no content-server database; "
            f"run `content-server init --data-dir {settings.data_dir}` first"
        )
    return Store.open(settings.db_path)
