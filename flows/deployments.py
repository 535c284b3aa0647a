"""The names under which the onboarding flows are served and deployed.

Kept apart from ``flows.serve`` so that the command line can name the deployment
without importing the flows themselves (and their stages, spreadsheet and Twilio
libraries) on every call.
"""

from __future__ import annotations

ONBOARDING_FLOW = "polaris-onboarding"
ONBOARDING_DEPLOYMENT_NAME = "polaris-onboarding"
ONBOARDING_DEPLOYMENT = f"{ONBOARDING_FLOW}/{ONBOARDING_DEPLOYMENT_NAME}"
REMINDERS_DEPLOYMENT_NAME = "store-id-reminders"
