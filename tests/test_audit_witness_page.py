"""The public pages show who has witnessed the latest checkpoint: the footer of every page
(见证方, name and time) and /checkpoint (name, time, key)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from audit.checkpoints import sign_checkpoint
from demo_store import DemoStore, make_container
from witness_support import Keys, witness_for

AUDIT, FINANCE = "sjj.changsha.example/witness", "czj.changsha.example/witness"


@pytest.fixture
def site(demo_store: DemoStore, keys: Keys) -> Iterator[tuple[TestClient, object]]:
    from api.app import create_app

    container = make_container(demo_store)
    with TestClient(create_app(container)) as client:
        yield client, container
    container.close()


def _footer(client: TestClient, path: str = "/") -> str:
    return client.get(path).text.split("<footer")[1]


def test_the_footer_and_the_checkpoint_page_show_the_witnesses(keys: Keys, site) -> None:
    client, container = site
    keys.add_witness(AUDIT, "市审计局")
    keys.add_witness(FINANCE, "市财政局")
    log_keys = container.settings.checkpoint_keys
    sign_checkpoint(container.app, log_keys.load_signer(), log_keys)
    assert "<dt>见证方</dt>" in _footer(client) and "尚无独立见证" in _footer(client)
    assert "本检查点尚无独立见证方的联署签名" in client.get("/checkpoint").text

    assert witness_for(client, keys, AUDIT).once().status == "cosigned"
    assert witness_for(client, keys, FINANCE).once().status == "cosigned"
    cosignatures = client.get("/api/v1/audit/checkpoint").json()["cosignatures"]
    for path in ("/", "/subfields", "/checkpoint"):
        footer = _footer(client, path)
        assert "尚无独立见证" not in footer
        for c in cosignatures:
            assert f'{c["witness"]} <time class="instant" datetime="{c["cosigned_at"]}">' in footer, path
        assert footer.index("市审计局") < footer.index("市财政局")  # in the order they cosigned
    page = client.get("/checkpoint").text.split("<footer")[0]
    for c in cosignatures:
        assert f"<dt>{c['witness']}</dt>" in page and f"{c['key_name']}+{c['key_id']}" in page
    assert "Accept: text/plain" in page and "platforms audit witness" in page
