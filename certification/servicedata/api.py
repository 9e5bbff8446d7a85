"""POST /api/service-data/: the LTCI information system sends monthly figures and incidents with its token.

    Authorization: Bearer <token>
    {"batch_id": "...",
     "months": [{"national_id", "month": "2026-10", "service_hours", "surveys", "satisfied"}],
     "incidents": [{"reference", "national_id", "kind", "occurred_on", "substantiated", "summary"}]}

201 with the import's summary; 200 with the same summary when the batch was sent before; 409 when the batch id
was used for different content; 400 with every problem (section, index, field, message), or when the body is not
JSON (NaN and Infinity are not), nests deeper than a batch does or holds NUL in a text; 401 without a valid token;
413 over SERVICE_DATA_API_MAX_BYTES; 405 for any method but POST. No session, no CSRF: the token is the only
credential.
"""

import json

from django.conf import settings
from django.http import JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from accounts.two_factor import two_factor_exempt

from .clients import service_data_client_authenticate
from .models import ServiceDataImport
from .services import service_data_import
from .validation import ServiceDataConflict, ServiceDataError, ServiceDataRejected, payload_digest


def import_summary(record: ServiceDataImport) -> dict:
    return {
        "import_id": record.pk,
        "batch_id": record.batch_key,
        "months_written": record.months_written,
        "incidents_written": record.incidents_written,
        "imported_at": timezone.localtime(record.created_at).isoformat(),
    }


def _json(data: dict, status: int) -> JsonResponse:
    return JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})


def _errors(status: int, problems: list[ServiceDataError], **extra) -> JsonResponse:
    return _json({"errors": [problem.as_dict() for problem in problems], **extra}, status=status)


def _batch_error(field: str, message: str) -> ServiceDataError:
    return ServiceDataError(section=None, index=None, field=field, message=message)


# A batch is an object of lists of objects of values, three levels; a little room for what a sender adds.
MAX_JSON_DEPTH = 8


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _nested_deeper_than(data, limit: int) -> bool:
    """Whether lists and objects nest more than `limit` deep; counted without recursion."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _holds_nul(data) -> bool:
    """Whether a key or a text anywhere in the body holds NUL (\\u0000), which no database text column may hold
    (PostgreSQL refuses it); counted without recursion."""
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def _bearer_token(request) -> str:
    scheme, _space, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@two_factor_exempt  # the client's token is its credential; a browser session has nothing to do with it
@csrf_exempt
@never_cache
def service_data_receive(request):
    if request.method != "POST":
        response = _errors(405, [_batch_error("", _("Send service data with POST."))])
        response["Allow"] = "POST"
        return response

    client = service_data_client_authenticate(token=_bearer_token(request))
    if client is None:
        response = _errors(
            401, [_batch_error("authorization", _("Send a valid token of an active client: Authorization: Bearer …"))]
        )
        response["WWW-Authenticate"] = 'Bearer realm="carestar"'
        return response

    limit = settings.SERVICE_DATA_API_MAX_BYTES
    too_large = _errors(
        413, [_batch_error("", _("The request is larger than %(size)s bytes; send smaller batches.") % {"size": limit})]
    )
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        return too_large
    # Read past the limit by one byte to notice a body longer than it declared; Django's own body limit
    # (DATA_UPLOAD_MAX_MEMORY_SIZE) is not the one that applies here.
    body = request.read(limit + 1)
    if len(body) > limit:
        return too_large

    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except RecursionError:
        data = None
    except ValueError:  # malformed JSON, text that is not UTF-8, NaN, or an integer of thousands of digits
        return _errors(400, [_batch_error("", _("The request body is not valid JSON."))])
    if data is None or _nested_deeper_than(data, MAX_JSON_DEPTH):
        return _errors(400, [_batch_error("", _("The request body is nested too deeply to be a batch."))])
    if not isinstance(data, dict):
        return _errors(400, [_batch_error("", _("The request body must be a JSON object."))])
    if _holds_nul(data):
        return _errors(400, [_batch_error("", _("Text in the request body may not hold the NUL character (\\u0000)."))])
    batch_id = data.get("batch_id")
    if not isinstance(batch_id, str) or not batch_id.strip():
        return _errors(400, [_batch_error("batch_id", _("Give the batch its id (batch_id), a non-empty text."))])
    months, incidents = data.get("months", []), data.get("incidents", [])
    problems = [
        _batch_error(field, _("“%(field)s” must be a list.") % {"field": field})
        for field, value in (("months", months), ("incidents", incidents))
        if not isinstance(value, list)
    ]
    if problems:
        return _errors(400, problems)

    try:
        outcome = service_data_import(
            months=months,
            incidents=incidents,
            source=ServiceDataImport.Source.API,
            batch_key=batch_id.strip(),
            payload_sha256=payload_digest(months=months, incidents=incidents),
            client=client,
        )
    except ServiceDataRejected as rejected:
        return _errors(400, rejected.problems)
    except ServiceDataConflict as conflict:
        return _errors(409, [_batch_error("batch_id", conflict.messages[0])], earlier=import_summary(conflict.earlier))
    return _json(import_summary(outcome.record), status=201 if outcome.created else 200)
