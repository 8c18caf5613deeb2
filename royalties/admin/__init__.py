"""Royalties in the admin panel. Writes go through the services; staff see their own
organizations' rows and act by their role there (accounts.admin_access).

- `reports`: sales reports with progress and errors (upload, delete), the unmatched queue
  with a match action;
- `statements`: statements with their lines, payments and CSV; periods with actions to
  generate their statements and close them, and each period's earnings on no statement;
- `money`: payments, exchange rates, payees, splits and expenses.
"""

from royalties.admin import money, reports, statements

__all__ = ["money", "reports", "statements"]
