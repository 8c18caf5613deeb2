"""DealList: what stores may do with the release, where and from when.

Two ReleaseDeals, as in 1_Audio: one for the main release (R0), one shared by all TrackReleases
(R1..Rn) so tracks can be streamed and bought one by one. Pre-order deals go to R0 only.

When any deal is a pre-order, DDEX (ERN part 1, 6.19.8 "Pre-orders") wants the release's display
and preview start dates communicated, all four of them; they go into one ReleaseVisibility that
the main release references.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from distribution.ddex.common import Element, References, deal_territories, iso_date, sub
from distribution.ddex.model import Deal, Release


def pre_order_start(deals: tuple[Deal, ...]) -> datetime | None:
    """When the release becomes visible for pre-order (midnight UTC of the earliest pre-order)."""
    starts = [deal.start_date for deal in deals if deal.pre_order]
    return datetime.combine(min(starts), time(), tzinfo=UTC) if starts else None


def add_deal_list(
    parent: Element, release: Release, deals: tuple[Deal, ...], refs: References
) -> None:
    deal_list = sub(parent, "DealList")

    main = sub(deal_list, "ReleaseDeal")
    sub(main, "DealReleaseReference", refs.MAIN_RELEASE)
    for deal in deals:
        _add_deal(main, deal, release)

    track_deals = [deal for deal in deals if not deal.pre_order]
    if track_deals:
        per_track = sub(deal_list, "ReleaseDeal")
        for index in range(1, len(refs.tracks) + 1):
            sub(per_track, "DealReleaseReference", refs.track_release(index))
        for deal in track_deals:
            _add_deal(per_track, deal, release)

    visible_from = pre_order_start(deals)
    if visible_from is not None:
        visibility = sub(deal_list, "ReleaseVisibility")
        sub(visibility, "VisibilityReference", refs.VISIBILITY)
        stamp = visible_from.isoformat(timespec="seconds")
        for tag in (
            "ReleaseDisplayStartDateTime",
            "CoverArtPreviewStartDateTime",
            "FullTrackListingPreviewStartDateTime",
            "ClipPreviewStartDateTime",
        ):
            sub(visibility, tag, stamp)


def _add_deal(parent: Element, deal: Deal, release: Release) -> None:
    if not deal.use_types:
        raise ValueError(f"A {deal.commercial_model} deal needs at least one use type.")
    if deal.end_date is not None and deal.end_date < deal.start_date:
        raise ValueError(f"A deal ends ({deal.end_date}) before it starts ({deal.start_date}).")
    terms = sub(sub(parent, "Deal"), "DealTerms")
    tag, codes = deal_territories(deal.territories or release.territories)
    for code in codes:
        sub(terms, tag, code)
    period = sub(terms, "ValidityPeriod")
    # StartDate rather than StartDateTime: the catalog holds dates and every official sample uses
    # StartDate (the 4.3 schema documents it as deprecated, but it is still valid).
    sub(period, "StartDate", iso_date(deal.start_date))
    if deal.end_date is not None:
        sub(period, "EndDate", iso_date(deal.end_date))
    sub(terms, "CommercialModelType", deal.commercial_model.value)
    for use_type in deal.use_types:
        sub(terms, "UseType", use_type.value)
    if deal.pre_order:
        sub(terms, "IsPreOrderDeal", "true")
