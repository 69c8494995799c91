"""The customer's private links as a change to the case: staff revoke them (the record log says so)."""

from ticketing.cases.portal_access import end_links, link_summary
from ticketing.cases.services.base import Change
from ticketing.clock import utcnow


def revoke_portal_links(ticket, actor, *, version=None):
    """Staff who work the case (or a supervisor) end every private link of it at once, and the sessions
    those links opened — say one reached the wrong person; the customer can ask for a fresh link at
    /track/lost. A side action: the case itself does not change, so `version` is accepted and ignored.
    Refused when no link works now. Returns how many links worked."""
    live = link_summary(ticket, utcnow()).live
    change = Change(ticket, actor, "revoke_links", {"live_links": live})
    end_links(ticket, change.now)
    change.log(links=live)
    change.done()
    return live
