"""Progress bars go to standard error, and only when it is a terminal."""

from __future__ import annotations

import io

import pytest

from app.progress import progress


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestProgress:
    def test_draws_on_standard_error_at_a_terminal_and_never_on_standard_output(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        terminal, out = FakeTerminal(), io.StringIO()
        monkeypatch.setattr("sys.stderr", terminal)
        monkeypatch.setattr("sys.stdout", out)
        with progress("filing referrals", total=3) as advance:
            for _ in range(3):
                advance()
        assert "filing referrals" in terminal.getvalue()
        assert out.getvalue() == ""

    def test_draws_nothing_when_standard_error_is_a_pipe_or_a_file(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pipe = io.StringIO()
        monkeypatch.setattr("sys.stderr", pipe)
        with progress("exporting audit events") as advance:
            advance(5)
        assert pipe.getvalue() == ""
