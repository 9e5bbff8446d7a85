"""Spreadsheet importers. Each one checks every row before anything is written, then writes the whole file
in the caller's transaction. `content.services.import_job_run` drives them; training registers its own."""

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import CLAUSE_NUMBER_RE, Clause, ImportJob, ServiceItem
from .spreadsheets import Column, SheetRow, text_only_errors

Progress = Callable[[int], None]


@dataclass
class RowError:
    row: int | None
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "message": self.message}


class Importer(ABC):
    kind: str
    columns: list[Column]
    # The stem of the template's file name, e.g. "条款导入模板".
    template_name: str
    needs_standard = False

    def title(self) -> str:
        return str(ImportJob.Kind(self.kind).label)

    def examples(self) -> list[list[str]]:
        return []

    @abstractmethod
    def check(self, *, job: ImportJob, rows: list[SheetRow], progress: Progress) -> tuple[list[RowError], object]:
        """Every problem in the file, and a plan that `write` can carry out when there is none."""

    @abstractmethod
    def write(self, *, job: ImportJob, plan) -> dict:
        """Carry out the plan; the caller holds the transaction. Returns counts for the summary."""


IMPORTERS: dict[str, Importer] = {}


def importer_register(importer: Importer) -> Importer:
    IMPORTERS[importer.kind] = importer
    return importer


def importer_for(kind: str) -> Importer:
    return IMPORTERS[kind]


def check_length(value: str, limit: int, label) -> str | None:
    if len(value) > limit:
        return _("“%(column)s” is longer than %(limit)s characters.") % {"column": label, "limit": limit}
    return None


LIST_SEPARATORS = re.compile(r"[\s,，;；、]+")


def split_list(value: str) -> list[str]:
    return [part for part in LIST_SEPARATORS.split(value) if part]


def split_steps(value: str) -> list[str]:
    return [step.strip() for step in re.split(r"[\r\n]+|[;；]", value) if step.strip()]


# --- Clauses of a standard --------------------------------------------------------------------------------


@dataclass
class ClauseRow:
    number: str
    title: str
    text: str
    parent_number: str | None


NUMBER_LENGTH = Clause._meta.get_field("number").max_length


class ClauseImporter(Importer):
    kind = ImportJob.Kind.CLAUSES
    template_name = "条款导入模板"
    needs_standard = True
    columns = [
        Column(
            "number",
            gettext_lazy("Clause number"),
            required=True,
            text_only=True,
            help=gettext_lazy("Digits separated by dots, e.g. 5.1; an annex clause may start with a letter (A.1)."),
        ),
        Column("title", gettext_lazy("Clause title"), required=True, help=gettext_lazy("At most 200 characters.")),
        Column("text", gettext_lazy("Clause text"), help=gettext_lazy("The wording of the clause.")),
        Column(
            "parent",
            gettext_lazy("Parent clause number"),
            text_only=True,
            help=gettext_lazy(
                "Leave empty to nest 5.1 under 5 automatically; the parent must be in the file or already in "
                "the standard."
            ),
        ),
    ]

    def examples(self) -> list[list[str]]:
        return [
            ["5", "生活照料", "生活照料包括清洁照料、饮食照料、排泄照料和睡眠照料等服务。", ""],
            ["5.1", "头面部清洁", "每日协助服务对象完成洗脸、洗头、口腔清洁，水温宜为 38℃～40℃。", ""],
            ["5.2", "协助进食", "进食前协助取坐位或半坐卧位，观察吞咽情况，防止呛咳和误吸。", "5"],
        ]

    def check(self, *, job, rows, progress):
        errors: list[RowError] = []
        existing = dict(Clause.objects.filter(standard=job.standard).values_list("number", "parent__number"))
        in_file: dict[str, int] = {}
        plan: list[tuple[int, ClauseRow]] = []
        for done, row in enumerate(rows, start=1):
            row_errors = text_only_errors(row, self.columns)
            number, title = row.values["number"], row.values["title"]
            text, parent = row.values.get("text", ""), row.values.get("parent", "")
            if not number:
                row_errors.append(_("The clause number is empty."))
            elif (problem := check_length(number, NUMBER_LENGTH, _("Clause number"))) is not None:
                row_errors.append(problem)
            elif not CLAUSE_NUMBER_RE.match(number):
                row_errors.append(_("“%(number)s” is not a clause number such as 5.1.") % {"number": number})
            elif number in in_file:
                row_errors.append(
                    _("Clause %(number)s already appears in row %(row)s.") % {"number": number, "row": in_file[number]}
                )
            else:
                in_file[number] = row.number
            if not title:
                row_errors.append(_("The clause title is empty."))
            if (problem := check_length(title, 200, _("Clause title"))) is not None:
                row_errors.append(problem)
            if parent and not CLAUSE_NUMBER_RE.match(parent):
                row_errors.append(_("“%(number)s” is not a clause number such as 5.1.") % {"number": parent})
            elif parent and parent == number:
                row_errors.append(_("A clause cannot be nested under itself."))
            errors.extend(RowError(row.number, message) for message in row_errors)
            if not row_errors:
                plan.append(
                    (row.number, ClauseRow(number=number, title=title, text=text, parent_number=parent or None))
                )
            if done % 200 == 0:
                progress(done)

        # Parents are checked once every number in the file is known: a parent may come after its children.
        known = set(existing) | set(in_file)
        for row_number, clause_row in plan:
            if clause_row.parent_number is None:
                inferred = clause_row.number.rsplit(".", 1)[0] if "." in clause_row.number else None
                clause_row.parent_number = inferred if inferred in known else None
            elif clause_row.parent_number not in known:
                errors.append(
                    RowError(
                        row_number,
                        _("The parent clause %(number)s is neither in the file nor in the standard.")
                        % {"number": clause_row.parent_number},
                    )
                )
        # A parent may be any clause of the standard, so the file may close a circle: 5 under 6.1 under 6 under 5.
        parents = {**existing, **{clause_row.number: clause_row.parent_number for _row, clause_row in plan}}
        circular = _circular(parents)
        errors.extend(
            RowError(
                row_number,
                _("Clause %(number)s would end up nested under itself through its parent clauses.")
                % {"number": clause_row.number},
            )
            for row_number, clause_row in plan
            if clause_row.number in circular
        )
        progress(len(rows))
        errors.sort(key=lambda error: error.row or 0)
        return errors, [clause_row for _row_number, clause_row in plan]

    def write(self, *, job, plan: list[ClauseRow]) -> dict:
        standard = job.standard
        clauses = {clause.number: clause for clause in Clause.objects.filter(standard=standard)}
        created = updated = unchanged = 0
        for row in _parents_first(plan, on_record=set(clauses)):
            parent = clauses[row.parent_number] if row.parent_number else None
            clause = clauses.get(row.number)
            if clause is None:
                clause = Clause(standard=standard, number=row.number, title=row.title, text=row.text, parent=parent)
                clause.save()
                created += 1
            elif (clause.title, clause.text, clause.parent_id) == (row.title, row.text, parent and parent.pk):
                unchanged += 1
                continue
            else:
                clause.title, clause.text, clause.parent = row.title, row.text, parent
                updated += 1
            # Each imported clause gets a revision and a publish entry in the audit log, as an edit would.
            clause.save_revision(user=job.created_by).publish(user=job.created_by, skip_permission_checks=True)
            clauses[row.number] = clause
        return {"created": created, "updated": updated, "unchanged": unchanged}


def _circular(parents: dict[str, str | None]) -> set[str]:
    """The numbers whose chain of parents leads back to them; each chain walked once, without recursion."""
    finished: set[str] = set()
    circular: set[str] = set()
    for start in parents:
        path: dict[str, int] = {}
        number = start
        while number is not None and number not in finished and number not in path:
            path[number] = len(path)
            number = parents.get(number)
        if number in path:
            circular.update(list(path)[path[number] :])
        finished.update(path)
    return circular


def _parents_first(plan: list[ClauseRow], *, on_record: set[str]) -> list[ClauseRow]:
    """The rows in an order that writes each new clause before the clauses under it: a parent may be deeper than
    its child (5 under 6.1) or come later in the file. `check` has refused circles."""
    rows = sorted(plan, key=lambda r: (r.number.count("."), Clause.sort_key_for(r.number)))
    new = {row.number for row in rows} - on_record
    waiting: dict[str, list[ClauseRow]] = {}
    ordered = [row for row in rows if row.parent_number not in new]
    for row in rows:
        if row.parent_number in new:
            waiting.setdefault(row.parent_number, []).append(row)
    for row in ordered:  # grows as it is walked: each clause brings the ones waiting for it
        ordered.extend(waiting.pop(row.number, ()))
    return ordered


# --- Care service items -----------------------------------------------------------------------------------


@dataclass
class ServiceItemRow:
    code: str
    name: str
    category: str
    description: str
    steps: list[str]
    # None when the file has no clause column: the item keeps the clauses it has.
    clauses: list[Clause] | None


def category_lookup() -> dict[str, str]:
    from django.utils import translation

    lookup = {}
    for value, label in ServiceItem.Category.choices:
        lookup[value.lower()] = value
        for language in ("zh-hans", "en"):
            with translation.override(language):
                lookup[str(label).lower()] = value
    return lookup


class ServiceItemImporter(Importer):
    kind = ImportJob.Kind.SERVICE_ITEMS
    template_name = "服务项目导入模板"
    columns = [
        Column("code", gettext_lazy("Item code"), required=True, help=gettext_lazy("Unique, e.g. SC-01.")),
        Column("name", gettext_lazy("Item name"), required=True, help=gettext_lazy("At most 100 characters.")),
        Column(
            "category",
            gettext_lazy("Category"),
            required=True,
            help=gettext_lazy("One of: 生活照料, 基础护理, 医疗护理, 心理慰藉."),
        ),
        Column("description", gettext_lazy("Description")),
        Column(
            "steps",
            gettext_lazy("Steps"),
            help=gettext_lazy("One step per line within the cell, or steps separated by semicolons."),
        ),
        Column(
            "clauses",
            gettext_lazy("Related clause numbers"),
            text_only=True,
            help=gettext_lazy(
                "Clause numbers of the standard chosen on the upload form, separated by 、 or commas. They "
                "replace the item's related clauses; without this column the item keeps the ones it has."
            ),
        ),
    ]

    def examples(self) -> list[list[str]]:
        return [
            [
                "SC-01",
                "头面部清洁",
                "生活照料",
                "协助服务对象清洁面部",
                "准备温水和毛巾\n由内向外擦洗面部\n整理用物",
                "5.1",
            ],
            ["BN-01", "协助翻身", "基础护理", "卧床服务对象定时翻身", "评估皮肤；两人配合平移；垫软枕", "6.1、6.2"],
        ]

    def check(self, *, job, rows, progress):
        errors: list[RowError] = []
        categories = category_lookup()
        clauses = (
            {clause.number: clause for clause in Clause.objects.filter(standard=job.standard)} if job.standard else {}
        )
        in_file: dict[str, int] = {}
        plan: list[ServiceItemRow] = []
        for done, row in enumerate(rows, start=1):
            values = row.values
            row_errors = text_only_errors(row, self.columns)
            code, name = values["code"], values["name"]
            if not code:
                row_errors.append(_("The item code is empty."))
            elif code in in_file:
                row_errors.append(
                    _("Item %(code)s already appears in row %(row)s.") % {"code": code, "row": in_file[code]}
                )
            else:
                in_file[code] = row.number
            if (problem := check_length(code, 20, _("Item code"))) is not None:
                row_errors.append(problem)
            if not name:
                row_errors.append(_("The item name is empty."))
            if (problem := check_length(name, 100, _("Item name"))) is not None:
                row_errors.append(problem)
            category = categories.get(values["category"].strip().lower())
            if category is None:
                row_errors.append(
                    _("“%(category)s” is not a category; use 生活照料, 基础护理, 医疗护理 or 心理慰藉.")
                    % {"category": values["category"]}
                )
            numbers = split_list(values.get("clauses", ""))
            if numbers and job.standard is None:
                row_errors.append(_("Choose the standard on the upload form to link related clauses."))
            unknown = [number for number in numbers if job.standard is not None and number not in clauses]
            if unknown:
                row_errors.append(
                    _("Clauses %(numbers)s are not in the standard %(standard)s.")
                    % {"numbers": "、".join(unknown), "standard": job.standard.code}
                )
            errors.extend(RowError(row.number, message) for message in row_errors)
            if not row_errors:
                plan.append(
                    ServiceItemRow(
                        code=code,
                        name=name,
                        category=category,
                        description=values.get("description", ""),
                        steps=split_steps(values.get("steps", "")),
                        clauses=[clauses[number] for number in numbers] if "clauses" in values else None,
                    )
                )
            if done % 200 == 0:
                progress(done)
        progress(len(rows))
        return errors, plan

    def write(self, *, job, plan: list[ServiceItemRow]) -> dict:
        items = {item.code: item for item in ServiceItem.objects.filter(code__in=[row.code for row in plan])}
        created = updated = 0
        for row in plan:
            item = items.get(row.code)
            is_new = item is None
            if is_new:
                item = ServiceItem(code=row.code)
            item.name, item.category, item.description = row.name, row.category, row.description
            item.steps = "\n".join(row.steps)
            if row.clauses is not None:
                item.clauses = row.clauses
            if is_new:
                item.save()
                created += 1
            else:
                updated += 1
            item.save_revision(user=job.created_by).publish(user=job.created_by, skip_permission_checks=True)
        return {"created": created, "updated": updated}


importer_register(ClauseImporter())
importer_register(ServiceItemImporter())
