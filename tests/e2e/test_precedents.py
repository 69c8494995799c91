"""Journey: an agent proposes compensation beside the precedents panel. An amount above what similar
closed cases received gets a warning next to its line as it is typed; the proposal still goes in."""

from datetime import timedelta

import pytest

from tests.e2e import seed
from tests.e2e.seed import NAMES, PASSWORD, WORDS
from tests.factories import LISTEN
from tests.precedents_data import closed_case
from ticketing.auth.services import find_user_by_email
from ticketing.cases import services
from ticketing.clock import utcnow

# A cause and category no other journey uses, so these five cases alone make the band: 200–400 CNY.
CAUSE, CATEGORY, REFUNDS = "expectation_too_high", "other", [100, 200, 300, 400, 500]
WARNING = {
    "en": "Above what similar cases received: their middle half is 200.00–400.00 CNY (median 300.00).",
    "zh_CN": "高于类似案件的补偿：其中间一半为 200.00–400.00 CNY（中位数 300.00）。",
}
JUSTIFICATION = {
    "en": "The kettle scalded the customer's hand: the refund covers the doctor's visit too.",
    "zh_CN": "水壶烫伤了顾客的手：退款也包括看医生的费用。",
}
HEADING = {"en": "Precedents: what similar cases received", "zh_CN": "补偿先例：类似案件得到了什么"}
seed.english_data(JUSTIFICATION["en"])


def case_at_resolve(app, agent_email: str, lang: str) -> str:
    """A case of the agent's, analysed, at step 4; and five closed cases like it, refunded 100…500."""
    words = WORDS[lang]
    with seed.app_context(app):
        agent = find_user_by_email(agent_email)
        customer = services.find_or_create_customer(NAMES[lang]["customer"], f"precedent-{lang}@example.com", None)
        ticket = services.take_complaint(
            agent,
            customer=customer,
            subject=words["subject"],
            description=words["words"],
            channel="phone",
            category=CATEGORY,
            listen=dict(LISTEN),
        )
        services.record_apology(ticket, agent, version=ticket.version, method="phone", wording=words["apology"])
        services.record_analysis(
            ticket,
            agent,
            version=ticket.version,
            root_cause=CAUSE,
            detail=words["detail"],
            legitimacy="partly_justified",
            responsibility="shared",
            motive="compensation",
        )
        for days, amount in enumerate(REFUNDS):
            closed_case(
                agent,
                cause=CAUSE,
                category=CATEGORY,
                subject=words["subject"],
                description=words["words"],
                lines=[("refund", amount)],
                loss=amount,
                closed_days_ago=days + 1,
            )
        return ticket.reference


def warning(page):
    return page.locator("#propose-lines-0-amount-precedent")


@pytest.mark.parametrize("lang", ["en", "zh_CN"])
def test_an_amount_above_the_band_is_flagged_as_typed_and_the_proposal_still_goes_in(journey, seed_app, lang):
    agent = seed.staff(seed_app, "agent", "precedents", lang)
    reference = case_at_resolve(seed_app, agent, lang)
    j = journey("precedents", lang)
    page = j.page

    with j.step("log in"):
        page.goto("/login")
        page.fill("#email", agent)
        page.fill("#password", PASSWORD)
        with page.expect_navigation(url="**/queue"):
            page.keyboard.press("Enter")

    with j.step("the proposal form beside the precedents"):
        page.goto(f"/tickets/{reference}")
        panel = page.locator("section.precedents")
        assert HEADING[lang] in panel.inner_text()
        assert panel.locator("tr[data-type=refund]").count() == 1
        assert panel.locator("table.precedent-cases tbody tr").count() == 5
        j.check("resolve")

    with j.step("type an amount above the band"):
        page.fill("#propose-method", WORDS[lang]["method"])
        page.fill("#propose-promised_date", (utcnow() + timedelta(days=5)).date().isoformat())
        page.select_option("#propose-lines-0-compensation", "refund")
        page.locator("#propose-lines-0-amount").press_sequentially("900")
        assert warning(page).is_visible() and warning(page).inner_text() == WARNING[lang]
        described = page.get_attribute("#propose-lines-0-amount", "aria-describedby")
        assert "propose-lines-0-amount-precedent" in described
        j.check("warned")
        page.fill("#propose-lines-0-amount", "250")  # within the middle half: no warning
        assert not warning(page).is_visible()
        page.fill("#propose-lines-0-amount", "900")
        assert warning(page).is_visible()

    with j.step("submit anyway"):
        # No loss was estimated, so 900 is out of proportion: the agent says why it is fair.
        page.fill("#propose-justification", JUSTIFICATION[lang])
        with page.expect_navigation(url=f"**/tickets/{reference}"):
            page.locator("form:has(#propose-method) button[type=submit]").click()
        assert seed.state_of(seed_app, reference) == ("open", "resolve", "awaiting_approval")
        j.check("proposed")
    j.finish()
