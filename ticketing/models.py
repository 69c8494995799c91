"""Every model, imported in one place so the metadata (and Alembic) sees all tables."""

from ticketing.api.models import IdempotentRequest
from ticketing.auth.models import User
from ticketing.auth.security_log import SecurityEntry
from ticketing.auth.tokens import ApiToken
from ticketing.cases.attachments import Attachment
from ticketing.cases.audit import Event
from ticketing.cases.catalogue import CatalogueChange, Category, Product, ProductAlias, ValueTier
from ticketing.cases.checkpoints import VerifyCheckpoint
from ticketing.cases.customers import CustomerEvent
from ticketing.cases.improvement import PreventiveAction, QualityScore
from ticketing.cases.models import Customer, Message, Note, ReferenceCounter, Reminder, ReplyTemplate, Ticket
from ticketing.cases.portal_access import PortalAccess
from ticketing.cases.records import (
    AnalysisRecord,
    ApologyRecord,
    CompensationLine,
    FollowUpRecord,
    GuaranteeSuggestion,
    ListenRecord,
    Resolution,
    ReviewRecord,
)
from ticketing.cases.saved_views import SavedView
from ticketing.cases.search.documents import CaseDocument, CustomerDocument
from ticketing.cases.settings import DeskSetting, SettingChange, SettingsVersion
from ticketing.cases.survey import SurveyResponse
from ticketing.cases.winback import WinBackAction
from ticketing.notify.models import InboundMail, Mailbox, NoticePreference, Notification
from ticketing.scheduling.models import Delivery, JobRun, ReportSnapshot

__all__ = [
    "SavedView",
    "Category",
    "ValueTier",
    "Product",
    "ProductAlias",
    "CatalogueChange",
    "DeskSetting",
    "SettingChange",
    "SettingsVersion",
    "NoticePreference",
    "Delivery",
    "User",
    "SecurityEntry",
    "Event",
    "Customer",
    "CustomerEvent",
    "Message",
    "Note",
    "ReferenceCounter",
    "ReplyTemplate",
    "Ticket",
    "AnalysisRecord",
    "ApologyRecord",
    "CompensationLine",
    "FollowUpRecord",
    "ListenRecord",
    "Resolution",
    "ReviewRecord",
    "GuaranteeSuggestion",
    "PreventiveAction",
    "QualityScore",
    "PortalAccess",
    "SurveyResponse",
    "Attachment",
    "ApiToken",
    "IdempotentRequest",
    "JobRun",
    "ReportSnapshot",
    "Notification",
    "Mailbox",
    "InboundMail",
    "Reminder",
    "WinBackAction",
    "CaseDocument",
    "CustomerDocument",
    "VerifyCheckpoint",
]
