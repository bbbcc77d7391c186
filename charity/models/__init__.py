"""All models, imported here so that Alembic and the app see the whole schema."""

from charity.models import disclosure as _disclosure  # noqa: F401 - disclosure tables
from charity.models.base import TimestampMixin, UTCDateTime, utcnow
from charity.models.campaign import Campaign, CampaignUpdate
from charity.models.donation import Donation
from charity.models.invitation import Invitation
from charity.models.organization import Organization
from charity.models.user import LoginAttempt, Membership, User

__all__ = [
    "Campaign",
    "CampaignUpdate",
    "Donation",
    "Invitation",
    "LoginAttempt",
    "Membership",
    "Organization",
    "TimestampMixin",
    "UTCDateTime",
    "User",
    "utcnow",
]
