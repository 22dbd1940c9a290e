from fahuo.domain.pii import REMOVED, strip_plain_receiver


def test_plain_receiver_goes_at_any_depth_masks_and_ciphertexts_stay():
    p = {"post_receiver": "王小明", "post_tel": 13912345678, "mask_post_tel": "139****5678",
         "encrypt_post_tel": "$$E2MTM4*abc$1$$",
         "post_addr": {"province": {"id": "33", "name": "浙江省"}, "detail": "文一西路1号",
                       "encrypt_detail": "##E3ZGV0YWls#1##"},
         "sku_order_list": [{"spec": [{"name": "颜色", "value": "红"}],
                             "post_addr": {"detail": "文***号"},
                             "x": [{"receiver_msg": {"name": "李雷", "tel": "18600000000"}}]}]}
    out = strip_plain_receiver(p)
    assert out["post_receiver"] == REMOVED and out["post_tel"] == REMOVED
    assert out["post_addr"]["detail"] == REMOVED
    assert out["post_addr"]["province"] == {"id": "33", "name": "浙江省"}
    assert out["mask_post_tel"] == "139****5678"
    assert out["encrypt_post_tel"] == "$$E2MTM4*abc$1$$"
    assert out["post_addr"]["encrypt_detail"] == "##E3ZGV0YWls#1##"
    sub = out["sku_order_list"][0]
    assert sub["spec"] == [{"name": "颜色", "value": "红"}]
    assert sub["post_addr"]["detail"] == "文***号"
    assert sub["x"][0]["receiver_msg"] == {"name": REMOVED, "tel": REMOVED}
    assert p["post_receiver"] == "王小明"  # the caller's payload is not changed


def test_nothing_to_strip_returns_the_same_object():
    p = {"post_receiver": "", "mask_post_receiver": "王*", "sku_order_list": [{"a": {"b": 1}}]}
    assert strip_plain_receiver(p) is p
