import csv
import io

import pytest
from django.core.exceptions import ValidationError
from openpyxl import Workbook, load_workbook

from certification.exams import imports
from certification.models import Choice, Question
from tests.factories.accounts import UserFactory
from tests.factories.certification import bank_question
from tests.factories.content import ClauseFactory, ServiceItemFactory, StandardFactory
from tests.factories.spreadsheets import HOSTILE_XLSX, hostile_xlsx

pytestmark = pytest.mark.django_db

HEADING = imports.template_headings()


def row(**values) -> list[str]:
    columns = list(imports.COLUMNS)
    cells = [""] * len(columns)
    for key, value in values.items():
        cells[columns.index(key)] = value
    return cells


def xlsx(rows) -> bytes:
    workbook = Workbook()
    for cells in rows:
        workbook.active.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows, encoding="utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


@pytest.fixture
def admin_user(db):
    return UserFactory(role="administrator")


@pytest.fixture
def tags(db):
    standard = StandardFactory(code="DB1405/T 901—2022")
    return {
        "clause": ClauseFactory(standard=standard, number="6.1"),
        "item": ServiceItemFactory(code="BN-01"),
    }


def good_rows():
    return [
        HEADING,
        row(
            kind="单选",
            text="翻身间隔？",
            option_A="1 小时",
            option_B="2 小时",
            answer="B",
            standard="DB1405/T 901—2022",
            clause="6.1",
            service_item="BN-01",
            difficulty="易",
            star_level="2",
        ),
        row(kind="多选", text="压疮预防？", option_A="翻身", option_B="清洁", option_C="按摩", answer="A、B"),
        row(kind="判断", text="可以拖拉推。", answer="错误", clause="6.1"),
    ]


def test_a_valid_workbook_is_imported_whole(admin_user, tags):
    questions = imports.questions_import(name="题库.xlsx", content=xlsx(good_rows()), user=admin_user)
    assert len(questions) == 3
    single = Question.objects.get(text="翻身间隔？")
    assert (single.kind, single.status, single.clause, single.service_item) == (
        "single",
        "active",
        tags["clause"],
        tags["item"],
    )
    assert (single.difficulty, single.star_level) == (1, 2)
    assert list(single.choices.values_list("text", "is_correct")) == [("1 小时", False), ("2 小时", True)]
    multiple = Question.objects.get(text="压疮预防？")
    assert list(multiple.choices.filter(is_correct=True).values_list("text", flat=True)) == ["翻身", "清洁"]
    true_false = Question.objects.get(text="可以拖拉推。")
    assert list(true_false.choices.values_list("text", "is_correct")) == [("正确", False), ("错误", True)]
    assert true_false.clause == tags["clause"]


def test_every_bad_row_is_reported_and_nothing_is_written(admin_user, tags):
    bank_question(text="已有题目")
    rows = good_rows() + [
        row(kind="填空", text="第五行", option_A="a", option_B="b", answer="A"),
        row(kind="单选", text="第六行", option_A="a", option_B="b", answer="AB"),
        row(kind="单选", text="第七行", option_A="a", option_B="b", answer="C"),
        row(kind="多选", text="第八行", option_A="a", option_B="b", answer="A"),
        row(kind="单选", text="已有题目", option_A="a", option_B="b", answer="A"),
        row(kind="单选", text="翻身间隔？", option_A="a", option_B="b", answer="A"),
        row(kind="单选", text="第十一行", option_A="a", option_B="b", answer="A", service_item="XX-99"),
        row(kind="单选", text="第十二行", option_A="a", option_B="b", answer="A", difficulty="极难", star_level="6"),
        row(
            kind="单选",
            text="第十三行",
            option_A="a",
            option_C="c",
            answer="A",
            standard="DB1405/T 901—2022",
            clause="9.9",
        ),
        row(kind="判断", text="第十四行", answer="也许"),
        row(kind="单选", text="", option_A="a", option_B="b", answer="A"),
    ]
    with pytest.raises(ValidationError) as raised:
        imports.questions_import(name="题库.csv", content=csv_bytes(rows), user=admin_user)
    messages = raised.value.messages
    assert [int(message.split("：")[0].removeprefix("第").removesuffix(" 行")) for message in messages] == list(
        range(5, 16)
    )
    joined = "\n".join(messages)
    for reason in (
        "单选、多选或判断",
        "只能有一个正确选项",
        "不存在的选项",
        "至少有两个正确选项",
        "题库中已有",
        "第 2 行",
        "XX-99",
        "易、中或难",
        "1 到 5",
        "没有条款 9.9",
        "中间的选项为空",
        "正确或错误",
        "题干为空",
    ):
        assert reason in joined, reason
    assert Question.objects.count() == 1
    assert not Choice.objects.exclude(question__text="已有题目").exists()


def test_a_training_body_imports_proposals(tags):
    trainer = UserFactory(role="training_body")
    imports.questions_import(name="q.xlsx", content=xlsx(good_rows()), user=trainer)
    assert set(Question.objects.values_list("status", "proposed_by")) == {("proposed", trainer.pk)}


def test_a_caregiver_may_not_import(tags):
    with pytest.raises(Exception, match="administrators|管理员"):
        imports.questions_import(name="q.xlsx", content=xlsx(good_rows()), user=UserFactory(role="caregiver"))


def test_gb18030_csv_from_chinese_excel(admin_user, tags):
    imports.questions_import(name="题库.CSV", content=csv_bytes(good_rows(), encoding="gb18030"), user=admin_user)
    assert Question.objects.filter(text="翻身间隔？").exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("q.txt", b"x", "xlsx"),
        ("q.xlsx", b"not a workbook", "Excel"),
        ("q.csv", csv_bytes([["题干", "选项A"], ["x", "y"]]), "题型"),
        ("q.csv", csv_bytes([HEADING]), "没有题目"),
        ("q.csv", b"", "空"),
    ],
)
def test_files_that_are_not_question_tables_are_refused_clearly(admin_user, name, content, message):
    with pytest.raises(ValidationError) as raised:
        imports.questions_import(name=name, content=content, user=admin_user)
    assert message in " ".join(raised.value.messages)


def test_the_templates_import_as_they_are(admin_user, tags):
    workbook = load_workbook(io.BytesIO(imports.template_xlsx()))
    assert [cell.value for cell in workbook.active[1]] == HEADING
    ServiceItemFactory(code="BN-02")
    ClauseFactory(standard=tags["clause"].standard, number="6.2")
    assert len(imports.questions_import(name="t.xlsx", content=imports.template_xlsx(), user=admin_user)) == 3
    Question.objects.all().delete()
    assert len(imports.questions_import(name="t.csv", content=imports.template_csv(), user=admin_user)) == 3


def test_the_import_screen(client, tags):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.factories.accounts import UserFactory as Users

    admin = Users(role="administrator", is_superuser=True, is_staff=True)
    client.force_login(admin)
    assert client.get("/admin/questions/import/").status_code == 200
    template = client.get("/admin/questions/import/template.xlsx")
    assert template["Content-Type"].startswith("application/vnd.openxmlformats")
    bad = good_rows() + [row(kind="单选", text="坏行", option_A="a", answer="A")]
    response = client.post("/admin/questions/import/", {"file": SimpleUploadedFile("q.xlsx", xlsx(bad))})
    assert response.status_code == 200
    assert "第 5 行" in response.content.decode() and not Question.objects.exists()
    response = client.post("/admin/questions/import/", {"file": SimpleUploadedFile("q.xlsx", xlsx(good_rows()))})
    assert response.status_code == 302 and Question.objects.count() == 3
    client.force_login(Users(role="caregiver"))
    assert client.get("/admin/questions/import/").status_code == 302


@pytest.mark.parametrize("hostile", HOSTILE_XLSX)
def test_a_hostile_workbook_is_refused_with_a_reason_and_nothing_is_written(admin_user, hostile):
    data, fragment = hostile_xlsx(hostile, HEADING)
    with pytest.raises(ValidationError) as raised:
        imports.questions_import(name="题库.xlsx", content=data, user=admin_user)
    assert fragment in " ".join(raised.value.messages)
    assert not Question.objects.exists() and not Choice.objects.exists()


def test_the_import_screen_reports_a_hostile_workbook(client, db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(UserFactory(role="administrator", is_superuser=True, is_staff=True))
    data, fragment = hostile_xlsx("whole grid", HEADING)
    response = client.post("/admin/questions/import/", {"file": SimpleUploadedFile("q.xlsx", data)})
    assert response.status_code == 200 and fragment in response.content.decode()
    assert not Question.objects.exists()


def test_reading_stops_one_question_past_the_most_a_file_may_hold(admin_user):
    rows = [HEADING] + [row(kind="判断", text=f"第 {n} 题", answer="正确") for n in range(imports.MAX_ROWS + 500)]
    assert len(imports.read_rows(name="q.csv", content=csv_bytes(rows))) == imports.MAX_ROWS + 2
    with pytest.raises(ValidationError) as raised:
        imports.questions_import(name="q.csv", content=csv_bytes(rows), user=admin_user)
    assert "5000" in raised.value.messages[0]
    assert not Question.objects.exists()


def test_a_bad_row_after_empty_rows_is_reported_with_the_row_number_the_sheet_shows(admin_user, tags):
    rows = good_rows() + [[], [], row(kind="单选", text="坏行", option_A="a", answer="A")]
    with pytest.raises(ValidationError) as raised:
        imports.questions_import(name="q.xlsx", content=xlsx(rows), user=admin_user)
    assert [message.split("：")[0] for message in raised.value.messages] == ["第 7 行"]


def test_the_import_screen_refuses_a_file_over_5_mb_without_reading_it_whole(client, db, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    read = []
    questions_import = imports.questions_import

    def recording(*, content, **kwargs):
        read.append(len(content))
        return questions_import(content=content, **kwargs)

    monkeypatch.setattr(imports, "questions_import", recording)
    client.force_login(UserFactory(role="administrator", is_superuser=True, is_staff=True))
    upload = SimpleUploadedFile("q.csv", b"x" * (imports.MAX_BYTES + 1024))
    response = client.post("/admin/questions/import/", {"file": upload})
    assert response.status_code == 200 and "文件超过 5 MB" in response.content.decode()
    assert read == [imports.MAX_BYTES + 1]


def test_rows_of_spaces_do_not_count_towards_the_limit_nor_cut_the_file_short(admin_user):
    blank = ["   "] + [""] * (len(HEADING) - 1)
    rows = [HEADING, blank, blank] + [
        row(kind="判断", text=f"第 {n} 题", answer="正确") for n in range(imports.MAX_ROWS + 1)
    ]
    with pytest.raises(ValidationError) as raised:
        imports.questions_import(name="q.xlsx", content=xlsx(rows), user=admin_user)
    assert "5000" in raised.value.messages[0]
    assert not Question.objects.exists()
