"""The executor abstraction and the clock-driven timers."""

from __future__ import annotations

import contextvars
import sys
import threading

import pytest

from engine import Executor, ExecutorShutdownError, FakeClock, SystemClock, ThreadExecutor, Timers, WorkerPool

_var: contextvars.ContextVar[str] = contextvars.ContextVar("h1_test_var", default="unset")


def test_thread_executor_and_worker_pool_satisfy_the_executor_protocol():
    with ThreadExecutor(2) as executor:
        assert isinstance(executor, Executor)
    pool = WorkerPool(1)
    assert isinstance(pool, Executor) and pool.max_workers == 1
    pool.shutdown()


def test_submitted_work_sees_the_submitters_context():
    token = _var.set("from-submitter")
    try:
        with ThreadExecutor(1) as executor:
            assert executor.submit(_var.get).result(5) == "from-submitter"
    finally:
        _var.reset(token)


def test_submit_after_shutdown_is_a_clear_error():
    executor = ThreadExecutor(1)
    executor.shutdown()
    with pytest.raises(ExecutorShutdownError, match="shut down"):
        executor.submit(lambda: None)


def test_timer_on_a_fake_clock_jumps_to_its_due_time_without_sleeping():
    clock = FakeClock()
    timers = Timers(clock)
    fired = threading.Event()
    timers.call_later(3600, fired.set)
    assert fired.wait(5)
    timers.close()
    assert clock.sleeps == [3600]


def test_deadline_timer_on_a_fake_clock_waits_for_the_clock_to_move():
    clock = FakeClock()
    timers = Timers(clock)
    fired = threading.Event()
    timers.call_later(10, fired.set, advance=False)
    assert not fired.wait(0.05)
    clock.advance(10)
    assert fired.wait(5)
    timers.close()


def test_cancelled_timer_never_fires():
    timers = Timers(SystemClock())
    fired = threading.Event()
    handle = timers.call_later(0.05, fired.set)
    handle.cancel()
    assert not fired.wait(0.15)
    timers.close()


def test_timers_run_in_due_order():
    clock = FakeClock()
    timers = Timers(clock)
    order = []
    done = threading.Event()
    timers.call_later(30, lambda: (order.append(30), done.set()))
    timers.call_later(10, lambda: order.append(10))
    timers.call_later(20, lambda: order.append(20))
    assert done.wait(5)
    timers.close()
    assert order == [10, 20, 30]


def test_the_timer_thread_survives_a_callback_and_a_reporter_that_both_fail():
    def reporter(exc: BaseException) -> None:
        raise RuntimeError("the reporter fails too")

    timers = Timers(FakeClock(), on_error=reporter)
    fired = threading.Event()
    timers.call_later(1, lambda: 1 / 0)
    timers.call_later(2, lambda: sys.exit(3))
    timers.call_later(3, fired.set)
    assert fired.wait(5)
    timers.close()


def test_a_worker_survives_fire_and_forget_work_that_exits():
    executor = ThreadExecutor(max_workers=1)
    done = threading.Event()
    executor.run_soon(lambda: sys.exit(2))
    executor.run_soon(done.set)
    assert done.wait(5)
    assert all(thread.is_alive() for thread in executor._threads)
    executor.shutdown()
