"""Every spreadsheet the platform hands out is written through here.

- A cell a spreadsheet program would run as a formula (text starting with =, +, -, @, a tab or a carriage
  return) is written with a leading apostrophe, so a course title or a name typed as "=HYPERLINK(…)" stays text.
- CSV carries a UTF-8 byte-order mark, so Excel on Chinese Windows opens it as UTF-8 rather than as GBK.
- File names may be Chinese (RFC 6266 filename*), with an ASCII fallback for old clients.

Wagtail's own exports (site history, page reports, form submissions) go through the same rules: `ready()` of the
content app installs them on Wagtail's SpreadsheetExportMixin (`wagtail_exports_secure`).
"""

import functools

from django.utils.http import content_disposition_header

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


def cell_safe(value):
    """The value as a spreadsheet should hold it: text that starts like a formula is made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def row_safe(values) -> list:
    return [cell_safe(value) for value in values]


def attachment(filename: str) -> str:
    """A Content-Disposition for a download named `filename`, Chinese included."""
    return content_disposition_header(as_attachment=True, filename=filename)


def wagtail_exports_secure() -> None:
    """Make every view using Wagtail's SpreadsheetExportMixin write safe cells, a BOM, and Chinese file names."""
    from wagtail.admin.views.mixins import SpreadsheetExportMixin

    if getattr(SpreadsheetExportMixin, "carestar_secured", False):
        return
    preprocess = SpreadsheetExportMixin.preprocess_field_value
    stream_csv = SpreadsheetExportMixin.stream_csv
    write_csv_response = SpreadsheetExportMixin.write_csv_response
    write_xlsx_response = SpreadsheetExportMixin.write_xlsx_response

    @functools.wraps(preprocess)
    def safe_preprocess(self, field, value, export_format):
        return cell_safe(preprocess(self, field, value, export_format))

    @functools.wraps(stream_csv)
    def stream_csv_with_bom(self, queryset):
        yield BOM
        yield from stream_csv(self, queryset)

    @functools.wraps(write_csv_response)
    def csv_response(self, queryset):
        response = write_csv_response(self, queryset)
        response["Content-Type"] = CSV_CONTENT_TYPE
        response["Content-Disposition"] = attachment(f"{self.get_filename()}.csv")
        return response

    @functools.wraps(write_xlsx_response)
    def xlsx_response(self, queryset):
        response = write_xlsx_response(self, queryset)
        response["Content-Disposition"] = attachment(f"{self.get_filename()}.xlsx")
        return response

    SpreadsheetExportMixin.preprocess_field_value = safe_preprocess
    SpreadsheetExportMixin.stream_csv = stream_csv_with_bom
    SpreadsheetExportMixin.write_csv_response = csv_response
    SpreadsheetExportMixin.write_xlsx_response = xlsx_response
    SpreadsheetExportMixin.carestar_secured = True
