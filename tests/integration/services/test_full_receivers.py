"""A self-drawn label's receiver comes from order.batchDecrypt (doc §7.5): the whole address,
audited, and an order the platform will not decrypt is refused with its reason."""
from __future__ import annotations

from support import orders_in_fahuo

from fahuo.services.receivers import full_receivers


def test_the_shops_orders_get_their_whole_address_and_the_decryption_is_audited(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 60, seed=41, run=False)
    with fahuo.uow(readonly=True) as u:
        _, orders = u.orders.search(shop_ref=ref, limit=100)
    ids = [o["order_id"] for o in orders]
    assert 3 * len(ids) > 50  # three ciphertexts an order: more than one batchDecrypt call
    got, refused = full_receivers(fahuo.uow, fahuo.platform_for, {ref: ids}, actor="packer-1",
                                  why="自绘面单")
    assert refused == {} and set(got) == set(ids)
    for o in orders:
        plain = got[o["order_id"]]
        # the stored mask is the plain address's first three characters and stars
        assert plain.detail.startswith(o["receiver_address_mask"].rstrip("*"))
        assert "*" not in plain.detail and "*" not in plain.phone and len(plain.phone) == 11
        assert plain.name and plain.name[0] == o["receiver_name_mask"][0]
    with fahuo.uow(readonly=True) as u:
        trail = [a for a in u.audit.for_subject("shop", str(ref))
                 if a["action"] == "receiver.decrypt"]
    assert [a["actor"] for a in trail] == ["packer-1"]
    assert all(oid in trail[0]["detail"] for oid in ids)  # which orders were read, each


def test_an_order_the_platform_does_not_know_is_refused_with_its_reason(fahuo, sandbox):
    ref, creds = orders_in_fahuo(fahuo, sandbox, 3, seed=42, run=False)
    other, _ = orders_in_fahuo(fahuo, sandbox, 3, seed=43, run=False)
    with fahuo.uow(readonly=True) as u:
        mine = [o["order_id"] for o in u.orders.search(shop_ref=ref, limit=10)[1]]
        theirs = [o["order_id"] for o in u.orders.search(shop_ref=other, limit=10)[1]]
    # asked through the wrong shop: the platform refuses each one, nothing is drawn masked
    got, refused = full_receivers(fahuo.uow, fahuo.platform_for, {ref: mine + theirs[:1]},
                                  actor="packer-1", why="自绘面单")
    assert set(got) == set(mine)
    assert set(refused) == {theirs[0]} and "平台未解密收件地址" in refused[theirs[0]]
