"""Builds the real Polaris email (real workbook, real encrypted zip) for the tests."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage

from flows.credentials_file import build_workbook, new_file_password, pack_encrypted
from flows.messaging.email import build_polaris_email
from flows.settings import OnboardingSettings
from tests.onboarding.polaris_file import SAMPLE_SITES, sample_sheet

MERCHANT = "The Crown Group"
CONTACT = "Priya Shah"
CONTACT_EMAIL = "priya.shah@polaris.example"
CONTACT_MOBILE = "+447700900123"
ZIP_NAME = "polaris-onboarding-42.zip"
XLSX_NAME = "polaris-onboarding-42.xlsx"


@dataclass
class PolarisMail:
    message: EmailMessage
    workbook: bytes
    file_password: str
    secrets: list[str]


def polaris_mail(settings: OnboardingSettings) -> PolarisMail:
    sheet = sample_sheet()
    workbook = build_workbook(sheet)
    file_password = new_file_password()
    message = build_polaris_email(
        to=CONTACT_EMAIL,
        contact_name=CONTACT,
        merchant_name=MERCHANT,
        sites=SAMPLE_SITES,
        attachment_filename=ZIP_NAME,
        attachment=pack_encrypted(XLSX_NAME, workbook, file_password),
        mobile=CONTACT_MOBILE,
        settings=settings,
    )
    return PolarisMail(
        message, workbook, file_password, [sheet.password, file_password, sheet.username]
    )
