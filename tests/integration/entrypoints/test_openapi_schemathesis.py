"""Property-based API test: every documented endpoint answers within its schema, never 5xx."""

import base64
import os
import tempfile
from pathlib import Path

import schemathesis
from schemathesis.specs.openapi.checks import (
    allow_header_conformance, positive_data_acceptance, unsupported_method,
)
from schemathesis.checks import not_a_server_error
from hypothesis import HealthCheck, settings

from fahuo.adapters.platforms.doudian.client import RetryPolicy
from fahuo.adapters.platforms.doudian.errors import TransportError
from fahuo.bootstrap import Fahuo
from fahuo.config import Settings
from fahuo.entrypoints.web.app import create_app

_tmp = Path(tempfile.mkdtemp(prefix="fahuo-schema-"))
_app = Fahuo(Settings(data_dir=_tmp, secret_key=base64.b64encode(os.urandom(32)).decode()),
             retry=RetryPolicy(max_attempts=1))
_app.migrate()


class _PlatformDown:
    """Shops the fuzzer creates name random gateways: never call them, fail like a dead one."""

    def __getattr__(self, method):
        def call(*_a, **_kw):
            raise TransportError(f"{method}: platform unreachable in this test", method=method)
        return call


_app.platform_for = lambda shop: _PlatformDown()
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_app, embedded_worker=False))
# Queuing a sync needs a worker; the webhook is checked by its own tests with real signatures.
schema = schema.exclude(path_regex="^/(webhooks/|api/shops/\\{shop_ref\\}/sync)")


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_conforms_to_its_openapi_schema(case):
    # Starlette answers 405 per route, so GET and POST on one path list only their own method.
    # A second POST of the same shop is a documented 409 (state, not schema): tested directly.
    excluded = [unsupported_method, allow_header_conformance, positive_data_acceptance]
    response = case.call()
    if response.status_code == 502 and "unreachable in this test" in response.text:
        excluded.append(not_a_server_error)  # the documented answer to a dead platform
    case.validate_response(response, excluded_checks=excluded)
