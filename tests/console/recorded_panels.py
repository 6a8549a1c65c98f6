"""A recorded session for the panels: fixed ids, times and sequence
numbers, so screens drawn from it are deterministic. ``odd`` (a hostile
string) replaces every name, payload value, message and attribute that
comes from workflows, payloads or errors."""

from __future__ import annotations

from engine import Event

from console.state.breakers import SNAPSHOT_EVENT
from console.state.metrics import COLLECT_EVENT
from tests.console.conftest import T0, Recorder, workflow_loaded

TIMELINE = 120


def _timeline(ok: int, bad: int, rejected: int, busy_from: int) -> dict:
    def ramp(n: int) -> list[int]:
        return [0] * busy_from + [(n * (i % 7 + 1)) // 4 for i in range(TIMELINE - busy_from)]

    return {"seconds": TIMELINE, "successes": ramp(ok), "failures": ramp(bad), "rejections": ramp(rejected)}


def _breaker(name: str, state: str, rate: float, window: int, *, override=None, retry_after=None,
             probes=0, p50=0.012, p99=0.21, timeline=None) -> dict:
    return {
        "name": name, "state": state, "override": override, "mode": "rate", "consecutive_failures": 0,
        "failure_rate": rate, "slow_call_rate": 0.0, "window_calls": window, "probes_in_flight": probes,
        "retry_after": retry_after, "last_failure_time": None,
        "config": {"failure_threshold": 5, "timeout": 30, "half_open_max_calls": 3, "minimum_calls": 10,
                   "sliding_window_size": 20},
        "calls": window * 7, "successes": 0, "failures": 0, "rejections": 4 if state == "open" else 0,
        "latency": {"p50": p50, "p99": p99},
        "timeline": timeline or _timeline(3, 0, 0, 60),
    }


def panel_session(odd: str | None = None) -> list[Event]:
    """Every panel's worth of history (``odd`` replaces untrusted text)."""
    def t(plain: str) -> str:
        return plain if odd is None else f"{plain}{odd}"

    rec = Recorder()
    machine = t("deploy")
    workflow_loaded(rec, machine, "state_machine", {
        "initial": "idle", "states": ["idle", "building", "staging", "production", t("rollback")],
        "final": ["production"],
        "transitions": [
            {"from": "idle", "to": "building", "event": "start", "guard": None},
            {"from": "building", "to": "staging", "event": "build_complete", "guard": None},
            {"from": "staging", "to": "production", "event": t("promote"), "guard": t("can_deploy")},
            {"from": "*", "to": t("rollback"), "event": "rollback", "guard": None},
        ],
    })
    fsm = {"workflow": machine}
    rec.add("fsm.instance_created", {"instance": t("web-1"), "from": "idle", "to": "idle", "time": T0}, **fsm)
    rec.add("fsm.instance_created", {"instance": "api-2", "from": "idle", "to": "idle", "time": T0}, **fsm)
    for at, src, event, dst in ((1, "idle", "start", "building"), (3, "building", "build_complete", "staging")):
        rec.add("fsm.transitioned", {"instance": t("web-1"), "from": src, "to": dst, "event": event,
                                     "time": T0 + at}, at=at, **fsm)
    rec.add("fsm.blocked", {"instance": t("web-1"), "from": "staging", "event": t("promote"),
                            "guard": t("can_deploy"), "time": T0 + 5}, at=5, **fsm)

    saga = t("order")
    workflow_loaded(rec, saga, "saga", {"steps": ["reserve", "pay", t("ship")]})
    for run_id, stuck, at in (("saga-0001", True, 2.0), ("saga-0002", False, 8.0)):
        run = {"workflow": saga, "run_id": run_id}
        rec.add("saga.started", {"steps": ["reserve", "pay", t("ship")]}, at=at, **run)
        rec.add("saga.step.completed", {"step": "reserve", "duration": 0.12}, at=at + 0.1, **run)
        rec.add("saga.step.completed", {"step": "pay", "duration": 0.31}, at=at + 0.4, **run)
        rec.add("saga.step.failed", {"step": t("ship"), "duration": 2.0, "error_type": "ConnectionError",
                                     "error": t("courier API down")}, at=at + 2.4, **run)
        rec.add("saga.compensation.started", {"step": "pay"}, at=at + 2.5, **run)
        if stuck:
            rec.add("saga.compensation.failed", {"step": "pay", "attempts": 3, "error_type": "RefundError",
                                                 "error": t("refund rejected by bank")}, at=at + 3.0, **run)
        else:
            rec.add("saga.compensation.completed", {"step": "pay", "attempts": 1}, at=at + 2.7, **run)
        rec.add("saga.compensation.started", {"step": "reserve"}, at=at + 3.1, **run)
        rec.add("saga.compensation.completed", {"step": "reserve", "attempts": 1}, at=at + 3.2, **run)
        rec.add("saga.compensation_failed" if stuck else "saga.compensated", {}, at=at + 3.3, **run)

    rec.add(SNAPSHOT_EVENT, _breaker(t("payments-api"), "open", 72.5, 20, retry_after=90.0,
                                     timeline=_timeline(1, 3, 2, 30)), at=10)
    rec.add(SNAPSHOT_EVENT, _breaker("inventory-api", "half_open", 40.0, 10, probes=1), at=10)
    rec.add(SNAPSHOT_EVENT, _breaker("email-api", "closed", 0.0, 14), at=10)
    rec.add(SNAPSHOT_EVENT, _breaker("search-api", "closed", 0.0, 3, override="forced_closed"), at=10)

    for i, (unit, fp, attempts, status) in enumerate((
        ("charge", "a1b2c3d4e5f6a7b8", 3, "dead"), ("charge", "a1b2c3d4e5f6a7b8", 4, "dead"),
        (t("ship"), "99ff00ee11dd22cc", 1, "resolved"), ("notify", "5e5e5e5e5e5e5e5e", 2, "discarded"),
    )):
        rec.add("dlq.added", {
            "id": f"dl-{i:04d}", "source": "task", "unit": unit, "status": "dead", "attempts": attempts,
            "error_type": "ConnectionError", "error": t("payment gateway down"), "fingerprint": fp,
            "definition_version": 1,
        }, at=4 + i, workflow=t("shop"), run_id=f"run-00{i}")
        if status != "dead":
            rec.add(f"dlq.{status}", {"id": f"dl-{i:04d}", "status": status, "actor": "ops",
                                      "reason": t("handled by hand")}, at=12 + i, workflow=t("shop"))

    run = {"workflow": t("shop"), "run_id": "run-0001"}
    spans = (
        ("s-root", None, t("run:shop"), 0.0, 2.0, "ok", {"workflow": t("shop")}),
        ("s-order", "s-root", "task:order", 0.0, 0.4, "ok", {"task": "order"}),
        ("s-stock", "s-root", "task:stock", 0.0, 0.9, "ok", {"task": "stock"}),
        ("s-charge", "s-root", t("task:charge"), 0.9, 1.9, "error", {"task": t("charge"), "note": odd or "-"}),
        ("s-http", "s-charge", "http POST /pay", 1.0, 1.8, "error", {"http.status": 502}),
    )
    for sid, parent, name, start, end, status, attributes in spans:
        rec.add("span.finished", {
            "trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": sid, "parent_id": parent, "name": name,
            "kind": "client" if name.startswith("http") else "internal", "start_time": T0 + 20 + start,
            "end_time": T0 + 20 + end, "duration": end - start, "status": status,
            "status_message": t("gateway down") if status == "error" else None, "attributes": attributes,
            "events": [{"name": "exception", "timestamp": T0 + 20 + end,
                        "attributes": {"exception.message": t("gateway down")}}] if status == "error" else [],
            "links": [],
        }, at=20 + end, trace_id="0af7651916cd43dd8448eb211c80319c", span_id=sid, **run)
    rec.add("span.finished", {
        "trace_id": "1bf7651916cd43dd8448eb211c80319d", "span_id": "s-replay", "parent_id": None,
        "name": "dlq.replay", "kind": "producer", "start_time": T0 + 30, "end_time": T0 + 30.05, "duration": 0.05,
        "status": "ok", "attributes": {"dead_letter": "dl-0000"}, "events": [],
        "links": [{"trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "s-charge", "attributes": {}}],
    }, at=30.05, trace_id="1bf7651916cd43dd8448eb211c80319d", span_id="s-replay", run_id="run-0002")

    for step, (tasks, depth, steals) in enumerate(((40, (3, 1, 0, 2), 4), (95, (1, 5, 2, 0), 9), (130, (0, 2, 6, 1), 15))):
        families = [
            {"name": "tasks_completed_total", "kind": "counter", "help": "", "series": [
                {"labels": {"workflow": t("shop")}, "value": tasks}]},
            {"name": "dead_letters_total", "kind": "counter", "help": "", "series": [
                {"labels": {"source": "task"}, "value": 2 + step}]},
            {"name": "runs_active", "kind": "gauge", "help": "", "series": [{"labels": {}, "value": 3 - step}]},
            {"name": "task_duration_seconds", "kind": "histogram", "help": "", "series": [
                {"labels": {}, "count": tasks, "sum": tasks * 0.02, "p50": 0.012, "p90": 0.045, "p99": 0.31,
                 "mean": 0.02}]},
            {"name": "pool_queue_depth", "kind": "gauge", "help": "", "series": [
                {"labels": {"pool": t("work"), "worker": str(w)}, "value": d} for w, d in enumerate(depth)]},
            {"name": "pool_busy_workers", "kind": "gauge", "help": "", "series": [
                {"labels": {"pool": t("work")}, "value": 3}]},
            {"name": "pool_workers", "kind": "gauge", "help": "", "series": [
                {"labels": {"pool": t("work")}, "value": 4}]},
            {"name": "pool_steals_total", "kind": "counter", "help": "", "series": [
                {"labels": {"pool": t("work")}, "value": steals}]},
        ]
        rec.add(COLLECT_EVENT, {"families": families}, at=40 + step)
    return rec.events
