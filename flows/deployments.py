"""The onboarding flows' deployments, defined once.

``flows.serve`` serves exactly these (``scripts/up``, the tests), and ``prefect.yaml``
(``prefect deploy --all`` onto a work pool, in production) is generated from them:

    python -m flows.deployments --write-prefect-yaml

so the two cannot drift (``tests/system/flows/test_deployments.py`` checks that the
committed prefect.yaml is the generated one, and that the served deployments on a
Prefect server are these, with their triggers' automations). prefect.yaml is generated rather than read because it
carries what only a work pool needs (the pool's name), while these specs stay plain
data that the `onboarding` command can import without importing the flows (and their
stages, spreadsheet and Twilio libraries) on every call.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ONBOARDING_FLOW = "polaris-onboarding"
ONBOARDING_DEPLOYMENT_NAME = "polaris-onboarding"
ONBOARDING_DEPLOYMENT = f"{ONBOARDING_FLOW}/{ONBOARDING_DEPLOYMENT_NAME}"
OFFBOARDING_FLOW = "polaris-offboarding"
OFFBOARDING_DEPLOYMENT_NAME = "polaris-offboarding"
OFFBOARDING_DEPLOYMENT = f"{OFFBOARDING_FLOW}/{OFFBOARDING_DEPLOYMENT_NAME}"
REMINDERS_FLOW = "polaris-store-id-reminders"
REMINDERS_DEPLOYMENT_NAME = "store-id-reminders"
ROTATION_FLOW = "polaris-credential-rotation"
ROTATION_DEPLOYMENT_NAME = "polaris-credential-rotation"
ROTATION_DEPLOYMENT = f"{ROTATION_FLOW}/{ROTATION_DEPLOYMENT_NAME}"
ROTATION_WATCH_FLOW = "polaris-rotation-watch"
ROTATION_WATCH_DEPLOYMENT_NAME = "rotation-watch"
RUN_ENDING_FLOW = "polaris-run-ending"
RUN_ENDING_DEPLOYMENT_NAME = "polaris-run-ending"
WORK_POOL = "onboarding"
PREFECT_VERSION = "3.7.2"
PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"


@dataclass(frozen=True)
class CronSchedule:
    cron: str
    timezone: str


@dataclass(frozen=True)
class RunOnFlowRunEvents:
    """A deployment trigger: run the deployment once for each flow run of ``of_flow``
    that emits one of ``events`` (Prefect's ``prefect.flow-run.<state name>``), with
    that run's resource ID (``prefect.flow-run.<id>``) as the ``flow_run_id``
    parameter. Served, it is an automation owned by the deployment; in prefect.yaml, a
    ``triggers`` entry that ``prefect deploy`` makes into the same automation."""

    name: str
    description: str
    of_flow: str
    events: tuple[str, ...]

    def fields(self) -> dict[str, Any]:
        """As Prefect's DeploymentEventTrigger takes them (and prefect.yaml has them)."""
        return {
            "type": "event",
            "name": self.name,
            "description": self.description,
            "enabled": True,
            "match": {"prefect.resource.id": "prefect.flow-run.*"},
            "match_related": {
                "prefect.resource.role": "flow",
                "prefect.resource.name": self.of_flow,
            },
            "expect": list(self.events),
            "for_each": ["prefect.resource.id"],
            "posture": "Reactive",
            "threshold": 1,
            "within": 0,
            "parameters": {"flow_run_id": "{{ event.resource.id }}"},
        }


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    flow_name: str
    # "path/to/module.py:function", relative to the project folder (as prefect.yaml has it).
    entrypoint: str
    description: str
    tags: tuple[str, ...]
    schedules: tuple[CronSchedule, ...] = ()
    triggers: tuple[RunOnFlowRunEvents, ...] = ()
    enforce_parameter_schema: bool = True

    @property
    def full_name(self) -> str:
        return f"{self.flow_name}/{self.name}"

    def load_flow(self) -> Any:
        """The flow object the entrypoint names (this imports the flow's module)."""
        path, _, attribute = self.entrypoint.partition(":")
        module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
        return getattr(module, attribute)


DEPLOYMENTS: tuple[DeploymentSpec, ...] = (
    DeploymentSpec(
        name=ONBOARDING_DEPLOYMENT_NAME,
        flow_name=ONBOARDING_FLOW,
        entrypoint="flows/onboarding.py:polaris_onboarding",
        description="Onboard a merchant onto Polaris EPOS tills, end to end.",
        tags=("onboarding", "polaris"),
    ),
    DeploymentSpec(
        name=OFFBOARDING_DEPLOYMENT_NAME,
        flow_name=OFFBOARDING_FLOW,
        entrypoint="flows/offboarding.py:polaris_offboarding",
        description="Take a merchant off Polaris EPOS tills: revoke its Polaris credentials, "
        "clear or keep its store IDs, confirm to Polaris and the merchant.",
        tags=("offboarding", "polaris"),
    ),
    DeploymentSpec(
        name=REMINDERS_DEPLOYMENT_NAME,
        flow_name=REMINDERS_FLOW,
        entrypoint="flows/reminders.py:store_id_reminders",
        description="Remind Polaris about onboardings still waiting for store IDs.",
        tags=("onboarding", "polaris", "reminders"),
        # 09:00 on weekdays, London time (the Polaris team's working day), all year.
        schedules=(CronSchedule("0 9 * * 1-5", "Europe/London"),),
    ),
    DeploymentSpec(
        name=ROTATION_DEPLOYMENT_NAME,
        flow_name=ROTATION_FLOW,
        entrypoint="flows/rotation.py:polaris_credential_rotation",
        description="Give Polaris a new API credential for an account and retire the old one.",
        tags=("polaris", "credentials"),
    ),
    DeploymentSpec(
        name=ROTATION_WATCH_DEPLOYMENT_NAME,
        flow_name=ROTATION_WATCH_FLOW,
        entrypoint="flows/rotation_watch.py:rotation_watch",
        description="End the credential rotations whose wait is over.",
        tags=("polaris", "credentials"),
        # Every 5 minutes: how long at most a finished rotation shows as waiting.
        schedules=(CronSchedule("*/5 * * * *", "UTC"),),
    ),
    DeploymentSpec(
        name=RUN_ENDING_DEPLOYMENT_NAME,
        flow_name=RUN_ENDING_FLOW,
        entrypoint="flows/run_ending.py:polaris_run_ending",
        description=(
            "Record in the ledger how an onboarding run ended badly (failed, crashed, "
            "cancelled, expired) and tell the people involved, once."
        ),
        tags=("onboarding", "polaris", "endings"),
        # The onboarding's own hooks see its failures and crashes; only Prefect's events
        # show a store-ID wait that expired on the server or a cancel from the UI. Every
        # bad ending goes through here as well: the ledger records each run's once, and
        # only the watcher that recorded it sends the email.
        triggers=(
            RunOnFlowRunEvents(
                name=f"{ONBOARDING_FLOW}: record and tell a bad ending",
                description=(
                    f"Runs {RUN_ENDING_FLOW} when a {ONBOARDING_FLOW} run fails (a store-ID "
                    "wait that expired fails it), crashes or is cancelled."
                ),
                of_flow=ONBOARDING_FLOW,
                events=(
                    "prefect.flow-run.Failed",
                    "prefect.flow-run.Crashed",
                    "prefect.flow-run.Cancelled",
                ),
            ),
        ),
    ),
)

_HEADER = """\
# GENERATED from flows/deployments.py by `python -m flows.deployments --write-prefect-yaml`:
# edit the specs there, not this file (a test checks the two agree).
# Prefect deployments for the Polaris onboarding.
# `prefect deploy --all` registers them with a Prefect server; a process worker on
# the `onboarding` work pool runs them (`prefect worker start --pool onboarding`),
# started from this folder.
# On the embedded default, `scripts/up` serves the same flows without a work pool.
"""


def _q(value: str) -> str:
    # JSON strings are YAML strings: quoted, so no value is read as another type.
    return json.dumps(value)


def prefect_yaml() -> str:
    """prefect.yaml's text, from ``DEPLOYMENTS``."""
    lines = [
        _HEADER.rstrip("\n"),
        f"name: {ONBOARDING_FLOW}",
        f"prefect-version: {PREFECT_VERSION}",
    ]
    lines += ["", "deployments:"]
    for spec in DEPLOYMENTS:
        lines += [
            f"  - name: {_q(spec.name)}",
            f"    entrypoint: {_q(spec.entrypoint)}",
            f"    description: {_q(spec.description)}",
            f"    tags: [{', '.join(_q(tag) for tag in spec.tags)}]",
            f"    enforce_parameter_schema: {'true' if spec.enforce_parameter_schema else 'false'}",
        ]
        if spec.schedules:
            lines.append("    schedules:")
            for schedule in spec.schedules:
                lines += [
                    f"      - cron: {_q(schedule.cron)}",
                    f"        timezone: {_q(schedule.timezone)}",
                ]
        if spec.triggers:
            lines.append("    triggers:")
            for trigger in spec.triggers:
                entries = [f"{key}: {json.dumps(value)}" for key, value in trigger.fields().items()]
                lines += [f"      - {entries[0]}", *(f"        {entry}" for entry in entries[1:])]
        lines += ["    work_pool:", f"      name: {_q(WORK_POOL)}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m flows.deployments", description=__doc__)
    parser.add_argument(
        "--write-prefect-yaml", action="store_true", help=f"write {PREFECT_YAML.name}"
    )
    args = parser.parse_args(argv)
    if args.write_prefect_yaml:
        PREFECT_YAML.write_text(prefect_yaml())
        sys.stdout.write(f"wrote {PREFECT_YAML}\n")
    else:
        sys.stdout.write(prefect_yaml())


if __name__ == "__main__":
    main()
