"""The care-standards library in the Wagtail admin: drafts, revisions, audit log, search, imports."""

import pytest
from wagtail.models import ModelLogEntry, Revision
from wagtail.test.utils.form_data import nested_form_data

from content.models import Clause, ImportJob
from tests.factories.content import ClauseFactory, StandardFactory, administrator
from tests.factories.spreadsheets import upload
from tests.factories.training import trainer_for, training_body_with_index

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    from accounts import services as account_services

    account_services.role_groups_ensure()
    client.force_login(administrator())
    return client


def clause_form(standard, **values) -> dict:
    return nested_form_data(
        {"standard": standard.pk, "parent": "", "number": "5.1", "title": "头面部清洁", "text": "水温适宜", **values}
    )


def test_an_administrator_saves_a_clause_as_a_draft_then_publishes_it(admin_client):
    standard = StandardFactory()
    response = admin_client.post("/admin/snippets/content/clause/add/", clause_form(standard))
    assert response.status_code == 302
    clause = Clause.objects.get()
    assert clause.live is False
    assert Revision.objects.filter(object_id=str(clause.pk)).count() == 1
    # A draft is not on the public standard page yet.
    assert f'id="clause-{clause.pk}"' not in admin_client.get(standard.get_absolute_url()).content.decode()

    admin_client.post(
        f"/admin/snippets/content/clause/edit/{clause.pk}/",
        {**clause_form(standard, text="水温 38℃～40℃"), "action-publish": "action-publish"},
    )
    clause.refresh_from_db()
    assert clause.live and clause.text == "水温 38℃～40℃"
    actions = set(ModelLogEntry.objects.filter(object_id=str(clause.pk)).values_list("action", flat=True))
    assert {"wagtail.create", "wagtail.publish"} <= actions
    assert "38℃" in admin_client.get(standard.get_absolute_url()).content.decode()


def test_a_new_draft_of_a_live_clause_leaves_the_live_wording_in_place(admin_client):
    clause = ClauseFactory(text="现行条文")
    admin_client.post(f"/admin/snippets/content/clause/edit/{clause.pk}/", clause_form(clause.standard, text="修订稿"))
    clause.refresh_from_db()
    assert clause.text == "现行条文" and clause.has_unpublished_changes
    assert clause.latest_revision.as_object().text == "修订稿"


def test_the_clause_listing_finds_chinese_words_inside_titles(admin_client):
    ClauseFactory(title="协助翻身与压疮预防")
    ClauseFactory(title="头面部清洁")
    listing = admin_client.get("/admin/snippets/content/clause/", {"q": "压疮"}).content.decode()
    assert "协助翻身与压疮预防" in listing and "头面部清洁" not in listing


def test_clause_numbers_and_parents_are_validated(admin_client):
    standard, other = StandardFactory(), StandardFactory()
    foreign_parent = ClauseFactory(standard=other, number="5")
    bad_number = admin_client.post("/admin/snippets/content/clause/add/", clause_form(standard, number="第五条"))
    assert bad_number.status_code == 200 and "条款编号应为" in bad_number.content.decode()
    foreign = admin_client.post("/admin/snippets/content/clause/add/", clause_form(standard, parent=foreign_parent.pk))
    assert "同一标准" in foreign.content.decode()
    assert Clause.objects.filter(standard=standard).count() == 0


def test_the_import_screen_accepts_a_file_and_reports_each_bad_row(admin_client):
    standard = StandardFactory()
    page = admin_client.get("/admin/care-standards/import/")
    assert page.status_code == 200 and "/admin/care-standards/import/template/clauses.xlsx" in page.content.decode()

    response = admin_client.post(
        "/admin/care-standards/import/",
        {
            "kind": "clauses",
            "standard": standard.pk,
            "file": upload([["条款编号", "条款标题"], ["5", "生活照料"], ["5.1", ""]], "clauses.csv"),
        },
        follow=True,
    )
    report = response.content.decode()
    assert "未写入任何数据" in report and "第 3 行" in report and "条款标题为空" in report
    assert not Clause.objects.exists()
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED


def test_the_import_form_explains_what_is_missing(admin_client):
    response = admin_client.post("/admin/care-standards/import/", {"kind": "clauses"})
    page = response.content.decode()
    assert response.status_code == 200
    assert "请选择条款所属的标准" in page
    assert not ImportJob.objects.exists()


def test_templates_download_as_xlsx_and_csv(admin_client):
    xlsx = admin_client.get("/admin/care-standards/import/template/service_items.xlsx")
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert xlsx.content[:2] == b"PK"
    csv = admin_client.get("/admin/care-standards/import/template/service_items.csv")
    assert csv.content.decode("utf-8-sig").startswith("*项目编码,*项目名称,*类别")
    assert admin_client.get("/admin/care-standards/import/template/nothing.csv").status_code == 404


def test_training_bodies_cannot_import_into_the_library_or_read_others_imports(client, admin_client):
    standard = StandardFactory()
    admin_client.post(
        "/admin/care-standards/import/",
        {"kind": "clauses", "standard": standard.pk, "file": upload([["条款编号", "条款标题"], ["5", "x"]], "a.csv")},
    )
    job = ImportJob.objects.get()
    body, _index = training_body_with_index()
    client.force_login(trainer_for(body))
    assert client.get("/admin/care-standards/import/").status_code == 302
    assert (
        client.post(
            "/admin/care-standards/import/",
            {
                "kind": "clauses",
                "standard": standard.pk,
                "file": upload([["条款编号", "条款标题"], ["6", "y"]], "b.csv"),
            },
        ).status_code
        == 302
    )
    assert client.get(f"/admin/care-standards/import/jobs/{job.pk}/").status_code == 404
    assert ImportJob.objects.count() == 1
