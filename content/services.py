"""Writes to the care-standards library: spreadsheet imports, all or nothing."""

import datetime
import logging
import posixpath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from wagtail.log_actions import log

from .imports import RowError, importer_for
from .models import ImportJob, Standard, import_storage
from .spreadsheets import SpreadsheetError, spreadsheet_read

logger = logging.getLogger(__name__)

# Enough for the uploader to fix a whole column; a file with more problems is probably the wrong file.
MAX_REPORTED_ERRORS = 500


def import_job_create(
    *,
    kind: str,
    upload: UploadedFile,
    user,
    standard: Standard | None = None,
    target_id: int | None = None,
) -> ImportJob:
    """Store the upload and check it: at once when it is small, in a Celery task when it is large."""
    importer = importer_for(kind)
    name = (upload.name or "").rsplit("/", 1)[-1]
    if not name.lower().endswith((".xlsx", ".csv")):
        raise ValidationError(_("Upload an .xlsx or .csv file."))
    if upload.size == 0:
        raise ValidationError(_("The file is empty."))
    if upload.size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            _("The file is larger than %(size)s MB; split it into smaller files.")
            % {"size": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
        )
    if importer.needs_standard and standard is None:
        raise ValidationError(_("Choose the standard the clauses belong to."))

    job = ImportJob(
        kind=kind,
        original_name=name[:200],
        standard=standard,
        target_id=target_id,
        created_by=user,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    job.file.save(name, upload, save=False)
    try:
        job.save()
    except Exception:
        # The row that would have led the run (or the sweep) to the file is not there: remove the file now.
        job.file.delete(save=False)
        raise
    if upload.size <= settings.IMPORT_INLINE_MAX_BYTES:
        return import_job_run(job_id=job.pk)

    from .tasks import import_job_run_task

    transaction.on_commit(lambda: import_job_run_task.delay(job.pk))
    return job


def _progress_recorder(job_id: int):
    def record(rows_checked: int) -> None:
        ImportJob.objects.filter(pk=job_id).update(rows_checked=rows_checked)

    return record


def _finish(job: ImportJob, *, status: str, errors: list[RowError] = (), summary: dict | None = None) -> None:
    job.status = status
    job.errors = [error.as_dict() for error in errors[:MAX_REPORTED_ERRORS]]
    if len(errors) > MAX_REPORTED_ERRORS:
        job.errors.append(
            {"row": None, "message": _("… and %(count)s more problems.") % {"count": len(errors) - MAX_REPORTED_ERRORS}}
        )
    job.summary = summary or {}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "errors", "summary", "finished_at", "rows_checked", "rows_total"])


def import_job_run(*, job_id: int) -> ImportJob:
    """Check every row; write the whole file in one transaction only if no row has a problem.

    However it ends, the job ends finished (failed with its reason if anything went wrong, whatever the
    exception) and the upload is deleted. Safe to run again: a finished job is returned as it is, and a job
    interrupted half-way wrote nothing, because its rows and its final status commit together.
    """
    job = ImportJob.objects.select_related("standard", "created_by").get(pk=job_id)
    if job.is_finished:
        return job
    importer = importer_for(job.kind)
    with translation.override(job.language):
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
        try:
            _check_and_write(job, importer)
        except SpreadsheetError as error:
            _finish(job, status=ImportJob.Status.FAILED, errors=[RowError(None, str(error))])
        except Exception:
            # Nothing was written: the rows commit together with the status that says they did.
            logger.exception("Import %s failed", job.pk)
            _finish(
                job,
                status=ImportJob.Status.FAILED,
                errors=[RowError(None, _("The import failed unexpectedly; nothing was written. Try again."))],
            )
        finally:
            _discard_upload(job)
    return job


def _check_and_write(job: ImportJob, importer) -> None:
    with job.file.open("rb") as handle:
        data = handle.read()
    rows = spreadsheet_read(data=data, name=job.original_name, columns=importer.columns)
    job.rows_total = len(rows)
    ImportJob.objects.filter(pk=job.pk).update(rows_total=job.rows_total)
    errors, plan = importer.check(job=job, rows=rows, progress=_progress_recorder(job.pk))
    job.rows_checked = len(rows)
    if errors:
        _finish(job, status=ImportJob.Status.FAILED, errors=errors)
        return
    try:
        with transaction.atomic():
            summary = importer.write(job=job, plan=plan)
            _finish(job, status=ImportJob.Status.SUCCEEDED, summary=summary)
            log(job, "carestar.import.succeed", user=job.created_by, data={"summary": summary})
    except ValidationError as error:
        # A rule only the full model check sees (a row changed by someone else meanwhile): nothing was
        # written, and the uploader learns why.
        _finish(job, status=ImportJob.Status.FAILED, errors=[RowError(None, " ".join(error.messages))])


def _discard_upload(job: ImportJob) -> None:
    # The upload may hold identity numbers; once its rows are in the database (or rejected) it has no use.
    if job.file:
        try:
            job.file.delete(save=False)
        except OSError:
            logger.exception("The upload of import %s could not be deleted", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def _stored_uploads(storage, directory: str = ""):
    try:
        directories, files = storage.listdir(directory)
    except FileNotFoundError:
        return
    for name in files:
        yield posixpath.join(directory, name)
    for subdirectory in directories:
        yield from _stored_uploads(storage, posixpath.join(directory, subdirectory))


def import_uploads_sweep(*, now: datetime.datetime | None = None) -> int:
    """Delete every upload left behind: a run deletes its file however it ends, so what is still stored after
    IMPORT_UPLOAD_MAX_HOURS belongs to a run that never came (a worker died, a task was lost, a transaction rolled
    back after the file was written). Such a job ends failed, with the reason. Returns the files deleted."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.IMPORT_UPLOAD_MAX_HOURS)
    unfinished = [ImportJob.Status.PENDING, ImportJob.Status.RUNNING]
    for job in ImportJob.objects.filter(status__in=unfinished, created_at__lt=cutoff):
        with translation.override(job.language):
            message = _(
                "The file was not checked within %(hours)s hours (the checking stopped); nothing was written and "
                "the file has been deleted. Upload it again."
            ) % {"hours": settings.IMPORT_UPLOAD_MAX_HOURS}
        # Only if it is still unfinished: a run that ends meanwhile keeps its own result.
        ImportJob.objects.filter(pk=job.pk, status__in=unfinished).update(
            status=ImportJob.Status.FAILED, errors=[RowError(None, message).as_dict()], finished_at=now
        )
    # A finished job names no file; one whose deletion failed is left to the walk below, like any file no job names.
    ImportJob.objects.filter(status__in=[ImportJob.Status.SUCCEEDED, ImportJob.Status.FAILED]).exclude(file="").update(
        file=""
    )
    storage = import_storage()
    in_use = set(
        ImportJob.objects.filter(status__in=unfinished, created_at__gte=cutoff)
        .exclude(file="")
        .values_list("file", flat=True)
    )
    deleted = 0
    for name in list(_stored_uploads(storage)):
        if name in in_use:
            continue
        try:
            if storage.get_modified_time(name) >= cutoff:
                continue  # an upload being stored right now, its job not yet saved
            storage.delete(name)
        except OSError:
            logger.exception("The leftover upload %s could not be deleted", name)
            continue
        deleted += 1
    if deleted:
        logger.warning("Deleted %s spreadsheet uploads left behind by imports that never finished", deleted)
    return deleted
