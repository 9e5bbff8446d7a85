"""Identity card numbers encrypted at rest, found by their keyed hash, masked on every screen, shown whole only by an
administrator's audited reveal, and re-encrypted when the key is rotated."""

import hashlib
import hmac
import json
import secrets

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from wagtail.models import ModelLogEntry

from accounts import services as account_services
from accounts.checks import national_id_keys_check
from accounts.models import CaregiverProfile, Role
from accounts.national_id import national_id_check_character
from accounts.national_id_crypto import (
    national_id_decrypt,
    national_id_digest,
    national_id_encrypt,
    national_id_key_problems,
)
from certification.models import ServiceMonth
from certification.servicedata import clients
from content import services as content_services
from content.models import ImportJob
from tests.factories.accounts import CaregiverFactory, UserFactory, valid_national_id
from tests.factories.spreadsheets import upload
from tests.factories.training import batch_with_sessions, course_with_lessons, trainer_for, training_body_with_index
from training.models import BatchMember

pytestmark = pytest.mark.django_db

REVEAL_ACTION = "carestar.national_id.reveal"


def stored(caregiver) -> tuple[str, str]:
    """The row's national_id and national_id_digest columns as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT national_id, national_id_digest FROM accounts_caregiverprofile WHERE id = %s", [caregiver.pk]
        )
        return cursor.fetchone()


def number_ending_in_x(start: int = 0) -> str:
    return next(number for n in range(start, start + 100) if (number := valid_national_id(n)).endswith("X"))


@pytest.fixture
def bureau(administrator):
    administrator.groups.add(account_services.role_groups_ensure()[Role.ADMINISTRATOR])
    return administrator


@pytest.fixture
def manager(db):
    manager = UserFactory(role=Role.MANAGER)
    manager.groups.add(account_services.role_groups_ensure()[Role.MANAGER])
    return manager


# --- At rest --------------------------------------------------------------------------------------------------


def test_the_database_holds_a_token_not_the_number():
    caregiver = CaregiverFactory(national_id="14050219700101002X")
    token, digest = stored(caregiver)
    assert "14050219700101002X" not in token and "19700101" not in token and "002X" not in token
    assert token.startswith("gAAAAA")  # a Fernet token: version byte 0x80, then the time, in URL-safe base64
    assert len(digest) == 64 and digest == national_id_digest("14050219700101002X")
    assert CaregiverProfile.objects.get(pk=caregiver.pk).national_id == "14050219700101002X"


def test_the_token_differs_at_every_write_of_the_same_number():
    caregiver = CaregiverFactory()
    first_token, first_digest = stored(caregiver)
    caregiver.save()
    second_token, second_digest = stored(caregiver)
    assert first_token != second_token
    assert first_digest == second_digest
    assert national_id_encrypt(caregiver.national_id) != national_id_encrypt(caregiver.national_id)
    assert CaregiverProfile.objects.get(pk=caregiver.pk).national_id == caregiver.national_id


def test_the_digest_is_keyed_not_a_plain_hash_of_the_number(settings):
    settings.NATIONAL_ID_HASH_KEY = secrets.token_urlsafe(32)
    number = valid_national_id(5)
    caregiver = CaregiverFactory(national_id=number)
    _token, digest = stored(caregiver)
    assert digest != hashlib.sha256(number.encode()).hexdigest()
    assert digest == hmac.new(settings.NATIONAL_ID_HASH_KEY.encode(), number.encode(), hashlib.sha256).hexdigest()


def test_bulk_created_rows_get_their_digest_too():
    users = [UserFactory() for _ in range(2)]
    institution = CaregiverFactory().institution
    numbers = [valid_national_id(n, birth="19810203") for n in (1, 2)]
    CaregiverProfile.objects.bulk_create(
        CaregiverProfile(
            user=user, gender="F", national_id=number, institution=institution, employed_since="2020-01-01"
        )
        for user, number in zip(users, numbers, strict=True)
    )
    assert {c.user_id for c in CaregiverProfile.objects.with_national_ids(numbers)} == {u.pk for u in users}


def test_saving_only_the_number_keeps_the_digest_in_step():
    caregiver = CaregiverFactory()
    caregiver.national_id = valid_national_id(77, birth="19850505")
    caregiver.save(update_fields=["national_id"])
    assert CaregiverProfile.objects.with_national_id(valid_national_id(77, birth="19850505")).get() == caregiver


def test_look_ups_take_the_number_as_people_type_it():
    number = number_ending_in_x()
    caregiver = CaregiverFactory(national_id=number)
    full_width = number.translate(str.maketrans("0123456789X", "０１２３４５６７８９ｘ"))
    for typed in (number, number.lower(), f" {number} ", full_width):
        assert list(CaregiverProfile.objects.with_national_id(typed)) == [caregiver]
    assert not CaregiverProfile.objects.with_national_id(valid_national_id(1, birth="19991231")).exists()


def test_comparing_the_encrypted_column_in_sql_is_refused():
    caregiver = CaregiverFactory()
    # A token is random: such a filter could only ever match nothing, so it is an error rather than a silent miss.
    for lookup in ("national_id", "national_id__in", "national_id__icontains"):
        value = [caregiver.national_id] if lookup.endswith("__in") else caregiver.national_id
        with pytest.raises(FieldError, match="encrypted"):
            list(CaregiverProfile.objects.filter(**{lookup: value}))
    assert CaregiverProfile.objects.filter(national_id__isnull=False).count() == 1


def test_a_number_no_key_can_decrypt_is_a_clear_configuration_error(settings):
    caregiver = CaregiverFactory()
    settings.NATIONAL_ID_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ImproperlyConfigured, match="NATIONAL_ID_KEYS"):
        CaregiverProfile.objects.get(pk=caregiver.pk)


FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


@given(first_17=st.from_regex(r"\A[1-6][0-9]{5}(19[0-9]{2}|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}\Z"))
def test_every_number_survives_the_round_trip_and_all_its_spellings_share_one_digest(first_17):
    number = first_17 + national_id_check_character(first_17)
    assert national_id_decrypt(national_id_encrypt(number)) == number
    spellings = {number, number.lower(), f" {number}\t", number.translate(FULL_WIDTH)}
    assert {national_id_digest(spelling) for spelling in spellings} == {national_id_digest(number)}
    assert national_id_digest(number) != national_id_digest(first_17 + ("1" if number[-1] != "1" else "2"))


# --- Key rotation ---------------------------------------------------------------------------------------------


def test_rotation_re_encrypts_every_row_under_the_new_key(settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.NATIONAL_ID_KEYS = [old]
    numbers = {}
    for n in range(5):
        number = valid_national_id(n, birth="19790101")
        numbers[CaregiverFactory(national_id=number).pk] = number

    settings.NATIONAL_ID_KEYS = [new, old]
    call_command("national_id_reencrypt", "--dry-run")
    assert "5 identity card numbers checked; 5 are not yet under the first key" in capsys.readouterr().out
    assert all(Fernet(old).decrypt(stored_token(pk)) for pk in numbers)  # a dry run writes nothing

    call_command("national_id_reencrypt", "--chunk-size", "2")
    assert "5 identity card numbers checked; 5 re-encrypted." in capsys.readouterr().out
    for pk, number in numbers.items():
        assert Fernet(new).decrypt(stored_token(pk)).decode() == number

    settings.NATIONAL_ID_KEYS = [new]  # the old key dropped
    for pk, number in numbers.items():
        assert CaregiverProfile.objects.get(pk=pk).national_id == number
        assert CaregiverProfile.objects.with_national_id(number).get().pk == pk
    call_command("national_id_reencrypt")
    assert "5 identity card numbers checked; 0 re-encrypted." in capsys.readouterr().out


def stored_token(pk: int) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute("SELECT national_id FROM accounts_caregiverprofile WHERE id = %s", [pk])
        return cursor.fetchone()[0].encode()


def test_a_new_hash_key_finds_rows_again_once_the_command_has_run(settings):
    settings.NATIONAL_ID_HASH_KEY = secrets.token_urlsafe(32)
    caregiver = CaregiverFactory()
    settings.NATIONAL_ID_HASH_KEY = secrets.token_urlsafe(32)
    assert not CaregiverProfile.objects.with_national_id(caregiver.national_id).exists()
    account_services.national_ids_reencrypt()
    assert CaregiverProfile.objects.with_national_id(caregiver.national_id).get() == caregiver


# --- Keys and the start-up check ------------------------------------------------------------------------------


def test_without_keys_nothing_starts(settings):
    settings.NATIONAL_ID_DERIVE_KEYS = False
    settings.NATIONAL_ID_KEYS = []
    settings.NATIONAL_ID_HASH_KEY = ""
    errors = national_id_keys_check(None)
    assert {error.id for error in errors} == {"carestar.E010"}
    assert [error.msg.split(":")[0] for error in errors] == [
        "NATIONAL_ID_KEYS is not set",
        "NATIONAL_ID_HASH_KEY is not set",
    ]
    with pytest.raises(ImproperlyConfigured, match="NATIONAL_ID_KEYS is not set"):
        national_id_encrypt(valid_national_id(1))


GOOD_KEY = Fernet.generate_key().decode()


@pytest.mark.parametrize(
    ("keys", "hash_key", "problem"),
    [
        (["gAAAA-not-a-key"], "h" * 40, "key 1 of 1 is not a Fernet key"),
        ([GOOD_KEY, "short"], "h" * 40, "key 2 of 2 is not a Fernet key"),
        ([GOOD_KEY], "short", "shorter than 32 characters"),
        ([GOOD_KEY], GOOD_KEY, "secret of its own"),
    ],
    ids=["malformed", "second malformed", "short hash key", "hash key reused"],
)
def test_malformed_keys_are_named_without_being_repeated(settings, keys, hash_key, problem):
    settings.NATIONAL_ID_DERIVE_KEYS = False
    settings.NATIONAL_ID_KEYS = keys
    settings.NATIONAL_ID_HASH_KEY = hash_key
    problems = national_id_key_problems()
    assert any(problem in text for text in problems), problems
    assert not any(key in text for text in problems for key in keys)


def test_development_and_tests_derive_stable_keys_when_none_are_set(settings):
    settings.NATIONAL_ID_KEYS = []
    settings.NATIONAL_ID_HASH_KEY = ""
    assert settings.NATIONAL_ID_DERIVE_KEYS and national_id_key_problems() == []
    digest = national_id_digest(valid_national_id(3))
    settings.SECRET_KEY = "another-secret"
    assert national_id_digest(valid_national_id(3)) != digest


# --- Masked on every screen; the audited reveal ---------------------------------------------------------------


def test_the_caregiver_listing_shows_administrators_the_masked_number_only(client, bureau):
    caregiver = CaregiverFactory(user__name="王秀英")
    client.force_login(bureau)
    html = client.get(reverse("caregiverprofile:index")).content.decode()
    assert caregiver.national_id_masked in html
    assert caregiver.national_id not in html
    assert reverse("caregiverprofile:national_id_reveal", args=[caregiver.pk]) in html


def test_the_caregiver_listing_costs_the_same_queries_for_many_rows(client, bureau):
    CaregiverFactory()
    client.force_login(bureau)
    url = reverse("caregiverprofile:index")
    client.get(url)  # warm the caches of the admin's menus
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    CaregiverFactory.create_batch(8)
    with CaptureQueriesContext(connection) as many:
        html = client.get(url).content.decode()
    assert len(many) == len(few)
    assert html.count("/national-id/") == 9  # each row has its reveal action


def test_the_edit_and_inspect_pages_never_carry_the_whole_number(client, bureau):
    caregiver = CaregiverFactory()
    client.force_login(bureau)
    for name in ("edit", "inspect"):
        html = client.get(reverse(f"caregiverprofile:{name}", args=[caregiver.pk])).content.decode()
        assert caregiver.national_id not in html, name
        assert caregiver.national_id_masked in html, name
        assert reverse("caregiverprofile:national_id_reveal", args=[caregiver.pk]) in html, name
    edit = client.get(reverse("caregiverprofile:edit", args=[caregiver.pk])).content.decode()
    assert "留空则保持不变" in edit


def edit_form(caregiver, **changes) -> dict:
    return {
        "gender": caregiver.gender,
        "national_id": "",
        "institution": caregiver.institution_id,
        "employed_since": caregiver.employed_since.isoformat(),
        "practitioner_level": caregiver.practitioner_level,
        **changes,
    }


def test_an_empty_number_box_keeps_the_number(client, bureau):
    caregiver = CaregiverFactory()
    client.force_login(bureau)
    response = client.post(
        reverse("caregiverprofile:edit", args=[caregiver.pk]), edit_form(caregiver, practitioner_level=5)
    )
    assert response.status_code == 302
    saved = CaregiverProfile.objects.get(pk=caregiver.pk)
    assert saved.practitioner_level == 5 and saved.national_id == caregiver.national_id
    assert CaregiverProfile.objects.with_national_id(caregiver.national_id).get() == caregiver


def test_a_typed_number_replaces_the_number(client, bureau):
    caregiver = CaregiverFactory()
    corrected = valid_national_id(321, birth="19760816")
    client.force_login(bureau)
    response = client.post(
        reverse("caregiverprofile:edit", args=[caregiver.pk]), edit_form(caregiver, national_id=corrected.lower())
    )
    assert response.status_code == 302
    assert CaregiverProfile.objects.with_national_id(corrected).get() == caregiver
    assert not CaregiverProfile.objects.with_national_id(caregiver.national_id).exists()


def test_another_caregivers_number_is_refused_on_the_form(client, bureau):
    registered = CaregiverFactory(national_id=number_ending_in_x())
    caregiver = CaregiverFactory()
    client.force_login(bureau)
    response = client.post(
        reverse("caregiverprofile:edit", args=[caregiver.pk]),
        edit_form(caregiver, national_id=registered.national_id.lower()),
    )
    assert response.status_code == 200
    assert "该身份证号已登记" in response.content.decode()
    assert CaregiverProfile.objects.get(pk=caregiver.pk).national_id == caregiver.national_id


def test_creating_a_caregiver_with_a_registered_number_is_a_validation_error():
    registered = CaregiverFactory()
    with pytest.raises(ValidationError) as error:
        account_services.caregiver_create(
            username="twin",
            password="pw-12345678",
            name="重号",
            gender="F",
            national_id=f" {registered.national_id.lower()} ",
            institution=registered.institution,
            employed_since=timezone.localdate(),
        )
    assert error.value.message_dict["national_id"] == ["该身份证号已登记。"]
    assert CaregiverProfile.objects.count() == 1


def test_an_administrator_reveals_the_number_and_the_history_records_it(client, bureau):
    caregiver = CaregiverFactory(user__name="王秀英")
    client.force_login(bureau)
    url = reverse("caregiverprofile:national_id_reveal", args=[caregiver.pk])

    asked = client.get(url)
    assert asked.status_code == 200
    assert caregiver.national_id not in asked.content.decode() and "显示完整号码" in asked.content.decode()
    assert not ModelLogEntry.objects.filter(action=REVEAL_ACTION).exists()

    shown = client.post(url)
    assert shown.status_code == 200
    assert caregiver.national_id in shown.content.decode()
    assert "no-store" in shown["Cache-Control"]
    entry = ModelLogEntry.objects.get(action=REVEAL_ACTION)
    assert entry.user == bureau and entry.object_id == str(caregiver.pk)
    assert caregiver.national_id not in json.dumps(entry.data, ensure_ascii=False) + entry.label

    history = client.get(reverse("caregiverprofile:history", args=[caregiver.pk])).content.decode()
    assert "显示身份证号" in history and caregiver.national_id not in history


@pytest.mark.parametrize("who", ["manager", "trainer", "caregiver", "anonymous"])
def test_no_one_else_may_reveal_a_number(client, manager, caregiver, who):
    if who == "manager":
        client.force_login(manager)
    elif who == "trainer":
        client.force_login(trainer_for(training_body_with_index()[0]))
    elif who == "caregiver":
        client.force_login(caregiver.user)
    url = reverse("caregiverprofile:national_id_reveal", args=[caregiver.pk])
    for response in (client.get(url), client.post(url)):
        assert response.status_code in (302, 403)
        assert caregiver.national_id not in response.content.decode()
    assert not ModelLogEntry.objects.filter(action=REVEAL_ACTION).exists()


def test_the_reveal_service_refuses_anyone_but_administrators(manager, caregiver):
    with pytest.raises(PermissionDenied):
        account_services.caregiver_national_id_reveal(caregiver=caregiver, actor=manager)
    assert not ModelLogEntry.objects.filter(action=REVEAL_ACTION).exists()


def test_the_reveal_takes_no_other_method(client, bureau, caregiver):
    client.force_login(bureau)
    response = client.put(reverse("caregiverprofile:national_id_reveal", args=[caregiver.pk]))
    assert response.status_code == 405
    assert not ModelLogEntry.objects.filter(action=REVEAL_ACTION).exists()


# --- Never in URLs: the search boxes ----------------------------------------------------------------------------


def test_the_caregiver_chooser_no_longer_searches_by_number(client, bureau):
    caregiver = CaregiverFactory(user__name="李桂兰")
    client.force_login(bureau)
    url = reverse("caregiver_chooser:choose_results")
    assert "李桂兰" not in client.get(url, {"q": caregiver.national_id}).content.decode()
    by_name = client.get(url, {"q": "李桂兰"}).content.decode()
    assert "李桂兰" in by_name and caregiver.national_id not in by_name


def post_service_data(client, *, token: str, batch_id: str, numbers: list[str]):
    month = f"{timezone.localdate():%Y-%m}"
    rows = [{"national_id": n, "month": month, "service_hours": 80, "surveys": 2, "satisfied": 2} for n in numbers]
    body = json.dumps({"batch_id": batch_id, "months": rows, "incidents": []})
    headers = {"Authorization": f"Bearer {token}"}
    return client.post("/api/service-data/", body, content_type="application/json", headers=headers)


def test_the_service_data_listing_masks_the_number_and_does_not_search_it(client, bureau):
    caregiver = CaregiverFactory(user__name="赵玉梅")
    _client, token = clients.service_data_client_create(name="长护险信息系统", actor=bureau)
    assert post_service_data(client, token=token, batch_id="b-1", numbers=[caregiver.national_id]).status_code == 201
    client.force_login(bureau)
    url = reverse("service_months:index")
    listing = client.get(url).content.decode()
    assert "赵玉梅" in listing and caregiver.national_id_masked in listing and caregiver.national_id not in listing
    assert "赵玉梅" not in client.get(url, {"q": caregiver.national_id}).content.decode()


# --- Found by number in the imports and the API ---------------------------------------------------------------


@pytest.fixture
def batch(db):
    account_services.role_groups_ensure()
    body, index = training_body_with_index()
    return batch_with_sessions(body, course_with_lessons(index), capacity=10)


ROSTER_HEADER = ["*身份证号", "*姓名", "所在机构"]


def test_a_roster_import_finds_caregivers_by_their_number(batch):
    learner = CaregiverFactory(user__name="王秀英", national_id=number_ending_in_x())
    assert learner.national_id not in stored(learner)[0]
    job = content_services.import_job_create(
        kind=ImportJob.Kind.BATCH_ROSTER,
        upload=upload([ROSTER_HEADER, [learner.national_id.lower(), "王秀英", ""]], "roster.xlsx"),
        user=trainer_for(batch.training_body),
        target_id=batch.pk,
    )
    assert job.status == ImportJob.Status.SUCCEEDED, job.errors
    assert BatchMember.objects.filter(batch=batch, caregiver=learner).exists()


def test_a_roster_naming_one_number_twice_in_two_spellings_is_refused(batch):
    learner = CaregiverFactory(user__name="王秀英", national_id=number_ending_in_x())
    rows = [ROSTER_HEADER, [learner.national_id, "王秀英", ""], [learner.national_id.lower(), "王秀英", ""]]
    job = content_services.import_job_create(
        kind=ImportJob.Kind.BATCH_ROSTER,
        upload=upload(rows, "roster.xlsx"),
        user=trainer_for(batch.training_body),
        target_id=batch.pk,
    )
    assert job.status == ImportJob.Status.FAILED
    assert [(error["row"], error["message"]) for error in job.errors] == [(3, "该身份证号已在第 2 行出现。")]
    assert not BatchMember.objects.filter(batch=batch).exists()


def test_the_service_data_api_matches_rows_to_caregivers_by_number(client, administrator):
    caregivers = [CaregiverFactory() for _ in range(3)]
    _client, token = clients.service_data_client_create(name="长护险信息系统", actor=administrator)
    numbers = [caregiver.national_id.lower() for caregiver in caregivers]
    response = post_service_data(client, token=token, batch_id="b-2", numbers=numbers)
    assert response.status_code == 201, response.content
    assert set(ServiceMonth.objects.values_list("caregiver_id", flat=True)) == {c.pk for c in caregivers}
