"""Schemathesis hooks for tests/schema/run.sh (loaded through SCHEMATHESIS_HOOKS).

JSON Schema cannot say "in the future": an `expires_at` that is a date-time in the past, or
after 9999-12-31T23:59:59Z, is valid by the schema but refused by the server with 400, as the
document says. A "schema-valid request rejected" failure (ST202) for such a body (or a batch
holding such an item), and only for such a body, is dropped; every other check still holds the server to the document.
"""

import re
from datetime import datetime, timedelta, timezone

import schemathesis

LATEST = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)


def refused_expiry(value):
    """Whether the server refuses this date-time `expires_at` for being past or too late."""
    if not isinstance(value, str):
        return False
    try:
        at = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    if at.tzinfo is None:
        return False
    try:
        at = at.astimezone(timezone.utc)
    except OverflowError:
        return True
    # A minute of margin for the time between generating the case and sending it.
    return at <= datetime.now(timezone.utc) + timedelta(minutes=1) or at >= LATEST


@schemathesis.hook
def filter_failure(context, failure, case, response):
    body = case.body
    if failure.code != "ST202" or response.status_code != 400 or not isinstance(body, dict):
        return True
    # A create or update body, or the items of a batch (PATCH /api/v1/admin/secrets).
    items = body.get("secrets") if isinstance(body.get("secrets"), list) else [body]
    return not any(isinstance(item, dict) and refused_expiry(item.get("expires_at")) for item in items)


HANDLER_NAME = re.compile(r"^[A-Za-z0-9-][A-Za-z0-9_-]*$")


@schemathesis.hook("filter_failure")
def drop_linked_invalid_handler_names(context, failure, case, response):
    """The stateful phase reuses a path value generated to be invalid for one operation as a
    valid one for the next (POST then GET /functions/v1/{name}); the 400 it gets is right."""
    name = (case.path_parameters or {}).get("name")
    return not (
        failure.code == "ST202"
        and response.status_code == 400
        and case.path.startswith(("/functions/v1/", "/api/v1/jobs/"))
        and isinstance(name, str)
        and not HANDLER_NAME.match(name)
    )
