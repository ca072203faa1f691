"""The run fails when a test skips for any reason but a missing external service."""

from __future__ import annotations

import pytest

from tests._skip_guard import MISSING_SERVICE


def test_an_unexplained_skip_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_passes():
            pass

        def test_skips():
            pytest.skip("fixtures not available")
        """
    )
    result = pytester.runpytest("-p", "tests._skip_guard")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*skipped without a missing external service*"])
    result.stdout.fnmatch_lines(["*test_skips: fixtures not available*"])


def test_a_marker_skip_fails_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.skip(reason="later")
        def test_later():
            pass
        """
    )
    result = pytester.runpytest("-p", "tests._skip_guard")
    assert result.ret == pytest.ExitCode.TESTS_FAILED


def test_a_skip_naming_a_missing_service_passes(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        f"""
        import pytest

        def test_needs_postgres():
            pytest.skip({MISSING_SERVICE + "PostgreSQL binaries (apt install postgresql)"!r})
        """
    )
    result = pytester.runpytest("-p", "tests._skip_guard")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(skipped=1)
