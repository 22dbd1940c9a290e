"""logistics.trackNoRouteDetail: both spellings of the node list, oldest first, bad nodes left out."""

from fahuo.adapters.platforms.doudian.api import DoudianShopApi


class _Session:
    def __init__(self, data):
        self.data, self.calls = data, []

    def call(self, method, params):
        self.calls.append((method, params))
        return self.data


NODES = [{"content": "派件中", "timestamp": "1790000900", "state": "派件", "site_name": "成都"},
         {"content": "已揽收", "timestamp": "1790000100", "state": "揽收", "site_name": "杭州"},
         {"content": "?", "timestamp": "", "state": "在途"}]


def test_both_spellings_of_the_node_list_are_read():
    for key in ("route_node_list", "route__node_list"):
        s = _Session({"track_info": {"track_no": "78"}, key: NODES})
        nodes = DoudianShopApi(s).track_route("zhongtong", "780000000001")
        assert [n["at"] for n in nodes] == [1790000100, 1790000900]  # oldest first, untimed out
        assert nodes[0]["location"] == "杭州" and nodes[1]["state"] == "派件"
        assert s.calls == [("logistics.trackNoRouteDetail",
                            {"logistics_code": "zhongtong", "track_no": "780000000001"})]


def test_no_route_yet_is_an_empty_list():
    assert DoudianShopApi(_Session({})).track_route("yunda", "3000000000001") == []
