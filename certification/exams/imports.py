"""Question import from XLSX or CSV: every row is checked first, and nothing is written unless all are valid."""

import contextlib
import csv
import io
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from accounts.models import User
from content.exports import BOM, row_safe
from content.models import Clause, ServiceItem
from content.spreadsheets import SpreadsheetError, SpreadsheetLimits, cell_text, spreadsheet_rows

from .models import Choice, Difficulty, Question
from .services import question_status_for_author

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
OPTION_LETTERS = "ABCDEF"

# The file format: column headings in Chinese (as in the template), English accepted too.
COLUMNS = {
    "kind": ("题型", "kind"),
    "text": ("题干", "question"),
    **{f"option_{letter}": (f"选项{letter}", f"option {letter}") for letter in OPTION_LETTERS},
    "answer": ("正确答案", "answer"),
    "explanation": ("解析", "explanation"),
    "standard": ("标准编号", "standard"),
    "clause": ("条款号", "clause"),
    "service_item": ("服务项目编码", "service item"),
    "difficulty": ("难度", "difficulty"),
    "star_level": ("目标星级", "star level"),
}
REQUIRED_COLUMNS = ("kind", "text", "answer")
KINDS = {
    "单选": Question.Kind.SINGLE,
    "单选题": Question.Kind.SINGLE,
    "single": Question.Kind.SINGLE,
    "多选": Question.Kind.MULTIPLE,
    "多选题": Question.Kind.MULTIPLE,
    "multiple": Question.Kind.MULTIPLE,
    "判断": Question.Kind.TRUE_FALSE,
    "判断题": Question.Kind.TRUE_FALSE,
    "true_false": Question.Kind.TRUE_FALSE,
}
DIFFICULTIES = {"易": 1, "简单": 1, "中": 2, "中等": 2, "难": 3, "1": 1, "2": 2, "3": 3}
TRUE_WORDS = {"正确", "对", "是", "√", "✓", "t", "true", "a"}
FALSE_WORDS = {"错误", "错", "否", "×", "✗", "f", "false", "b"}
TRUE_FALSE_OPTIONS = ("正确", "错误")
TEMPLATE_EXAMPLES = [
    ["单选", "卧床服务对象至少每几小时翻身一次？", "1 小时", "2 小时", "4 小时", "6 小时", "", "", "B"]
    + ["见护理服务规范 6.1。", "DB1405/T 901—2022", "6.1", "BN-01", "易", "1"],
    ["多选", "以下哪些属于压疮预防措施？", "定时翻身减压", "保持皮肤清洁干燥", "用力按摩发红部位", "保持床单平整"]
    + ["", "", "ABD", "", "DB1405/T 901—2022", "6.2", "BN-02", "中", ""],
    ["判断", "翻身时可以拖、拉、推服务对象。", "", "", "", "", "", "", "错误", "", "", "", "", "易", ""],
]


@dataclass
class ParsedQuestion:
    row: int
    kind: str
    text: str
    options: list[str]
    correct: set[int]
    explanation: str = ""
    clause: Clause | None = None
    service_item: ServiceItem | None = None
    difficulty: int = Difficulty.MEDIUM
    star_level: int | None = None
    errors: list[str] = field(default_factory=list)


def template_headings() -> list[str]:
    return [chinese for chinese, _english in COLUMNS.values()]


def read_rows(*, name: str, content: bytes) -> list[tuple[int, list[str]]]:
    """The file's rows as text with their row numbers, the heading row (row 1) first; read through the shared
    reader and its limits, so anything that is not a table gets a clear error."""
    limits = SpreadsheetLimits.from_settings(max_bytes=MAX_BYTES)
    rows: list[tuple[int, list[str]]] = []
    try:
        with contextlib.closing(spreadsheet_rows(data=content, name=name, limits=limits)) as raw_rows:
            for number, cells in raw_rows:
                if not rows and number != 1:
                    rows.append((1, []))  # the heading row is empty
                texts = [cell_text(value) for value in cells]
                if rows and not any(text.strip() for text in texts):
                    continue  # a blank-looking row holds no question and must not count towards the limit
                rows.append((number, texts))
                # One question more than a file may hold is enough for parse_rows to refuse it.
                if len(rows) > MAX_ROWS + 1:
                    break
    except SpreadsheetError as error:
        raise ValidationError(str(error))
    return rows


def _columns(heading: list[str]) -> dict[str, int]:
    positions = {}
    normalised = [cell.replace(" ", "").lower() for cell in heading]
    for key, names in COLUMNS.items():
        for name in names:
            if name.replace(" ", "").lower() in normalised:
                positions[key] = normalised.index(name.replace(" ", "").lower())
                break
    missing = [COLUMNS[key][0] for key in REQUIRED_COLUMNS if key not in positions]
    if missing:
        raise ValidationError(
            _("Row 1: the heading lacks the columns %(columns)s. Start from the template.")
            % {"columns": "、".join(missing)}
        )
    return positions


def _answer_letters(answer: str) -> set[int]:
    letters = [c for c in answer.upper() if not c.isspace() and c not in ",，、;；"]
    return {OPTION_LETTERS.index(c) if c in OPTION_LETTERS else -1 for c in letters}


def parse_rows(rows: list[tuple[int, list[str]]]) -> list[ParsedQuestion]:
    if not rows:
        raise ValidationError(_("The file is empty."))
    positions = _columns(rows[0][1])
    body = [(number, row) for number, row in rows[1:] if any(row)]
    if not body:
        raise ValidationError(_("The file has a heading but no questions."))
    if len(body) > MAX_ROWS:
        raise ValidationError(_("At most %(count)s questions per file.") % {"count": MAX_ROWS})

    def value(row, key):
        index = positions.get(key)
        return row[index] if index is not None and index < len(row) else ""

    standard_codes = {value(row, "standard") for _n, row in body} - {""}
    clause_numbers = {value(row, "clause") for _n, row in body} - {""}
    clauses: dict[tuple[str, str], Clause] = {}
    by_number: dict[str, list[Clause]] = {}
    if clause_numbers:
        for clause in Clause.objects.filter(number__in=clause_numbers).select_related("standard"):
            clauses[(clause.standard.code, clause.number)] = clause
            by_number.setdefault(clause.number, []).append(clause)
    item_codes = {value(row, "service_item") for _n, row in body} - {""}
    items = {item.code: item for item in ServiceItem.objects.filter(code__in=item_codes)}
    known_standards = set()
    if standard_codes:
        from content.models import Standard

        known_standards = set(Standard.objects.filter(code__in=standard_codes).values_list("code", flat=True))
    existing_texts = set(
        Question.objects.filter(text__in={value(r, "text") for _n, r in body})
        .exclude(status=Question.Status.REJECTED)
        .values_list("text", flat=True)
    )

    parsed = []
    seen_texts: dict[str, int] = {}
    for number, row in body:
        errors = []
        text = value(row, "text")
        kind = KINDS.get(value(row, "kind").lower())
        if kind is None:
            errors.append(_("the kind must be 单选, 多选 or 判断"))
        if not text:
            errors.append(_("the question text is empty"))
        elif text in existing_texts:
            errors.append(_("the bank already holds this question"))
        elif text in seen_texts:
            errors.append(_("the same question is in row %(row)s") % {"row": seen_texts[text]})
        else:
            seen_texts[text] = number
        options = [value(row, f"option_{letter}") for letter in OPTION_LETTERS]
        while options and not options[-1]:
            options.pop()
        answer = value(row, "answer")
        correct: set[int] = set()
        if kind == Question.Kind.TRUE_FALSE:
            if not options:
                options = list(TRUE_FALSE_OPTIONS)
            if len(options) != 2:
                errors.append(_("a true-or-false question has two options"))
            word = answer.strip().lower()
            if word in TRUE_WORDS:
                correct = {0}
            elif word in FALSE_WORDS:
                correct = {1}
            else:
                errors.append(_("the answer of a true-or-false question is 正确 or 错误"))
        elif kind is not None:
            if "" in options:
                errors.append(_("an option between two others is empty"))
            if len(options) < 2:
                errors.append(_("a question needs at least two options"))
            correct = _answer_letters(answer)
            if not correct:
                errors.append(_("the correct answer is empty"))
            elif -1 in correct or max(correct) >= len(options):
                errors.append(_("the answer «%(answer)s» names an option that is not there") % {"answer": answer})
            elif kind == Question.Kind.SINGLE and len(correct) != 1:
                errors.append(_("a single-choice question has exactly one correct option"))
            elif kind == Question.Kind.MULTIPLE and len(correct) < 2:
                errors.append(_("a multiple-choice question has at least two correct options"))
        clause = None
        standard_code, clause_number = value(row, "standard"), value(row, "clause")
        if standard_code and standard_code not in known_standards:
            errors.append(_("no standard has the code %(code)s") % {"code": standard_code})
        elif clause_number:
            if standard_code:
                clause = clauses.get((standard_code, clause_number))
                if clause is None:
                    errors.append(
                        _("standard %(code)s has no clause %(number)s")
                        % {"code": standard_code, "number": clause_number}
                    )
            elif len(by_number.get(clause_number, [])) == 1:
                clause = by_number[clause_number][0]
            elif by_number.get(clause_number):
                errors.append(
                    _("several standards have a clause %(number)s: give the standard code") % {"number": clause_number}
                )
            else:
                errors.append(_("no standard has a clause %(number)s") % {"number": clause_number})
        service_item = None
        if code := value(row, "service_item"):
            service_item = items.get(code)
            if service_item is None:
                errors.append(_("no service item has the code %(code)s") % {"code": code})
        difficulty = Difficulty.MEDIUM
        if raw := value(row, "difficulty"):
            difficulty = DIFFICULTIES.get(raw)
            if difficulty is None:
                errors.append(_("the difficulty must be 易, 中 or 难"))
        star_level = None
        if raw := value(row, "star_level"):
            if raw.rstrip("星") in {"1", "2", "3", "4", "5"}:
                star_level = int(raw.rstrip("星"))
            else:
                errors.append(_("the target star level is a number from 1 to 5"))
        if any(len(option) > 300 for option in options):
            errors.append(_("an option is longer than 300 characters"))
        parsed.append(
            ParsedQuestion(
                row=number,
                kind=kind or "",
                text=text,
                options=options,
                correct=correct,
                explanation=value(row, "explanation"),
                clause=clause,
                service_item=service_item,
                difficulty=difficulty or Difficulty.MEDIUM,
                star_level=star_level,
                errors=errors,
            )
        )
    return parsed


def questions_import(*, name: str, content: bytes, user: User) -> list[Question]:
    """Import every question of the file, or none: the error lists each bad row with its number and reason."""
    status = question_status_for_author(user=user)
    parsed = parse_rows(read_rows(name=name, content=content))
    errors = [
        _("Row %(row)s: %(reasons)s.") % {"row": item.row, "reasons": "；".join(item.errors)}
        for item in parsed
        if item.errors
    ]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        questions = Question.objects.bulk_create(
            Question(
                text=item.text,
                kind=item.kind,
                explanation=item.explanation,
                clause=item.clause,
                service_item=item.service_item,
                difficulty=item.difficulty,
                star_level=item.star_level,
                status=status,
                proposed_by=user if status == Question.Status.PROPOSED else None,
            )
            for item in parsed
        )
        Choice.objects.bulk_create(
            Choice(question=question, text=option, is_correct=index in item.correct, sort_order=index)
            for question, item in zip(questions, parsed, strict=True)
            for index, option in enumerate(item.options)
        )
        log(questions[0], "carestar.question.import", user=user, data={"count": len(questions), "file": name})
    return questions


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "题目"
    sheet.append(template_headings())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for example in TEMPLATE_EXAMPLES:
        sheet.append(row_safe(example))
    sheet.column_dimensions["B"].width = 48
    notes = workbook.create_sheet("填写说明")
    for line in TEMPLATE_NOTES:
        notes.append([line])
    notes.column_dimensions["A"].width = 100
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def template_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(template_headings())
    writer.writerows(row_safe(example) for example in TEMPLATE_EXAMPLES)
    return (BOM + buffer.getvalue()).encode("utf-8")


TEMPLATE_NOTES = [
    "题型：单选、多选或判断。",
    "题干：必填；与题库中已有题目相同的题干不能重复导入。",
    "选项A～选项F：单选、多选至少两个选项，按顺序填写，中间不留空；判断题可不填，默认为“正确”“错误”。",
    "正确答案：单选填一个字母（如 B），多选填两个及以上字母（如 ABD），判断题填“正确”或“错误”。",
    "标准编号、条款号：可选；只有一个标准含该条款号时可不填标准编号。",
    "服务项目编码：可选，如 BN-01。难度：易、中、难（默认中）。目标星级：1～5，可不填。",
    "整份文件逐行校验：任何一行有误，整份文件都不导入，并列出每个错误行的行号和原因。",
]
