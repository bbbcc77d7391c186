"""All models, imported here so that Alembic and the app see the whole schema."""

from charity.models import disclosure as _disclosure  # noqa: F401 - disclosure tables
from charity.models.auditlog import (
    AuditCheckpoint,
    AuditCosignature,
    AuditEntry,
    AuditHead,
    AuditNode,
    AuditQueued,
)
from charity.models.base import TimestampMixin, UTCDateTime, utcnow
from charity.models.campaign import Campaign, CampaignUpdate
from charity.models.disbursement import Disbursement, SpendingAllocation
from charity.models.donation import (
    Donation,
    ProviderEvent,
    ReceiptCounter,
    Refund,
    RefundRequest,
    WebhookRejection,
)
from charity.models.donor_updates import CampaignNotice, UpdateSubscription
from charity.models.enforcement import CampaignSuspension, CnchinaEntry, Complaint
from charity.models.fund import Fund, FundCommitteeMember, FundTransfer
from charity.models.gifts import (
    DonationReversal,
    InKindDetail,
    OfflineGiftDetail,
    RecurringFailure,
    RecurringGift,
)
from charity.models.givingday import (
    GivingDay,
    GivingDayCampaign,
    Match,
    MatchingPool,
    MatchingPoolCampaign,
    MatchRelease,
    Pledge,
    SponsorPayment,
    Team,
)
from charity.models.image import Image, ImageVariant
from charity.models.invitation import Invitation
from charity.models.ledger import LedgerAccount, LedgerEntry, LedgerTransaction
from charity.models.major_transaction import MajorTransaction
from charity.models.official_receipt import OfficialReceipt
from charity.models.organization import Organization
from charity.models.payment import (
    MerchantAccount,
    ParkedEvent,
    PaymentOrder,
    PayoutChange,
    ReconciliationDifference,
    ReconciliationRun,
)
from charity.models.project import CharitableProject, ProjectCampaign
from charity.models.related_party import RelatedParty, RelatedPartyListFiling
from charity.models.trust import CharitableTrust, TrustSettlor
from charity.models.user import LoginAttempt, Membership, RecoveryCode, User, UserSession

__all__ = [
    "AuditCheckpoint",
    "AuditCosignature",
    "AuditEntry",
    "AuditHead",
    "AuditNode",
    "AuditQueued",
    "Campaign",
    "CampaignNotice",
    "CampaignSuspension",
    "CampaignUpdate",
    "CharitableProject",
    "CharitableTrust",
    "CnchinaEntry",
    "Complaint",
    "Disbursement",
    "Donation",
    "DonationReversal",
    "Fund",
    "FundCommitteeMember",
    "FundTransfer",
    "GivingDay",
    "GivingDayCampaign",
    "Image",
    "ImageVariant",
    "InKindDetail",
    "Invitation",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "LoginAttempt",
    "MajorTransaction",
    "Match",
    "MatchRelease",
    "MatchingPool",
    "MatchingPoolCampaign",
    "Membership",
    "MerchantAccount",
    "OfficialReceipt",
    "OfflineGiftDetail",
    "Organization",
    "ParkedEvent",
    "PaymentOrder",
    "PayoutChange",
    "Pledge",
    "ProjectCampaign",
    "ProviderEvent",
    "ReceiptCounter",
    "ReconciliationDifference",
    "ReconciliationRun",
    "RecoveryCode",
    "RecurringFailure",
    "RecurringGift",
    "Refund",
    "RefundRequest",
    "RelatedParty",
    "RelatedPartyListFiling",
    "SpendingAllocation",
    "SponsorPayment",
    "Team",
    "TimestampMixin",
    "TrustSettlor",
    "UTCDateTime",
    "UpdateSubscription",
    "User",
    "UserSession",
    "WebhookRejection",
    "utcnow",
]
