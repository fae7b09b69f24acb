"""Stub servers speaking the protocols the connectors use."""

from tests.fakes.http_api import fake_http_api  # noqa: F401  (fixture)
from tests.fakes.odoo import fake_odoo  # noqa: F401  (fixture)
