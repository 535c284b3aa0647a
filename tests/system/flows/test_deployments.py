"""Each deployment is defined once, in flows.deployments: the committed prefect.yaml
is generated from it, and what ``python -m flows.serve`` registers on a Prefect server
is it (names, descriptions, tags, schedules with their timezone, parameter checks, and
the triggers: automations that run a deployment on Prefect's events)."""

from __future__ import annotations

import yaml
from prefect import get_client
from prefect.events import DeploymentEventTrigger

from flows.deployments import (
    DEPLOYMENTS,
    ONBOARDING_FLOW,
    PREFECT_YAML,
    REMINDERS_DEPLOYMENT_NAME,
    RUN_ENDING_DEPLOYMENT_NAME,
    WORK_POOL,
    prefect_yaml,
)
from harness.prefect_env import FlowRunner


def test_the_committed_prefect_yaml_is_the_generated_one() -> None:
    assert PREFECT_YAML.read_text() == prefect_yaml(), (
        "prefect.yaml differs from flows/deployments.py: "
        "run `python -m flows.deployments --write-prefect-yaml`"
    )


def test_prefect_yaml_reads_back_as_the_specs() -> None:
    document = yaml.safe_load(prefect_yaml())
    read = [
        (
            d["name"],
            d["entrypoint"],
            d["description"],
            tuple(d["tags"]),
            tuple((s["cron"], s["timezone"]) for s in d.get("schedules", [])),
            d["enforce_parameter_schema"],
            d["work_pool"]["name"],
        )
        for d in document["deployments"]
    ]
    assert read == [
        (
            spec.name,
            spec.entrypoint,
            spec.description,
            spec.tags,
            tuple((s.cron, s.timezone) for s in spec.schedules),
            spec.enforce_parameter_schema,
            WORK_POOL,
        )
        for spec in DEPLOYMENTS
    ]
    (reminders,) = [d for d in document["deployments"] if d["name"] == REMINDERS_DEPLOYMENT_NAME]
    assert reminders["schedules"] == [{"cron": "0 9 * * 1-5", "timezone": "Europe/London"}]


def test_the_served_deployments_are_the_specs(flows_runner: FlowRunner) -> None:
    with get_client(sync_client=True) as client:
        for spec in DEPLOYMENTS:
            served = client.read_deployment_by_name(spec.full_name)
            assert served.name == spec.name
            assert served.description == spec.description
            assert sorted(served.tags) == sorted(spec.tags)
            assert served.enforce_parameter_schema is spec.enforce_parameter_schema
            schedules = [
                (getattr(s.schedule, "cron", None), getattr(s.schedule, "timezone", None))
                for s in served.schedules
            ]
            assert schedules == [(s.cron, s.timezone) for s in spec.schedules], spec.name
            assert all(s.active for s in served.schedules)
    reminders = [spec for spec in DEPLOYMENTS if spec.name == REMINDERS_DEPLOYMENT_NAME]
    assert [s.schedules[0].timezone for s in reminders] == ["Europe/London"]


def test_prefect_yaml_carries_the_triggers_as_prefect_deploy_reads_them() -> None:
    document = yaml.safe_load(prefect_yaml())
    for spec, deployment in zip(DEPLOYMENTS, document["deployments"], strict=True):
        assert deployment.get("triggers", []) == [t.fields() for t in spec.triggers]
        # What `prefect deploy` makes of each entry (its own model for prefect.yaml).
        for entry in deployment.get("triggers", []):
            DeploymentEventTrigger.model_validate(entry)
    (ending,) = [d for d in document["deployments"] if d["name"] == RUN_ENDING_DEPLOYMENT_NAME]
    (trigger,) = ending["triggers"]
    assert sorted(trigger["expect"]) == [
        "prefect.flow-run.Cancelled",
        "prefect.flow-run.Crashed",
        "prefect.flow-run.Failed",
    ]
    assert trigger["match_related"]["prefect.resource.name"] == ONBOARDING_FLOW
    assert trigger["parameters"] == {"flow_run_id": "{{ event.resource.id }}"}


def test_the_served_triggers_are_automations_running_their_deployment(
    flows_runner: FlowRunner,
) -> None:
    with get_client(sync_client=True) as client:
        automations = client.read_automations()
        for spec in DEPLOYMENTS:
            served = client.read_deployment_by_name(spec.full_name)
            # Prefect's server does not say who owns an automation: each trigger's runs
            # its own deployment, and a deployment served again replaces its own.
            owned = [
                a
                for a in automations
                if any(getattr(action, "deployment_id", None) == served.id for action in a.actions)
            ]
            assert sorted(a.name for a in owned) == sorted(t.name for t in spec.triggers)
            for trigger in spec.triggers:
                (automation,) = [a for a in owned if a.name == trigger.name]
                fields = trigger.fields()
                assert automation.enabled
                assert set(automation.trigger.expect) == set(fields["expect"])  # type: ignore[union-attr]
                assert automation.trigger.posture == "Reactive"  # type: ignore[union-attr]
                (action,) = automation.actions
                assert action.type == "run-deployment"
                assert action.deployment_id == served.id  # type: ignore[union-attr]
                assert action.parameters == fields["parameters"]  # type: ignore[union-attr]
