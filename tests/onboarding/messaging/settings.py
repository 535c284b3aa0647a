"""The shapes of the settings factories the messaging fixtures hand out."""

from __future__ import annotations

from collections.abc import Callable

from flows.settings import OnboardingSettings

SettingsFactory = Callable[..., OnboardingSettings]
