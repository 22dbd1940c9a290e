"""Property-based API test: every documented endpoint answers within its schema, never 5xx."""

import base64
import os
import tempfile
from pathlib import Path

import schemathesis
from schemathesis.specs.openapi.checks import (
    allow_header_conformance, positive_data_acceptance, unsupported_method,
)
from hypothesis import HealthCheck, settings

from fahuo.adapters.platforms.doudian.client import RetryPolicy
from fahuo.bootstrap import Fahuo
from fahuo.config import Settings
from fahuo.entrypoints.web.app import create_app

_tmp = Path(tempfile.mkdtemp(prefix="fahuo-schema-"))
_app = Fahuo(Settings(data_dir=_tmp, secret_key=base64.b64encode(os.urandom(32)).decode()),
             retry=RetryPolicy(max_attempts=1))
_app.migrate()
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(_app, embedded_worker=False))
# Queuing a sync needs a worker; the webhook is checked by its own tests with real signatures;
# live platform lists would call whatever gateway a generated shop names (tested in e2e).
schema = schema.exclude(path_regex="^/(webhooks/|api/shops/\\{shop_ref\\}/(sync|platform))")


@schema.parametrize()
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_api_conforms_to_its_openapi_schema(case):
    # Starlette answers 405 per route, so GET and POST on one path list only their own method.
    # A second POST of the same shop is a documented 409 (state, not schema): tested directly.
    case.call_and_validate(excluded_checks=[unsupported_method, allow_header_conformance,
                                            positive_data_acceptance])
