"""Royalties services (writes): reports, money, statements."""
