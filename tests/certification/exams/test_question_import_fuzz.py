"""The question bank import under random files: whatever the cells, headings, encoding, damage or size, the import
refuses with every problem in Chinese (a ValidationError, nothing else) and writes nothing, or writes the whole
file; the import screen never answers 500 and lists the problems; a valid file, however it is typed and saved,
writes exactly its questions and options."""

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import event, given
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase
from wagtail.models import ModelLogEntry

from certification.exams import imports
from certification.models import Choice, Question
from tests.factories.accounts import UserFactory
from tests.factories.certification import bank_question
from tests.factories.content import ClauseFactory, ServiceItemFactory, StandardFactory
from tests.fuzzing import (
    FILE_NAMES,
    FUZZ_LIMITS,
    MAX_ROWS,
    READABLE_ENCODINGS,
    damaged,
    file_formats,
    headers,
    is_chinese,
    plain_text,
    ragged_rows,
    random_bytes,
    shown,
    spoilt_cells,
    spreadsheet_file,
    supplied_text,
    table_snapshot,
)

WRITTEN = (Question, Choice, ModelLogEntry)
KEYS = list(imports.COLUMNS)
# Per column, its Chinese and English heading; the reader ignores spaces and case in them.
NAMES = [[key, *imports.COLUMNS[key]] for key in KEYS]
HEADING_SPELLINGS = {
    key: [chinese, english, english.upper(), f" {chinese} "] for key, (chinese, english) in imports.COLUMNS.items()
}
KIND_CELLS = {
    Question.Kind.SINGLE: ["单选", "单选题", "single", "SINGLE"],
    Question.Kind.MULTIPLE: ["多选", "多选题", "multiple"],
    Question.Kind.TRUE_FALSE: ["判断", "判断题", "true_false"],
}
SEPARATORS = ["", " ", ",", "，", "、", ";", "；"]
STANDARD = "DB1405/T 901—2022"
OTHER_STANDARD = "DB1405/T 902—2023"
ON_RECORD = "卧床服务对象至少每几小时翻身一次？"


def can_encode(text: str, encoding: str | None) -> bool:
    try:
        text.encode(encoding or "utf-8")
    except UnicodeEncodeError:
        return False
    return True


@st.composite
def questions(draw, *, encoding=None):
    """(cells by column, what the bank must then hold: (kind, explanation, clause, item, difficulty, star level),
    [(option, correct)])."""
    kind = draw(st.sampled_from(list(KIND_CELLS)))
    values = {"kind": draw(st.sampled_from(KIND_CELLS[kind]))}
    if kind == Question.Kind.TRUE_FALSE:
        correct_word = draw(st.booleans())
        words = imports.TRUE_WORDS if correct_word else imports.FALSE_WORDS
        word = draw(st.sampled_from(sorted(word for word in words if can_encode(word, encoding))))
        values["answer"] = draw(st.sampled_from([word, word.upper(), f" {word} "]))
        options = list(imports.TRUE_FALSE_OPTIONS) if draw(st.booleans()) else []
        if options:
            values.update({"option_A": options[0], "option_B": options[1]})
        choices = [(text, index == (0 if correct_word else 1)) for index, text in enumerate(imports.TRUE_FALSE_OPTIONS)]
    else:
        options = draw(st.lists(plain_text(min_size=1, max_size=300, encoding=encoding), min_size=2, max_size=6))
        most = 1 if kind == Question.Kind.SINGLE else len(options)
        least = 1 if kind == Question.Kind.SINGLE else 2
        correct = draw(st.lists(st.integers(0, len(options) - 1), min_size=least, max_size=most, unique=True))
        letters = [imports.OPTION_LETTERS[index] for index in sorted(correct)]
        values["answer"] = draw(st.sampled_from(SEPARATORS)).join(
            draw(st.sampled_from([letter, letter.lower()])) for letter in letters
        )
        values.update({f"option_{imports.OPTION_LETTERS[i]}": text for i, text in enumerate(options)})
        choices = [(text, index in correct) for index, text in enumerate(options)]
    values["explanation"] = draw(plain_text(max_size=80, encoding=encoding))
    clause = draw(st.sampled_from([None, ("", "6.1"), (STANDARD, "6.1"), (STANDARD, "6.2"), (OTHER_STANDARD, "6.2")]))
    if clause is not None:
        values["standard"], values["clause"] = clause
    item = draw(st.sampled_from([None, "BN-01"]))
    if item:
        values["service_item"] = item
    difficulty = draw(st.sampled_from([None, *imports.DIFFICULTIES]))
    if difficulty is not None:
        values["difficulty"] = draw(
            st.sampled_from([difficulty, int(difficulty)] if difficulty.isdigit() else [difficulty])
        )
    star = draw(st.sampled_from([None, 1, 2, 3, 4, 5]))
    if star is not None:
        values["star_level"] = draw(st.sampled_from([star, str(star), f"{star}星"]))
    expected = (
        kind,
        values["explanation"],
        None if clause is None else (clause[0] or STANDARD, clause[1]),
        item,
        imports.DIFFICULTIES[difficulty] if difficulty is not None else 2,
        star,
    )
    return values, expected, choices


@st.composite
def valid_files(draw, *, encoding=None, most=MAX_ROWS):
    """(header, rows, {question text: (what the bank holds of it, its options)}): columns in any order, the
    optional ones left out when no row uses them."""
    text = plain_text(min_size=1, max_size=120, encoding=encoding).filter(lambda t: t != ON_RECORD)
    texts = draw(st.lists(text, min_size=1, max_size=most, unique=True))
    drawn = [draw(questions(encoding=encoding)) for _text in texts]
    used = {"kind", "text", "answer"} | {key for values, _e, _c in drawn for key in values}
    order = draw(st.permutations([key for key in KEYS if key in used or draw(st.booleans())]))
    header = [draw(st.sampled_from(HEADING_SPELLINGS[key])) for key in order]
    rows, expected = [], {}
    for text, (values, question, choices) in zip(texts, drawn, strict=True):
        values = {**values, "text": text}
        rows.append([values.get(key, "") for key in order])
        expected[text] = (question, choices)
    for _blank in range(draw(st.integers(0, 1))):
        rows.insert(draw(st.integers(0, len(rows) - 1)), [])
    return header, rows, expected


@FUZZ_LIMITS
class QuestionImportFuzzTests(TestCase):
    @classmethod
    def setUpTestData(cls):
        cls.administrator = UserFactory(role="administrator", is_superuser=True, is_staff=True)
        standard = StandardFactory(code=STANDARD)
        ClauseFactory(standard=standard, number="6.1")
        ClauseFactory(standard=standard, number="6.2")
        ClauseFactory(standard=StandardFactory(code=OTHER_STANDARD), number="6.2")
        ServiceItemFactory(code="BN-01")
        cls.on_record = bank_question(text=ON_RECORD)

    def assert_refused_or_written(self, name, content, supplied):
        before = table_snapshot(*WRITTEN)
        try:
            written = imports.questions_import(name=name, content=content, user=self.administrator)
        except ValidationError as error:
            event("refused")
            self.assertTrue(error.messages)
            for message in error.messages:
                self.assertTrue(is_chinese(message, supplied), message)
            self.assertEqual(table_snapshot(*WRITTEN), before)
            return None
        event("imported")
        self.assertEqual(Question.objects.count(), len(before["certification.Question"]) + len(written))
        return written

    @given(data=st.data())
    def test_random_cells_and_headings_are_refused_with_reasons_and_write_nothing(self, data):
        header = data.draw(headers(NAMES) | st.just(imports.template_headings()))
        rows = [header, *data.draw(ragged_rows(len(header)))]
        name, content = spreadsheet_file(rows, data.draw(file_formats()))
        self.assert_refused_or_written(name, content, supplied_text(rows))

    @given(name=FILE_NAMES, content=random_bytes)
    def test_random_bytes_are_refused_with_a_reason(self, name, content):
        self.assertIsNone(self.assert_refused_or_written(name, content, supplied_text(content)))

    @given(data=st.data())
    def test_a_damaged_workbook_is_refused_or_read_whole(self, data):
        header, rows, expected = data.draw(valid_files(most=4))
        _name, original = spreadsheet_file([header, *rows], ("xlsx", None))
        if self.assert_refused_or_written("q.xlsx", data.draw(damaged(original)), supplied_text(rows)) is not None:
            self.assertEqual(self.stored(), expected)

    @given(file_format=file_formats(encodings=READABLE_ENCODINGS), data=st.data())
    def test_one_spoilt_row_among_valid_ones_rejects_the_whole_file_or_joins_it(self, file_format, data):
        header, rows, expected = data.draw(valid_files(encoding=file_format[1], most=MAX_ROWS - 1))
        spoilt = list(data.draw(st.sampled_from([row for row in rows if row])))
        for _ in range(data.draw(st.integers(1, 2))):
            spoilt[data.draw(st.integers(0, len(spoilt) - 1))] = data.draw(spoilt_cells)
        rows.insert(data.draw(st.integers(0, len(rows))), spoilt)
        name, content = spreadsheet_file([header, *rows], file_format)
        if self.assert_refused_or_written(name, content, supplied_text(rows)) is not None:
            self.assertLessEqual(expected.items(), self.stored().items())

    @given(file_format=file_formats(encodings=READABLE_ENCODINGS), data=st.data())
    def test_a_valid_file_writes_exactly_its_questions_and_one_past_the_limit_nothing(self, file_format, data):
        encoding = file_format[1] or "utf-8"
        header, rows, expected = data.draw(valid_files(encoding=encoding, most=MAX_ROWS))
        name, content = spreadsheet_file([header, *rows], file_format)
        event(" ".join(filter(None, file_format)))
        before = table_snapshot(*WRITTEN)
        if len(rows) > MAX_ROWS:
            event("past the row limit")
            with self.assertRaises(ValidationError) as refused:
                imports.questions_import(name=name, content=content, user=self.administrator)
            [message] = refused.exception.messages
            self.assertIn(str(MAX_ROWS), message)
            self.assertTrue(is_chinese(message))
            self.assertEqual(table_snapshot(*WRITTEN), before)
            return
        imports.questions_import(name=name, content=content, user=self.administrator)
        self.assertEqual(self.stored(), expected)

    def stored(self) -> dict:
        """What the bank holds of the questions imported (the one on record left out)."""
        return {
            question.text: (
                (
                    question.kind,
                    question.explanation,
                    (question.clause.standard.code, question.clause.number) if question.clause else None,
                    question.service_item.code if question.service_item else None,
                    question.difficulty,
                    question.star_level,
                ),
                [(choice.text, choice.is_correct) for choice in question.choices.order_by("sort_order")],
            )
            for question in Question.objects.exclude(pk=self.on_record.pk).select_related(
                "clause__standard", "service_item"
            )
        }

    # --- The import screen ------------------------------------------------------------------------------

    @given(data=st.data())
    def test_the_import_screen_never_fails_and_lists_every_problem(self, data):
        name, content = data.draw(
            st.one_of(
                headers(NAMES).flatmap(
                    lambda header: st.tuples(ragged_rows(len(header)), file_formats()).map(
                        lambda drawn: spreadsheet_file([header, *drawn[0]], drawn[1])
                    )
                ),
                st.tuples(FILE_NAMES, random_bytes),
                valid_files().flatmap(
                    lambda sheet: file_formats().map(lambda fmt: spreadsheet_file([sheet[0], *sheet[1]], fmt))
                ),
            )
        )
        before = table_snapshot(*WRITTEN)
        client = Client(raise_request_exception=False)
        client.force_login(self.administrator)
        response = client.post("/admin/questions/import/", {"file": SimpleUploadedFile(name, content)})
        self.assertLess(response.status_code, 500)
        event(f"answered {response.status_code}")
        if response.status_code == 302:
            self.assertGreater(Question.objects.count(), len(before["certification.Question"]))
            return
        self.assertEqual(response.status_code, 200)
        page = response.content.decode()
        messages = list(response.context["row_errors"]) + [
            message for errors in response.context["form"].errors.values() for message in errors
        ]
        self.assertTrue(messages)
        for message in messages:
            self.assertTrue(is_chinese(message, supplied_text(content, name)), message)
            self.assertTrue(shown(message, page), message)
        self.assertEqual(table_snapshot(*WRITTEN), before)
