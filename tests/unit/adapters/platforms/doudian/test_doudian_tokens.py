import threading

import pytest

from fahuo.adapters.platforms.doudian import (
    AuthorizationRequired,
    InMemoryTokenStore,
    InvalidRequest,
    ShopSession,
    TokenExpired,
    TokenSet,
    TokenStore,
)

NOW = 1_700_000_000


def stored(expires_in=604800, refresh_left=14 * 86400, n=0):
    return TokenSet(
        access_token=f"access-old{n}",
        refresh_token=f"refresh-old{n}",
        expires_at=NOW + expires_in,
        refresh_expires_at=NOW + refresh_left,
        shop_id="77001",
        shop_name="老店名",
        scope="S",
        authority_id="",
    )


@pytest.fixture
def store():
    return InMemoryTokenStore()


@pytest.fixture
def session_factory(client, store, clock):
    def make(**kw):
        kw.setdefault("clock", clock)
        return ShopSession(client, store, "shop-A", **kw)

    return make


def test_in_memory_store_is_a_token_store(store):
    assert isinstance(store, TokenStore)
    assert store.load("x") is None


# -- TokenSet.from_token_data -------------------------------------------------------


def test_expires_in_is_seconds_to_live():
    t = TokenSet.from_token_data({"access_token": "a", "refresh_token": "r", "expires_in": 600, "shop_id": 5}, issued_at=NOW)
    assert t.expires_at == NOW + 600 and t.refresh_expires_at == NOW + 14 * 86400 and t.shop_id == "5"


def test_expires_in_that_looks_absolute_is_taken_as_absolute():
    t = TokenSet.from_token_data({"access_token": "a", "refresh_token": "r", "expires_in": NOW + 1234}, issued_at=NOW)
    assert t.expires_at == NOW + 1234


@pytest.mark.parametrize("value", [412219354, None, 0, "junk"])
def test_implausible_expires_in_falls_back_to_seven_days(value):
    t = TokenSet.from_token_data({"access_token": "a", "refresh_token": "r", "expires_in": value}, issued_at=NOW)
    assert t.expires_at == NOW + 7 * 86400


def test_token_data_without_tokens_rejected():
    from fahuo.adapters.platforms.doudian import UnexpectedResponse

    with pytest.raises(UnexpectedResponse):
        TokenSet.from_token_data({"access_token": "a", "expires_in": 1}, issued_at=NOW)


# -- ShopSession ------------------------------------------------------------------------


def test_self_built_creates_token_when_none_stored(session_factory, gateway, store):
    session = session_factory(self_built_shop_id="77001")
    session.call("order.searchList", {"page": 0})
    assert [s.method for s in gateway.seen] == ["token.create", "order.searchList"]
    assert gateway.seen[0].params["shop_id"] == "77001"
    assert gateway.seen[1].query["access_token"] == "access-1"
    assert store.load("shop-A").refresh_token == "refresh-1"
    # cached: a second call does not create again
    session.call("order.searchList", {"page": 1})
    assert [s.method for s in gateway.seen].count("token.create") == 1


def test_tool_app_without_token_must_authorise(session_factory, gateway):
    session = session_factory()
    with pytest.raises(AuthorizationRequired, match="authorise"):
        session.call("order.searchList", {})
    assert gateway.seen == []


def test_no_refresh_above_margin(session_factory, gateway, store):
    store.save("shop-A", stored(expires_in=3001))
    session_factory().call("order.searchList", {})
    assert [s.method for s in gateway.seen] == ["order.searchList"]
    assert gateway.seen[0].query["access_token"] == "access-old0"


def test_proactive_refresh_below_margin_persists_new_refresh_token(session_factory, gateway, store, clock):
    store.save("shop-A", stored(expires_in=2999))
    session_factory().call("order.searchList", {})
    assert [s.method for s in gateway.seen] == ["token.refresh", "order.searchList"]
    assert gateway.seen[0].params == {"grant_type": "refresh_token", "refresh_token": "refresh-old0"}
    assert gateway.seen[1].query["access_token"] == "access-1"
    saved = store.load("shop-A")
    assert saved.refresh_token == "refresh-1" and saved.access_token == "access-1"
    assert saved.expires_at == NOW + 604800
    assert saved.refresh_expires_at == NOW + 14 * 86400
    assert saved.shop_name == "测试店"


def test_refresh_margin_is_configurable(session_factory, gateway, store):
    store.save("shop-A", stored(expires_in=5000))
    session_factory(refresh_margin_s=6000).call("order.searchList", {})
    assert gateway.seen[0].method == "token.refresh"


def test_same_pair_returned_keeps_old_refresh_deadline(session_factory, gateway, store, h):
    store.save("shop-A", stored(expires_in=2999, refresh_left=86400))
    gateway.script(
        "token.refresh",
        h.ok({"access_token": "access-old0", "refresh_token": "refresh-old0", "expires_in": 2999, "shop_id": "77001"}),
    )
    session_factory().call("order.searchList", {})
    assert store.load("shop-A").refresh_expires_at == NOW + 86400


def test_token_expired_refreshes_and_retries_once(session_factory, gateway, store, h):
    store.save("shop-A", stored())
    gateway.script("order.searchList", h.err(40003, "isv.access-token-expired"), h.ok({"total": 3}))
    assert session_factory().call("order.searchList", {"page": 0}) == {"total": 3}
    assert [s.method for s in gateway.seen] == ["order.searchList", "token.refresh", "order.searchList"]
    assert gateway.seen[0].query["access_token"] == "access-old0"
    assert gateway.seen[2].query["access_token"] == "access-1"
    assert gateway.seen[2].body == gateway.seen[0].body
    assert store.load("shop-A").refresh_token == "refresh-1"


def test_token_expired_twice_raises_not_loops(session_factory, gateway, store, h):
    store.save("shop-A", stored())
    gateway.script(
        "order.searchList",
        h.err(40003, "isv.access-token-expired"),
        h.err(40003, "isv.access-token-no-existed", log_id="SECOND"),
        h.ok({}),
    )
    with pytest.raises(TokenExpired) as info:
        session_factory().call("order.searchList", {})
    assert info.value.log_id == "SECOND"
    assert [s.method for s in gateway.seen] == ["order.searchList", "token.refresh", "order.searchList"]


def test_other_errors_do_not_trigger_refresh(session_factory, gateway, store, h):
    store.save("shop-A", stored())
    gateway.script("order.searchList", h.err(40004, ""))
    with pytest.raises(InvalidRequest):
        session_factory().call("order.searchList", {})
    assert [s.method for s in gateway.seen] == ["order.searchList"]


def test_dead_refresh_token_self_built_creates_again(session_factory, gateway, store, h):
    store.save("shop-A", stored(expires_in=100))
    gateway.script("token.refresh", h.err(50002, "isv.business-failed:31009"))
    session_factory(self_built_shop_id="77001").call("order.searchList", {})
    assert [s.method for s in gateway.seen] == ["token.refresh", "token.create", "order.searchList"]
    assert store.load("shop-A").refresh_token == "refresh-1"


@pytest.mark.parametrize("sub", ["isv.business-failed:31009", "dop.token-generate-failed:token-expired", "dop.token-generate-failed:token-invalid"])
def test_dead_refresh_token_tool_app_asks_to_reauthorise(session_factory, gateway, store, h, sub):
    store.save("shop-A", stored(expires_in=100))
    gateway.script("token.refresh", h.err(50000, sub))
    with pytest.raises(AuthorizationRequired, match="re-authorise") as info:
        session_factory().call("order.searchList", {})
    assert sub in str(info.value)
    assert [s.method for s in gateway.seen] == ["token.refresh"]


def test_refresh_token_past_fourteen_days_not_even_tried(session_factory, gateway, store):
    store.save("shop-A", stored(expires_in=-10, refresh_left=-1))
    with pytest.raises(AuthorizationRequired):
        session_factory().call("order.searchList", {})
    assert gateway.seen == []


def test_refresh_returning_rejected_token_self_built_creates(session_factory, gateway, store, h):
    store.save("shop-A", stored())
    gateway.script("order.searchList", h.err(40003, "isv.access-token-no-existed"), h.ok({"ok": 1}))
    gateway.script(
        "token.refresh",
        h.ok({"access_token": "access-old0", "refresh_token": "refresh-old0", "expires_in": 600000}),
    )
    assert session_factory(self_built_shop_id="77001").call("order.searchList", {}) == {"ok": 1}
    assert [s.method for s in gateway.seen] == ["order.searchList", "token.refresh", "token.create", "order.searchList"]
    assert gateway.seen[-1].query["access_token"] == "access-1"


def test_concurrent_callers_refresh_once(session_factory, gateway, store):
    import time

    store.save("shop-A", stored(expires_in=10))
    session = session_factory()
    errors = []
    barrier = threading.Barrier(8)

    def slow_refresh(_seen):
        time.sleep(0.2)  # the other threads pile up while the refresh is in flight
        return gateway._mint()

    gateway.script("token.refresh", slow_refresh)

    def work():
        barrier.wait()
        try:
            session.call("order.searchList", {})
        except Exception as exc:  # noqa: BLE001  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [s.method for s in gateway.seen].count("token.refresh") == 1
    assert {s.query["access_token"] for s in gateway.calls("order.searchList")} == {"access-1"}


def test_token_expired_after_another_thread_refreshed_uses_stored_token(session_factory, gateway, store, h):
    store.save("shop-A", stored())

    def expire_and_swap(_seen):
        # meanwhile another worker refreshed and saved a new token
        store.save("shop-A", stored(n=9))
        return h.err(40003, "isv.access-token-expired")

    gateway.script("order.searchList", expire_and_swap, h.ok({}))
    session_factory().call("order.searchList", {})
    assert [s.method for s in gateway.seen] == ["order.searchList", "order.searchList"]
    assert gateway.seen[1].query["access_token"] == "access-old9"
