"""The public page tests' store (no tests here): the demo programme loaded into a SQLite template
store, copied for each test, an app built on the copy, and readers of the pages' HTML. The
fixtures that load the template once per session and copy it per test are in ``conftest.py``.

The demo's live batch is open today (Asia/Shanghai): ``api.demo.load`` chooses its start from
today and the working-day calendar, exactly as ``platforms demo`` does.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SECRET = "page-test-secret-key-of-at-least-32-characters"


@dataclass
class DemoStore:
    """A copy of the demo store: its database URL and policy directory."""

    url: str
    policy_dir: Path
    var_dir: Path


def build_demo_template(root: Path) -> Path:
    """Load the demo into ``root`` (events.sqlite3 + policies/); returns ``root``."""
    from api import demo
    from api.bootstrap import build_container
    from api.settings import Settings

    root.mkdir(parents=True, exist_ok=True)
    demo.install_demo_policy(root / "policies")
    settings = Settings.from_env(database_url=f"sqlite:///{root / 'events.sqlite3'}",
                                 var_dir=root / "var", secret_key=SECRET, policy_dir=root / "policies")
    c = build_container(settings)
    try:
        demo.load(c.app)
        c.runner.catch_up()
        demo.create_users(c.users)
    finally:
        c.close()
    return root


def copy_demo(template: Path, target: Path) -> DemoStore:
    target.mkdir(parents=True, exist_ok=True)
    for db in template.glob("events*.sqlite3*"):  # events and read models, with any -wal/-shm
        shutil.copyfile(db, target / db.name)
    shutil.copytree(template / "policies", target / "policies", dirs_exist_ok=True)
    return DemoStore(f"sqlite:///{target / 'events.sqlite3'}", target / "policies", target / "var")


def make_container(store: DemoStore) -> Any:
    from api.bootstrap import build_container
    from api.settings import Settings

    settings = Settings.from_env(database_url=store.url, var_dir=store.var_dir, secret_key=SECRET,
                                 policy_dir=store.policy_dir, checkpoint_signer=False)
    return build_container(settings)


def sign_checkpoint_now(container: Any) -> Any:
    from audit.checkpoints import sign_checkpoint

    keys = container.settings.checkpoint_keys
    return sign_checkpoint(container.app, keys.load_signer(), keys)


# ---------------------------------------------------------------- reading pages
def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden field {name}"
    return m.group(1)


def objection_counts(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'data-objections="(\d+)"', html)]


def open_platform_links(html: str) -> list[str]:
    return re.findall(r'href="(/publicity/[^"]+/objections/new)"', html)
