"""A statement as CSV: what the API's `statements/{id}/csv/`, the admin's download and
`manage.py generate_statements --export` all give."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.http import StreamingHttpResponse

from royalties.models import Statement
from royalties.selectors import statement_payments

# What a statement line shows, in this order: here and on the admin's statement page.
LINE_FIELDS = ("release", "track", "store", "territory", "quantity", "sales_lines",
               "group_total", "percent", "amount", "recouped")  # fmt: skip


def statement_csv_filename(statement: Statement) -> str:
    return f"statement-{statement.period}-{statement.payee_id}.csv"


def statement_csv_response(statement: Statement) -> StreamingHttpResponse:
    """A download of the statement's CSV, streamed a line at a time."""
    response = StreamingHttpResponse(statement_csv_rows(statement), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{statement_csv_filename(statement)}"'
    return response


def statement_csv_rows(statement: Statement) -> Iterator[str]:
    """The statement as CSV text, a line at a time: a heading (payee, period, currency,
    status), the column names, one row per statement line (with its id, for the trace
    endpoint), one row per payment (`payment`, date, reference, amount), then the
    balances."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        value = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return value

    writer.writerow(
        [
            "payee",
            statement.payee.name,
            "period",
            str(statement.period),
            "currency",
            statement.currency,
            "status",
            statement.status,
        ]
    )
    writer.writerow(["line_id", *LINE_FIELDS])
    yield flush()
    for line in statement.lines.select_related("release", "track").iterator():
        # The release and track by title; the other fields as they are.
        titles = {"release": line.release.title, "track": line.track.title if line.track else ""}
        writer.writerow(
            [line.pk, *(titles[name] if name in titles else getattr(line, name)
                        for name in LINE_FIELDS)]
        )  # fmt: skip
        yield flush()
    for payment in statement_payments(statement):
        writer.writerow(["payment", payment.paid_on, payment.reference, payment.amount])
    for label, value in (
        ("opening_balance", statement.opening_balance),
        ("earnings", statement.earnings),
        ("recoupment", statement.recoupment),
        ("payments", statement.payments),
        ("closing_balance", statement.closing_balance),
    ):
        writer.writerow([label, value])
    yield flush()
