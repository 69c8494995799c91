"""Hostile input to any HTML form or URL is refused with a 4xx, never a 500 (SQLite and PostgreSQL).

Every rule of the URL map is in one of the GROUPS of targets (or in ELSEWHERE with the reason), so a new route family
cannot be forgotten. Each target's baseline must succeed, so the hostile values, sent one at a time
in place of one input, reach as far as real input does.
"""

import io
import re
import uuid
from datetime import timedelta

import pytest
import wtforms
from sqlalchemy import func, select

from tests.conftest import PASSWORD, login
from tests.factories import open_case, to_step
from tests.security.hostile import CURSORS, TEXT, TEXTS, Fuzzer, Target, World, case_of, soon
from tests.settings_data import HOLIDAYS_ICS, section_inputs
from ticketing.admin.calendar_forms import CalendarForm, CalendarImportForm
from ticketing.admin.catalogue_forms import ActiveForm, AliasForm, EditEntryForm, MergeForm, NewEntryForm, ProductForm
from ticketing.admin.replies import ReplyTemplateForm
from ticketing.admin.security_log import SecurityLogFilterForm
from ticketing.admin.settings_forms import DeadlinesForm, GuaranteeForm, MoneyForm, RecomputeForm, TimingForm
from ticketing.auth.forms import AccountForm, LanguageForm, LoginForm, PasswordForm, TokenForm, UserEditForm, UserForm
from ticketing.cases import catalogue, services, winback
from ticketing.cases.audit import Event
from ticketing.cases.catalogue import ValueTier
from ticketing.cases.improvement import QualityScore, add_preventive_action
from ticketing.cases.models import Customer, ReplyTemplate, Ticket
from ticketing.cases.saved_views import SavedView
from ticketing.clock import utcnow
from ticketing.desk.actions import SPECS
from ticketing.desk.customer_forms import CustomerForm, CustomerMergeForm
from ticketing.desk.forms import BulkReassignForm, HandOverForm, IntakeForm, QueueFilterForm, SaveViewForm
from ticketing.desk.queries import SORTS
from ticketing.desk.search import SearchForm
from ticketing.extensions import db
from ticketing.forms_common import StorablePolicy
from ticketing.insight.filters import InsightFilterForm
from ticketing.insight.risk_forms import AtRiskFilterForm, PeriodForm, WinBackCancelForm, WinBackDoneForm, WinBackForm
from ticketing.notify.forms import PreferencesForm
from ticketing.portal.forms import AnswerForm, ComplaintForm, LostLinkForm, MessageForm, ReopenForm, SurveyForm
from ticketing.review.forms import DecisionForm, DoneForm, PreventiveActionForm, SampleForm, ScoreForm
from ticketing.review.log import LogFilterForm

# Each desk action: the situation it needs, who does it, and what its form accepts.
ACTIONS = {
    "listen": (
        "listen",
        "agent",
        dict(
            customer_words=TEXT,
            restatement=TEXT,
            restatement_confirmed="y",
            expectation=TEXT,
            emotion="upset",
            dissatisfaction="explicit",
            occurred_at="2026-11-20T10:00",
            place="Shop 3",
        ),
    ),
    "apologise": ("open", "agent", dict(method="phone", wording=TEXT)),
    "analyse": (
        "analyse",
        "agent",
        dict(
            root_cause="product",
            detail=TEXT,
            product="Kettle",
            legitimacy="justified",
            responsibility="company",
            motive="fix",
        ),
    ),
    "propose": (
        "resolve",
        "agent",
        {
            "method": TEXT,
            "promised_date": soon,
            "estimated_loss": "50",
            "currency": "CNY",
            "lines-0-compensation": "refund",
            "lines-0-amount": "50",
        },
    ),
    "approve_compensation": ("awaiting_approval", "supervisor", dict(comments=TEXT)),
    "refuse_compensation": ("awaiting_approval", "supervisor", dict(reason=TEXT)),
    "customer_answer": ("awaiting_customer", "agent", dict(answer="accept", reason=TEXT)),
    "carry_out": ("accepted", "agent", dict(note=TEXT)),
    "follow_up": (
        "follow_up",
        "agent",
        dict(method="phone", outcome="satisfied", satisfaction="5", retention="retained", notes=TEXT),
    ),
    "record_survey": (
        "review",
        "agent",
        dict(
            satisfaction="3",
            recommend="7",
            buy_again="maybe",
            fair_outcome="3",
            fair_process="4",
            fair_treatment="5",
            comment=TEXT,
        ),
    ),
    "record_review": ("review", "agent", dict(summary=TEXT, lesson=TEXT, preventive_action=TEXT)),
    "approve_review": ("reviewed", "supervisor", dict(comments=TEXT)),
    "return_review": ("reviewed", "supervisor", dict(return_to="analyse", reason=TEXT)),
    "assign": ("open", "supervisor", {"assignee": lambda w: w.agent.id}),
    "note": ("open", "agent", dict(body=TEXT)),
    "message": ("open", "agent", dict(body=TEXT)),
    "cancel": ("open", "agent", dict(reason=TEXT)),
    "merge": ("open", "agent", {"target": lambda w: w.case("other").reference, "reason": TEXT}),
    "reopen": ("closed", "supervisor", dict(reason=TEXT)),
    "triage": ("open", "agent", dict(category="billing", priority="urgent", product="Kettle K2", subject=TEXT)),
    "escalate": ("open", "agent", {"priority": "high", "assignee": lambda w: w.supervisor.id, "reason": TEXT}),
}


def _filled(data: dict, with_version=True):
    """Baseline data: callables are evaluated for the world; the case's version added."""

    def baseline(world, case):
        values = {key: value(world) if callable(value) else value for key, value in data.items()}
        return {**values, "version": case.version} if with_version and case is not None else values

    return baseline


def _reference(world, case):
    return {"reference": case.reference}


def _action_target(action: str) -> Target:
    situation, user, data = ACTIONS[action]
    return Target(
        "/tickets/<reference>/actions/<action>",
        "POST",
        user,
        situation,
        values=lambda w, c: {"reference": c.reference, "action": action},
        form=SPECS[action].form,
        prefix=action,
        baseline=_filled(data),
        # A survey is answered once: a hostile `next` on valid answers would use it up before the
        # baseline; `next` is fuzzed with every other action.
        params={} if action == "record_survey" else {"next": TEXTS},
    )


def _preventive_action(world):
    return add_preventive_action(
        world.case("reviewed"),
        world.supervisor,
        description=TEXT,
        owner=world.agent,
        due_date=utcnow().date() + timedelta(days=5),
    )


def _score(world):
    score = QualityScore(
        sample="s1",
        ticket_id=world.case("closed").id,
        agent_id=world.agent.id,
        reviewer_id=world.supervisor.id,
        drawn_at=utcnow(),
    )
    db.session.add(score)
    return score


def _win_back_action(world):
    customer = case_of(world, "Qian Li", "qian@example.com", "+86 139 0000 0003").customer
    return winback.start_win_back(
        customer, world.supervisor, owner=world.agent, due_date=utcnow().date() + timedelta(days=5), plan=TEXT
    )


def _reply_template(world):
    template = ReplyTemplate(kind="apology", locale="en", title="Sorry", body=TEXT, active=True)
    db.session.add(template)
    return template


def _customer_of(world, case):
    return {"customer_id": case.customer_id}


def _duplicate(world):
    return services.find_or_create_customer("Han M.", "han.m@example.com", "+86 139 0000 0009")


def _details(world, case):
    """A change to Han Meimei's record that is always new, so the edit is never refused as empty."""
    customer = db.session.get(Customer, case.customer_id)
    return dict(
        version=customer.version,
        name=f"Han {uuid.uuid4().hex[:6]}",
        email="han@example.com",
        phone="+86 139 0000 0001",
        locale="en",
        value_tier="silver",
    )


def _merge_of(world, case):
    return {"customer_id": case.customer_id, "other_id": world.row("duplicate", _duplicate).id}


def _versions(world, case):
    db.session.expire_all()
    survivor, duplicate = db.session.get(Customer, case.customer_id), world.row("duplicate", _duplicate)
    return {"survivor_version": survivor.version, "duplicate_version": duplicate.version, "reason": TEXT}


def _with_a_working_link(world, case):
    """The case's reference, the case given a fresh private link first: each revoke has one to end."""
    from ticketing.cases.portal_access import issue_token

    issue_token(case)
    db.session.commit()
    return {"reference": case.reference}


def _id_of(name, make, key):
    return lambda world, case: {key: world.row(name, make).id}


def _settings_section(form, user="supervisor") -> Target:
    """One section of the settings page, saved with the values in force (money: admins only)."""
    return Target(
        "/admin/settings/sections/<section>",
        "POST",
        user,
        values=lambda w, c: {"section": form.section},
        form=form,
        prefix=form.section,
        baseline=lambda w, c: section_inputs(w.app, form.section),
    )


QUEUE_PARAMS = {"after": CURSORS}


def _saved_view(world):
    view = SavedView(user_id=world.agent.id, name=f"Mine {uuid.uuid4().hex[:8]}", filters={"view": "mine"})
    db.session.add(view)
    db.session.commit()
    return view.id


DESK = [
    Target("/", user="agent"),
    Target(
        "/queue", form=QueueFilterForm, baseline=lambda w, c: {"view": "team", "sort": "priority"}, params=QUEUE_PARAMS
    ),
    Target("/queue", form=None, baseline=lambda w, c: {"view": "team", "sort": "due"}, params=QUEUE_PARAMS),
    Target(
        "/queue/reassign",
        "POST",
        "supervisor",
        situation="open",
        form=BulkReassignForm,
        baseline=lambda w, c: {"cases": f"{c.id}:{c.version}", "assignee": str(w.agent.id), "next": "/queue?view=team"},
    ),
    Target(
        "/queue/hand-over",
        "POST",
        "supervisor",
        form=HandOverForm,
        baseline=lambda w, c: {"holder": str(w.other.id), "assignee": "none", "next": "/queue?view=team"},
    ),
    Target(
        "/queue/views",
        "POST",
        form=SaveViewForm,
        baseline=lambda w, c: {"name": "Urgent ones", "query": "view=team&priority=urgent&sort=due"},
    ),
    Target(
        "/queue/views/<int:view_id>/delete",
        "POST",
        form=SaveViewForm,
        values=lambda w, c: {"view_id": _saved_view(w)},  # a view of its own for each request: each one deletes it
        baseline=lambda w, c: {},
    ),
    Target("/search", form=SearchForm, baseline=lambda w, c: {"q": "kettle"}, params=QUEUE_PARAMS),
    Target("/search", params={"q": TEXTS, "after": CURSORS}, baseline=lambda w, c: {"q": "C-2026-000001"}),
    Target("/intake"),
    Target(
        "/intake",
        "POST",
        form=IntakeForm,
        baseline=lambda w, c: dict(
            customer_name="Li Lei",
            customer_phone="+86 138 0013 8000",
            subject="Leaking kettle",
            channel="phone",
            priority="normal",
            customer_words=TEXT,
        ),
    ),
    Target("/customers/lookup", params={"q": TEXTS}, baseline=lambda w, c: {"q": "li.lei@example.com"}),
    Target("/customers/<int:customer_id>", situation="other", values=_customer_of),
    Target(
        "/customers/<int:customer_id>",
        "POST",
        situation="other",
        values=_customer_of,
        form=CustomerForm,
        baseline=_details,
    ),
    Target(
        "/customers/<int:customer_id>/merge",
        situation="other",
        values=_customer_of,
        params={"q": TEXTS},
        baseline=lambda w, c: {"q": "han.m@example.com"},
    ),
    Target("/customers/<int:customer_id>/merge/<int:other_id>", situation="other", values=_merge_of),
    # last: its baseline merges the duplicate into Han Meimei's record
    Target(
        "/customers/<int:customer_id>/merge/<int:other_id>",
        "POST",
        situation="other",
        values=_merge_of,
        form=CustomerMergeForm,
        baseline=_versions,
    ),
    Target("/tickets/<reference>", situation="open", values=_reference),
    Target(
        "/tickets/<reference>/attachments/<int:attachment_id>",
        situation="open",
        values=lambda w, c: {"reference": c.reference, "attachment_id": 1},
        control=False,
    ),
    *[_action_target(action) for action in SPECS],
    Target("/tickets/<reference>/private-links/revoke", "POST", situation="open", values=_with_a_working_link),
]

LOG_PARAMS = {"after": CURSORS}
REVIEW = [
    Target("/review/", user="supervisor"),
    Target("/review/approvals", user="supervisor"),
    Target("/review/cases/<reference>", user="supervisor", situation="reviewed", values=_reference),
    Target(
        "/review/cases/<reference>",
        "POST",
        "supervisor",
        "reviewed",
        values=_reference,
        form=DecisionForm,
        baseline=_filled(dict(decision="approve", comments=TEXT)),
    ),
    Target(
        "/review/cases/<reference>/preventive-actions",
        "POST",
        "supervisor",
        "reviewed",
        values=_reference,
        form=PreventiveActionForm,
        baseline=_filled({"description": TEXT, "owner": lambda w: w.agent.id, "due_date": soon}, False),
    ),
    Target("/review/lessons", params={"q": TEXTS, "cause": TEXTS, "status": TEXTS}),
    Target(
        "/review/preventive-actions/<int:action_id>/<verb>",
        "POST",
        "agent",
        form=DoneForm,
        values=lambda w, c: {"action_id": w.row("preventive", _preventive_action).id, "verb": "done"},
        baseline=lambda w, c: {"note": TEXT},
    ),
    Target("/review/quality", user="supervisor"),
    Target(
        "/review/quality",
        "POST",
        "supervisor",
        form=SampleForm,
        baseline=lambda w, c: {"since": "2026-01-01", "until": "2026-12-31", "size": "5"},
    ),
    Target(
        "/review/quality/<int:score_id>",
        "POST",
        "supervisor",
        form=ScoreForm,
        values=_id_of("score", _score, "score_id"),
        baseline=lambda w, c: {"comment": TEXT},
    ),
    Target("/record-log/", user="supervisor", form=LogFilterForm, params=LOG_PARAMS),
    Target("/record-log/export.csv", user="supervisor", form=LogFilterForm),
    Target("/record-log/cases/<reference>/report", situation="open", values=_reference),
    Target("/record-log/cases/<reference>/chain", user="supervisor", situation="open", values=_reference),
]

PORTAL = [
    Target("/complain", user=None),
    Target(
        "/complain",
        "POST",
        None,
        form=ComplaintForm,
        baseline=lambda w, c: dict(
            name="Wang Xiaoming", email="xm.wang@example.cn", what_happened="The rice cooker stopped heating."
        ),
    ),
    Target("/complain/received", user=None),
    Target("/track/lost", user=None),
    Target(
        "/track/lost",
        "POST",
        None,
        form=LostLinkForm,
        baseline=lambda w, c: {"reference": w.case("open").reference, "email": "li.lei@example.com"},
    ),
    Target("/track/<token>", user=None, values=lambda w, c: {"token": "x" * 32}, control=False),
    Target("/track", user="customer", situation="open"),
    Target("/track", "POST", "customer", "open", form=MessageForm, baseline=lambda w, c: {"body": TEXT}),
    Target(
        "/track/attachments/<int:attachment_id>",
        user="customer",
        situation="open",
        values=lambda w, c: {"attachment_id": 1},
        control=False,
    ),
    Target(
        "/track/answer",
        "POST",
        "customer",
        "awaiting_customer",
        form=AnswerForm,
        baseline=_filled(dict(answer="reject", reason=TEXT)),
    ),
    Target(
        "/track/survey",
        "POST",
        "customer",
        "review",
        form=SurveyForm,
        baseline=lambda w, c: dict(
            satisfaction="5",
            recommend="9",
            buy_again="yes",
            fair_outcome="5",
            fair_process="5",
            fair_treatment="5",
            comment=TEXT,
        ),
    ),
    Target("/track/reopen", "POST", "customer", "closed", form=ReopenForm, baseline=_filled(dict(reason=TEXT))),
]

INSIGHT = [
    Target("/insight/", user="supervisor", form=InsightFilterForm),
    Target(
        "/insight/export/<figure>.csv",
        user="supervisor",
        form=InsightFilterForm,
        values=lambda w, c: {"figure": "volume"},
    ),
    Target("/insight/at-risk", user="supervisor", form=AtRiskFilterForm),
    Target("/insight/at-risk/export.csv", user="supervisor", form=AtRiskFilterForm),
    Target(
        "/insight/at-risk/<int:customer_id>/win-back",
        "POST",
        "supervisor",
        "win_back",
        values=lambda w, c: {"customer_id": c.customer_id},
        form=WinBackForm,
        prefix=lambda w, c: f"c{c.customer_id}",
        baseline=lambda w, c: {"owner": w.agent.id, "due_date": soon(), "plan": TEXT},
    ),
    Target("/insight/team", user="supervisor", form=PeriodForm),
    Target("/insight/team/export.csv", user="supervisor", form=PeriodForm),
    Target("/insight/warnings", user="supervisor"),
    Target("/insight/warnings/<kind>.csv", user="supervisor", values=lambda w, c: {"kind": "category"}),
    Target("/insight/win-back", params={"status": TEXTS}),
    Target(
        "/insight/win-back/<int:action_id>/<verb>",
        "POST",
        "supervisor",
        form=WinBackCancelForm,
        values=lambda w, c: {"action_id": w.row("win_back", _win_back_action).id, "verb": "cancel"},
        baseline=lambda w, c: {"reason": TEXT},
        control=False,
    ),
    Target(
        "/insight/win-back/<int:action_id>/<verb>",
        "POST",
        "agent",
        form=WinBackDoneForm,
        values=lambda w, c: {"action_id": w.row("win_back", _win_back_action).id, "verb": "done"},
        baseline=lambda w, c: {"outcome": "retained", "note": TEXT},
    ),
]

ACCOUNT = [
    Target("/login", user=None),
    Target(
        "/login", "POST", None, form=LoginForm, baseline=lambda w, c: {"email": w.agent.email, "password": PASSWORD}
    ),
    Target(
        "/language", "POST", "agent", form=LanguageForm, baseline=lambda w, c: {"locale": "en"}, params={"next": TEXTS}
    ),
    Target("/account", user="holder"),
    Target(
        "/account",
        "POST",
        "holder",
        form=AccountForm,
        prefix="account",
        baseline=lambda w, c: {"locale": "en", "timezone": "UTC"},
    ),
    Target("/account/tokens", "POST", "holder", form=TokenForm, prefix="token", baseline=lambda w, c: {"name": "ci"}),
    Target(
        "/account/tokens/<int:token_id>/revoke", "POST", "holder", values=lambda w, c: {"token_id": 1}, control=False
    ),
    Target(
        "/account",
        "POST",
        "holder",
        form=PasswordForm,
        prefix="password",
        baseline=lambda w, c: {
            "current_password": PASSWORD,
            "new_password": "another long password",
            "confirm": "another long password",
        },
    ),
    Target("/admin/users/", user="admin"),
    Target(
        "/admin/users/",
        "POST",
        "admin",
        form=UserForm,
        baseline=lambda w, c: dict(
            name="New Agent",
            email=f"new.{uuid.uuid4().hex[:8]}@example.com",
            role="agent",
            password=PASSWORD,
            locale="en",
        ),
    ),
    Target(
        "/admin/users/<int:user_id>",
        "POST",
        "admin",
        form=UserEditForm,
        values=lambda w, c: {"user_id": w.other.id},
        baseline=lambda w, c: {"role": "agent", "active": "y"},
    ),
    Target("/replies/", user="supervisor"),
    Target(
        "/replies/new",
        "POST",
        "supervisor",
        form=ReplyTemplateForm,
        baseline=lambda w, c: dict(kind="apology", locale="en", title="Sorry", body=TEXT, active="y"),
    ),
    Target(
        "/replies/<int:template_id>",
        "POST",
        "supervisor",
        form=ReplyTemplateForm,
        values=_id_of("template", _reply_template, "template_id"),
        baseline=lambda w, c: dict(kind="apology", locale="en", title="Sorry", body=TEXT, active="y"),
    ),
    Target("/admin/scheduler/", user="supervisor"),
    Target(
        "/admin/scheduler/reminders/<int:reminder_id>/retry",
        "POST",
        "supervisor",
        values=lambda w, c: {"reminder_id": 1},
        control=False,
    ),
    Target(
        "/admin/scheduler/deliveries/<int:delivery_id>/retry",
        "POST",
        "supervisor",
        values=lambda w, c: {"delivery_id": 1},
        control=False,
    ),
    Target("/admin/mail/", user="supervisor", params={"outcome": TEXTS}),
    Target("/admin/mail/<int:mail_id>", user="supervisor", values=lambda w, c: {"mail_id": 1}, control=False),
    Target(
        "/admin/mail/<int:mail_id>/original.eml", user="supervisor", values=lambda w, c: {"mail_id": 1}, control=False
    ),
    Target("/admin/settings/", user="supervisor"),
    Target("/admin/settings/history", user="supervisor", params={"page": (*TEXTS, "99999999999999999999", "-1", "0")}),
    _settings_section(DeadlinesForm),
    _settings_section(CalendarForm),
    _settings_section(MoneyForm, user="admin"),
    _settings_section(GuaranteeForm),
    _settings_section(TimingForm),
    Target(
        "/admin/settings/calendar/import",
        "POST",
        "supervisor",
        form=CalendarImportForm,
        prefix="import",
        baseline=lambda w, c: {"file": (io.BytesIO(HOLIDAYS_ICS), "holidays.ics"), "kind": "holidays"},
    ),
    Target("/admin/settings/recompute", "POST", "supervisor", form=RecomputeForm, prefix="recompute"),
    Target(
        "/admin/security-log/",
        user="admin",
        form=SecurityLogFilterForm,
        baseline=lambda w, c: {"kind": "login", "date_from": "2026-11-01", "date_to": "2026-11-30"},
        params={"before": (*TEXTS, "99999999999999999999", "-1", "0")},
    ),
    Target("/admin/security-log/export.csv", user="admin", form=SecurityLogFilterForm),
    Target("/notifications/"),
    Target("/notifications/unread"),
    Target("/notifications/<int:notification_id>", "POST", values=lambda w, c: {"notification_id": 1}, control=False),
    Target("/notifications/read", "POST"),
    Target("/notifications/preferences"),
    Target(
        "/notifications/preferences",
        "POST",
        form=PreferencesForm,
        baseline=lambda w, c: {"assigned": "email", "daily_digest": "off"},
    ),
    Target(
        "/notifications/preferences",
        "POST",
        "supervisor",
        form=PreferencesForm,
        baseline=lambda w, c: {"review_waiting": "in_app", "scope": "all"},
    ),
    # The API's own inputs are fuzzed by .ci/fuzz-api; its URL ids go through the same converter.
    Target("/api/v1/customers/<int:customer_id>", user=None, values=lambda w, c: {"customer_id": 1}, control=False),
]


def _fresh(name: str) -> str:
    """A name no entry has yet, so a baseline that adds or renames is never refused as taken."""
    return f"{name} {uuid.uuid4().hex[:8]}"


def _product(key: str):
    return lambda world: catalogue.product_for(key, create=True, actor=world.supervisor)


def _tier(world):
    return db.session.scalar(select(ValueTier).where(ValueTier.code == "silver"))


def _into(world, case):
    return {"into": world.row("merge_target", _product("Hostile merge target")).code}


CATALOGUES = [
    Target("/admin/catalogues/", user="supervisor"),
    *(
        Target(
            "/admin/catalogues/<any(categories, tiers):kind>/new",
            "POST",
            "supervisor",
            values=lambda w, c, kind=kind: {"kind": kind},
            form=NewEntryForm,
            prefix=prefix,
            baseline=lambda w, c: {
                "code": f"c{uuid.uuid4().hex[:8]}",
                "name_en": TEXT,
                "name_zh": "",
                "high_value": "y",
            },
        )
        for kind, prefix in (("categories", "category"), ("tiers", "tier"))
    ),
    Target(
        "/admin/catalogues/<any(categories, tiers):kind>/<int:item_id>",
        user="supervisor",
        values=lambda w, c: {"kind": "tiers", "item_id": _tier(w).id},
    ),
    Target(
        "/admin/catalogues/<any(categories, tiers):kind>/<int:item_id>",
        "POST",
        "supervisor",
        values=lambda w, c: {"kind": "tiers", "item_id": _tier(w).id},
        form=EditEntryForm,
        baseline=lambda w, c: {"name_en": _fresh("Silver"), "name_zh": "", "position": "20", "high_value": "y"},
    ),
    Target(
        "/admin/catalogues/<any(categories, tiers, products):kind>/<int:item_id>/active",
        "POST",
        "supervisor",
        values=lambda w, c: {"kind": "products", "item_id": w.row("retired", _product("Hostile retired")).id},
        form=ActiveForm,
        baseline=lambda w, c: {"active": "1" if not w.row("retired", _product("Hostile retired")).active else "0"},
    ),
    Target(
        "/admin/catalogues/products/new",
        "POST",
        "supervisor",
        form=ProductForm,
        prefix="product",
        baseline=lambda w, c: {"name_en": _fresh("Kettle"), "name_zh": ""},
    ),
    Target(
        "/admin/catalogues/products/<int:product_id>",
        user="supervisor",
        values=_id_of("product", _product("Hostile kettle"), "product_id"),
    ),
    Target(
        "/admin/catalogues/products/<int:product_id>",
        "POST",
        "supervisor",
        values=_id_of("product", _product("Hostile kettle"), "product_id"),
        form=ProductForm,
        baseline=lambda w, c: {"name_en": _fresh("Kettle"), "name_zh": _fresh("水壶")},
    ),
    Target(
        "/admin/catalogues/products/<int:product_id>/aliases",
        "POST",
        "supervisor",
        values=_id_of("product", _product("Hostile kettle"), "product_id"),
        form=AliasForm,
        baseline=lambda w, c: {"alias": _fresh("K")},
    ),
    Target(
        "/admin/catalogues/products/<int:product_id>/merge",
        user="supervisor",
        values=_id_of("merge_source", _product("Hostile merge source"), "product_id"),
        baseline=_into,
        params={"into": TEXTS},
    ),
    # the baseline merges once, at the end
    Target(
        "/admin/catalogues/products/<int:product_id>/merge",
        "POST",
        "supervisor",
        values=_id_of("merge_source", _product("Hostile merge source"), "product_id"),
        form=MergeForm,
        baseline=_into,
    ),
]

ELSEWHERE = {
    "/static/<path:filename>": "files from disk, no database",
    "/logout": "takes no input (and would sign the fuzzing client out)",
    "/healthz": "takes no input: tests/ops/test_health.py",
    "/readyz": "takes no input: tests/ops/test_health.py",
    "/metrics": "takes only a bearer token: tests/ops/test_metrics.py sends wrong and hostile ones",
    "/api/v1/docs": "the API: .ci/fuzz-api and tests/api",
    "/api/v1/openapi.json": "the API: .ci/fuzz-api and tests/api",
    "/api/v1/tickets": "the API: .ci/fuzz-api and tests/api",
    "/api/v1/customers": "the API: .ci/fuzz-api and tests/api",
    "/api/v1/catalogues": "the API: .ci/fuzz-api and tests/api",
    "/api/v1/settings": "the API: .ci/fuzz-api and tests/api",
    "/api/v1/tickets/<reference>": "the API: .ci/fuzz-api and tests/api",
    "/api/v1/tickets/<reference>/actions/<action>": "the API: .ci/fuzz-api and tests/api",
    "/api/v1/tickets/<reference>/events": "the API: .ci/fuzz-api and tests/api",
    "/api/v1/tickets/<reference>/messages": "the API: .ci/fuzz-api and tests/api",
}
GROUPS = {
    "desk": DESK,
    "review": REVIEW,
    "portal": PORTAL,
    "insight": INSIGHT,
    "account": ACCOUNT,
    "catalogues": CATALOGUES,
}


def test_every_url_rule_is_fuzzed_or_said_to_be_covered_elsewhere(app):
    rules = {rule.rule for rule in app.url_map.iter_rules()}
    fuzzed = {target.rule for targets in GROUPS.values() for target in targets}
    assert rules - fuzzed - set(ELSEWHERE) == set(), "add the new routes to a group of TARGETS"
    assert (fuzzed | set(ELSEWHERE)) - rules == set(), "a rule in the table no longer exists"


def test_every_desk_action_is_fuzzed():
    assert set(ACTIONS) == set(SPECS)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_hostile_input_never_gets_a_server_error(app, make_user, group):
    fuzzer = Fuzzer(app, World(app, make_user))
    for target in GROUPS[group]:
        fuzzer.run(target)
    failures = "\n".join(f"{o.label}: {o.status} {o.error}" for o in fuzzer.failures)
    refused = [f"{o.label}: {o.status} {o.error}" for o in fuzzer.controls if o.status is None or o.status >= 400]
    print(f"\n{group}: {len(fuzzer.outcomes)} hostile requests, {len(fuzzer.failures)} answered 5xx")
    assert not failures, f"{len(fuzzer.failures)} of {len(fuzzer.outcomes)} hostile requests failed:\n{failures}"
    assert not refused, "baselines refused, so their hostile requests prove little:\n" + "\n".join(refused)


def _act(client, ticket, action, **fields):
    data = {f"{action}-{name}": value for name, value in {"version": ticket.version, **fields}.items()}
    return client.post(f"/tickets/{ticket.reference}/actions/{action}", data=data)


def _events(ticket) -> int:
    return db.session.scalar(select(func.count(Event.id)).where(Event.ticket_id == ticket.id))


UNSTORABLE = "This field contains characters that cannot be saved."
RELOAD = "Reload the case before saving."
AMOUNT = "Give an ordinary amount smaller than 10,000,000,000."
PROPOSAL = {
    "method": TEXT,
    "estimated_loss": "50",
    "currency": "CNY",
    "lines-0-compensation": "refund",
    "lines-0-amount": "50",
}


@pytest.mark.parametrize(
    "step, action, fields, message",
    [
        ("apologise", "note", {"body": "a\x00b"}, UNSTORABLE),
        ("apologise", "apologise", {"method": "phone", "wording": "Sorry \x1b[31m"}, UNSTORABLE),
        ("apologise", "apologise", {"method": "phone", "wording": "Sorry", "version": "abc"}, RELOAD),
        ("apologise", "apologise", {"method": "phone", "wording": "Sorry", "version": "99999999999999999999"}, RELOAD),
        ("apologise", "merge", {"target": "C-2026\n000001", "reason": TEXT}, "This field must fit on one line."),
        ("resolve", "propose", {**PROPOSAL, "estimated_loss": "sNaN"}, AMOUNT),
        ("resolve", "propose", {**PROPOSAL, "lines-0-amount": "Infinity"}, AMOUNT),
        ("resolve", "propose", {**PROPOSAL, "promised_date": "9999-12-31"}, "Give a date between 1900 and 2100."),
    ],
)
def test_a_refused_action_says_why_next_to_the_field_and_changes_nothing(client, agent, step, action, fields, message):
    ticket = to_step(open_case(agent), agent, step)
    version, events = ticket.version, _events(ticket)
    login(client, agent.email)
    response = _act(client, ticket, action, **{"promised_date": soon(), **fields} if action == "propose" else fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert (db.session.get(Ticket, ticket.id).version, _events(ticket)) == (version, events)


def test_the_refusal_is_in_the_users_language(client, make_user):
    agent = make_user("agent", locale="zh_CN")
    ticket = open_case(agent)
    login(client, agent.email)
    response = _act(client, ticket, "note", body="a\x00b")
    assert response.status_code == 422 and "此字段包含无法保存的字符。" in response.get_data(as_text=True)


def test_a_customer_gets_the_message_next_to_the_field_and_no_case(client):
    response = client.post(
        "/complain",
        data={"name": "Li\x00Lei", "email": "li@example.com", "what_happened": "The kettle leaks after two days."},
    )
    assert response.status_code == 422 and UNSTORABLE in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Ticket.id))) == 0


def test_huge_ids_in_urls_are_plain_404s(client, agent):
    ticket = open_case(agent)
    with client.session_transaction() as session:
        session["portal_ticket_id"] = ticket.id
    assert client.get("/track/attachments/99999999999999999999").status_code == 404
    login(client, agent.email)
    assert client.get(f"/tickets/{ticket.reference}/attachments/2147483648").status_code == 404
    assert client.post("/notifications/9223372036854775808").status_code == 404


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_a_real_cursor_still_pages_through_every_case_once(app, client, agent, sort):
    """Crafted cursors start over; the queue's own must never be taken for one (endless paging)."""
    app.config["QUEUE_PAGE_SIZE"] = 2
    references = {open_case(agent).reference for _ in range(5)}
    login(client, agent.email)
    seen, url = [], f"/queue?view=mine&sort={sort}"
    for _ in range(5):
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r"<strong>(C-\d{4}-\d{6})</strong>", page)
        match = re.search(r'rel="next" href="([^"]+)"', page)
        if not match:
            break
        url = match.group(1).replace("&amp;", "&")
    assert sorted(seen) == sorted(references)


def test_a_query_string_the_database_cannot_hold_is_a_400(client, agent):
    login(client, agent.email)
    assert client.get("/review/lessons", query_string={"q": "a\x00b"}).status_code == 400
    assert client.get("/customers/lookup", query_string={"q": "a\x00b"}).status_code == 400


def test_every_form_applies_the_validation_policy(app):
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    forms = {cls for cls in subclasses(wtforms.Form) if cls.__module__.startswith("ticketing.")}
    assert forms and {cls.__qualname__ for cls in forms if not issubclass(cls, StorablePolicy)} == set()
