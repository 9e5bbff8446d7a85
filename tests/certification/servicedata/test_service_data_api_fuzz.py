"""POST /api/service-data/ under random requests from a client with a valid token: whatever the body (any JSON,
wrong types everywhere, deep nesting, huge numbers, text that is not UTF-8 or not JSON, sizes around the limit),
content type or method, the answer is never a 5xx, a refusal carries its reasons in Chinese and writes nothing, and
a valid batch, however its values are typed, writes exactly its rows."""

import datetime
import json

from django.test import Client, override_settings
from django.utils import timezone
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import ModelLogEntry

from certification.models import ServiceDataImport, ServiceIncident, ServiceMonth
from certification.servicedata import clients
from tests.factories.accounts import CaregiverFactory, UserFactory
from tests.factories.servicedata import incident
from tests.fuzzing import CONTROL, any_text, hostile_text, is_chinese, supplied_text, table_snapshot

URL = "/api/service-data/"
LIMIT = 4096
ANSWERS = {200, 201, 400, 401, 405, 409, 413}
WRITTEN = (ServiceDataImport, ServiceMonth, ServiceIncident, ModelLogEntry)
MONTH_KEYS = ["national_id", "month", "service_hours", "surveys", "satisfied"]
INCIDENT_KEYS = ["reference", "national_id", "kind", "occurred_on", "substantiated", "summary"]


def months_ago(count: int) -> str:
    today = timezone.localdate()
    index = today.year * 12 + today.month - 1 - count
    return f"{index // 12}-{index % 12 + 1:02d}"


def days_ago(count: int) -> str:
    return (timezone.localdate() - datetime.timedelta(days=count)).isoformat()


# --- Values a sender might put in a field, right and wrong ------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(10**400), 10**400),  # printed in full: thousands of digits
    st.floats(),  # NaN and ±Infinity are written as such, which is no JSON
    any_text,
    st.text(CONTROL, max_size=4),
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(MONTH_KEYS + INCIDENT_KEYS) | any_text, children, max_size=4)
    ),
    max_leaves=12,
)
plausible = st.one_of(
    st.sampled_from(
        [
            "140502198001010011",
            "14050219800101001x",
            "１４０５０２１９８００１０１００１１",
            "000000198001010011",
            "2026-13",
            "0000-01",
            "9999-12",
            "2026-02-30",
            "9999-12-31",
            "1999-12-31",
            "86.5",
            "86.55",
            "-0",
            "1e3",
            "745",
            "１２",
            "²",
            "complaint",
            "投诉",
            "是",
            "否",
            "",
            " ",
        ]
    ),
    st.integers(-2, 1001),
    st.floats(-1, 800),
    st.integers(0, 30).map(months_ago),
    st.integers(-30, 9000).map(days_ago),
)
field_values = plausible | hostile_text | json_values


def records(keys: list[str]) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional={key: field_values for key in keys}) | json_values


batch_shaped = st.fixed_dictionaries(
    {},
    optional={
        "batch_id": st.text(max_size=8) | hostile_text | json_values | st.just("x" * 101),
        "months": st.lists(records(MONTH_KEYS), max_size=4) | json_values,
        "incidents": st.lists(records(INCIDENT_KEYS), max_size=4) | json_values,
    },
)


@st.composite
def nested(draw) -> bytes:
    """A batch with lists and objects nested somewhere inside it, a little or a hundred thousand deep."""
    depth = draw(st.integers(1, 12) | st.sampled_from([100, 1_000, 20_000, 100_000]))
    opening, closing = draw(st.sampled_from([("[", "]"), ('{"a": ', "}")]))
    inner = opening * depth + "1" + closing * depth
    around = {
        "body": "{}",
        "batch_id": '{"batch_id": {}}',
        "months": '{"batch_id": "b", "months": {}}',
        "row": '{"batch_id": "b", "months": [{}]}',
        "value": '{"batch_id": "b", "incidents": [{"summary": {}}]}',
    }
    before, _hole, after = around[draw(st.sampled_from(list(around)))].rpartition("{}")
    return (before + inner + after).encode()


@st.composite
def bodies(draw) -> bytes:
    """A request body: JSON of any shape, encoded in any way, or text that is no JSON at all."""
    how = draw(st.sampled_from(["batch", "json", "encoded", "broken", "digits", "constants", "bytes"]))
    event(f"body: {how}")
    if how in ("batch", "json", "encoded"):
        value = draw(batch_shaped if how != "json" else json_values)
        text = json.dumps(value, ensure_ascii=draw(st.booleans()))
        if how == "encoded":
            return text.encode(draw(st.sampled_from(["utf-16", "utf-32", "gb18030", "latin-1"])), errors="replace")
        return text.encode("utf-8", errors="surrogatepass")
    if how == "broken":
        text = json.dumps(draw(batch_shaped))
        return text[: draw(st.integers(0, max(0, len(text) - 1)))].encode()
    if how == "digits":
        return ('{"batch_id": "b", "months": [{"surveys": %s}]}' % ("9" * draw(st.integers(1, 5000)))).encode()
    if how == "constants":
        constant = draw(st.sampled_from(["NaN", "Infinity", "-Infinity", "1e5000", "-1e5000", "1e-5000", "-0"]))
        return ('{"batch_id": "b", "months": [{"service_hours": ' + constant + "}]}").encode()
    return draw(st.binary(max_size=256))


CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/json; charset=utf-8",
        "application/json; charset=gbk",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ]
)


@override_settings(SERVICE_DATA_API_MAX_BYTES=LIMIT)
class ServiceDataApiFuzzTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        administrator = UserFactory(role="administrator", name="医保局管理员")
        cls.sender, cls.token = clients.service_data_client_create(name="晋城市长护险信息系统", actor=administrator)
        cls.caregivers = [CaregiverFactory(user__name=f"护理员{n}") for n in range(3)]
        # What a batch may meet on record: an incident of the first caregiver, and an earlier batch.
        cls.on_record = incident(cls.caregivers[0])
        earlier = Client().post(
            URL,
            {
                "batch_id": "earlier",
                "months": [{"national_id": cls.caregivers[1].national_id, "month": months_ago(3), "service_hours": 10}],
            },
            content_type="application/json",
            headers={"Authorization": f"Bearer {cls.token}"},
        )
        assert earlier.status_code == 201, earlier.content

    def send(self, body: bytes, *, content_type="application/json", method="post", authorization=None, **meta):
        headers = {"Authorization": authorization if authorization is not None else f"Bearer {self.token}"}
        return Client(raise_request_exception=False).generic(
            method.upper(), URL, data=body, content_type=content_type, headers=headers, **meta
        )

    def assert_refused_cleanly(self, response, before, supplied=""):
        """A refusal: a status the API documents, every problem stated in Chinese, nothing written."""
        event(f"refused with {response.status_code}")
        self.assertIn(response.status_code, ANSWERS - {200, 201}, response.content[:300])
        errors = response.json()["errors"]
        self.assertTrue(errors)
        for error in errors:
            self.assertEqual(set(error), {"section", "index", "field", "message"})
            self.assertTrue(is_chinese(error["message"], supplied), error)
        self.assertEqual(table_snapshot(*WRITTEN), before)

    # --- Anything at all --------------------------------------------------------------------------------

    @given(body=bodies(), content_type=CONTENT_TYPES)
    def test_any_body_is_answered_without_a_server_error_and_a_refusal_writes_nothing(self, body, content_type):
        before = table_snapshot(*WRITTEN)
        imports = ServiceDataImport.objects.count()
        response = self.send(body, content_type=content_type)
        self.assertLess(response.status_code, 500, response.content[:300])
        self.assertIn(response.status_code, ANSWERS, response.content[:300])
        if response.status_code in (200, 201):
            # Random content that happens to be a valid batch: written as one import, or the earlier one again.
            summary = response.json()
            self.assertEqual(ServiceDataImport.objects.count(), imports + (response.status_code == 201))
            record = ServiceDataImport.objects.get(pk=summary["import_id"])
            self.assertEqual(ServiceMonth.objects.filter(imported_in=record).count(), summary["months_written"])
        else:
            self.assert_refused_cleanly(response, before, supplied_text(body))

    @given(body=nested())
    def test_nesting_at_any_depth_anywhere_is_refused_past_a_batchs_own_depth(self, body):
        before = table_snapshot(*WRITTEN)
        # The real limit: a body nested 100,000 deep is 200 kB, and must reach the parser to be refused by it.
        with self.settings(SERVICE_DATA_API_MAX_BYTES=5 * 1024 * 1024):
            response = self.send(body)
        self.assertLess(response.status_code, 500, response.content[:300])
        self.assert_refused_cleanly(response, before)

    @given(body=batch_shaped)
    def test_a_batch_of_wrong_types_everywhere_is_refused_with_every_problem(self, body):
        before = table_snapshot(*WRITTEN)
        response = self.send(json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass"))
        self.assertLess(response.status_code, 500, response.content[:300])
        if response.status_code not in (200, 201):
            self.assert_refused_cleanly(response, before, supplied_text(body))

    @given(
        body=batch_shaped.map(lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")),
        padding=st.integers(-3, 3),
        declared=st.sampled_from([None, "", "abc", "-1", "0", "1", str(LIMIT + 1), "9" * 30]),
    )
    def test_a_body_around_the_size_limit_is_measured_not_believed(self, body, padding, declared):
        before = table_snapshot(*WRITTEN)
        # Spaces after the JSON bring the body to a few bytes either side of the limit.
        body = body + b" " * max(0, LIMIT + padding - len(body))
        meta = {} if declared is None else {"CONTENT_LENGTH": declared}
        response = self.send(body, **meta)
        self.assertLess(response.status_code, 500, response.content[:300])
        if len(body) > LIMIT and declared is None:
            self.assertEqual(response.status_code, 413)
        if response.status_code not in (200, 201):
            self.assert_refused_cleanly(response, before, supplied_text(body))

    @given(
        method=st.sampled_from(["get", "put", "patch", "delete", "head", "options", "trace", "post"]),
        authorization=st.sampled_from(["", "Bearer", "Bearer ", "bearer x", "Basic dXNlcjpwYXNz", "Bearer \u738b"])
        | st.text(max_size=12).map(lambda token: f"Bearer {token}"),
        body=bodies(),
    )
    def test_other_methods_and_credentials_are_refused_with_a_reason(self, method, authorization, body):
        before = table_snapshot(*WRITTEN)
        response = self.send(body, method=method, authorization=authorization)
        self.assertLess(response.status_code, 500, response.content[:300])
        self.assertIn(response.status_code, {401, 405})
        if method != "head":
            self.assert_refused_cleanly(response, before, authorization)
        self.assertEqual(table_snapshot(*WRITTEN), before)

    # --- Valid batches, however a sender types their values ----------------------------------------------

    @given(data=st.data())
    def test_a_valid_batch_writes_exactly_its_rows_and_again_nothing(self, data):
        body, expected_months, expected_incidents = data.draw(valid_batches(self.caregivers, self.on_record))
        months_before, incidents_before = self.stored_months(), self.stored_incidents()

        response = self.send(json.dumps(body, ensure_ascii=data.draw(st.booleans())).encode())
        self.assertEqual(response.status_code, 201, response.content.decode())
        summary = response.json()
        self.assertEqual(
            (summary["months_written"], summary["incidents_written"]),
            (len(body["months"]), len(body.get("incidents", []))),
        )
        self.assertEqual(self.stored_months(), {**months_before, **expected_months})
        self.assertEqual(self.stored_incidents(), {**incidents_before, **expected_incidents})

        # The same batch again, keys reordered: the same summary, nothing written.
        after = table_snapshot(*WRITTEN)
        again = self.send(json.dumps(dict(reversed(body.items())), indent=1).encode())
        self.assertEqual((again.status_code, again.json()), (200, summary))
        self.assertEqual(table_snapshot(*WRITTEN), after)
        # Other content under the same batch id: refused, nothing written.
        body["months"] = body["months"] + [{"national_id": self.caregivers[2].national_id, "month": months_ago(2)}]
        conflict = self.send(json.dumps(body).encode())
        self.assertEqual(conflict.status_code, 409)
        self.assert_refused_cleanly(conflict, after, supplied_text(body))

    @given(data=st.data())
    def test_a_valid_batch_with_values_spoilt_is_refused_whole_or_written_whole(self, data):
        body, _months, _incidents = data.draw(valid_batches(self.caregivers, self.on_record))
        spoilt = data.draw(st.lists(spoilers(), min_size=1, max_size=3))
        for spoil in spoilt:
            spoil(body)
        before = table_snapshot(*WRITTEN)
        imports = ServiceDataImport.objects.count()
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")

        response = self.send(raw)
        self.assertLess(response.status_code, 500, response.content[:300])
        if response.status_code == 201:
            event("still valid: written")
            # What was spoilt was still a valid value (an extra key, a month written differently): all rows in.
            summary = response.json()
            self.assertEqual(ServiceDataImport.objects.count(), imports + 1)
            record = ServiceDataImport.objects.get(pk=summary["import_id"])
            self.assertEqual(ServiceMonth.objects.filter(imported_in=record).count(), len(body["months"]))
            self.assertEqual(ServiceIncident.objects.filter(imported_in=record).count(), len(body.get("incidents", [])))
        else:
            self.assert_refused_cleanly(response, before, supplied_text(body))

    def stored_months(self) -> dict:
        return {
            (row.caregiver_id, row.month): (row.service_hours, row.surveys, row.satisfied)
            for row in ServiceMonth.objects.all()
        }

    def stored_incidents(self) -> dict:
        return {
            row.reference: (row.caregiver_id, row.kind, row.occurred_on.isoformat(), row.substantiated, row.summary)
            for row in ServiceIncident.objects.all()
        }


# Text a reference, a batch id or a summary may hold: letters, digits, Chinese, punctuation, inner spaces.
REFERENCE = st.characters(categories=("L", "N", "P", "S", "Zs"), exclude_characters="\x00")


def stripped(max_size: int) -> st.SearchStrategy[str]:
    """Text as the API keeps it: without surrounding spaces, and not empty."""
    return st.text(REFERENCE, min_size=1, max_size=max_size).map(str.strip).filter(bool)


KIND_SPELLINGS = {
    "complaint": ["complaint", "投诉", "Complaint", "COMPLAINT"],
    "liability_accident": ["liability_accident", "责任事故", "Liability accident"],
    "ethics_breach": ["ethics_breach", "违反职业道德", "Ethics breach"],
}
TRUTHS = {True: [True, 1, "是", "true", "YES", " y ", "已查实"], False: [False, 0, "否", "false", "No", "未查实"]}


def identity_number(national_id: str) -> st.SearchStrategy[str]:
    """The number as senders write it: lower-case x, full-width digits, padded with spaces."""
    full_width = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
    return st.sampled_from([national_id, national_id.lower(), f"  {national_id} ", national_id.translate(full_width)])


def counted(count: int) -> st.SearchStrategy:
    """A count as JSON carries it: a number, its text, a float with nothing after the point; 0 also as nothing."""
    options = [count, str(count), float(count), f" {count} ", f"{count}.0", f"{count}e0"]
    if count == 0:
        options += [None, ""]
    return st.sampled_from(options)


@st.composite
def valid_batches(draw, caregivers, on_record) -> tuple[dict, dict, dict]:
    """A batch the API must accept, its values typed each way a sender may type them; with the monthly figures
    and incidents it must leave on record."""
    months, expected_months = [], {}
    for caregiver in draw(st.lists(st.sampled_from(caregivers), unique=True, max_size=3)):
        for offset in draw(st.lists(st.integers(4, 40), unique=True, min_size=1, max_size=3)):
            hours = draw(st.decimals(0, 744, places=1))
            surveys = draw(st.integers(0, 1000))
            satisfied = draw(st.integers(0, surveys))
            months.append(
                {
                    "national_id": draw(identity_number(caregiver.national_id)),
                    "month": months_ago(offset),
                    "service_hours": draw(st.sampled_from([str(hours), float(hours)])),
                    "surveys": draw(counted(surveys)),
                    "satisfied": draw(counted(satisfied)),
                }
            )
            key = (caregiver.pk, datetime.date.fromisoformat(months_ago(offset) + "-01"))
            expected_months[key] = (hours, surveys, satisfied)
    incidents, expected_incidents = [], {}
    references = draw(st.lists(stripped(64).filter(lambda r: r != on_record.reference), unique=True, max_size=3))
    for reference in references:
        caregiver = draw(st.sampled_from(caregivers))
        kind = draw(st.sampled_from(list(KIND_SPELLINGS)))
        substantiated = draw(st.booleans())
        summary = draw(st.text(REFERENCE, max_size=500))
        day = draw(st.integers(0, 3000))
        incidents.append(
            {
                "reference": draw(st.sampled_from([reference, f" {reference}\t"])),
                "national_id": draw(identity_number(caregiver.national_id)),
                "kind": draw(st.sampled_from(KIND_SPELLINGS[kind])),
                "occurred_on": days_ago(day),
                "substantiated": draw(st.sampled_from(TRUTHS[substantiated])),
                **({"summary": summary} if summary or draw(st.booleans()) else {}),
            }
        )
        expected_incidents[reference] = (caregiver.pk, kind, days_ago(day), substantiated, summary.strip())
    if not months and not incidents:
        return draw(valid_batches(caregivers, on_record))
    body = {"batch_id": draw(stripped(100).filter(lambda key: key != "earlier")), "months": months}
    if incidents or draw(st.booleans()):
        body["incidents"] = incidents
    return body, expected_months, expected_incidents


@st.composite
def spoilers(draw):
    """One thing done wrong to a batch: a value replaced by a hostile one, a key dropped or added, a row
    duplicated or replaced by something that is no row, a list replaced by something that is no list."""
    how = draw(st.sampled_from(["value", "value", "value", "drop", "add", "duplicate", "row", "section", "batch"]))
    section = draw(st.sampled_from(["months", "incidents"]))
    keys = MONTH_KEYS if section == "months" else INCIDENT_KEYS
    key = draw(st.sampled_from(keys))
    position = draw(st.integers(0, 5))
    value = draw(field_values | hostile_text)

    def spoil(body: dict) -> None:
        rows = body.setdefault(section, [])
        row = rows[position % len(rows)] if isinstance(rows, list) and rows else None
        if not isinstance(row, dict):
            row = None
        if how == "batch":
            body["batch_id"] = value
        elif how == "section":
            body[section] = value
        elif row is None:
            return
        elif how == "value":
            row[key] = value
        elif how == "drop":
            row.pop(key, None)
        elif how == "add":
            row[str(value)] = value
        elif how == "duplicate":
            rows.append(dict(row))
        else:
            rows[position % len(rows)] = value

    return spoil
