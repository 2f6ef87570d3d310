"""idle_cores(): the count that lets the LLM read a prompt with the cores nobody else uses."""

import os

from ovos_realtime import cpu


def _stat(tmp_path, monkeypatch, running: int) -> None:
    stat = tmp_path / "stat"
    stat.write_text(f"cpu  1 2 3 4\nprocs_running {running}\nprocs_blocked 0\n")
    monkeypatch.setattr(cpu, "_STAT", stat)


def test_idle_cores_counts_the_cores_others_do_not_use(tmp_path, monkeypatch):
    cores = os.cpu_count() or 1
    _stat(tmp_path, monkeypatch, running=1)  # only the caller runs
    assert cpu.idle_cores(looks=2, spacing_s=0) == cores
    _stat(tmp_path, monkeypatch, running=2)
    assert cpu.idle_cores(looks=2, spacing_s=0) == cores - 1
    _stat(tmp_path, monkeypatch, running=cores + 5)
    assert cpu.idle_cores(looks=2, spacing_s=0) == 0


def test_idle_cores_is_none_where_the_system_does_not_say(tmp_path, monkeypatch):
    monkeypatch.setattr(cpu, "_STAT", tmp_path / "missing")
    assert cpu.idle_cores() is None
    (tmp_path / "garbled").write_text("procs_running many\n")
    monkeypatch.setattr(cpu, "_STAT", tmp_path / "garbled")
    assert cpu.idle_cores() is None


def test_idle_cores_reads_this_machine():
    idle = cpu.idle_cores()
    assert idle is None or 0 <= idle <= (os.cpu_count() or 1)
